import { phraseReader, type Phrase } from '../common/phrases.js';
import { timeoutAlso } from '../common/errno.js';
import { closedAlso } from './alternatives.js';

/**
 * PostgreSQL clients' fixed sentences that no catalog dbdoctor reads carries: libpq 9.6's answer
 * to a SCRAM server (its back-branch message, in every client linked to it: psycopg2, DBD::Pg, PHP,
 * Ruby's pg), and drivers that do not translate (Go's lib/pq, Npgsql).
 */
const PHRASES: readonly Phrase[] = [
  {
    text: 'SCRAM authentication requires libpq version 10 or above',
    cause: 'auth_mechanism',
    rank: 'client',
    source: 'libpq 9.6 (fe-auth.c), in every client linked to it',
  },
  {
    text: 'pq: unknown authentication response: 10',
    cause: 'auth_mechanism',
    rank: 'client',
    source: 'Go lib/pq before 1.10 (conn.go: AuthenticationSASL is type 10)',
  },
  { text: 'No password has been provided but the backend requires one', cause: 'password_missing', rank: 'client', source: 'Npgsql (NpgsqlConnector.Auth)' },
  {
    text: 'Timeout during connection attempt',
    cause: 'connect_timeout',
    rank: 'symptom',
    also: timeoutAlso,
    source: 'Npgsql 4+ (NpgsqlConnector.Connect: System.TimeoutException)',
  },
  {
    text: 'Connection establishment timeout',
    cause: 'connect_timeout',
    rank: 'symptom',
    also: timeoutAlso,
    source: 'Npgsql 2 (NpgsqlClosedState.Open: "… Increase Timeout value in ConnectionString.")',
  },
  // A read that timed out: the handshake's (a server that accepted and never answered) or a query's.
  {
    text: 'Timeout during reading attempt',
    cause: 'no_response',
    rank: 'symptom',
    also: [{ cause: 'long_running', why: 'on an established session, a query that ran longer than the command timeout ends the same way' }],
    whileConnecting: true,
    source: 'Npgsql (NpgsqlReadBuffer: System.TimeoutException)',
  },
  // PgBouncer's log: it could not resolve the host of its [databases] entry, so it cannot reach the database behind it.
  {
    text: 'server DNS lookup failed',
    cause: 'pooler_backend_down',
    rank: 'server',
    also: [
      {
        cause: 'dns_not_found',
        why: 'it is PgBouncer’s own lookup of the database host in its [databases] line that failed: the name may not exist where PgBouncer runs',
      },
      { cause: 'dns_temporary', why: 'or PgBouncer’s resolver did not answer' },
    ],
    source: 'PgBouncer 1.7+ log (objects.c: a server connection "closing because: server DNS lookup failed")',
  },
  // Node.js names an 'error' event no one listened to; node-postgres emits one on a Client (or the
  // pool's idle client) only once it is connected, so the connection that ended was established:
  // a server restart, an idle timeout, a proxy or a network cut alike.
  {
    text: "Emitted 'error' event on Client instance",
    cause: 'no_response',
    rank: 'symptom',
    also: closedAlso,
    tentative: true,
    session: true,
    source: 'Node.js events (unhandled error event), node-postgres client.js',
  },
  {
    text: "Emitted 'error' event on BoundPool instance",
    cause: 'no_response',
    rank: 'symptom',
    also: closedAlso,
    tentative: true,
    session: true,
    source: 'Node.js events, pg-pool (an idle client that lost its connection)',
  },
];

export const postgresPhrases = phraseReader('pg-phrase', PHRASES);
