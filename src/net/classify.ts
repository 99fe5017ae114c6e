import type { CauseCode } from '../engine/causes.js';
import type { Resolution } from './dns.js';
import type { ConnectFailure } from './tcp.js';

/**
 * The errno layer of classification, shared by every probe: what a failed resolution or a
 * failed connect means, before any database protocol is spoken. (SQLSTATEs and driver messages
 * are each probe's own layers.)
 */
export function causeOfResolution(resolution: Exclude<Resolution, { outcome: 'resolved' }>): CauseCode {
  return resolution.outcome === 'not_found' ? 'dns_not_found' : 'dns_temporary';
}

/**
 * A refused connection is not decided here: whether it means `not_running`, `wrong_port` or
 * `not_listening` needs a look at this machine's processes, which the probe does.
 */
export function causeOfConnectFailure(failure: Pick<ConnectFailure, 'outcome'>): CauseCode | 'refused' {
  switch (failure.outcome) {
    case 'refused':
    case 'missing':
      return 'refused';
    case 'timeout':
      return 'connect_timeout';
    case 'unreachable':
    case 'denied':
      return 'host_unreachable';
    case 'reset':
    case 'error':
      return 'no_response';
  }
}
