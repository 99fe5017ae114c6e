import { LIBPQ_KEYWORDS } from '../config/postgres/conninfo.js';
import { secrets } from '../config/secrets.js';
import { CAUSE_CODES } from '../engine/causes.js';
import { STEP_ORDER } from '../engine/steps.js';
import { PLATFORMS } from '../host/platform.js';

/**
 * The words of dbdoctor's own output are never secrets: a password "pass" must not turn
 * "status": "pass" into "****", nor a password "recognised" break explain's JSON contract. Every
 * command registers them before writing anything.
 */
export function registerVocabulary(): void {
  const words = [
    ...STEP_ORDER,
    ...['pass', 'warn', 'fail', 'skip', 'healthy', 'degraded', 'unhealthy', 'dbdoctor', 'true', 'false', 'null'],
    ...CAUSE_CODES,
    ...PLATFORMS,
    ...['postgres', 'mongodb', 'cassandra', 'shell', 'sql', 'detected', 'flag'],
    // explain's words: its command, statuses and rule ranks.
    ...['explain', 'recognised', 'not_recognised', 'server', 'client', 'errno', 'symptom'],
    // Setting names are keys of the report's "source" object.
    ...LIBPQ_KEYWORDS,
    'database',
  ];
  for (const word of words) secrets.addPublic(word);
}
