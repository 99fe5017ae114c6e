import { stepOfCause, type CauseCode } from '../../../engine/causes.js';
import { causeOfServerError, type Decision } from '../classify.js';
import type { ConnectionTrace, ServerError } from '../connect.js';

/**
 * Telling a pooler from PostgreSQL by what it does on the one connection, before asking it anything.
 *
 * PgBouncer answers every error of its own with SQLSTATE 08P01 and only three fields (severity,
 * SQLSTATE, message), where PostgreSQL always adds file, line and routine. When the database
 * rejects PgBouncer's own login, PgBouncer relays the server's message to the waiting clients the
 * same bare way: with 08P01 up to 1.19, with the server's SQLSTATE from 1.20. Those are the only
 * errors a client ever sees from it, so they are matched here by their words, SQLSTATE first.
 *
 * A login that succeeds shows two more tells: PgBouncer invents the BackendKeyData "process id"
 * (random bytes, so almost never a number an operating system would use), and a pool with no
 * server connection yet keeps the client waiting after accepting its password.
 */
export type PoolerSign =
  /** An error in PgBouncer's own words. */
  | 'pooler-error'
  /** A PostgreSQL error relayed without PostgreSQL's location fields: a pooler passed it on. */
  | 'relayed-error'
  /** BackendKeyData's process id is not a number any PostgreSQL backend can have. */
  | 'backend-key-not-a-pid'
  /** The credentials were sent, then nothing came back before the deadline. */
  | 'silent-after-authentication'
  /** In the session, pg_backend_pid() is not the process id the login announced. */
  | 'backend-pid-differs'
  /**
   * The port is PgBouncer's (its owner on this machine, from /proc), and it held the login before
   * asking for a password: auth_query runs on the database first, and the database does not answer.
   */
  | 'held-before-authentication';

export const SIGN_DESCRIPTIONS = {
  'pooler-error': "an error in PgBouncer's own words (SQLSTATE 08P01, no source location)",
  'relayed-error': 'a PostgreSQL error relayed without its source location, as a pooler relays it',
  'backend-key-not-a-pid': 'the BackendKeyData process id is not a process id (PgBouncer makes up its own)',
  'silent-after-authentication': 'the login was answered, then nothing came back (a pooler waiting for a server connection)',
  'backend-pid-differs': 'pg_backend_pid() differs from the process id announced at login',
  'held-before-authentication': 'pgbouncer owns the port on this machine, and it held the login before asking for a password',
} as const satisfies Record<PoolerSign, string>;

/** The most a Linux process id can be (PID_MAX_LIMIT on 64-bit); PostgreSQL announces its own. */
export const PID_MAX = 4_194_304;

type Words = readonly (readonly [RegExp, CauseCode])[];

/**
 * PgBouncer's own words to a client (every disconnect_client(…, notify=true, …) and the server
 * disconnect reasons it passes to a linked client, in client.c, objects.c, janitor.c, server.c,
 * proto.c), 1.10 to 1.25, each family to the cause it means. A client sees them at login or, when
 * PgBouncer answered the login from its cache, at its first query.
 */
const PGBOUNCER_WORDS: Words = [
  [/^no more connections allowed \(max_client_conn\)|^client connections exceeded \(max_(db|user)_client_connections\)/, 'pooler_client_limit'],
  // Its logins to the database fail: from 1.24 the cached error says which (see cachedErrorCause).
  [/^server login has been failing|^client_login_timeout \(server down\)|^pgbouncer cannot connect to server/, 'pooler_backend_down'],
  [/^server login failed: /, 'pooler_backend_auth'],
  // A server connection that broke under a linked client, for reasons on the database's side.
  [
    /^(server conn crashed\?|server DNS lookup failed|connect failed|cannot connect|connect timeout|TLS startup failed|server refused SSL|unexpected eof)/,
    'pooler_backend_down',
  ],
  [
    /^(password|SASL|PAM|LDAP|certificate|"trust") authentication failed$|^(unix socket )?login rejected$|^no such user$|^not allowed$|^no username supplied$|^(username|password) too long$|^client selected an invalid SASL authentication mechanism$|^empty password returned by client$|^no authentication method is found$/,
    'pooler_auth',
  ],
  [/^no such database: /, 'database_missing'],
  [/^database "[^"]*" is disabled$|^authentication database "[^"]*" is disabled$|^database does not allow connections: /, 'pooler_paused'],
  [/^SSL required$/, 'tls_required'],
  // A query (ours) that waited in its queue longer than query_wait_timeout, or query_timeout.
  [/^query_(wait_)?timeout$/, 'pooler_pool_exhausted'],
  [/^(server|pooler) is shutting down$|^server shutting down$/, 'shutting_down'],
  // PgBouncer itself could not serve the client: its own resources or configuration, an admin, a
  // SUSPEND for an online restart, or packets of ours it would not take.
  [
    /^(bouncer config error|bouncer resources exhaustion|no memory for (authentication )?pool|out of memory|pause (cancel request )?failed|failed to (prepare|send) welcome message|admin forced disconnect|client_login_timeout$|client_idle_timeout$|suspend_timeout$|unsupported (startup parameter|options startup parameter)|old V2 protocol not supported|bad packet|bad pkt|unknown pkt|incomplete (pkt|query)|failed to parse packet|client sent partial pkt|client re-sent startup pkt|client password pkt before startup packet|invalid startup packet layout|received unencrypted data after|broken (Parse|Bind|Describe|Close) packet|prepared statement (did not exist|name is already in use)|ldap is not supported|auth_ldap_options is null)/,
    'not_accepting',
  ],
];

/**
 * From 1.24 "server login has been failing, cached error: <reason> (server_login_retry)" names
 * the last failure: the database's own words (a login it refused) or PgBouncer's (it could not
 * connect). The database's refusal of PgBouncer's login is pooler_backend_auth, the rest is down.
 */
const CACHED_ERROR = /^server login has been failing, cached error: (.*) \(server_login_retry\)$/;

function cachedErrorCause(message: string): CauseCode | undefined {
  const reason = CACHED_ERROR.exec(message)?.[1];
  if (reason === undefined) return undefined;
  const said = causeOfServerError({ code: '', severity: 'FATAL', message: reason });
  return LOGIN_REFUSALS.has(said) ? 'pooler_backend_auth' : 'pooler_backend_down';
}

/** Causes the database gives for a login it refuses; relayed by a pooler, they are the pooler's login. */
const LOGIN_REFUSALS: ReadonlySet<CauseCode> = new Set([
  'auth_failed',
  'role_missing',
  'hba_rejected',
  'database_missing',
  'permission_denied',
  'password_missing',
]);

export interface PoolerError {
  readonly cause: CauseCode;
  /** Whose words these are: the pooler's, or the database's passed on by the pooler. */
  readonly origin: 'pooler' | 'database, relayed by the pooler';
}

export function poolerErrorOf(error: ServerError): PoolerError | undefined {
  if (error.located === true) return undefined;
  if (error.code === '08P01') {
    const own = cachedErrorCause(error.message) ?? PGBOUNCER_WORDS.find(([pattern]) => pattern.test(error.message))?.[1];
    if (own) return { cause: own, origin: 'pooler' };
  }
  // Only a missing `located` (false, not unknown) says the error did not come from PostgreSQL.
  if (error.located !== false) return undefined;
  const serverCause = causeOfServerError({ ...error, code: error.code === '08P01' ? '' : error.code });
  if (LOGIN_REFUSALS.has(serverCause)) return { cause: 'pooler_backend_auth', origin: 'database, relayed by the pooler' };
  if (error.code === '08P01' && serverCause !== 'not_accepting') return { cause: 'pooler_backend_down', origin: 'database, relayed by the pooler' };
  return undefined;
}

/** The decision for a login a pooler refused, or undefined to let PostgreSQL's rules decide. */
export function decidePooler(trace: ConnectionTrace): Decision | undefined {
  const pooled = trace.serverError ? poolerErrorOf(trace.serverError) : undefined;
  return pooled ? { kind: 'failure', step: stepOfCause(pooled.cause) ?? 'accepting', cause: pooled.cause } : undefined;
}

/**
 * The decision for the error that ended a session at its first query through a pooler: the
 * pooler's words (or the database's, relayed by it), else PostgreSQL's own rules.
 */
export function decidePoolerError(error: ServerError): Decision {
  const cause = poolerErrorOf(error)?.cause ?? causeOfServerError(error);
  return { kind: 'failure', step: stepOfCause(cause) ?? 'accepting', cause };
}

export function isProcessId(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && pid <= PID_MAX;
}

/** What the one connection says about a pooler in between; empty for a plain PostgreSQL. */
export function poolerSigns(trace: ConnectionTrace): PoolerSign[] {
  const signs: PoolerSign[] = [];
  const pooled = trace.serverError ? poolerErrorOf(trace.serverError) : undefined;
  if (pooled) signs.push(pooled.origin === 'pooler' ? 'pooler-error' : 'relayed-error');
  if (trace.backendPid !== undefined && !isProcessId(trace.backendPid)) signs.push('backend-key-not-a-pid');
  if (trace.timedOut && trace.phase === 'auth' && !trace.serverError) signs.push('silent-after-authentication');
  return signs;
}

/**
 * The server answered the SSLRequest, took the startup message, then said nothing until the
 * deadline: no authentication request, no error. PostgreSQL asks for a password at once; a
 * PgBouncer that must run auth_query on the database first waits for it.
 */
export function heldBeforeAuthentication(trace: ConnectionTrace): boolean {
  return (
    trace.timedOut && (trace.sslReply === 'N' || trace.sslReply === 'S') && trace.phase === 'startup' && trace.authMethod === undefined && !trace.serverError
  );
}
