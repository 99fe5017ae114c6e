import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { secrets } from '../config/secrets.js';
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

/**
 * The words dbdoctor's own code writes (its sentences, names and commands), read from its own
 * files (dist/, or src/ under the tests), lower-cased; the generated message catalogs, which hold
 * servers' words in every language, are not dbdoctor's.
 */
function ownWords(): ReadonlySet<string> {
  // src/ or dist/ above this module (dist/api/, or dist/bundle/chunks/ in the command line's
  // bundle). dist/bundle/ itself is left out: it holds the bundled libraries' code too, whose words
  // are not dbdoctor's, and dist/'s own files hold every word the bundle has of dbdoctor's.
  let root = dirname(fileURLToPath(import.meta.url));
  while (!['src', 'dist'].includes(basename(root)) && dirname(root) !== root) root = dirname(root);
  const words = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join(root, 'bundle')) visit(path);
      else if (/\.(js|ts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') && !entry.name.includes('.generated.')) {
        for (const word of readFileSync(path, 'utf8').match(/[A-Za-z]{4,}/g) ?? []) words.add(word.toLowerCase());
      }
    }
  };
  try {
    visit(root);
  } catch {
    // Unreadable: no word counts as dbdoctor's own, and every secret stays masked.
  }
  return words;
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
