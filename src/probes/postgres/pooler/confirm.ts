import { performance } from 'node:perf_hooks';
import type { PostgresTarget } from '../../../config/postgres/target.js';
import { isDeadlineExceeded, type Deadline } from '../../../engine/deadline.js';
import { closeConnection, type ServerError } from '../connect.js';
import { openConnection, pinnedTo } from '../hosts.js';
import { readServerState, type ServerState } from '../replication.js';
import { SessionLost, type ReadOnlySession } from '../session.js';

/**
 * Whether the database behind the pooler answers, found out from the client side: a login to
 * PgBouncer proves nothing about the database, because PgBouncer answers it from the values it
 * cached from an earlier server connection (server_version, in_hot_standby, …) without opening
 * one. Only a query needs a server connection. So one query is sent through the session, and
 * what PgBouncer does with it is the answer:
 *
 *   answered     a server connection ran it: the database answers (and says what it is);
 *   turned away  PgBouncer sends its own FATAL error ("server login has been failing, …", its
 *                cached error from 1.24, "query_wait_timeout", …) or relays the database's;
 *   queued       silence: the query waits in PgBouncer's queue. Either every server connection is
 *                busy, or PgBouncer is opening one, after a failure (it retries only every
 *                server_login_retry, 15 s by default) or to a database that does not answer.
 *
 * Silence is told apart with a second client, once the query has waited a moment: PgBouncer
 * turns a new client away at once ("server login has been failing") when its last login to the
 * database failed and it holds no server connection (check_fast_fail in its objects.c), and
 * queues it like the first when its server connections are merely busy. The second client logs
 * in and sends SELECT 1; it never gets a server connection that a waiting client would not.
 */
export type SecondClient =
  | { readonly outcome: 'turned-away'; readonly error: ServerError; readonly at: 'login' | 'query' }
  /** Logged in, and its query waited in the queue too (or its login was held) until the deadline. */
  | { readonly outcome: 'queued' | 'login-held' }
  | { readonly outcome: 'answered' }
  | { readonly outcome: 'failed'; readonly message: string };

export type Confirmation =
  | { readonly kind: 'answered'; readonly state: ServerState; readonly waitedMs: number }
  /**
   * The database ran the query's BEGIN, then PgBouncer ended the session: in statement pool mode
   * it allows no transaction ("transaction blocks not allowed in statement pooling mode"), and the
   * diagnosis's queries run in one. The database answers; what it is, is not known.
   */
  | { readonly kind: 'statement-mode'; readonly waitedMs: number }
  | { readonly kind: 'turned-away'; readonly error: ServerError; readonly by: 'the query' | 'a second client'; readonly waitedMs: number }
  | { readonly kind: 'queued'; readonly waitedMs: number; readonly second?: SecondClient }
  /** The connection closed under the query without a word. */
  | { readonly kind: 'lost'; readonly message: string; readonly waitedMs: number }
  | { readonly kind: 'not-asked'; readonly reason: string }
  /** The pooler would not take dbdoctor's query at all (disable_pqexec): a limit of dbdoctor's. */
  | { readonly kind: 'refused-our-query'; readonly reason: string };

/** PgBouncer ends a statement-pooled client whose server connection is left in a transaction. */
export const STATEMENT_MODE = /transaction blocks not allowed in statement pooling mode/;

/** How long the query may wait before a second client looks at the queue; and the most it may wait in all. */
export const SECOND_CLIENT_AFTER_MS = 500;
const CONFIRM_SHARE = 0.5;
const CONFIRM_CAP_MS = 3000;

export async function confirmThroughPooler(session: ReadOnlySession, target: PostgresTarget, deadline: Deadline): Promise<Confirmation> {
  const started = performance.now();
  const waited = (): number => Math.round(performance.now() - started);
  const within = deadline.limit(Math.min(CONFIRM_CAP_MS, deadline.remainingMs() * CONFIRM_SHARE), 'query through the pooler');
  const asked = readServerState(session, within).then(
    (state): Confirmation => ({ kind: 'answered', state, waitedMs: waited() }),
    (error: unknown): Confirmation => {
      if (isDeadlineExceeded(error)) return { kind: 'queued', waitedMs: waited() };
      if (error instanceof SessionLost && STATEMENT_MODE.test(error.serverError?.message ?? '')) return { kind: 'statement-mode', waitedMs: waited() };
      // disable_pqexec: PgBouncer refuses the simple query protocol the checks use; the database was not asked.
      if (error instanceof SessionLost && /^PQexec disallowed$/.test(error.serverError?.message ?? '')) {
        return {
          kind: 'refused-our-query',
          reason: 'PgBouncer refuses the simple query protocol dbdoctor\'s checks use (disable_pqexec = 1: "PQexec disallowed")',
        };
      }
      if (error instanceof SessionLost)
        return error.serverError
          ? { kind: 'turned-away', error: error.serverError, by: 'the query', waitedMs: waited() }
          : { kind: 'lost', message: error.message, waitedMs: waited() };
      throw error;
    },
  );
  // Whatever happens to it after a decision is made elsewhere, it must not go unhandled.
  asked.catch(() => undefined);
  const early = await Promise.race([asked, within.sleep(SECOND_CLIENT_AFTER_MS).then(() => undefined)]);
  if (early) return early;
  const second = secondClient(target, within);
  // Whichever speaks first decides: the query answered, or the second client was turned away.
  const decided = await Promise.race([asked, second.then((result) => (result.outcome === 'turned-away' ? result : undefined))]);
  if (decided && 'kind' in decided) return decided;
  if (decided) {
    session.abandon();
    return { kind: 'turned-away', error: decided.error, by: 'a second client', waitedMs: waited() };
  }
  const [first, other] = await Promise.all([asked, second]);
  if (first.kind !== 'queued') return first;
  session.abandon();
  return { ...first, second: other };
}

/**
 * For a login the pooler holds (no server connection yet for its pool): does it turn a second
 * client away? Then its logins to the database fail; if it holds that one too, the database does
 * not answer it yet (a first connection still being opened).
 */
export async function confirmWithSecondClient(target: PostgresTarget, deadline: Deadline): Promise<Confirmation> {
  const started = performance.now();
  const second = await secondClient(target, deadline.limit(Math.min(1500, deadline.remainingMs() * CONFIRM_SHARE), 'second client'));
  const waitedMs = Math.round(performance.now() - started);
  return second.outcome === 'turned-away'
    ? { kind: 'turned-away', error: second.error, by: 'a second client', waitedMs }
    : { kind: 'queued', waitedMs, second };
}

async function secondClient(target: PostgresTarget, deadline: Deadline): Promise<SecondClient> {
  const connection = await openConnection(pinnedTo(target), deadline);
  const { client, trace } = connection;
  try {
    if (!client) {
      if (trace.serverError) return { outcome: 'turned-away', error: trace.serverError, at: 'login' };
      if (trace.timedOut) return { outcome: 'login-held' };
      return { outcome: 'failed', message: trace.clientError?.message ?? `the login stopped at ${trace.phase}` };
    }
    try {
      await deadline.race(client.query('SELECT 1'));
      return { outcome: 'answered' };
    } catch (error) {
      if (isDeadlineExceeded(error)) {
        connection.stream?.destroy();
        return { outcome: 'queued' };
      }
      const fields = error as Error & { code?: unknown; severity?: unknown; routine?: unknown };
      if (error instanceof Error && typeof fields.code === 'string') {
        return {
          outcome: 'turned-away',
          at: 'query',
          error: { code: fields.code, severity: String(fields.severity ?? 'FATAL'), message: error.message, located: Boolean(fields.routine) },
        };
      }
      return { outcome: 'failed', message: error instanceof Error ? error.message : String(error) };
    }
  } finally {
    await closeConnection(connection, deadline).catch(() => undefined);
  }
}

/** What the confirmation established, in a sentence for the evidence and the summaries. */
export function describeConfirmation(confirmation: Confirmation): string {
  switch (confirmation.kind) {
    case 'answered':
      return `confirmed: a query through the pooler was answered by PostgreSQL ${confirmation.state.serverVersion.split(' ')[0] ?? ''} in ${confirmation.waitedMs} ms`;
    case 'statement-mode':
      return "confirmed: a query through the pooler reached the database, then PgBouncer ended the session (statement pool mode allows no transaction, and dbdoctor's checks run in one)";
    case 'turned-away':
      return `${confirmation.by === 'the query' ? 'a query through the pooler' : 'a second client'} was turned away: "${confirmation.error.message}" [${confirmation.error.code}]`;
    case 'queued':
      return `not confirmed: a query through the pooler waited ${confirmation.waitedMs} ms in its queue without a server connection${confirmation.second ? `; ${describeSecond(confirmation.second)}` : ''}`;
    case 'lost':
      return `not confirmed: the connection closed under a query (${confirmation.message})`;
    default:
      return `not confirmed: ${confirmation.reason}`;
  }
}

function describeSecond(second: SecondClient): string {
  switch (second.outcome) {
    case 'queued':
      return 'a second client was let in and its query waited too (PgBouncer was not turning clients away, so its logins to the database were not failing)';
    case 'login-held':
      return 'a second client’s login was held too';
    case 'answered':
      return 'a second client’s query was answered meanwhile';
    case 'failed':
      return `a second client failed: ${second.message}`;
    default:
      return `a second client was turned away: "${second.error.message}"`;
  }
}

export function confirmationEvidence(confirmation: Confirmation): Record<string, unknown> {
  return {
    how: 'one query through the pooler (a login alone needs no server connection), and a second client when it waited',
    outcome: confirmation.kind,
    said: describeConfirmation(confirmation),
    ...('waitedMs' in confirmation ? { waitedMs: confirmation.waitedMs } : {}),
    ...(confirmation.kind === 'turned-away' ? { error: { sqlstate: confirmation.error.code, message: confirmation.error.message }, by: confirmation.by } : {}),
    ...(confirmation.kind === 'queued' && confirmation.second ? { secondClient: confirmation.second.outcome } : {}),
  };
}
