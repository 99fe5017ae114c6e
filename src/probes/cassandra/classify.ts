import { stepOfCause, type CauseCode } from '../../engine/causes.js';
import type { StepId } from '../../engine/steps.js';
import { decideUnreached } from '../../net/classify.js';
import type { DriverError } from './driver.js';
import { ERROR_CODES, type CqlError } from './frame.js';
import type { HostTrace } from './handshake.js';

/**
 * What each contact point's handshake, and each error the driver reports, means. Layers, in order:
 * the protocol's error codes, then errno (net/classify), then the driver's error names, then
 * message text last — each a table with its own test.
 */
export type HostDecision =
  | { readonly kind: 'ok' }
  /** Refused: the process step looks at this machine to say why. */
  | { readonly kind: 'refused' }
  | { readonly kind: 'failure'; readonly step: StepId; readonly cause: CauseCode };

const failure = (cause: CauseCode): HostDecision => ({ kind: 'failure', step: stepOfCause(cause) ?? 'accepting', cause });

/** The protocol's error codes, as the server sends them at OPTIONS / STARTUP or on a query. */
export const BY_ERROR_CODE: Readonly<Record<number, CauseCode>> = {
  [ERROR_CODES.protocolError]: 'protocol_version',
  [ERROR_CODES.badCredentials]: 'auth_failed',
  [ERROR_CODES.unavailable]: 'unavailable',
  [ERROR_CODES.overloaded]: 'overloaded',
  [ERROR_CODES.isBootstrapping]: 'starting_up',
  [ERROR_CODES.readTimeout]: 'unavailable',
  [ERROR_CODES.readFailure]: 'unavailable',
  [ERROR_CODES.writeTimeout]: 'unavailable',
  [ERROR_CODES.writeFailure]: 'unavailable',
  [ERROR_CODES.unauthorized]: 'permission_denied',
};

type ByMessage = readonly (readonly [RegExp, CauseCode])[];

/** cassandra-driver's own errors carry no code: their text is all there is. */
export const BY_DRIVER_MESSAGE: ByMessage = [
  [/requires authentication, but no authenticator/i, 'password_missing'],
  [/is not permitted to log in/i, 'permission_denied'],
  [/username .* and\/or password are incorrect|bad credentials|authentication failed/i, 'auth_failed'],
  [/localDataCenter was configured as/i, 'local_dc_mismatch'],
  [/unable to STARTUP using protocol version|unsupported protocol version/i, 'protocol_version'],
  [/overloaded/i, 'overloaded'],
  [/Cannot achieve consistency level|Not enough replicas available/i, 'unavailable'],
  [/ECONNREFUSED|connection refused/i, 'not_running'],
  [/ENOTFOUND/i, 'dns_not_found'],
  [/EAI_AGAIN/i, 'dns_temporary'],
  [/EHOSTUNREACH|ENETUNREACH/i, 'host_unreachable'],
];

/** The drivers' names for errors with no code of their own (a client-side timeout, a login refused). */
export const BY_DRIVER_NAME: Readonly<Record<string, CauseCode>> = {
  AuthenticationError: 'auth_failed',
  OperationTimedOutError: 'no_response',
  OperationTimedOut: 'no_response',
  OperationTimedOutException: 'no_response',
};

export function causeOfCqlError(error: Pick<CqlError, 'code' | 'message'>): CauseCode {
  if (error.code === ERROR_CODES.protocolError && !/protocol version/i.test(error.message)) return 'not_accepting';
  return BY_ERROR_CODE[error.code] ?? 'not_accepting';
}

export function causeOfDriverError(error: DriverError): CauseCode {
  if (typeof error.code === 'number' && BY_ERROR_CODE[error.code]) return causeOfCqlError({ code: error.code, message: error.message });
  const byText = BY_DRIVER_MESSAGE.find(([pattern]) => pattern.test(error.message))?.[1];
  return byText ?? BY_DRIVER_NAME[error.name] ?? 'check_error';
}

/** TLS that fails because the far end answered in plain CQL: OpenSSL's words for "not TLS". */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|record layer failure|http request/i;

export function decideHost(trace: HostTrace): HostDecision {
  if (!trace.connected) {
    const unreached = decideUnreached([trace.entry]);
    return unreached.kind === 'refused' ? unreached : failure(unreached.cause);
  }
  if (trace.tls && trace.tls.outcome !== 'established') {
    if (trace.tls.outcome === 'timeout') return failure('no_response');
    return failure(NOT_TLS.test(trace.tls.message ?? '') ? 'tls_unsupported' : 'tls_handshake_failed');
  }
  if (trace.answeredBy) return failure(trace.answeredBy.protocol === 'tls' ? 'tls_required' : 'wrong_protocol');
  if (trace.tlsOnly) return failure('tls_required');
  if (trace.serverError) return failure(causeOfCqlError(trace.serverError));
  if (trace.startup) return { kind: 'ok' };
  if (trace.resetByPeer) return failure('connection_reset');
  return failure('no_response');
}

/**
 * With several contact points, the most telling failure is the one that got furthest: a server
 * that answered (wrongly) says more than a refusal, and a refusal (someone is there) more than
 * silence or a name that does not resolve.
 */
const REACH_RANK: Readonly<Record<StepId, number>> = { pool: 5, auth: 5, queries: 5, accepting: 4, process: 3, network: 1 };

export function rankOf(decision: HostDecision): number {
  if (decision.kind === 'ok') return 10;
  if (decision.kind === 'refused') return 2;
  return REACH_RANK[decision.step];
}

export function mostTelling<T>(items: readonly T[], decisionOf: (item: T) => HostDecision): T | undefined {
  let best: T | undefined;
  for (const item of items) if (best === undefined || rankOf(decisionOf(item)) > rankOf(decisionOf(best))) best = item;
  return best;
}

/** How many replicas a consistency level needs, given the replication factor that applies. */
export function replicasRequired(consistency: string, rf: number, rfAll: number): number {
  switch (consistency) {
    case 'ANY':
    case 'ONE':
    case 'LOCAL_ONE':
      return 1;
    case 'TWO':
      return 2;
    case 'THREE':
      return 3;
    case 'LOCAL_QUORUM':
    case 'EACH_QUORUM':
      return Math.floor(rf / 2) + 1;
    case 'QUORUM':
      return Math.floor(rfAll / 2) + 1;
    default:
      return rfAll;
  }
}
