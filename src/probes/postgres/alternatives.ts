import type { Alternative } from '../../engine/explainer.js';

/**
 * What else the same PostgreSQL words can mean, shared by the hand-written rules (explain.ts) and
 * the catalog messages (catalog/selection.ts), so a German "Passwort-Authentifizierung …
 * fehlgeschlagen" names the same alternatives as the English one.
 */
export const closedAlso: readonly Alternative[] = [
  { cause: 'connection_reset', why: 'a proxy or firewall resetting the connection looks the same to this client' },
  { cause: 'wrong_protocol', why: 'something that is not PostgreSQL (an HTTP server, another database) hangs up on the startup message the same way' },
  {
    cause: 'idle_in_transaction',
    why: 'if it happened in the middle of a session, the server may have ended a session left idle in a transaction (idle_in_transaction_session_timeout)',
  },
  {
    cause: 'pooler_pool_exhausted',
    why: 'behind PgBouncer, a client whose query waited longer than query_wait_timeout for a server connection is disconnected; psycopg2 and lib/pq show only the closed connection',
  },
  {
    cause: 'pooler_backend_down',
    why: 'and one PgBouncer turns away because its logins to the database behind it keep failing ("server login has been failing")',
  },
];

export const passwordFailedAlso: readonly Alternative[] = [
  { cause: 'role_missing', why: 'under password authentication PostgreSQL answers a role that does not exist with these same words' },
  { cause: 'password_missing', why: 'some clients (asyncpg, lib/pq, pgx) send an empty password when none is configured, and get this answer' },
  {
    cause: 'pooler_backend_auth',
    why: "behind PgBouncer, these are PostgreSQL's words to PgBouncer's own login (the password in its auth_file), relayed to the client: with SQLSTATE 08P01 up to PgBouncer 1.19, with 28P01 from 1.20",
  },
];

export const hbaPlaintextAlso: readonly Alternative[] = [
  {
    cause: 'tls_required',
    why: 'if the connection was not encrypted, a hostssl line may admit it over TLS (sslmode=require); dbdoctor diagnose tries TLS to tell',
  },
];

export const statementTimeoutAlso: readonly Alternative[] = [
  { cause: 'blocked', why: 'a statement that waits on a lock past statement_timeout is cancelled with these same words' },
];

/** SQLSTATE 28000 and 57P03 carry several causes; only the words tell which. */
export const invalidAuthorizationAlso: readonly Alternative[] = [
  { cause: 'hba_rejected', why: 'SQLSTATE 28000 is also what pg_hba.conf\'s "no entry" and "rejects" answers carry' },
  { cause: 'role_missing', why: 'and a role that does not exist' },
  { cause: 'permission_denied', why: 'and a role that may not log in' },
];

export const cannotConnectNowAlso: readonly Alternative[] = [
  { cause: 'starting_up', why: 'SQLSTATE 57P03 is sent while the server starts' },
  { cause: 'shutting_down', why: 'while it shuts down' },
  { cause: 'recovery', why: 'and while it replays WAL (recovery, or a standby without hot_standby)' },
];
