import type { PostgresTarget } from '../../config/postgres/target.js';
import { connectDeadline } from '../../engine/budget.js';
import type { Deadline } from '../../engine/deadline.js';
import type { RunContext } from '../../engine/probe.js';
import { readActivity, visibilityOf, type ActivityRow, type Visibility } from './activity.js';
import { decide, type Decision } from './classify.js';
import { closeConnection, type Connection, type ConnectionTrace } from './connect.js';
import { firstReach, type Connected } from '../../net/reach.js';
import { decisiveEndpoint, focusOn, openConnection } from './hosts.js';
import { scanLocalPostgres } from './local.js';
import { decidePooler, decidePoolerError, heldBeforeAuthentication, poolerSigns, type PoolerSign } from './pooler/recognise.js';
import { confirmThroughPooler, type Confirmation } from './pooler/confirm.js';
import { gatherPoolerView, type PoolerView } from './pooler/view.js';
import { findLocalPgBouncer, type LocalLookup } from './pooler/local.js';
import { judgeBackend, type BackendJudgement } from './pooler/judge.js';
import { readServerState, type ServerState } from './replication.js';
import { explainRefusal, isLocalEndpoint, refusedEndpoint, type Refusal } from './refusal.js';
import { majorVersionOf, ReadOnlySession } from './session.js';

/**
 * Evidence the PostgreSQL steps share, each piece gathered at most once and only when a step
 * asks for it: the one connection, what it means, and (only after a refusal) a look at /proc.
 *
 * The rule (CONTRIBUTING.md, "Writing a step"): facts are memoised, steps do not write back. What
 * a step learns is its finding's evidence; what a later step needs as well is a fact of this
 * context, computed once by whichever step asks first and the same whichever that is. No step
 * patches a field here for the steps after it: the order of steps is the tree's, not a side effect.
 */
export interface PgFacts {
  /**
   * The target, with the host the diagnosis is about first once the connection has settled on
   * one (libpq's walk over several hosts, hosts.ts): the fixes and commands name that server.
   */
  readonly target: PostgresTarget;
  /** The target as given, its hosts in their order. */
  readonly requested: PostgresTarget;
  readonly run: RunContext;
  connection(): Promise<Connection>;
  /**
   * The first server that took a TCP connection, as soon as one did (before its handshake), or,
   * when none did, the connection's outcome: the process step's question, answered without
   * waiting for the handshake, which is the accepting step's.
   */
  reached(): Promise<{ readonly kind: 'connected'; readonly connected: Connected } | { readonly kind: 'settled'; readonly connection: Connection }>;
  decision(): Promise<Decision>;
  /** Why the connection was refused; undefined when it was not refused. */
  refusal(): Promise<Refusal | undefined>;
  session(): Promise<ReadOnlySession | undefined>;
  /**
   * The server's role (primary or standby) and a standby's replication, asked live through the
   * session, once (under the first caller's deadline); undefined without a session. Rejects when
   * the session ends under the query. Behind a pooler, ask the pooler view instead (it decides
   * whether a query may be sent at all).
   */
  serverState(deadline: Deadline): Promise<ServerState | undefined>;
  /**
   * The pooler in front of the database, when the connection shows one (pooler/recognise.ts);
   * undefined for PostgreSQL itself. Gathered once, under the first caller's deadline.
   */
  pooler(deadline: Deadline): Promise<PoolerView | undefined>;
  /**
   * The pooler as pooler() sees it at login or, when the login showed none, as the session shows
   * it: a backend pid that is not the one announced at login (another pooler, or PgBouncer's rare
   * key that looks like a pid). Asked once, under the first caller's deadline; the steps after
   * the accepting one ask this.
   */
  poolerWithSession(deadline: Deadline): Promise<PoolerView | undefined>;
  /**
   * pg_stat_activity as this role sees it, read once through the session (activity.ts):
   * connections against the limit, idle ones past the thresholds; undefined without a session.
   */
  activity(deadline: Deadline): Promise<ActivityRow | undefined>;
  /** Whether this role sees other sessions' state and queries (from activity()). */
  visibility(deadline: Deadline): Promise<Visibility | undefined>;
  close(deadline: Deadline): Promise<void>;
}

/** Every member readonly: a step asks the context, it never sets or replaces anything on it. */
export type PgContext = Readonly<PgFacts>;

export function createContext(target: PostgresTarget, run: RunContext): PgContext {
  let connection: Promise<Connection> | undefined;
  let refusal: Promise<Refusal | undefined> | undefined;
  let session: Promise<ReadOnlySession | undefined> | undefined;
  let pooler: Promise<PoolerView | undefined> | undefined;
  let poolerWithSession: Promise<PoolerView | undefined> | undefined;
  let serverState: Promise<ServerState | undefined> | undefined;
  let activity: Promise<ActivityRow | undefined> | undefined;
  let focused: PostgresTarget | undefined;
  const first = firstReach();
  const waiting = (what: string | undefined): void => run.observer?.waitingOn?.(target.display, what);
  const context: PgContext = {
    get target() {
      return focused ?? target;
    },
    requested: target,
    run,
    connection() {
      connection ??= openConnection(target, connectDeadline(run.deadline), { ...first.hooks, waiting }).then((opened) => {
        focused = focusOn(target, decisiveEndpoint(target, opened.trace));
        waiting(undefined);
        return opened;
      });
      return connection;
    },
    async reached() {
      const settled = context.connection();
      return Promise.race([
        first.promise.then((connected) => ({ kind: 'connected' as const, connected })),
        settled.then((opened) => ({ kind: 'settled' as const, connection: opened })),
      ]);
    },
    async decision() {
      const { trace } = await context.connection();
      // A pooler that let the login in may turn the first query away: its words decide then, as
      // they would have at login (only once the pooler has been looked at, by the accepting step).
      const view = await lookedAtPooler();
      const turnedAway = view?.confirmation?.kind === 'turned-away' ? decidePoolerError(view.confirmation.error) : undefined;
      // What the rest of the evidence makes of it (pooler/judge.ts): a limit other pools hold, or
      // the database's refusal in PgBouncer's log, outweighs PgBouncer's ambiguous words.
      const judged = view ? decisionOf(judgeBackend(view, trace)) : undefined;
      if (judged && judged.cause !== 'pooler_backend_down') return judged;
      return decidePooler(trace) ?? turnedAway ?? judged ?? decide(trace);
    },
    refusal() {
      refusal ??= (async () => {
        const { trace } = await context.connection();
        if (decide(trace).kind !== 'refused') return undefined;
        const endpoint = refusedEndpoint(trace);
        if (!endpoint) return undefined;
        return explainRefusal(endpoint, isLocalEndpoint(endpoint) ? await scanLocalPostgres(run.env, run.deadline.signal) : undefined, {
          inContainer: run.environment.platform.inContainer,
        });
      })();
      return refusal;
    },
    session() {
      session ??= (async () => {
        const { client, stream, trace } = await context.connection();
        return client ? new ReadOnlySession(client, stream, majorVersionOf(trace.serverParams.server_version)) : undefined;
      })();
      // A session that ended (turned away by a pooler, or given up in its queue) takes no query.
      return session.then((live) => (live?.lost ? undefined : live));
    },
    serverState(deadline) {
      serverState ??= (async () => {
        const live = await context.session();
        return live ? readServerState(live, deadline) : undefined;
      })();
      return serverState;
    },
    pooler(deadline) {
      pooler ??= (async () => {
        const { trace } = await context.connection();
        const signs = poolerSigns(trace);
        // A login held before any password was asked for shows no pooler on the wire; on this
        // machine, the port's owner may still be PgBouncer (auth_query waiting on the database).
        const local =
          signs.length === 0 && heldBeforeAuthentication(trace)
            ? await findLocalPgBouncer(trace.connected, deadline.limit(deadline.remainingMs() / 2, 'the port owner'))
            : undefined;
        if (local?.state === 'found') return gatherPooler(trace, [...signs, 'held-before-authentication'], deadline, local);
        return signs.length === 0 ? undefined : gatherPooler(trace, signs, deadline, local);
      })().finally(() => waiting(undefined));
      return pooler;
    },
    poolerWithSession(deadline) {
      poolerWithSession ??= (async () => {
        const atLogin = await context.pooler(deadline);
        if (atLogin) return atLogin;
        const { trace } = await context.connection();
        const live = await context.session();
        if (!live || trace.backendPid === undefined) return undefined;
        const [row] = await live.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], deadline);
        if (!row || row.pid === trace.backendPid) return undefined;
        return gatherPooler(trace, ['backend-pid-differs'], deadline, undefined).finally(() => waiting(undefined));
      })();
      return poolerWithSession;
    },
    activity(deadline) {
      activity ??= (async () => {
        const live = await context.session();
        return live ? readActivity(live, run.thresholds, deadline) : undefined;
      })();
      return activity;
    },
    async visibility(deadline) {
      const row = await context.activity(deadline);
      return row ? visibilityOf(row, context.target.user) : undefined;
    },
    async close(deadline) {
      if (!connection) return;
      // A pooler drops a server connection whose client leaves inside a transaction: end ours.
      if (session && (await lookedAtPooler())) await (await session)?.rollback(deadline);
      await closeConnection(await connection, deadline);
    },
  };

  /** The pooler as far as a step has looked (poolerWithSession() after pooler()); nothing is gathered here. */
  async function lookedAtPooler(): Promise<PoolerView | undefined> {
    const looked = poolerWithSession ?? pooler;
    return looked ? looked.catch(() => undefined) : undefined;
  }

  function gatherPooler(trace: ConnectionTrace, signs: readonly PoolerSign[], deadline: Deadline, local: LocalLookup | undefined): Promise<PoolerView> {
    const confirm = async (within: Deadline): Promise<Confirmation> => {
      const live = await context.session();
      return live ? confirmThroughPooler(live, context.target, within) : { kind: 'not-asked', reason: 'no session' };
    };
    waiting('the pooler: its console, a query through it, the database behind it');
    return gatherPoolerView(context.target, trace, signs, deadline, confirm, local);
  }

  return context;
}

function decisionOf(judged: BackendJudgement): Extract<Decision, { kind: 'failure' }> | undefined {
  switch (judged.kind) {
    case 'at-limit':
      return { kind: 'failure', step: 'pool', cause: 'pooler_pool_exhausted' };
    case 'refuses-login':
      return { kind: 'failure', step: 'auth', cause: 'pooler_backend_auth' };
    case 'down':
      return { kind: 'failure', step: 'accepting', cause: 'pooler_backend_down' };
    default:
      return undefined;
  }
}
