import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { StepIdSchema } from '../engine/schema.js';
import { ENGINE_NAMES } from '../engines/registry.js';
import { durationMs } from './duration.js';
import { InputError } from './errors.js';

/**
 * A config file naming the targets of a fleet, in YAML or JSON (`--config dbdoctor.yaml`):
 *
 *   defaults:
 *     timeout: 10                 # seconds, per target (the run's --timeout still bounds all)
 *     thresholds: { longRunning: 5m, lockWait: 10s, nearLimit: 80, replicationLag: 1m }
 *   targets:
 *     - label: orders
 *       url: postgresql://app@orders-db:5432/orders
 *     - label: analytics
 *       urlFrom: ANALYTICS_DATABASE_URL   # read the URL from this variable (keeps secrets out of the file)
 *       timeout: 5
 *       skip: [queries]
 *       minInterval: 1m           # dbdoctor exporter: diagnose this one at most once a minute
 *
 * Validated with zod; an error names the file, line, column and field.
 */
const Duration = z.union([z.number().positive(), z.string()]).transform((value, context) => {
  const ms = durationMs(value);
  if (ms === undefined) {
    // "0s" is a duration, just not one that can be used: say that, not that it is not one.
    const zero = typeof value === 'string' && /^\s*0+(?:\.0+)?\s*(ms|s|sec|m|min|h)?\s*$/i.test(value);
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message: zero ? 'must be greater than 0, e.g. 30s' : 'expected a duration such as 500ms, 30s, 5m or 1h (a bare number is seconds)',
    });
    return z.NEVER;
  }
  return ms;
});

const ThresholdsSchema = z
  .object({
    longRunning: Duration,
    lockWait: Duration,
    idleInTransaction: Duration,
    idle: Duration,
    nearLimit: z.number().gt(0).lte(100),
    replicationLag: Duration,
  })
  .partial()
  .strict();

const Steps = z.array(StepIdSchema).min(1);

/** What a target sets for its diagnosis, and `defaults` for every target: the same fields, the same limits. */
const Settings = {
  timeout: z.number().positive().max(3600).optional(),
  thresholds: ThresholdsSchema.optional(),
  only: Steps.optional(),
  skip: Steps.optional(),
  /** `dbdoctor exporter` only: a scrape within this long of the last diagnosis gets its result. */
  minInterval: Duration.optional(),
};

const TargetEntrySchema = z
  .object({
    label: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
    urlFrom: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable')
      .optional(),
    engine: z.enum(ENGINE_NAMES).optional(),
    ...Settings,
  })
  .strict()
  .refine((entry) => (entry.url === undefined) !== (entry.urlFrom === undefined), { message: 'give exactly one of url or urlFrom' });

export const ConfigFileSchema = z
  .object({
    defaults: z.object(Settings).strict().optional(),
    targets: z.array(TargetEntrySchema).min(1, 'list at least one target'),
  })
  .strict();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;
export type ConfigTarget = ConfigFile['targets'][number];

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new InputError(`cannot read config file ${path} (${code})`, 'check the path given to --config');
  }
  return parseConfigFile(text, path);
}

/** YAML (and JSON, which is YAML) with positions, so that errors can name the line. */
export async function parseConfigFile(text: string, path: string): Promise<ConfigFile> {
  const { LineCounter, parseDocument, visit } = await import('yaml');
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = document.errors[0];
  if (syntax) {
    const at = lines.linePos(syntax.pos[0]);
    throw new InputError(
      `${path}:${at.line}:${at.col}: ${syntax.message.split('\n')[0] ?? 'not valid YAML or JSON'}`,
      'fix the syntax; the file is YAML (JSON is accepted too)',
    );
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 50 });
  } catch (error) {
    // An alias to an anchor that is not set (or that expands too much): name the first alias.
    let offset = 0;
    visit(document, { Alias: (_key, node) => ((offset = node.range?.[0] ?? 0), visit.BREAK) });
    const at = lines.linePos(offset);
    throw new InputError(
      `${path}:${at.line}:${at.col}: ${error instanceof Error ? error.message.split('\n')[0] : 'invalid alias'}`,
      'fix the YAML anchor (&name) or alias (*name)',
    );
  }
  const parsed = ConfigFileSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field =
    (issue?.path ?? [])
      .map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`))
      .join('')
      .replace(/^\./, '') || '(top level)';
  const node: unknown = document.getIn(issue?.path ?? [], true);
  const range: unknown = typeof node === 'object' && node !== null && 'range' in node ? node.range : undefined;
  const offset = Array.isArray(range) && typeof range[0] === 'number' ? range[0] : 0;
  const at = lines.linePos(offset);
  throw new InputError(
    `${path}:${at.line}:${at.col}: ${field}: ${issue?.message ?? 'invalid'}`,
    'see "Several targets, and config files" in the README for the fields a config file may have',
  );
}
