import { z } from 'zod';
import { CauseCodeSchema } from '../engine/causes.js';
import { RemediationSchema } from '../engine/schema.js';
import { StepIdSchema } from '../engine/steps.js';
import { ENGINES, RANKS } from './rule.js';

/**
 * `dbdoctor explain --json`: its own document, versioned like the diagnosis report. Types are
 * inferred from the schema; the CLI validates before writing. Adding optional fields is
 * compatible; anything else bumps EXPLAIN_SCHEMA_VERSION.
 */
export const EXPLAIN_SCHEMA_VERSION = 1 as const;

const CauseRefSchema = z.object({
  /** The tree step the cause belongs to (the catalogue's); null for causes of any step. */
  step: StepIdSchema.nullable(),
  cause: CauseCodeSchema,
  why: z.string(),
});
export type CauseRef = z.infer<typeof CauseRefSchema>;

export const ExplainReportSchema = z.object({
  schemaVersion: z.literal(EXPLAIN_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('dbdoctor'), version: z.string() }),
  command: z.literal('explain'),
  /** recognised: a rule matched; not_recognised: none did (then only `guesses`). */
  status: z.enum(['recognised', 'not_recognised']),
  engine: z.enum(ENGINES).nullable(),
  /** The client the text comes from, when it says (psycopg2, pgjdbc, pymongo, …). */
  client: z.string().nullable(),
  verdict: z
    .object({
      step: StepIdSchema.nullable(),
      cause: CauseCodeSchema,
      severity: z.enum(['warn', 'fail']),
      title: z.string(),
      /** The catalogue's meaning of the cause. */
      meaning: z.string(),
      rule: z.string(),
      rank: z.enum(RANKS),
      /** The words that matched, passwords masked. */
      matched: z.string(),
    })
    .nullable(),
  /** Causes the same words also fit: the text alone cannot tell them apart. */
  alternatives: z.array(CauseRefSchema),
  /** Only when not recognised: the closest causes, and why they are only guesses. */
  guesses: z.array(CauseRefSchema),
  fields: z.object({ host: z.string().optional(), port: z.number().int().optional(), user: z.string().optional(), database: z.string().optional() }),
  remediation: z.array(RemediationSchema),
  /** The command that confirms the verdict against the server (never with a password). */
  confirm: z.string().nullable(),
  /**
   * Only when not recognised: the text is an error from a query, not from connecting (the
   * connection worked): what kind, its SQLSTATE when the text gives one, and the words.
   */
  queryError: z.object({ kind: z.string(), code: z.string().optional(), said: z.string() }).optional(),
  /** Every rule that matched, best first. */
  matches: z.array(z.object({ rule: z.string(), cause: CauseCodeSchema, rank: z.enum(RANKS) })),
  durationMs: z.number().nonnegative(),
});
export type ExplainReport = z.infer<typeof ExplainReportSchema>;
