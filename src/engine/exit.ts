import type { TargetStatus } from './status.js';

/**
 * Every exit code dbdoctor returns, in one place (issue 16): the same for every output format.
 * Scripts, CI steps and init containers branch on these, so they are a contract like the cause
 * codes: add, never renumber. Nothing else in src/ writes an exit code as a number.
 */
export const EXIT_CODES = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
  /** Bad input, or dbdoctor could not run at all. */
  usage: 3,
  /**
   * explain only: no connection cause is recognised in the text (not healthy, not a failure, not
   * bad input). A statement the server rejected (not a connection problem) exits 4 too: what tells
   * it apart is the report's `statement` (JSON) and its words (human), not the exit code, so that
   * scripts that treat 4 as "explain could not name a connection cause" stay right.
   */
  notRecognised: 4,
  /** The exporter stopped as asked (SIGTERM or SIGINT, once). */
  stopped: 0,
  /** wait's command after "--" could not be started: a shell's "command not found". */
  commandNotRun: 127,
  /** wait's command after "--" was ended by a signal (the signal's number is not added). */
  commandSignalled: 128,
} as const satisfies Record<TargetStatus | 'usage', number> & Record<string, number>;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** A run's exit code: its worst target's status. */
export function exitForStatus(status: TargetStatus): ExitCode {
  return EXIT_CODES[status];
}

/**
 * A finding's status as the exit code it gives: a failed step makes its target unhealthy, a
 * warning degraded (engine/walk.ts: summarise), so a cause's verdict exits by its severity.
 */
export function exitForSeverity(severity: 'pass' | 'warn' | 'fail'): ExitCode {
  return EXIT_BY_SEVERITY[severity];
}

const EXIT_BY_SEVERITY = { pass: EXIT_CODES.healthy, warn: EXIT_CODES.degraded, fail: EXIT_CODES.unhealthy } as const;

/** A second SIGINT or SIGTERM while the exporter shuts down: 128 + the signal's number, as a shell reports it. */
export function exitForSignal(signal: 'SIGINT' | 'SIGTERM'): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * wait's command, run once ready: its own exit code; ended by a signal, commandSignalled; neither
 * (Node gives one or the other, so this is only a fallback), 1.
 */
export function exitOfCommand(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? (signal ? EXIT_CODES.commandSignalled : COMMAND_ENDED_UNSAID);
}

const COMMAND_ENDED_UNSAID = 1;
