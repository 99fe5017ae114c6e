/**
 * The thresholds that turn measurements into findings, with their defaults. Plain data, no
 * schema library: the CLI reads them on its fast path (`--version`, `--help`).
 */
export interface Thresholds {
  /** Active statements running longer than this are `long_running`. */
  readonly longRunningMs: number;
  /** Lock waits longer than this are `blocked`. */
  readonly lockWaitMs: number;
  /** Sessions idle in a transaction longer than this are `idle_in_transaction`. */
  readonly idleInTransactionMs: number;
  /** Sessions idle longer than this count towards `idle_connections`. */
  readonly idleMs: number;
  /** Share of the connection limit in use that makes `near_limit`, in percent. */
  readonly nearLimitPercent: number;
  /** A standby whose last replayed transaction is older than this, with WAL still to replay, is `replication_lag`. */
  readonly replicationLagMs: number;
}

export const DEFAULT_THRESHOLDS = {
  longRunningMs: 5 * 60_000,
  lockWaitMs: 10_000,
  idleInTransactionMs: 5 * 60_000,
  idleMs: 30 * 60_000,
  nearLimitPercent: 80,
  replicationLagMs: 60_000,
} as const satisfies Thresholds;
