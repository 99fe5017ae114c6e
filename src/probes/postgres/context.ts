import type { PostgresTarget } from '../../config/postgres/target.js';
import { connectDeadline } from '../../engine/budget.js';
import type { Deadline } from '../../engine/deadline.js';
import type { RunContext } from '../../engine/probe.js';
import { decide, type Decision } from './classify.js';
import { closeConnection, openConnection, type Connection } from './connect.js';
import { scanLocalPostgres, type LocalScan } from './local.js';
import { explainRefusal, isLocalEndpoint, refusedEndpoint, type Refusal } from './refusal.js';
import { majorVersionOf, ReadOnlySession } from './session.js';

/**
 * Evidence the PostgreSQL steps share, each piece gathered at most once and only when a step
 * asks for it: the one connection, what it means, and (only after a refusal) a look at /proc.
 */
export interface PgContext {
  readonly target: PostgresTarget;
  readonly run: RunContext;
  connection(): Promise<Connection>;
  decision(): Promise<Decision>;
  /** Why the connection was refused; undefined when it was not refused. */
  refusal(): Promise<Refusal | undefined>;
  session(): Promise<ReadOnlySession | undefined>;
  /** Set by the pool step: whether this role sees other sessions' state and queries. */
  visibility: Visibility | undefined;
  close(deadline: Deadline): Promise<void>;
}

export interface Visibility {
  readonly allSessions: boolean;
  readonly hiddenSessions: number;
  readonly reason?: string;
}

export function createContext(target: PostgresTarget, run: RunContext): PgContext {
  let connection: Promise<Connection> | undefined;
  let refusal: Promise<Refusal | undefined> | undefined;
  let session: Promise<ReadOnlySession | undefined> | undefined;
  const context: PgContext = {
    target,
    run,
    visibility: undefined,
    connection() {
      connection ??= openConnection(target, connectDeadline(run.deadline));
      return connection;
    },
    async decision() {
      return decide((await context.connection()).trace);
    },
    refusal() {
      refusal ??= (async () => {
        const { trace } = await context.connection();
        if (decide(trace).kind !== 'refused') return undefined;
        const endpoint = refusedEndpoint(trace);
        if (!endpoint) return undefined;
        return explainRefusal(endpoint, isLocalEndpoint(endpoint) ? await scanLocalPostgres() : undefined, { inContainer: run.environment.platform.inContainer });
      })();
      return refusal;
    },
    session() {
      session ??= (async () => {
        const { client, stream, trace } = await context.connection();
        return client ? new ReadOnlySession(client, stream, majorVersionOf(trace.serverParams.server_version)) : undefined;
      })();
      return session;
    },
    async close(deadline) {
      if (connection) await closeConnection(await connection, deadline);
    },
  };
  return context;
}
