import type { TargetStatus } from './status.js';

/** Exit codes: the same for every output format. 3 also covers "dbdoctor could not run at all". */
export const EXIT_CODES = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
  usage: 3,
} as const satisfies Record<TargetStatus | 'usage', number>;
