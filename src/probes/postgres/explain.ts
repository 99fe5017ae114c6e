import type { PostgresTarget } from '../../config/postgres/target.js';
import { postgresStatementRejected } from './statements.js';
import type { Remediation } from '../../engine/schema.js';
import type { CauseCode } from '../../engine/causes.js';
import type { ConnectingSigns, EngineExplainer, Explained, ExplainRule, FieldPattern, Fields, Reader } from '../../engine/explainer.js';
import { libpqHosts } from './catalog/hosts.js';
import { isLoopback } from '../../host/local.js';
import { networkRemediation, UNKNOWN_PLATFORM } from '../common/explain.js';
import { closedAlso, passwordFailedAlso, statementTimeoutAlso } from './alternatives.js';
import { pgIsReady, urlWith } from './commands.js';
import { acceptingRemedies } from './steps/accepting.js';
import { authRemedies, parseHbaRejection } from './steps/auth.js';
import { poolRemedies, preventIdleInTransaction } from './steps/pool.js';
import { processRemedies } from './steps/process.js';
import { preventLongRunning, preventLongWaits } from './steps/queries.js';
import { postgresWords } from './words.js';
import { poolerAcceptingRemedies } from './pooler/accepting.js';
import { poolerAuthRemedies } from './pooler/auth.js';
import { poolerPoolRemedies } from './pooler/pool.js';
import type { PoolerView } from './pooler/view.js';
import { urlHost, urlPart, urlQueryValue } from '../../text/url.js';

/**
 * `dbdoctor explain`'s PostgreSQL rules: the server's own messages (with the SQLSTATE it sends;
 * test/explain/explain.test.ts checks each against classify.ts, the probe's one source of truth),
 * then the clients' own words (libpq, psycopg, asyncpg, node-postgres, pgjdbc, pgx, lib/pq),
 * then Prisma's documented P1xxx codes. PgBouncer's own words (always SQLSTATE 08P01, see
 * pooler/recognise.ts) come first: where a client shows that SQLSTATE, a relayed PostgreSQL
 * message is PgBouncer's login to the database, not the application's. Remediation is the probe's: the step remedies, called
 * with a target built from what the message names.
 */
const PG = ['postgres'] as const;
const SERVER_CLIENTS = ['psql', 'psycopg2', 'psycopg', 'sqlalchemy', 'asyncpg', 'node-postgres', 'pgjdbc', 'pgx', 'lib-pq'];
const LIBPQ = ['psql', 'psycopg2', 'psycopg', 'sqlalchemy'];

export const postgresRules: readonly ExplainRule[] = [
  // ── PgBouncer's words (SQLSTATE 08P01; captured through PgBouncer 1.18) ───
  {
    id: 'pgbouncer.client-limit',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /no more connections allowed \(max_client_conn\)/,
    cause: 'pooler_client_limit',
    sqlstate: '08P01',
    examples: ['FATAL:  no more connections allowed (max_client_conn)'],
  },
  {
    // PostgreSQL says "password authentication failed for user …" for a failed SCRAM login; these are PgBouncer's own words.
    id: 'pgbouncer.auth-failed',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /\bSASL authentication failed\b/,
    cause: 'pooler_auth',
    sqlstate: '08P01',
    examples: ['FATAL:  SASL authentication failed', 'pq: SASL authentication failed (08P01)'],
  },
  {
    // PostgreSQL's refusal of PgBouncer's own login, relayed with PgBouncer's SQLSTATE (up to 1.19): only clients that show it can tell.
    id: 'pgbouncer.backend-auth',
    engines: PG,
    clients: ['asyncpg', 'lib-pq', 'pgx'],
    rank: 'server',
    pattern:
      /(?:(?<=ProtocolViolation(?:Error)?: )|(?=password authentication failed for user "[^"]+" \((?:SQLSTATE )?08P01\)))password authentication failed for user "(?<user>[^"]+)"/,
    cause: 'pooler_backend_auth',
    sqlstate: '08P01',
    fields: ['user'],
    examples: [
      'pq: password authentication failed for user "app" (08P01)',
      'asyncpg.exceptions.ProtocolViolationError: password authentication failed for user "app"',
    ],
  },
  {
    id: 'pgbouncer.server-down',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /client_login_timeout \(server down\)|pgbouncer cannot connect to server/,
    cause: 'pooler_backend_down',
    sqlstate: '08P01',
    examples: ['FATAL:  client_login_timeout (server down)'],
  },
  {
    id: 'pgbouncer.login-failing',
    engines: PG,
    clients: ['psql', 'psycopg', 'asyncpg', 'node-postgres', 'pgjdbc', 'pgx'],
    rank: 'server',
    pattern: /server login has been failing, try again later/,
    cause: 'pooler_backend_down',
    also: [
      {
        cause: 'pooler_backend_auth',
        why: 'PgBouncer says this for server_login_retry after any failed login to the database: one the database refused (a wrong password in its auth_file) as well as one it could not connect for',
      },
    ],
    sqlstate: '08P01',
    examples: ['FATAL:  server login has been failing, try again later (server_login_retry)'],
  },
  {
    id: 'pgbouncer.query-wait-timeout',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /\bquery_wait_timeout\b/,
    cause: 'pooler_pool_exhausted',
    also: [
      {
        cause: 'pooler_backend_down',
        why: 'PgBouncer also disconnects with query_wait_timeout a client that waited for a server connection it could not open: a database that is down or does not answer',
      },
    ],
    sqlstate: '08P01',
    examples: ['FATAL:  query_wait_timeout', 'asyncpg.exceptions.ProtocolViolationError: query_wait_timeout'],
  },
  {
    // client_tls_sslmode = require (or verify-*) at PgBouncer, a client without TLS. PostgreSQL's own refusal of a plaintext login is pg_hba.conf's words.
    id: 'pgbouncer.tls-required',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /(?:FATAL:\s+|\berror: |\bpq: |ProtocolViolation(?:Error)?: |^)SSL required\b/m,
    cause: 'tls_required',
    sqlstate: '08P01',
    examples: ['psql: error: connection to server at "127.0.0.1", port 6432 failed: FATAL:  SSL required', 'pq: SSL required (08P01)'],
  },
  {
    // DISABLE <db> on PgBouncer's console (PAUSE makes clients wait instead: query_wait_timeout).
    id: 'pgbouncer.database-disabled',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /(?:authentication )?database "(?<database>[^"]+)" is disabled/,
    cause: 'pooler_paused',
    sqlstate: '08P01',
    fields: ['database'],
    examples: ['FATAL:  database "appdb" is disabled'],
  },
  {
    id: 'pgbouncer.no-such-database',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /no such database: (?<database>[^\s]+)/,
    cause: 'database_missing',
    sqlstate: '08P01',
    fields: ['database'],
    examples: ['FATAL:  no such database: nowhere'],
  },

  // ── the server's words ─────────────────────────────────────────────────────
  {
    id: 'pg.password-failed',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /password authentication failed(?: for user "(?<user>[^"]+)")?/,
    cause: 'auth_failed',
    sqlstate: '28P01',
    also: passwordFailedAlso,
    fields: ['user'],
    examples: ['FATAL:  password authentication failed for user "app"'],
  },
  {
    id: 'pg.role-not-permitted',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /role "(?<user>[^"]+)" is not permitted to log in/,
    cause: 'permission_denied',
    sqlstate: '28000',
    fields: ['user'],
    examples: ['FATAL:  role "locked" is not permitted to log in'],
  },
  {
    id: 'pg.role-missing',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /role "(?<user>[^"]+)" does not exist/,
    cause: 'role_missing',
    sqlstate: '28000',
    fields: ['user'],
    examples: ['FATAL:  role "ghost" does not exist'],
  },
  {
    id: 'pg.database-missing',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /database "(?<database>[^"]+)" does not exist/,
    cause: 'database_missing',
    sqlstate: '3D000',
    fields: ['database'],
    examples: ['FATAL:  database "nope" does not exist'],
  },
  {
    id: 'pg.no-connect-privilege',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /permission denied for database "(?<database>[^"]+)"/,
    cause: 'permission_denied',
    sqlstate: '42501',
    fields: ['database'],
    examples: ['FATAL:  permission denied for database "private"\nDETAIL:  User does not have CONNECT privilege.'],
  },
  {
    // With TLS tried too (libpq's sslmode=prefer, pgjdbc, asyncpg): TLS would not help, so this is pg_hba.conf alone.
    id: 'pg.hba-no-entry',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /no pg_hba\.conf entry for host "[^"]*", user "(?<user>[^"]+)", database "(?<database>[^"]+)", (?:SSL|GSS) (?:encryption|on)/,
    cause: 'hba_rejected',
    sqlstate: '28000',
    fields: ['user', 'database'],
    examples: ['FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "stranger", database "appdb", SSL encryption'],
  },
  {
    id: 'pg.hba-no-entry-plaintext',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /no pg_hba\.conf entry for host "[^"]*", user "(?<user>[^"]+)", database "(?<database>[^"]+)", (?:no encryption|SSL off)/,
    cause: 'hba_rejected',
    sqlstate: '28000',
    also: [
      {
        cause: 'tls_required',
        why: 'the connection was not encrypted: a hostssl line may admit it over TLS (sslmode=require); dbdoctor diagnose tries TLS to tell',
      },
    ],
    fields: ['user', 'database'],
    examples: ['FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "tlsonly", database "appdb", no encryption'],
  },
  {
    id: 'pg.hba-reject',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /pg_hba\.conf rejects connection for host "[^"]*", user "(?<user>[^"]+)", database "(?<database>[^"]+)"/,
    cause: 'hba_rejected',
    sqlstate: '28000',
    fields: ['user', 'database'],
    examples: ['FATAL:  pg_hba.conf rejects connection for host "127.0.0.1", user "rejected", database "appdb", SSL encryption'],
  },
  {
    id: 'pg.too-many-clients',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /sorry, too many clients already/,
    cause: 'too_many_connections',
    sqlstate: '53300',
    examples: ['FATAL:  sorry, too many clients already'],
  },
  {
    id: 'pg.reserved-slots',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /remaining connection slots are reserved/,
    cause: 'too_many_connections',
    sqlstate: '53300',
    examples: ['FATAL:  remaining connection slots are reserved for non-replication superuser connections'],
  },
  {
    id: 'pg.connection-limit',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /too many connections for (?:role "(?<user>[^"]+)"|database "(?<database>[^"]+)")/,
    cause: 'too_many_connections',
    sqlstate: '53300',
    examples: ['FATAL:  too many connections for role "limited"'],
  },
  {
    id: 'pg.starting-up',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /the database system is starting up/,
    cause: 'starting_up',
    sqlstate: '57P03',
    examples: ['FATAL:  the database system is starting up'],
  },
  {
    id: 'pg.shutting-down',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /the database system is shutting down/,
    cause: 'shutting_down',
    sqlstate: '57P03',
    examples: ['FATAL:  the database system is shutting down'],
  },
  {
    id: 'pg.recovery',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /the database system is not accepting connections|the database system is in recovery mode|the database system is not yet accepting connections/,
    cause: 'recovery',
    sqlstate: '57P03',
    examples: ['FATAL:  the database system is not accepting connections\nDETAIL:  Hot standby mode is disabled.'],
  },
  {
    id: 'pg.statement-timeout',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /canceling statement due to statement timeout/,
    cause: 'long_running',
    sqlstate: '57014',
    also: statementTimeoutAlso,
    examples: ['ERROR:  canceling statement due to statement timeout'],
  },
  {
    id: 'pg.lock-timeout',
    engines: PG,
    clients: SERVER_CLIENTS,
    rank: 'server',
    pattern: /canceling statement due to lock timeout/,
    cause: 'blocked',
    sqlstate: '55P03',
    examples: ['ERROR:  canceling statement due to lock timeout'],
  },
  {
    id: 'pg.idle-in-transaction-timeout',
    engines: PG,
    clients: ['psql', 'asyncpg', 'node-postgres', 'pgjdbc', 'pgx', 'psycopg'],
    rank: 'server',
    pattern: /terminating connection due to idle-in-transaction timeout/,
    cause: 'idle_in_transaction',
    sqlstate: '25P03',
    examples: ['FATAL:  terminating connection due to idle-in-transaction timeout'],
  },

  // ── the clients' words ─────────────────────────────────────────────────────
  {
    id: 'pg.no-password',
    engines: PG,
    clients: [...LIBPQ, 'pgjdbc', 'node-postgres'],
    rank: 'client',
    pattern: /fe_sendauth: no password supplied|but no password was provided|client password must be a string/,
    cause: 'password_missing',
    examples: ['fe_sendauth: no password supplied', 'The server requested SCRAM-based authentication, but no password was provided.'],
  },
  {
    id: 'pg.tls-unsupported',
    engines: PG,
    clients: [...LIBPQ, 'asyncpg', 'node-postgres', 'pgjdbc', 'pgx', 'lib-pq'],
    rank: 'client',
    pattern: /\bserver does not support (?:SSL|TLS)\b|SSL is not enabled on the server|rejected SSL upgrade|server refused TLS connection/,
    cause: 'tls_unsupported',
    examples: ['server does not support SSL, but SSL was required', 'pq: SSL is not enabled on the server'],
  },
  {
    id: 'pg.tls-hostname.libpq',
    engines: PG,
    clients: LIBPQ,
    rank: 'client',
    pattern: /server certificate for "[^"]+"(?: \(and \d+ other names?\))? does not match host name "(?<host>[^"]+)"/,
    cause: 'tls_verify_failed',
    fields: ['host'],
    examples: ['server certificate for "db.example" (and 1 other name) does not match host name "127.0.0.1"'],
  },
  {
    id: 'pg.read-only-standby',
    engines: PG,
    clients: [...LIBPQ, 'asyncpg', 'pgjdbc', 'pgx'],
    rank: 'client',
    pattern:
      /session is read-only|ValidateConnect failed: read only connection|Could not find a server with specified targetServerType: primary|None of the hosts match the target attribute requirement <SessionAttribute\.read_write/,
    cause: 'standby',
    examples: ['connection to server at "127.0.0.1", port 39215 failed: session is read-only'],
  },
  {
    id: 'pg.wrong-protocol',
    engines: PG,
    clients: [...LIBPQ, 'pgjdbc', 'pgx'],
    rank: 'client',
    // pgx reads an HTTP reply's "HTTP/1" as a message length: 1414811691 is "TP/1".
    pattern:
      /expected authentication request from server, but received|received invalid response to SSL negotiation|unexpected response to SSL negotiation|Protocol error\.\s+Session setup failed|invalid body length: expected at most \d+, but got/,
    cause: 'wrong_protocol',
    examples: ['expected authentication request from server, but received H', 'org.postgresql.util.PSQLException: Protocol error.  Session setup failed.'],
  },
  {
    id: 'pg.closed',
    engines: PG,
    clients: [...LIBPQ, 'asyncpg', 'node-postgres', 'pgjdbc', 'pgx', 'lib-pq'],
    rank: 'symptom',
    pattern:
      /server closed the connection unexpectedly|Connection terminated unexpectedly|connection was closed in the middle of operation|failed to receive message: unexpected EOF|^(?:unexpected )?EOF$|java\.io\.EOFException|^driver: bad connection$/m,
    // As captured: a bare "EOF" line and Go's "driver: bad connection" mean this only in these cases.
    caseSensitive: true,
    cause: 'no_response',
    also: closedAlso,
    // The same words end a session that broke mid-query (a restart, a terminated backend, a proxy's idle timeout).
    whileConnecting: true,
    examples: [
      'server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.',
      'Error: Connection terminated unexpectedly',
    ],
  },

  // ── Prisma's documented codes (https://www.prisma.io/docs/orm/reference/error-reference) ──
  {
    id: 'prisma.P1000',
    engines: PG,
    clients: ['prisma'],
    rank: 'client',
    pattern:
      /(?:P1000:?\s*)?Authentication failed against database server at `(?<host>[^`]+)`, the provided database credentials for `(?<user>[^`]+)` are not valid|\bP1000\b/,
    cause: 'auth_failed',
    also: [{ cause: 'role_missing', why: 'Prisma reports a role that does not exist with the same code' }],
    fields: ['host', 'user'],
    examples: ['Error: P1000: Authentication failed against database server at `db.example.com`, the provided database credentials for `app` are not valid.'],
  },
  {
    id: 'prisma.P1001',
    engines: PG,
    clients: ['prisma'],
    rank: 'symptom',
    pattern: /(?:P1001:?\s*)?Can't reach database server at `(?<host>[^`]+)`:`(?<port>\d+)`|\bP1001\b/,
    cause: 'not_running',
    also: [
      { cause: 'connect_timeout', why: 'Prisma says "can\'t reach" for a connection that timed out too' },
      { cause: 'dns_not_found', why: 'and for a host name that does not resolve' },
      { cause: 'host_unreachable', why: 'and for a host with no route to it' },
    ],
    fields: ['host', 'port'],
    examples: ["Error: P1001: Can't reach database server at `db.example.com`:`5432`"],
  },
  {
    id: 'prisma.P1002',
    engines: PG,
    clients: ['prisma'],
    rank: 'symptom',
    pattern: /(?:P1002:?\s*)?The database server at `(?<host>[^`]+)`:`(?<port>\d+)` was reached but timed out|\bP1002\b/,
    cause: 'no_response',
    also: [{ cause: 'too_many_connections', why: 'an overloaded server that cannot start a backend in time looks the same' }],
    fields: ['host', 'port'],
    examples: ['Error: P1002: The database server at `db.example.com`:`5432` was reached but timed out.'],
  },
  {
    id: 'prisma.P1003',
    engines: PG,
    clients: ['prisma'],
    rank: 'client',
    pattern: /(?:P1003:?\s*)?Database `(?<database>[^`.]+)[^`]*` does not exist|\bP1003\b/,
    cause: 'database_missing',
    fields: ['database'],
    examples: ['Error: P1003: Database `appdb` does not exist on the database server at `db.example.com:5432`.'],
  },
  {
    id: 'prisma.P1010',
    engines: PG,
    clients: ['prisma'],
    rank: 'client',
    pattern: /(?:P1010:?\s*)?User `(?<user>[^`]+)` was denied access on the database `(?<database>[^`.]+)[^`]*`|\bP1010\b/,
    cause: 'permission_denied',
    fields: ['user', 'database'],
    examples: ['Error: P1010: User `app` was denied access on the database `appdb.public`'],
  },
  {
    id: 'prisma.P1011',
    engines: PG,
    clients: ['prisma'],
    rank: 'client',
    pattern: /\bP1011\b|Error opening a TLS connection/,
    cause: 'tls_handshake_failed',
    also: [
      { cause: 'tls_verify_failed', why: 'Prisma uses this code for certificate problems too; the words after it say which' },
      { cause: 'tls_unsupported', why: 'and for a server without TLS' },
    ],
    examples: ['Error: P1011: Error opening a TLS connection: bad certificate format'],
  },
  {
    id: 'prisma.P1017',
    engines: PG,
    clients: ['prisma'],
    rank: 'symptom',
    pattern: /\bP1017\b|Server has closed the connection/,
    cause: 'no_response',
    also: closedAlso,
    whileConnecting: true,
    examples: ['Error: P1017: Server has closed the connection.'],
  },
];

export const postgresFieldPatterns: readonly FieldPattern[] = [
  { clients: LIBPQ, pattern: /connection to server at "(?<host>[^"]+)"(?: \([^)]*\))?, port (?<port>\d+) failed/ },
  { clients: LIBPQ, pattern: /connection to server on socket "(?<host>[^"]+)\/\.s\.PGSQL\.(?<port>\d+)"/ },
  { clients: LIBPQ, pattern: /could not translate host name "(?<host>[^"]+)"/ },
  { clients: LIBPQ, pattern: /Is the server running on host "(?<host>[^"]+)"[^\n]*\n?[^\n]*TCP\/IP connections on port (?<port>\d+)/ },
  { clients: ['psycopg'], pattern: /failed to resolve host '(?<host>[^']+)'/ },
  { clients: ['pgx'], pattern: /failed to connect to `(?:host=(?<host>[^\s`]+) )?user=(?<user>[^\s`]+) database=(?<database>[^\s`]+)`/ },
  { clients: ['pgx'], pattern: /failed to connect to `[^`]*`:\s*(?<host>[^\s:]+):(?<port>\d+) \(/ },
  { clients: ['asyncpg'], pattern: /PostgreSQL server at "(?<host>[^":]+):(?<port>\d+)"/ },
  { clients: ['pgjdbc'], pattern: /Connection to (?<host>[^\s:]+):(?<port>\d+) refused/ },
  { clients: ['pgjdbc'], pattern: /The hostname (?<host>[^\s]+) could not be verified/ },
  { clients: SERVER_CLIENTS, pattern: /for user "(?<user>[^"]+)"/ },
  { clients: SERVER_CLIENTS, pattern: /user "(?<user>[^"]+)", database "(?<database>[^"]+)"/ },
];

/**
 * How PostgreSQL's clients show a connection attempt, for words that decide only then (the closed
 * connection, 57P01): libpq's frames are read in every language by the catalog reader
 * (Reader.attempts); these are the other clients' words, and the stack frames of a connect call.
 */
export const postgresConnecting: ConnectingSigns = {
  words:
    /\bconnection failed:|\bcould not connect to server\b|\bunable to connect\b|\bfailed to connect\b|\bThe connection attempt failed\b|\bException while connecting\b|\bError connecting to\b/i,
  // Python's innermost frame is a driver's connect function; Java's frames pass through pgjdbc's or a pool's connection factory.
  frame:
    /, in _{0,2}(?:connect|connect_addr|create_ssl_connection|_create_ssl_connection)\s*$|\bConnectionFactoryImpl\.|\bPgConnection\.<init>|\borg\.postgresql\.Driver\.(?:connect|makeConnection)\b|\bNpgsqlConnector\.<?(?:Connect|Open|RawOpen)|\bHikariPool\.createPoolEntry\b|\bPoolBase\.newConnection\b/,
};

/**
 * Words only a working connection hears: a query's own error (a missing table or column, a syntax
 * error, a constraint), or the server's log saying it is ready. In a log stream, earlier errors
 * are history.
 */
const POSTGRES_WORKING =
  /\brelation "[^"\n]+" does not exist|\bcolumn "[^"\n]+"(?: of relation "[^"\n]+")? does not exist|\bsyntax error at or near\b|\bduplicate key value violates unique constraint\b|\bviolates (?:foreign key|not-null|check) constraint\b|\bdatabase system is ready to accept connections\b/i;

/** A PostgreSQL target from what a message names; what it does not name is a placeholder. */
function targetOf(fields: Fields, defaultPort = 5432): PostgresTarget {
  const host = fields.host ?? '<host>';
  const port = Number(fields.port ?? defaultPort);
  const user = fields.user ?? '<user>';
  const database = fields.database ?? '<database>';
  return {
    engine: 'postgres',
    display: '',
    sources: { host: 'the pasted text', user: 'the pasted text', database: 'the pasted text', password: 'the application’s settings' },
    endpoints: [{ host, port }],
    user,
    database,
    passfile: { state: 'not-consulted', path: '~/.pgpass' },
    sslmode: 'prefer',
    targetSessionAttrs: 'any',
    ignoredParams: [],
  };
}

/** PgBouncer as a pasted message shows it: its console was not read, its [databases] line is not known. */
const PGBOUNCER_FROM_TEXT: PoolerView = { name: 'PgBouncer', signs: [], admin: { state: 'not-tried', reason: 'dbdoctor explain reads only the pasted text' } };

function remediation({ cause, fields, matched, text, rule }: Explained): Remediation[] | undefined {
  const pgbouncer = rule.id.startsWith('pgbouncer.');
  const target = targetOf(fields, pgbouncer ? 6432 : 5432);
  const network = networkRemediation(cause, fields, {
    words: postgresWords(target),
    recheck: { text: 'Then check again:', command: pgIsReady(target), language: 'shell' },
    defaultPort: 5432,
  });
  switch (cause) {
    case 'not_running':
      return processRemedies.not_running(target, fields.host === undefined || !isLoopback(fields.host), UNKNOWN_PLATFORM);
    case 'hba_rejected':
      return authRemedies.hba_rejected(target, parseHbaRejection(matched));
    case 'auth_failed':
      return authRemedies.auth_failed(target, /Peer authentication/.test(text) ? 'peer' : /Ident authentication/.test(text) ? 'ident' : undefined);
    case 'pooler_client_limit':
      return poolerPoolRemedies.pooler_client_limit(target, undefined);
    case 'pooler_pool_exhausted':
      return poolerPoolRemedies.pooler_pool_exhausted(target, PGBOUNCER_FROM_TEXT, undefined);
    case 'pooler_backend_down':
      return poolerAcceptingRemedies.pooler_backend_down(target, PGBOUNCER_FROM_TEXT);
    case 'pooler_paused':
      return poolerAcceptingRemedies.pooler_paused(target, PGBOUNCER_FROM_TEXT, /is disabled/.test(matched));
    case 'pooler_auth':
      return poolerAuthRemedies.pooler_auth(target, undefined);
    case 'pooler_backend_auth':
      return poolerAuthRemedies.pooler_backend_auth(target, undefined, /pg_hba\.conf/.test(matched));
    case 'database_missing':
      return pgbouncer ? poolerAuthRemedies.database_missing(target, undefined) : authRemedies.database_missing(target);
    case 'role_missing':
    case 'password_missing':
      return authRemedies[cause](target);
    case 'permission_denied':
      return authRemedies.permission_denied(target, /not permitted to log in/.test(matched));
    case 'starting_up':
      return acceptingRemedies.starting_up(target, UNKNOWN_PLATFORM);
    case 'tls_required':
      return pgbouncer
        ? [
            {
              text: 'PgBouncer admits clients only over TLS (client_tls_sslmode in pgbouncer.ini). Connect with TLS:',
              command: urlWith(target, { sslmode: 'require' }),
              language: 'shell',
            },
            { text: 'Or, if plaintext is acceptable on this network, set client_tls_sslmode = prefer (or allow) in pgbouncer.ini and reload PgBouncer.' },
          ]
        : acceptingRemedies.tls_required(target);
    case 'shutting_down':
      if (/administrator command|57P01/i.test(matched)) return terminatedRemedies(target);
      return acceptingRemedies[cause](target);
    case 'recovery':
    case 'connection_reset':
    case 'tls_unsupported':
    case 'standby':
      return acceptingRemedies[cause](target);
    case 'not_accepting':
    case 'tls_handshake_failed':
      return acceptingRemedies[cause]();
    case 'no_response':
      return acceptingRemedies.no_response(target, /closed|EOF|terminated/i.test(matched));
    case 'wrong_protocol':
      return acceptingRemedies.wrong_protocol(target, 'something that does not speak PostgreSQL');
    case 'tls_verify_failed': {
      const problem = /expired/i.test(matched)
        ? 'expired'
        : /host ?name|IP SANs|IP address mismatch|altnames/i.test(matched)
          ? 'hostname_mismatch'
          : 'untrusted';
      return acceptingRemedies.tls_verify_failed(target, problem, /server certificate for "([^"]+)"/.exec(matched)?.[1] ?? '');
    }
    case 'too_many_connections':
      return poolRemedies.too_many_connections(/for role/.test(matched) ? 'role' : /for database/.test(matched) ? 'database' : 'server');
    case 'idle_in_transaction':
    case 'long_running':
    case 'blocked': {
      // A limit the server enforces fired: say which, where it may be set, and how to find the statement.
      const limit = serverLimitOf(cause, matched);
      if (limit) return limit.remedies;
      return [
        {
          text:
            cause === 'blocked'
              ? 'A statement waited on a lock: another session holds it. See who blocks whom (as a superuser):'
              : 'See what is running and for how long (as a superuser):',
          command: ACTIVITY,
          language: 'sql',
        },
        cause === 'blocked' ? preventLongWaits : cause === 'long_running' ? preventLongRunning : preventIdleInTransaction,
      ];
    }
    default:
      return network;
  }
}

const ACTIVITY =
  "SELECT pid, usename, application_name, state, now() - xact_start AS in_transaction_for, now() - query_start AS running_for, pg_blocking_pids(pid) AS blocked_by, left(query, 80) FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid() ORDER BY xact_start;";

/** Where a server-enforced limit can be set: the session, the role, the database (both in pg_db_role_setting), postgresql.conf. */
const whereSet = (setting: string): Remediation => ({
  text: `See what ${setting} is and where it comes from: it may be set in postgresql.conf, for the role or the database (ALTER ROLE/DATABASE … SET), or by the application for its session or transaction (its connection options, SET ${setting}); behind PgBouncer, query_timeout cancels statements too. Run as the application's role:`,
  command: `SHOW ${setting}; SELECT coalesce(r.rolname, 'every role') AS role, coalesce(d.datname, 'every database') AS database, s.setconfig FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase WHERE array_to_string(s.setconfig, ',') LIKE '%${setting}%';`,
  language: 'sql',
});

/**
 * The limits PostgreSQL enforces on a statement or a session (statement_timeout 57014,
 * lock_timeout 55P03, NOWAIT's 55P03, idle_in_transaction_session_timeout 25P03): pasted, they say a
 * limit fired, not that something is still running. The meaning and fix say which limit, where it
 * may be set, and how to find the statement; never "set a timeout", which is what just fired.
 */
function serverLimitOf(cause: CauseCode, matched: string): { meaning: string; remedies: Remediation[] } | undefined {
  if (cause === 'long_running' && /statement timeout|57014/i.test(matched)) {
    return {
      meaning:
        'The server cancelled a statement because it ran longer than statement_timeout (SQLSTATE 57014): the limit fired and the statement did not finish. It was slow, or it waited on a lock held by another session; the session itself is still usable.',
      remedies: [
        whereSet('statement_timeout'),
        {
          text: 'Find the slow statement: the server log names it when log_min_duration_statement is set; pg_stat_statements (if installed) ranks statements by their longest run:',
          command:
            'SELECT calls, round(mean_exec_time) AS mean_ms, round(max_exec_time) AS max_ms, left(query, 80) FROM pg_stat_statements ORDER BY max_exec_time DESC LIMIT 10;',
          language: 'sql',
        },
        {
          text: 'Then make that statement faster (EXPLAIN (ANALYZE, BUFFERS) it: a missing index, a lock it waits on), or give only that work a longer limit (SET LOCAL statement_timeout inside its transaction) rather than raising it for everything.',
        },
      ],
    };
  }
  if (cause === 'blocked' && /lock timeout|could not obtain lock|55P03/i.test(matched)) {
    const nowait = /could not obtain lock/i.test(matched);
    return {
      meaning: nowait
        ? 'The statement asked for a lock without waiting (NOWAIT) and another session held it (SQLSTATE 55P03): the statement was cancelled at once.'
        : "The server cancelled a statement because it waited for a lock longer than lock_timeout (SQLSTATE 55P03): another session held the lock (often a transaction left open, or a migration's ALTER TABLE).",
      remedies: [
        {
          text: 'See who holds locks that others wait for, and how long their transactions have been open (as a superuser):',
          command: ACTIVITY,
          language: 'sql',
        },
        ...(nowait ? [] : [whereSet('lock_timeout')]),
        { text: 'Retry the statement once the holder has finished; if the holder sits idle in a transaction, fix the code path that leaves it open.' },
      ],
    };
  }
  if (cause === 'idle_in_transaction' && /idle-in-transaction timeout|idle_in_transaction|25P03/i.test(matched)) {
    return {
      meaning:
        "The server ended this session because it sat idle inside an open transaction longer than idle_in_transaction_session_timeout (SQLSTATE 25P03): the application opened a transaction and neither committed nor rolled back in time. The transaction's work was rolled back.",
      remedies: [
        {
          text: 'Find the code path that keeps a transaction open while it does something else (a network call, user input, a long computation) and COMMIT or ROLLBACK promptly. Sessions in that state now (as a superuser):',
          command:
            "SELECT pid, usename, application_name, now() - state_change AS idle_for, left(query, 80) AS last_query FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' ORDER BY state_change;",
          language: 'sql',
        },
        whereSet('idle_in_transaction_session_timeout'),
      ],
    };
  }
  return undefined;
}

/** 57P01 "terminating connection due to administrator command": the server ended the session, and the text cannot tell how. */
const TERMINATED_MEANING =
  'PostgreSQL ended this session (SQLSTATE 57P01): either the server is shutting down or restarting (a fast shutdown: systemctl stop or restart, a failover, an upgrade), or the server stays up and something ended this one session with pg_terminate_backend() (an administrator, a script that kills idle or long sessions, a pooler or failover manager). The words are the same for both: whether the server accepts connections now tells them apart.';

function terminatedRemedies(target: PostgresTarget): Remediation[] {
  return [
    {
      text: 'See whether the server accepts connections now: if it does, the session was ended on purpose and a reconnect (or a retry of the transaction) is the fix; if it does not, it is shutting down or restarting:',
      command: pgIsReady(target),
      language: 'shell',
    },
    {
      text: 'Find out which: the server log has "received fast shutdown request" for a shutdown; for pg_terminate_backend() it logs nothing unless log_connections/log_disconnections are on, so look for the tool or the person who ran it (an idle-session killer, a pooler, a failover manager).',
    },
  ];
}

function meaning(explained: Explained): string | undefined {
  if (explained.cause === 'shutting_down' && /administrator command|57P01/i.test(explained.matched)) return TERMINATED_MEANING;
  return serverLimitOf(explained.cause, explained.matched)?.meaning;
}

/** The URL `dbdoctor diagnose` takes for these fields, password left out. */
function url(fields: Fields): string {
  const user = fields.user ? `${urlPart(fields.user)}@` : '';
  const host = fields.host?.startsWith('/') ? '' : fields.host ? urlHost(fields.host) : '<host>';
  const socket = fields.host?.startsWith('/') ? `?host=${urlQueryValue(fields.host)}` : '';
  return `postgresql://${user}${host}:${fields.port ?? 5432}/${fields.database ? urlPart(fields.database) : ''}${socket}`;
}

/** The catalogs (every language PostgreSQL, libpq and pgjdbc ship) and SQLSTATE in every client's spelling, loaded when a text is read. */
async function readers(): Promise<readonly Reader[]> {
  const [{ catalogReader }, { sqlstateReader }, { postgresPhrases }] = await Promise.all([
    import('./catalog/reader.js'),
    import('./codes.js'),
    import('./phrases.js'),
  ]);
  return [catalogReader, postgresPhrases, sqlstateReader];
}

export const postgresExplainer: EngineExplainer = {
  engine: 'postgres',
  statementRejected: postgresStatementRejected,
  rules: postgresRules,
  fieldPatterns: postgresFieldPatterns,
  readers,
  hostSplitters: [libpqHosts],
  connecting: postgresConnecting,
  working: POSTGRES_WORKING,
  meaning,
  remediation,
  url,
};
