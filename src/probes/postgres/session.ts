import type { Socket } from 'node:net';
import type { Client, QueryResultRow } from 'pg';
import { DeadlineExceeded, isDeadlineExceeded, type Deadline } from '../../engine/deadline.js';

/**
 * The diagnosis's only session, kept gentle: everything runs inside one READ ONLY transaction
 * with a short statement_timeout and lock_timeout set LOCAL (so nothing leaks to a pooled server
 * connection), and the client never waits past its deadline. We set these after connecting rather
 * than as startup parameters because connection poolers such as PgBouncer reject unknown ones.
 */
export const STATEMENT_TIMEOUT_CAP_MS = 5000;
export const LOCK_TIMEOUT_MS = 1000;

export type TransactionState = 'read-only' | 'unavailable';

export class ReadOnlySession {
  private begun: Promise<TransactionState> | undefined;
  private statementTimeoutMs = STATEMENT_TIMEOUT_CAP_MS;
  /** Why BEGIN READ ONLY was refused, when it was (e.g. a pooler in statement mode). */
  transactionError: string | undefined;

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
    if (!this.begun || (await this.begun) !== 'read-only') return;
    await this.send('ROLLBACK', [], deadline).catch(() => undefined);
  }

  private begin(deadline: Deadline): Promise<TransactionState> {
    this.begun ??= (async () => {
      this.statementTimeoutMs = Math.max(100, Math.min(STATEMENT_TIMEOUT_CAP_MS, deadline.remainingMs()));
      try {
        await this.send(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${this.statementTimeoutMs}; SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`, [], deadline);
        return 'read-only';
      } catch (error) {
        if (isDeadlineExceeded(error)) throw error;
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
      if (isDeadlineExceeded(error)) this.stream?.destroy();
      throw ownTimeout(error, this.statementTimeoutMs) ?? error;
    }
  }
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
