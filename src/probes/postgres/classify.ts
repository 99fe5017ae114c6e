import { stepOfCause, type CauseCode } from '../../engine/causes.js';
import type { StepId } from '../../engine/steps.js';
import { decideUnreached } from '../../net/classify.js';
import type { ConnectionTrace, ServerError } from './connect.js';

/**
 * What a connection attempt means, decided once and read by every step. Layers, in order:
 * the server's SQLSTATE, then the socket's errno (net/classify), then message text, which is the
 * last resort for proxies and old servers that send no SQLSTATE.
 */
export type Decision =
  | { readonly kind: 'session' }
  /** Refused, or no socket file: the process step looks at this machine to say why. */
  | { readonly kind: 'refused' }
  | { readonly kind: 'failure'; readonly step: StepId; readonly cause: CauseCode };

type ByMessage = readonly (readonly [RegExp, CauseCode])[];

/** SQLSTATE 57P03 (cannot_connect_now) has several reasons; only its message tells them apart. */
const CANNOT_CONNECT_NOW: ByMessage = [
  [/starting up/i, 'starting_up'],
  [/shutting down/i, 'shutting_down'],
  [/recovery mode|not yet accepting connections|not accepting connections|hot standby/i, 'recovery'],
];

/** SQLSTATE 28000 (invalid_authorization_specification) likewise. */
const INVALID_AUTHORIZATION: ByMessage = [
  [/no pg_hba\.conf entry|pg_hba\.conf rejects/i, 'hba_rejected'],
  [/role "[^"]*" does not exist/i, 'role_missing'],
  [/not permitted to log in/i, 'permission_denied'],
];

/** SQLSTATE 57014 (query_canceled): only a statement timeout is a cause; a user's cancel is not. */
const QUERY_CANCELED: ByMessage = [[/statement timeout/i, 'long_running']];

export const BY_SQLSTATE: Readonly<Record<string, CauseCode | ByMessage>> = {
  '57P03': CANNOT_CONNECT_NOW,
  '57P01': 'shutting_down',
  '57P02': 'recovery',
  '57014': QUERY_CANCELED,
  '55P03': 'blocked',
  '25P03': 'idle_in_transaction',
  '25006': 'standby',
  '53300': 'too_many_connections',
  '28P01': 'auth_failed',
  '28000': INVALID_AUTHORIZATION,
  '3D000': 'database_missing',
  '42501': 'permission_denied',
  '0A000': 'wrong_protocol',
};

/** For servers and proxies that send a message but no (or an unhelpful) SQLSTATE. */
export const BY_MESSAGE: ByMessage = [
  [/too many (clients|connections)|remaining connection slots are reserved|no more connections allowed/i, 'too_many_connections'],
  [/no pg_hba\.conf entry|pg_hba\.conf rejects/i, 'hba_rejected'],
  [/role "[^"]*" does not exist/i, 'role_missing'],
  [/database "[^"]*" does not exist/i, 'database_missing'],
  [/password authentication failed|authentication failed/i, 'auth_failed'],
  [/the database system is starting up/i, 'starting_up'],
  [/the database system is shutting down/i, 'shutting_down'],
  [/recovery mode|not yet accepting connections|hot standby mode is disabled/i, 'recovery'],
  [/not permitted to log in|permission denied/i, 'permission_denied'],
];

function byMessage(table: ByMessage, text: string): CauseCode | undefined {
  return table.find(([pattern]) => pattern.test(text))?.[1];
}

/**
 * A SQLSTATE read from a pasted text (explain's code layer): its cause, or "ambiguous" when the
 * code has several and the words beside it do not say which (a translated message, a bare code).
 */
export function causeOfSqlstate(code: string, words: string): CauseCode | 'ambiguous' | undefined {
  const entry = BY_SQLSTATE[code];
  if (entry === undefined) return undefined;
  if (typeof entry === 'string') return entry;
  return byMessage(entry, words) ?? 'ambiguous';
}

export function causeOfServerError(error: ServerError): CauseCode {
  const entry = BY_SQLSTATE[error.code];
  const text = `${error.message} ${error.detail ?? ''}`;
  if (typeof entry === 'string') return entry;
  if (entry) {
    const specific = byMessage(entry, text);
    if (specific) return specific;
  }
  if (error.code === '28000') return 'auth_failed';
  return byMessage(BY_MESSAGE, text) ?? 'not_accepting';
}

export function decide(trace: ConnectionTrace): Decision {
  if (trace.phase === 'ready') return { kind: 'session' };
  const failure = (cause: CauseCode, step = stepOfCause(cause) ?? 'accepting'): Decision => ({ kind: 'failure', step, cause });

  if (!trace.connected) {
    const unreached = decideUnreached(trace.endpoints);
    return unreached.kind === 'refused' ? unreached : failure(unreached.cause);
  }

  if (trace.answeredBy) return failure('wrong_protocol');
  if (trace.sslReply === 'N' && trace.encryption === 'none' && !trace.serverError && trace.phase === 'ssl') return failure('tls_unsupported');
  if (trace.tls && trace.tls.outcome === 'verify_failed') return failure('tls_verify_failed');
  if (trace.tls && trace.tls.outcome === 'handshake_failed') return failure('tls_handshake_failed');
  if (trace.serverError) {
    const cause = causeOfServerError(trace.serverError);
    if (cause === 'hba_rejected' && trace.tlsWouldBeAdmitted) return failure('tls_required');
    return failure(cause);
  }
  if (trace.passwordMissing) return failure('password_missing');
  if (trace.clientError?.code === 'ECONNRESET') return failure('connection_reset');
  // The server asked for an authentication the driver could not complete (GSSAPI, a SCRAM
  // signature mismatch): an authentication problem, with the driver's words in the evidence.
  if (trace.clientError && trace.phase === 'auth') return failure('auth_failed');
  // Connected, then nothing usable came back before the deadline, or the peer hung up.
  return failure('no_response');
}
