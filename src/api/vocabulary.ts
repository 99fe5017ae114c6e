import { secrets } from '../config/secrets.js';
import { ownWords } from './own-words.js';
import { CAUSE_CODES } from '../engine/causes.js';
import { ENGINE_MODULES, ENGINE_NAMES } from '../engines/registry.js';
import { STEP_ORDER } from '../engine/steps.js';
import { PLATFORMS } from '../host/platform.js';
import { RunReportSchema } from '../engine/schema.js';
import { ExplainReportSchema } from '../explain/schema.js';
import { z } from 'zod';

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
    ...ENGINE_NAMES,
    ...['shell', 'sql', 'detected', 'flag'],
    // explain's words: its command, statuses and rule ranks.
    ...['explain', 'recognised', 'not_recognised', 'server', 'client', 'errno', 'symptom'],
    // Setting names are keys of the report's "source" object.
    ...ENGINE_MODULES.flatMap((engine) => engine.settingNames ?? []),
    'database',
    // The documents' own field names ("name", "text", "command", …): a secret equal to one must not
    // mask a key, or the JSON would no longer be the schema's.
    ...schemaKeys(RunReportSchema),
    ...schemaKeys(ExplainReportSchema),
  ];
  for (const word of words) secrets.addPublic(word);
  secrets.useOwnWords(ownWords);
}

/** Every object key a zod schema declares, at any depth. */
function schemaKeys(schema: z.ZodTypeAny, seen = new Set<z.ZodTypeAny>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  if (schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, z.ZodTypeAny>;
    return [...Object.keys(shape), ...Object.values(shape).flatMap((inner) => schemaKeys(inner, seen))];
  }
  // Wrappers and containers (optional, nullable, array, union, record, effects, lazy…): whatever schemas their definition holds.
  const def = schema._def as Record<string, unknown>;
  const inner = Object.values(def).flatMap((value) => (Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : [value]));
  const lazy = schema instanceof z.ZodLazy ? [schema.schema] : [];
  return [...inner, ...lazy].filter((value): value is z.ZodTypeAny => value instanceof z.ZodType).flatMap((value) => schemaKeys(value, seen));
}
