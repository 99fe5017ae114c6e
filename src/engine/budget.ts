import type { Deadline } from './deadline.js';

/**
 * How much of the run a connection attempt may use: 60 % of what is left, keeping the rest for
 * the checks that need a session. With the default --timeout of 10 s, a black-holed host is
 * reported as connect_timeout after about 6 s, and a server that answers slowly still leaves
 * about 4 s for its pool and query checks. Every probe uses the same policy.
 */
export const CONNECT_SHARE = 0.6;

export function connectDeadline(run: Deadline): Deadline {
  return run.limit(run.remainingMs() * CONNECT_SHARE, 'connect');
}
