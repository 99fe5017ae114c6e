import { z } from 'zod';
import { PLATFORMS } from '../host/platform.js';
import { CauseCodeSchema } from './causes.js';
import type { TargetStatus } from './status.js';
import { STEP_ORDER } from './steps.js';

export const StepIdSchema = z.enum(STEP_ORDER);

/**
 * The output contract. TypeScript types are inferred from these schemas so that what we
 * validate and what we compile against cannot drift apart. Bump SCHEMA_VERSION on any
 * incompatible change; adding optional fields is compatible.
 */
export const SCHEMA_VERSION = 1;

export const StepStatusSchema = z.enum(['pass', 'warn', 'fail', 'skip']);
export type StepStatus = z.infer<typeof StepStatusSchema>;

export const TargetStatusSchema = z.enum(['healthy', 'degraded', 'unhealthy']) satisfies z.ZodType<TargetStatus>;
export type { TargetStatus };

/** Evidence is what was measured: error codes, counts, durations. JSON values only. */
export const EvidenceSchema = z.record(z.string(), z.unknown());
export type Evidence = z.infer<typeof EvidenceSchema>;

/**
 * A database session a verdict is about, in the words every engine shares: the human report lists
 * them (who, how long, what it runs) so the operator sees them before ending any. Probes put them
 * under `sessions` in a finding's evidence; engine-specific rows stay beside them.
 */
export const SessionEvidenceSchema = z.object({
  /** What it is to this verdict: "waiting", "blocking", "running", "idle in transaction", … */
  role: z.string(),
  pid: z.union([z.number(), z.string()]),
  user: z.string().optional(),
  application: z.string().optional(),
  /** e.g. "idle in transaction", "active". */
  state: z.string().optional(),
  /** How long, and on what: "waited 1.8 s for pid 30829", "transaction open 2.1 s". */
  detail: z.string().optional(),
  query: z.string().optional(),
});
export type SessionEvidence = z.infer<typeof SessionEvidenceSchema>;

export const RemediationSchema = z.object({
  text: z.string(),
  /**
   * What to copy and paste. `language` says where it runs: "shell" (bash, zsh, fish or sh: every
   * value is quoted the same way for all four), "powershell" (Windows; PowerShell quoting) or "sql"
   * (psql, cqlsh). Without `language` it is not
   * run at all: a line for a file or a setting — a pg_hba.conf or pgbouncer.ini line, a compose or
   * Kubernetes snippet, a connection URL — pasted where the text says.
   */
  command: z.string().optional(),
  language: z.enum(['shell', 'sql', 'powershell']).optional(),
  /**
   * For a statement (language "sql": SQL, or CQL for Cassandra): the shell command that runs it
   * against the same server the diagnosis reached (psql -h … -c '…', cqlsh … -e '…'), never with
   * a password in it. The human view prints this line; `command` keeps the statement itself.
   */
  run: z.string().optional(),
});
export type Remediation = z.infer<typeof RemediationSchema>;

export const FindingSchema = z.object({
  status: StepStatusSchema,
  /** null for a plain pass or a skip; a catalogue code otherwise. */
  cause: CauseCodeSchema.nullable(),
  summary: z.string(),
  evidence: EvidenceSchema,
  remediation: z.array(RemediationSchema),
});
export type Finding = z.infer<typeof FindingSchema>;

export const StepReportSchema = z.object({
  id: StepIdSchema,
  ...FindingSchema.shape,
  durationMs: z.number().nonnegative(),
  /** Further warnings found by the same step, besides its main finding. */
  also: z.array(FindingSchema).optional(),
});
export type StepReport = z.infer<typeof StepReportSchema>;

export const VerdictSchema = z.object({
  /** The step that decided the verdict; null when the target is healthy. */
  step: StepIdSchema.nullable(),
  cause: CauseCodeSchema,
  message: z.string(),
  details: EvidenceSchema,
  remediation: z.array(RemediationSchema),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export const WarningSchema = z.object({
  step: StepIdSchema,
  cause: CauseCodeSchema,
  summary: z.string(),
});

export const TargetReportSchema = z.object({
  /** The target as the user gave it, with every secret masked. */
  target: z.string(),
  /** Its name, when it came from a config file or a variable (e.g. "orders", "DATABASE_URL"). */
  label: z.string().optional(),
  engine: z.string(),
  /** Where each setting came from, e.g. { host: "url", password: "~/.pgpass line 3" }. */
  source: z.record(z.string(), z.string()),
  status: TargetStatusSchema,
  verdict: VerdictSchema,
  warnings: z.array(WarningSchema),
  steps: z.array(StepReportSchema),
  durationMs: z.number().nonnegative(),
});
export type TargetReport = z.infer<typeof TargetReportSchema>;

/** Where dbdoctor ran, and the database settings it found in the environment (secrets masked). */
export const EnvironmentReportSchema = z.object({
  platform: z.enum(PLATFORMS),
  chosen: z.enum(['detected', 'flag']),
  inContainer: z.boolean(),
  kubernetesNamespace: z.string().optional(),
  composeFile: z.string().optional(),
  signals: z.array(z.string()),
  configuration: z.array(z.object({ name: z.string(), value: z.string(), source: z.string() })),
});
export type EnvironmentReport = z.infer<typeof EnvironmentReportSchema>;

export const RunReportSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('dbdoctor'), version: z.string() }),
  status: TargetStatusSchema,
  durationMs: z.number().nonnegative(),
  environment: EnvironmentReportSchema.optional(),
  targets: z.array(TargetReportSchema),
});
export type RunReport = z.infer<typeof RunReportSchema>;
