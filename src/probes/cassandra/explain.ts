import type { Remediation } from '../../engine/schema.js';
import type { EngineExplainer, Explained, ExplainRule, FieldPattern, Fields } from '../../explain/rule.js';
import { remediationInWords } from '../common/explain.js';
import type { EngineWords } from '../common/platform.js';
import { resolveCassandraTarget } from '../../config/cassandra/target.js';
import { buildEnvironment } from '../../config/environment.js';
import { cassandraWords } from './words.js';

/**
 * `dbdoctor explain`'s Cassandra part. Every message the Cassandra drivers print for the network
 * faults is read by src/probes/common/explain.ts (their wrappers, NoHostAvailable and
 * AllNodesFailedException, only carry the socket's error); what is here is Cassandra's words for
 * the fixes. Server-side errors (bad credentials, overloaded, …) belong here once the Cassandra
 * probe and its lab can produce real messages.
 */
export const cassandraRules: readonly ExplainRule[] = [];

export const cassandraFieldPatterns: readonly FieldPattern[] = [];

/**
 * The probe's own words for the shared fixes, for a target built from what the text names (an
 * empty environment: a pasted message is about the application's machine, not this one).
 */
function wordsFor(fields: Fields): EngineWords {
  try {
    return cassandraWords(resolveCassandraTarget({ text: url(fields), source: 'the pasted text' }, buildEnvironment({})));
  } catch {
    return cassandraWords(resolveCassandraTarget({ text: 'cassandra://localhost:9042', source: 'the pasted text' }, buildEnvironment({})));
  }
}

function remediation(explained: Explained): Remediation[] | undefined {
  return remediationInWords(explained, wordsFor(explained.fields), 9042, "the driver's SSL options (a truststore or CA file)");
}

function url(fields: Fields): string {
  return `cassandra://${fields.host ?? '<host>'}:${fields.port ?? 9042}`;
}

export const cassandraExplainer: EngineExplainer = { engine: 'cassandra', rules: cassandraRules, fieldPatterns: cassandraFieldPatterns, remediation, url };
