import type { Socket } from 'node:net';
import type { Client, QueryResultRow } from 'pg';
import { DeadlineExceeded, isDeadlineExceeded, type Deadline } from '../../engine/deadline.js';
import type { ServerError } from './connect.js';

/**
 * The diagnosis's only session, kept gentle: everything runs inside one READ ONLY transaction
 * with a short statement_timeout and lock_timeout set LOCAL (so nothing leaks to a pooled server
 * connection), and the client never waits past its deadline. We set these after connecting rather
 * than as startup parameters because connection poolers such as PgBouncer reject unknown ones.
 */
export const STATEMENT_TIMEOUT_CAP_MS = 5000;
export const LOCK_TIMEOUT_MS = 1000;

export type TransactionState = 'read-only' | 'unavailable';

/**
 * The session ended under a query: the server (or a pooler in front of it) sent a FATAL error and
 * closed the connection, or the connection just closed. Behind PgBouncer this is how a client
 * learns that the database is unreachable ("server login has been failing"): its words are kept
 * here, to be read as a verdict, never as a broken check.
 */
export class SessionLost extends Error {
  override readonly name = 'SessionLost';
  constructor(
    message: string,
    readonly serverError: ServerError | undefined,
  ) {
    super(message);
  }
}

export class ReadOnlySession {
  private begun: Promise<TransactionState> | undefined;
  private statementTimeoutMs = STATEMENT_TIMEOUT_CAP_MS;
  /** Why BEGIN READ ONLY was refused, when it was (e.g. a pooler in statement mode). */
  transactionError: string | undefined;
  /** The session ended (a FATAL error, a closed connection) or was abandoned: no query may follow. */
  lost = false;

  constructor(
    private readonly client: Client,
    private readonly stream: Socket | undefined,
    /** The server's major version, e.g. 15, from its server_version parameter. */
    readonly majorVersion: number,
  ) {}

  async query<R extends QueryResultRow>(sql: string, params: readonly unknown[], deadline: Deadline): Promise<R[]> {
    await this.begin(deadline);
    return (await this.send<R>(sql, params, deadline)).rows;
  }

  /**
   * Ends the transaction, if one was begun. Only sent behind a pooler: PgBouncer closes a server
   * connection whose client leaves in the middle of a transaction, where PostgreSQL itself just
   * rolls it back when the session ends.
   */
  async rollback(deadline: Deadline): Promise<void> {
    if (!this.begun || this.lost || (await this.begun.catch(() => 'unavailable')) !== 'read-only') return;
    await this.send('ROLLBACK', [], deadline).catch(() => undefined);
  }

  /**
   * Gives the session up with a query still waiting (behind a pooler, in its queue): the socket
   * is destroyed, which takes the waiting client out of the pooler's queue.
   */
  abandon(): void {
    this.lost = true;
    this.stream?.destroy();
  }

  private begin(deadline: Deadline): Promise<TransactionState> {
    this.begun ??= (async () => {
      this.statementTimeoutMs = Math.max(100, Math.min(STATEMENT_TIMEOUT_CAP_MS, deadline.remainingMs()));
      try {
        await this.send(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${this.statementTimeoutMs}; SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`, [], deadline);
        return 'read-only';
      } catch (error) {
        if (isDeadlineExceeded(error) || error instanceof SessionLost) throw error;
        this.transactionError = error instanceof Error ? error.message : String(error);
        return 'unavailable';
      }
    })();
    return this.begun;
  }

  private async send<R extends QueryResultRow>(sql: string, params: readonly unknown[], deadline: Deadline): Promise<{ rows: R[] }> {
    try {
      return await deadline.race(params.length > 0 ? this.client.query<R>(sql, [...params]) : this.client.query<R>(sql));
    } catch (error) {
      // A query still running on the server is abandoned with its socket; the server's own
      // statement_timeout ends it. We never send a cancel: that would be a second connection.
      if (isDeadlineExceeded(error)) this.abandon();
      const lost = sessionLost(error);
      if (lost) this.lost = true;
      throw ownTimeout(error, this.statementTimeoutMs) ?? lost ?? error;
    }
  }
}

/** A FATAL (or PANIC) error ends the session; so does a connection that closes under a query. */
function sessionLost(error: unknown): SessionLost | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & { code?: unknown; severity?: unknown; detail?: unknown; hint?: unknown; routine?: unknown; file?: unknown; line?: unknown };
  if (typeof fields.code === 'string' && (fields.severity === 'FATAL' || fields.severity === 'PANIC')) {
    return new SessionLost(error.message, {
      code: fields.code,
      severity: String(fields.severity),
      message: error.message,
      ...(typeof fields.detail === 'string' ? { detail: fields.detail } : {}),
      ...(typeof fields.hint === 'string' ? { hint: fields.hint } : {}),
      located: Boolean(fields.routine ?? fields.file ?? fields.line),
    });
  }
  if (/Connection terminated|not queryable|ECONNRESET|EPIPE/i.test(error.message)) return new SessionLost(error.message, undefined);
  return undefined;
}

/**
 * Our own statement_timeout (57014) and lock_timeout (55P03) ending a diagnosis query mean the
 * server could not answer in time, which is what a deadline says, not a broken check.
 */
function ownTimeout(error: unknown, statementTimeoutMs: number): DeadlineExceeded | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  if (error.code === '57014' && /statement timeout/.test(error.message)) return new DeadlineExceeded('statement_timeout', statementTimeoutMs);
  if (error.code === '55P03' && /lock timeout/.test(error.message)) return new DeadlineExceeded('lock_timeout', LOCK_TIMEOUT_MS);
  return undefined;
}

export function majorVersionOf(serverVersion: string | undefined): number {
  const match = /^(\d+)(?:\.(\d+))?/.exec(serverVersion ?? '');
  if (!match) return 0;
  const major = Number(match[1]);
  // Before 10, the major version had two parts: 9.6.
  return major >= 10 ? major : major + Number(match[2] ?? 0) / 10;
}
