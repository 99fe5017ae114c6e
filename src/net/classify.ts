import type { CauseCode } from '../engine/causes.js';
import type { Resolution } from './dns.js';
import type { EndpointTrace } from './reach.js';
import type { ConnectFailure } from './tcp.js';

/**
 * The errno layer of classification, shared by every probe: what a failed resolution or a
 * failed connect means, before any database protocol is spoken. (Each probe has its own layers
 * for its protocol's error codes and messages.)
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

/** What reaching a list of endpoints (none of which connected) means. */
export type ReachFailure = { readonly kind: 'refused' } | { readonly kind: 'failure'; readonly cause: CauseCode };

export function decideUnreached(entries: readonly EndpointTrace[]): ReachFailure {
  const first = entries[0];
  if (first?.dns && first.dns.outcome !== 'resolved') return { kind: 'failure', cause: causeOfResolution(first.dns) };
  const connects = entries.flatMap((entry) => entry.connects);
  const refusal = (outcome: string): boolean => outcome === 'refused' || outcome === 'missing';
  if (connects.length > 0 && connects.every((attempt) => refusal(attempt.outcome))) return { kind: 'refused' };
  // Mixed outcomes: the first that is not a refusal is the more telling (a timeout beats "::1 refused").
  const telling = connects.find((attempt) => !refusal(attempt.outcome)) ?? connects[0];
  if (!telling) return { kind: 'failure', cause: 'connect_timeout' };
  // A socket file we may not open is a permission problem, not a network one.
  if (telling.outcome === 'denied' && first?.transport === 'unix') return { kind: 'failure', cause: 'permission_denied' };
  const cause = causeOfConnectFailure({ outcome: telling.outcome === 'connected' ? 'error' : telling.outcome });
  return cause === 'refused' ? { kind: 'refused' } : { kind: 'failure', cause };
}
