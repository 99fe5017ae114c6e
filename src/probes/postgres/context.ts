import type { PostgresTarget } from '../../config/postgres/target.js';
import { connectDeadline } from '../../engine/budget.js';
import type { Deadline } from '../../engine/deadline.js';
import type { RunContext } from '../../engine/probe.js';
import { decide, type Decision } from './classify.js';
import { closeConnection, openConnection, type Connection } from './connect.js';
import { scanLocalPostgres } from './local.js';
import { decidePooler, poolerSigns, type PoolerSign } from './pooler/recognise.js';
import { gatherPoolerView, type PoolerView } from './pooler/view.js';
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
  /**
   * The pooler in front of the database, when the connection shows one (pooler/recognise.ts);
   * undefined for PostgreSQL itself. Gathered once, under the first caller's deadline.
   */
  pooler(deadline: Deadline): Promise<PoolerView | undefined>;
  /** A sign of a pooler learned later, in the session: the next pooler() call looks again. */
  notePooler(sign: PoolerSign): void;
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
  let pooler: Promise<PoolerView | undefined> | undefined;
  const laterSigns: PoolerSign[] = [];
  const context: PgContext = {
    target,
    run,
    visibility: undefined,
    connection() {
      connection ??= openConnection(target, connectDeadline(run.deadline));
      return connection;
    },
    async decision() {
      const { trace } = await context.connection();
      return decidePooler(trace) ?? decide(trace);
    },
    refusal() {
      refusal ??= (async () => {
        const { trace } = await context.connection();
        if (decide(trace).kind !== 'refused') return undefined;
        const endpoint = refusedEndpoint(trace);
        if (!endpoint) return undefined;
        return explainRefusal(endpoint, isLocalEndpoint(endpoint) ? await scanLocalPostgres(run.env) : undefined, { inContainer: run.environment.platform.inContainer });
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
    pooler(deadline) {
      pooler ??= (async () => {
        const { trace } = await context.connection();
        const signs = [...poolerSigns(trace), ...laterSigns];
        return signs.length > 0 ? gatherPoolerView(target, trace, signs, deadline) : undefined;
      })();
      return pooler;
    },
    notePooler(sign) {
      laterSigns.push(sign);
      pooler = undefined;
    },
    async close(deadline) {
      if (!connection) return;
      // A pooler drops a server connection whose client leaves inside a transaction: end ours.
      if (pooler && session && (await pooler.catch(() => undefined))) await (await session)?.rollback(deadline);
      await closeConnection(await connection, deadline);
    },
  };
  return context;
}
