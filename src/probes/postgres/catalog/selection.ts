import type { CauseCode } from '../../../engine/causes.js';
import type { Alternative, FieldName, Rank } from '../../../engine/explainer.js';
import { refusedAlso, timeoutAlso } from '../../common/errno.js';
import { cannotConnectNowAlso, closedAlso, hbaPlaintextAlso, passwordFailedAlso, statementTimeoutAlso } from '../alternatives.js';

/**
 * Which messages of PostgreSQL's own catalogs bear on a cause dbdoctor knows, and what each
 * means. The catalogs themselves (the server's postgres-NN, libpq's libpq5-NN, pgjdbc's
 * messages_xx) map a message id to its translation in every language they ship; the SQLSTATE
 * next to each server message is the one its ereport() sends (PostgreSQL's source: auth.c,
 * postinit.c, miscinit.c, postmaster.c, postgres.c, utility.c). `npm run catalogs`
 * (scripts/catalogs/generate.ts) reads the catalogs of PostgreSQL 13, 15 and 17 and pgjdbc, keeps
 * the translations of the messages below, and writes catalog/*.generated.ts; catalog/reader.ts
 * turns each translation into a pattern whose %s / {0} are typed captures (the user, database,
 * host and port the message names).
 *
 * A message with `cause: null` only frames another one ("connection to server at … failed: "
 * followed by the socket's error): it names the host and port, and marks where libpq's report
 * for one address starts (one finding per host), but the cause is in the words that follow.
 */
/** A field, host:port in one ('endpoint'), the address a host name resolved to ('address'), or nothing to read (null). */
export type ArgKind = FieldName | 'endpoint' | 'address' | null;

export interface CatalogMessage {
  /** Stable short name, part of the reading's id (catalog.<catalog>.<key>.<language>). */
  readonly key: string;
  /** The message id as the catalog has it (a trailing newline, which libpq's ids had up to 16, is ignored). */
  readonly msgid: string;
  readonly cause: CauseCode | null;
  readonly rank: Rank;
  /** What each %s / %d / {n} holds, in the order of the English message (null: nothing to read). */
  readonly args?: readonly ArgKind[];
  readonly also?: readonly Alternative[];
  readonly sqlstate?: string;
  /** The words do not decide: guesses only (ExplainRule.tentative). */
  readonly tentative?: true;
  /**
   * Said outside a connection attempt (no libpq frame such as "connection to server at … failed:"
   * before it), this is an established session that broke, whatever the socket error inside it
   * says: guesses only, for it and for what it frames.
   */
  readonly unframedIsSession?: true;
  /** Why the words do not decide, said with the guesses (ExplainRule.undecided). */
  readonly undecided?: string;
}

/** 25006: a standby, or a read-only transaction on a primary. */
const READ_ONLY =
  'PostgreSQL says this on a hot standby, and on a primary wherever the transaction is read-only (default_transaction_read_only set for the role or the database, SET TRANSACTION READ ONLY, a provider that made the database read-only); the words cannot tell them apart, and dbdoctor has no cause for the second';

export type CatalogName = 'server' | 'libpq' | 'pgjdbc';

const USER: readonly ArgKind[] = ['user'];
const HBA: readonly ArgKind[] = [null, 'user', 'database', null];

export const SERVER_MESSAGES: readonly CatalogMessage[] = [
  // ── authentication (auth.c: auth_failed(), one message per method) ─────────
  {
    key: 'password-failed',
    msgid: 'password authentication failed for user "%s"',
    cause: 'auth_failed',
    rank: 'server',
    args: USER,
    also: passwordFailedAlso,
    sqlstate: '28P01',
  },
  { key: 'md5-failed', msgid: 'authentication failed for user "%s": host rejected', cause: 'hba_rejected', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'trust-failed', msgid: '"trust" authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'ident-failed', msgid: 'Ident authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'peer-failed', msgid: 'Peer authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'gssapi-failed', msgid: 'GSSAPI authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'sspi-failed', msgid: 'SSPI authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'pam-failed', msgid: 'PAM authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'bsd-failed', msgid: 'BSD authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'ldap-failed', msgid: 'LDAP authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'cert-failed', msgid: 'certificate authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'radius-failed', msgid: 'RADIUS authentication failed for user "%s"', cause: 'auth_failed', rank: 'server', args: USER, sqlstate: '28000' },
  {
    key: 'method-invalid',
    msgid: 'authentication failed for user "%s": invalid authentication method',
    cause: 'auth_failed',
    rank: 'server',
    args: USER,
    sqlstate: '28000',
  },
  { key: 'client-cert-required', msgid: 'connection requires a valid client certificate', cause: 'auth_failed', rank: 'server', sqlstate: '28000' },
  { key: 'empty-password', msgid: 'empty password returned by client', cause: 'password_missing', rank: 'server', sqlstate: '28P01' },
  // ── pg_hba.conf (auth.c: ClientAuthentication) ─────────────────────────────
  {
    key: 'hba-no-entry',
    msgid: 'no pg_hba.conf entry for host "%s", user "%s", database "%s", %s',
    cause: 'hba_rejected',
    rank: 'server',
    args: HBA,
    also: hbaPlaintextAlso,
    sqlstate: '28000',
  },
  {
    key: 'hba-no-entry-replication',
    msgid: 'no pg_hba.conf entry for replication connection from host "%s", user "%s", %s',
    cause: 'hba_rejected',
    rank: 'server',
    args: [null, 'user', null],
    also: hbaPlaintextAlso,
    sqlstate: '28000',
  },
  {
    key: 'hba-rejects',
    msgid: 'pg_hba.conf rejects connection for host "%s", user "%s", database "%s", %s',
    cause: 'hba_rejected',
    rank: 'server',
    args: HBA,
    sqlstate: '28000',
  },
  {
    key: 'hba-rejects-replication',
    msgid: 'pg_hba.conf rejects replication connection for host "%s", user "%s", %s',
    cause: 'hba_rejected',
    rank: 'server',
    args: [null, 'user', null],
    sqlstate: '28000',
  },
  // ── the role and the database (miscinit.c, postinit.c) ─────────────────────
  { key: 'role-missing', msgid: 'role "%s" does not exist', cause: 'role_missing', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'role-no-login', msgid: 'role "%s" is not permitted to log in', cause: 'permission_denied', rank: 'server', args: USER, sqlstate: '28000' },
  { key: 'database-missing', msgid: 'database "%s" does not exist', cause: 'database_missing', rank: 'server', args: ['database'], sqlstate: '3D000' },
  {
    key: 'no-connect-privilege',
    msgid: 'permission denied for database "%s"',
    cause: 'permission_denied',
    rank: 'server',
    args: ['database'],
    sqlstate: '42501',
  },
  // ── connection slots ───────────────────────────────────────────────────────
  { key: 'too-many-clients', msgid: 'sorry, too many clients already', cause: 'too_many_connections', rank: 'server', sqlstate: '53300' },
  {
    key: 'reserved-slots',
    msgid: 'remaining connection slots are reserved for non-replication superuser connections',
    cause: 'too_many_connections',
    rank: 'server',
    sqlstate: '53300',
  },
  {
    key: 'reserved-slots-attribute',
    msgid: 'remaining connection slots are reserved for roles with the %s attribute',
    cause: 'too_many_connections',
    rank: 'server',
    args: [null],
    sqlstate: '53300',
  },
  {
    key: 'reserved-slots-role',
    msgid: 'remaining connection slots are reserved for roles with privileges of the "%s" role',
    cause: 'too_many_connections',
    rank: 'server',
    args: [null],
    sqlstate: '53300',
  },
  { key: 'role-connection-limit', msgid: 'too many connections for role "%s"', cause: 'too_many_connections', rank: 'server', args: USER, sqlstate: '53300' },
  {
    key: 'database-connection-limit',
    msgid: 'too many connections for database "%s"',
    cause: 'too_many_connections',
    rank: 'server',
    args: ['database'],
    sqlstate: '53300',
  },
  // ── the server's state (postmaster.c: 57P03; postgres.c: 57P01, 57P02) ──────
  { key: 'starting-up', msgid: 'the database system is starting up', cause: 'starting_up', rank: 'server', sqlstate: '57P03' },
  { key: 'shutting-down', msgid: 'the database system is shutting down', cause: 'shutting_down', rank: 'server', sqlstate: '57P03' },
  { key: 'recovery-mode', msgid: 'the database system is in recovery mode', cause: 'recovery', rank: 'server', sqlstate: '57P03' },
  {
    key: 'not-accepting',
    msgid: 'the database system is not accepting connections',
    cause: 'recovery',
    rank: 'server',
    also: cannotConnectNowAlso,
    sqlstate: '57P03',
  },
  { key: 'not-yet-accepting', msgid: 'the database system is not yet accepting connections', cause: 'recovery', rank: 'server', sqlstate: '57P03' },
  // 57P01 decides on an established session too (issue 19): the server ended the session, by a fast
  // shutdown or by pg_terminate_backend(); explain's meaning and fix for it name both (postgres/explain.ts).
  { key: 'admin-shutdown', msgid: 'terminating connection due to administrator command', cause: 'shutting_down', rank: 'server', sqlstate: '57P01' },
  { key: 'immediate-shutdown', msgid: 'terminating connection due to immediate shutdown command', cause: 'shutting_down', rank: 'server', sqlstate: '57P01' },
  { key: 'crash-of-another', msgid: 'terminating connection because of crash of another server process', cause: 'recovery', rank: 'server', sqlstate: '57P02' },
  // ── sessions and statements (postgres.c, heapam.c, lockcmds.c, utility.c) ───
  {
    key: 'idle-in-transaction-timeout',
    msgid: 'terminating connection due to idle-in-transaction timeout',
    cause: 'idle_in_transaction',
    rank: 'server',
    sqlstate: '25P03',
  },
  {
    key: 'statement-timeout',
    msgid: 'canceling statement due to statement timeout',
    cause: 'long_running',
    rank: 'server',
    also: statementTimeoutAlso,
    sqlstate: '57014',
  },
  { key: 'lock-timeout', msgid: 'canceling statement due to lock timeout', cause: 'blocked', rank: 'server', sqlstate: '55P03' },
  { key: 'nowait-row', msgid: 'could not obtain lock on row in relation "%s"', cause: 'blocked', rank: 'server', args: [null], sqlstate: '55P03' },
  { key: 'nowait-relation', msgid: 'could not obtain lock on relation "%s"', cause: 'blocked', rank: 'server', args: [null], sqlstate: '55P03' },
  {
    key: 'read-only-transaction',
    msgid: 'cannot execute %s in a read-only transaction',
    cause: 'standby',
    rank: 'server',
    args: [null],
    sqlstate: '25006',
    tentative: true,
    undecided: READ_ONLY,
  },
  { key: 'during-recovery', msgid: 'cannot execute %s during recovery', cause: 'standby', rank: 'server', args: [null], sqlstate: '25006' },
  { key: 'read-write-during-recovery', msgid: 'cannot set transaction read-write mode during recovery', cause: 'standby', rank: 'server', sqlstate: '25006' },
];

export const LIBPQ_MESSAGES: readonly CatalogMessage[] = [
  // ── frames: where libpq's report for one address starts, and which address ──
  { key: 'frame-host-address', msgid: 'connection to server at "%s" (%s), port %s failed: ', cause: null, rank: 'symptom', args: ['host', 'address', 'port'] },
  { key: 'frame-host', msgid: 'connection to server at "%s", port %s failed: ', cause: null, rank: 'symptom', args: ['host', 'port'] },
  { key: 'frame-socket', msgid: 'connection to server on socket "%s" failed: ', cause: null, rank: 'symptom', args: ['host'] },
  {
    key: 'frame-old-host-address',
    msgid: 'could not connect to server: %s\n\tIs the server running on host "%s" (%s) and accepting\n\tTCP/IP connections on port %s?\n',
    cause: null,
    rank: 'symptom',
    args: [null, 'host', 'address', 'port'],
  },
  {
    key: 'frame-old-host',
    msgid: 'could not connect to server: %s\n\tIs the server running on host "%s" and accepting\n\tTCP/IP connections on port %s?\n',
    cause: null,
    rank: 'symptom',
    args: [null, 'host', 'port'],
  },
  {
    key: 'frame-old-socket',
    msgid: 'could not connect to server: %s\n\tIs the server running locally and accepting\n\tconnections on Unix domain socket "%s"?\n',
    cause: null,
    rank: 'symptom',
    args: [null, 'host'],
  },
  // ── causes ─────────────────────────────────────────────────────────────────
  { key: 'no-ssl', msgid: 'server does not support SSL, but SSL was required', cause: 'tls_unsupported', rank: 'client' },
  { key: 'cert-host', msgid: 'server certificate for "%s" does not match host name "%s"', cause: 'tls_verify_failed', rank: 'client', args: [null, 'host'] },
  {
    key: 'cert-hosts',
    msgid: 'server certificate for "%s" (and %d other name) does not match host name "%s"',
    cause: 'tls_verify_failed',
    rank: 'client',
    args: [null, null, 'host'],
  },
  {
    key: 'root-cert-missing',
    msgid: 'root certificate file "%s" does not exist\nEither provide the file or change sslmode to disable server certificate verification.',
    cause: 'tls_verify_failed',
    rank: 'client',
    args: [null],
  },
  {
    key: 'root-cert-missing-17',
    msgid:
      'root certificate file "%s" does not exist\nEither provide the file, use the system\'s trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification.',
    cause: 'tls_verify_failed',
    rank: 'client',
    args: [null],
  },
  { key: 'cert-verify', msgid: 'SSL error: certificate verify failed: %s', cause: 'tls_verify_failed', rank: 'client', args: [null] },
  { key: 'read-only', msgid: 'session is read-only', cause: 'standby', rank: 'client' },
  { key: 'hot-standby', msgid: 'server is in hot standby mode', cause: 'standby', rank: 'client' },
  { key: 'not-writable', msgid: 'could not make a writable connection to server "%s:%s"', cause: 'standby', rank: 'client', args: ['host', 'port'] },
  { key: 'ssl-response', msgid: 'received invalid response to SSL negotiation: %c', cause: 'wrong_protocol', rank: 'client', args: [null] },
  { key: 'auth-request', msgid: 'expected authentication request from server, but received %c', cause: 'wrong_protocol', rank: 'client', args: [null] },
  { key: 'auth-method', msgid: 'authentication method %u not supported', cause: 'auth_mechanism', rank: 'client', args: [null] },
  { key: 'sasl-mechanisms', msgid: "none of the server's SASL authentication mechanisms are supported", cause: 'auth_mechanism', rank: 'client' },
  // ── symptoms: the words that follow (an errno, OpenSSL's reason) say more ───
  {
    key: 'dns',
    msgid: 'could not translate host name "%s" to address: %s',
    cause: 'dns_not_found',
    rank: 'symptom',
    args: ['host', null],
    also: [
      {
        cause: 'dns_temporary',
        why: 'libpq says this for every resolver failure; the words after it (the resolver\'s own) tell "no such name" from "no answer"',
      },
    ],
  },
  // As the lab's rule pg.closed reads it (with a session's causes among its alternatives), in every language.
  {
    key: 'closed',
    msgid: 'server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.',
    cause: 'no_response',
    rank: 'symptom',
    also: closedAlso,
    unframedIsSession: true,
  },
  // The peer closed a TLS connection: at connect or mid-session, a crash, a proxy or a timeout alike.
  { key: 'ssl-eof', msgid: 'SSL SYSCALL error: EOF detected', cause: 'connection_reset', rank: 'symptom', also: closedAlso, tentative: true },
  { key: 'ssl-syscall', msgid: 'SSL SYSCALL error: %s', cause: 'connection_reset', rank: 'symptom', args: [null], also: closedAlso, unframedIsSession: true },
  { key: 'timeout', msgid: 'timeout expired', cause: 'connect_timeout', rank: 'symptom', also: timeoutAlso },
  {
    key: 'receive',
    msgid: 'could not receive data from server: %s',
    cause: 'no_response',
    rank: 'symptom',
    args: [null],
    also: closedAlso,
    unframedIsSession: true,
  },
  { key: 'send-startup', msgid: 'could not send startup packet: %s', cause: 'no_response', rank: 'symptom', args: [null], also: closedAlso },
  { key: 'send-ssl', msgid: 'could not send SSL negotiation packet: %s', cause: 'no_response', rank: 'symptom', args: [null], also: closedAlso },
  { key: 'write-failed', msgid: 'write to server failed', cause: 'no_response', rank: 'symptom', also: closedAlso, unframedIsSession: true },
  {
    key: 'ssl-error',
    msgid: 'SSL error: %s',
    cause: 'tls_handshake_failed',
    rank: 'symptom',
    args: [null],
    also: [{ cause: 'tls_verify_failed', why: 'OpenSSL\'s words after "SSL error:" name the problem; a certificate problem is this' }],
  },
  {
    key: 'ssl-establish',
    msgid: 'could not establish SSL connection: %s',
    cause: 'tls_handshake_failed',
    rank: 'symptom',
    args: [null],
    also: [{ cause: 'tls_verify_failed', why: "OpenSSL's words after it name the problem; a certificate problem is this" }],
  },
];

export const PGJDBC_MESSAGES: readonly CatalogMessage[] = [
  {
    key: 'refused',
    msgid: 'Connection to {0} refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.',
    cause: 'not_running',
    rank: 'errno',
    args: ['endpoint'],
    also: refusedAlso,
  },
  { key: 'no-ssl', msgid: 'The server does not support SSL.', cause: 'tls_unsupported', rank: 'client' },
  { key: 'protocol', msgid: 'Protocol error.  Session setup failed.', cause: 'wrong_protocol', rank: 'client' },
  { key: 'timeout', msgid: 'Connection attempt timed out.', cause: 'connect_timeout', rank: 'symptom', also: timeoutAlso },
  {
    key: 'auth-type',
    msgid:
      "The authentication type {0} is not supported. Check that you have configured the pg_hba.conf file to include the client''s IP address or subnet, and that it is using an authentication scheme supported by the driver.",
    cause: 'auth_mechanism',
    rank: 'client',
    args: [null],
  },
  { key: 'target-server-type', msgid: 'Could not find a server with specified targetServerType: {0}', cause: 'standby', rank: 'client', args: [null] },
  {
    key: 'hostname-verifier',
    msgid: 'The hostname {0} could not be verified by hostnameverifier {1}.',
    cause: 'tls_verify_failed',
    rank: 'client',
    args: ['host', null],
  },
  {
    key: 'hostname-common-name',
    msgid: 'Server name validation failed: hostname {0} does not match common name {1}',
    cause: 'tls_verify_failed',
    rank: 'client',
    args: ['host', null],
  },
  {
    key: 'hostname-no-san',
    msgid: 'Server name validation failed: certificate for hostname {0} has no DNS subjectAltNames, and it CommonName is missing as well',
    cause: 'tls_verify_failed',
    rank: 'client',
    args: ['host'],
  },
  { key: 'root-cert-open', msgid: 'Could not open SSL root certificate file {0}.', cause: 'tls_verify_failed', rank: 'client', args: [null] },
  { key: 'root-cert-read', msgid: 'Could not read SSL root certificate file {0}.', cause: 'tls_verify_failed', rank: 'client', args: [null] },
  {
    key: 'scram-no-password',
    msgid: 'The server requested SCRAM-based authentication, but no password was provided.',
    cause: 'password_missing',
    rank: 'client',
  },
  {
    key: 'scram-empty-password',
    msgid: 'The server requested SCRAM-based authentication, but the password is an empty string.',
    cause: 'password_missing',
    rank: 'client',
  },
  {
    key: 'plugin-no-password',
    msgid: 'The server requested password-based authentication, but no password was provided by plugin {0}',
    cause: 'password_missing',
    rank: 'client',
    args: [null],
  },
  // pgjdbc reports an I/O error while connecting as "The connection attempt failed."; this is a query's.
  {
    key: 'io-error',
    msgid: 'An I/O error occurred while sending to the backend.',
    cause: 'no_response',
    rank: 'symptom',
    also: closedAlso,
    unframedIsSession: true,
  },
  {
    key: 'ssl-setup',
    msgid: 'An error occurred while setting up the SSL connection.',
    cause: 'tls_handshake_failed',
    rank: 'symptom',
    also: [{ cause: 'tls_verify_failed', why: 'the exception it wraps (its "Caused by") names a certificate problem when there is one' }],
  },
];

export const CATALOG_MESSAGES: Readonly<Record<CatalogName, readonly CatalogMessage[]>> = {
  server: SERVER_MESSAGES,
  libpq: LIBPQ_MESSAGES,
  pgjdbc: PGJDBC_MESSAGES,
};
