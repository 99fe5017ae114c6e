import { z } from 'zod';
import { CauseCodeSchema } from '../engine/causes.js';
import { RANKS } from '../engine/explainer.js';
import { RemediationSchema } from '../engine/schema.js';
import { StepIdSchema } from '../engine/schema.js';
import { ENGINE_NAMES } from '../engines/registry.js';

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

/** What the evidence is: a rule's words, a code (SQLSTATE, MongoDB code, errno …), or a catalog message. */
const BasisSchema = z.enum(['words', 'code', 'catalog']);

/** One host of a multi-host error (a driver's per-host map, libpq's one line per address): what it says. */
const HostFindingSchema = z.object({
  host: z.string(),
  port: z.number().int().optional(),
  /** null when nothing recognisable is said about this host. */
  step: StepIdSchema.nullable(),
  cause: CauseCodeSchema.nullable(),
  rule: z.string().nullable(),
  rank: z.enum(RANKS).nullable(),
  matched: z.string().nullable(),
});
export type HostFinding = z.infer<typeof HostFindingSchema>;

/** One distinct diagnosis in a log stream that holds several errors. */
const DiagnosisSchema = z.object({
  step: StepIdSchema.nullable(),
  cause: CauseCodeSchema,
  title: z.string(),
  rule: z.string(),
  rank: z.enum(RANKS),
  matched: z.string(),
  /** How many log records said it, and the line of the last (1-based, in the normalised text). */
  occurrences: z.number().int().positive(),
  lastLine: z.number().int().positive(),
});
export type Diagnosis = z.infer<typeof DiagnosisSchema>;

const VerdictSchema = z.object({
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
  basis: BasisSchema.optional(),
});

const FieldsSchema = z.object({ host: z.string().optional(), port: z.number().int().optional(), user: z.string().optional(), database: z.string().optional() });

/**
 * One distinct error of the paste (the same cause with the same names is one finding, counted):
 * its own verdict, the names its own text gives, its own fix and confirming command.
 */
const FindingSchema = z.object({
  engine: z.enum(ENGINE_NAMES).nullable(),
  /** The client its own words come from, when they say. */
  client: z.string().nullable().optional(),
  verdict: VerdictSchema,
  fields: FieldsSchema,
  alternatives: z.array(CauseRefSchema),
  remediation: z.array(RemediationSchema),
  confirm: z.string().nullable(),
  /** How many error records said it, and the line of the last (1-based, in the normalised text). */
  occurrences: z.number().int().positive(),
  lastLine: z.number().int().positive(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const ExplainReportSchema = z.object({
  schemaVersion: z.literal(EXPLAIN_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('dbdoctor'), version: z.string() }),
  command: z.literal('explain'),
  /** recognised: a rule matched; not_recognised: none did, or the evidence conflicts (then only `guesses`). */
  status: z.enum(['recognised', 'not_recognised']),
  engine: z.enum(ENGINE_NAMES).nullable(),
  /** The client the text comes from, when it says (psycopg2, pgjdbc, pymongo, …). */
  client: z.string().nullable(),
  /** The newest finding's verdict (see `findings` for every distinct error of the paste). */
  verdict: VerdictSchema.nullable(),
  /** Causes the same words also fit: the text alone cannot tell them apart. */
  alternatives: z.array(CauseRefSchema),
  /** Only when not recognised: the closest causes, and why they are only guesses. */
  guesses: z.array(CauseRefSchema),
  fields: FieldsSchema,
  remediation: z.array(RemediationSchema),
  /** The command that confirms the verdict against the server (never with a password). */
  confirm: z.string().nullable(),
  /**
   * Only when not recognised: the text is an error from a query, not from connecting (the
   * connection worked): what kind, its SQLSTATE when the text gives one, and the words.
   */
  queryError: z.object({ kind: z.string(), code: z.string().optional(), said: z.string() }).optional(),
  /** Every rule that matched, best first. */
  matches: z.array(z.object({ rule: z.string(), cause: CauseCodeSchema, rank: z.enum(RANKS), basis: BasisSchema.optional() })),
  /** When the text lists several hosts: each host's own finding (the verdict is the most specific of them). */
  hosts: z.array(HostFindingSchema).optional(),
  /** When the text is a log stream with several different errors: each once, oldest first, newest last (the verdict is the newest). */
  diagnoses: z.array(DiagnosisSchema).optional(),
  /**
   * When the text is not a connection error: the connection worked and the server rejected a
   * statement (a missing table, a duplicate key, a deadlock). No verdict: no cause of the
   * connection catalogue fits; the server's code and what it means.
   */
  statement: z.object({ engine: z.enum(ENGINE_NAMES), code: z.string(), meaning: z.string(), words: z.string() }).optional(),
  /**
   * Every distinct error the paste holds, oldest first, newest last (the top-level verdict, fields,
   * remediation and confirm are the newest's): each with the names from its own text and its own fix.
   */
  findings: z.array(FindingSchema).optional(),
  /**
   * When a log stream shows a working connection after its newest error (a query's own error, a
   * "connected" line): the words and their line. The errors before are history: no verdict.
   */
  working: z.object({ words: z.string(), line: z.number().int().positive() }).optional(),
  /** When the paste was longer than explain reads: its length and how many of its last characters were read. */
  truncated: z.object({ total: z.number().int().positive(), read: z.number().int().nonnegative() }).optional(),
  durationMs: z.number().nonnegative(),
});
export type ExplainReport = z.infer<typeof ExplainReportSchema>;
