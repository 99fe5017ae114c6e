import type { Deadline } from './deadline.js';

/**
 * How much of the run a connection attempt may use: 60 % of what is left, keeping the rest for
 * the checks that need a session. With the default --timeout of 10 s, a black-holed host is
 * reported as connect_timeout after about 6 s, and a server that answers slowly still leaves
 * about 4 s for its pool and query checks. Every probe uses the same policy.
 */
export const CONNECT_SHARE = 0.6;

/**
 * Time kept back from the steps so that closing connections never runs past the run's deadline.
 * Closing is tiny (a Terminate message) and falls back to destroying the socket.
 */
export const TEARDOWN_RESERVE_MS = 120;

export function connectDeadline(run: Deadline): Deadline {
  return run.limit(run.remainingMs() * CONNECT_SHARE, 'connect');
}

/**
 * Said after a wait a connection attempt gave up on ("no answer within 1.7 s"): that time was the
 * attempt's share of --timeout, not the whole of it, and how to let it wait longer (twice the run's
 * timeout, at least the 10 s default).
 */
export function connectShareNote(budgetMs: number): string {
  const longer = Math.max(10, Math.ceil((budgetMs / CONNECT_SHARE / 1000) * 2));
  return `(a connection attempt may use ${Math.round(CONNECT_SHARE * 100)} % of the time --timeout leaves; --timeout ${longer} waits longer)`;
}
