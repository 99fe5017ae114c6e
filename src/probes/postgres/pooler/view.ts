import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Deadline } from '../../../engine/deadline.js';
import type { Evidence } from '../../../engine/schema.js';
import type { ConnectionTrace } from '../connect.js';
import { readAdminConsole, type AdminConsole, type AdminOutcome, type DatabaseRow, type PoolRow } from './admin.js';
import { backendAddress, backendEvidence, reachBackend, type BackendAddress, type BackendReach } from './backend.js';
import { confirmationEvidence, confirmWithSecondClient, type Confirmation } from './confirm.js';
import { poolerErrorOf, SIGN_DESCRIPTIONS, type PoolerSign } from './recognise.js';

/**
 * Everything dbdoctor knows about the pooler in front of the database, gathered once: how it was
 * recognised, what its admin console says about this database's pool (the pooler's view of the
 * database), and, when the pooler holds no working server connection, whether the database's
 * address answers from here.
 */
export interface PoolerView {
  /** "PgBouncer 1.18.0", or "a connection pooler" when only its behaviour gave it away. */
  readonly name: string;
  readonly signs: readonly PoolerSign[];
  readonly admin: AdminOutcome | { readonly state: 'not-tried'; readonly reason: string };
  /** This target's pool (SHOW POOLS), its [databases] line, and the server connections' pids. */
  readonly pool?: PoolRow;
  readonly database?: DatabaseRow;
  readonly backend?: BackendAddress;
  readonly backendReach?: BackendReach;
  /** Whether the database behind answered a query through the pooler (pooler/confirm.ts). */
  readonly confirmation?: Confirmation;
}

export type PoolLimit = 'pool_size' | 'max_db_connections' | 'max_user_connections';

/** Share of the remaining time the console and the database check may use, each. */
const ADMIN_SHARE = 0.5;
const ADMIN_CAP_MS = 3000;

/** Sends the confirming query through the session (the context owns the session). */
export type Confirm = (deadline: Deadline) => Promise<Confirmation>;

export async function gatherPoolerView(target: PostgresTarget, trace: ConnectionTrace, signs: readonly PoolerSign[], deadline: Deadline, confirm: Confirm): Promise<PoolerView> {
  const rejected = trace.serverError ? poolerErrorOf(trace.serverError) : undefined;
  // The console checks the same credentials against the same limits: after the pooler refused
  // them, or refused a client for lack of room, asking again would only be refused again.
  const admin: PoolerView['admin'] =
    rejected?.cause === 'pooler_auth' || rejected?.cause === 'pooler_client_limit'
      ? { state: 'not-tried', reason: 'the pooler refused this login; its console would refuse it too' }
      : await readAdminConsole(target, deadline.limit(Math.min(ADMIN_CAP_MS, deadline.remainingMs() * ADMIN_SHARE), 'pooler admin console'));
  const console = admin.state === 'read' ? admin.console : undefined;
  // "not allowed" from the console is PgBouncer's own answer too.
  const saidByPgBouncer = signs.includes('pooler-error') || signs.includes('relayed-error') || (admin.state === 'refused' && poolerErrorOf(admin.error)?.origin === 'pooler');
  const name = console?.version ?? (saidByPgBouncer ? 'PgBouncer' : 'a connection pooler');
  const database = console?.databases.find((row) => row.name === target.database);
  const poolUser = database?.force_user ?? target.user;
  const pool = console?.pools.find((row) => row.database === target.database && row.user === poolUser);
  const backend = database ? backendAddress(database, console?.config.unix_socket_dir) : undefined;
  const view: PoolerView = { name, signs, admin, ...(pool ? { pool } : {}), ...(database ? { database } : {}), ...(backend ? { backend } : {}) };
  const backendReach =
    !backend || database?.paused || (pool && workingServers(pool) > 0) ? undefined : await reachBackend(backend, deadline.limit(Math.min(ADMIN_CAP_MS, deadline.remainingMs() * ADMIN_SHARE), 'database behind the pooler'));
  const seen: PoolerView = backendReach ? { ...view, backendReach } : view;
  // A login the pooler holds has no session to ask through: a second client asks instead.
  if (signs.includes('silent-after-authentication')) return { ...seen, confirmation: await confirmWithSecondClient(target, deadline) };
  const unasked = reasonNotToAsk(seen, trace);
  return { ...seen, confirmation: unasked ? { kind: 'not-asked', reason: unasked } : await confirm(deadline) };
}

/** When a query through the pooler would tell nothing new, or only join a queue. */
function reasonNotToAsk(view: PoolerView, trace: ConnectionTrace): string | undefined {
  if (trace.phase !== 'ready') return 'the login through the pooler did not complete';
  if ((view.database?.paused ?? 0) > 0) return 'the pooler holds the database paused: a query would wait until RESUME';
  if (queryWouldQueue(view)) return "every server connection of the pool is busy and at its limit (the pooler's console): a query would only join the queue";
  const outcome = view.backendReach?.outcome;
  if (view.pool && workingServers(view.pool) === 0 && (outcome === 'refused' || outcome === 'unreachable')) return "the pooler holds no server connection and the database's address does not answer from here";
  return undefined;
}

/** Server connections that are logged in: busy, idle, or being checked. */
export function workingServers(pool: PoolRow): number {
  return pool.sv_active + pool.sv_idle + pool.sv_used + pool.sv_tested;
}

/** A query sent now would queue: the pool is at a limit and none of its server connections is free. */
export function queryWouldQueue(view: PoolerView): boolean {
  const { pool } = view;
  return pool !== undefined && poolLimits(view)?.binding !== undefined && pool.sv_idle + pool.sv_used + pool.sv_tested === 0;
}

export function serverConnections(pool: PoolRow): number {
  return workingServers(pool) + pool.sv_login;
}

export function consoleOf(view: PoolerView): AdminConsole | undefined {
  return view.admin.state === 'read' ? view.admin.console : undefined;
}

export function poolModeOf(view: PoolerView): string | undefined {
  return view.pool?.pool_mode ?? view.database?.pool_mode ?? consoleOf(view)?.config.pool_mode;
}

export interface PoolLimits {
  /** The limit that binds now, if one does. */
  readonly binding?: PoolLimit;
  /** Server connections this pool may hold under that limit, and how many it holds. */
  readonly allowed: number;
  readonly held: number;
  readonly evidence: Evidence;
}

/**
 * Which of PgBouncer's limits keeps this pool from opening another server connection: the pool's
 * own size (default_pool_size, or pool_size on its [databases] line, plus the reserve pool),
 * the database's max_db_connections across all its pools, or the user's max_user_connections.
 */
export function poolLimits(view: PoolerView): PoolLimits | undefined {
  const { pool, database } = view;
  const console = consoleOf(view);
  if (!pool || !database || !console) return undefined;
  const held = serverConnections(pool);
  const poolSize = database.pool_size + database.reserve_pool;
  const maxDb = database.max_connections;
  const maxUser = Number(console.config.max_user_connections ?? 0);
  const userHeld = console.pools.filter((row) => row.user === pool.user).reduce((sum, row) => sum + serverConnections(row), 0);
  const evidence: Evidence = {
    serverConnections: held,
    poolSize: database.pool_size,
    reservePool: database.reserve_pool,
    ...(maxDb > 0 ? { maxDbConnections: maxDb, databaseConnections: database.current_connections } : {}),
    ...(maxUser > 0 ? { maxUserConnections: maxUser, userConnections: userHeld } : {}),
  };
  if (maxDb > 0 && database.current_connections >= maxDb) return { binding: 'max_db_connections', allowed: maxDb, held: database.current_connections, evidence };
  if (maxUser > 0 && userHeld >= maxUser) return { binding: 'max_user_connections', allowed: maxUser, held: userHeld, evidence };
  if (held >= poolSize) return { binding: 'pool_size', allowed: poolSize, held, evidence };
  return { allowed: poolSize, held, evidence };
}

/** The pooler, as evidence: what it is, how it was recognised, and its view of the database. */
export function poolerEvidence(view: PoolerView): Evidence {
  const console = consoleOf(view);
  const stats = console?.stats.find((row) => row.database === view.database?.name);
  return {
    name: view.name,
    recognisedBy: view.signs.map((sign) => SIGN_DESCRIPTIONS[sign]),
    adminConsole:
      view.admin.state === 'read'
        ? 'read (SHOW VERSION, CONFIG, DATABASES, POOLS, SERVERS, STATS, LISTS)'
        : view.admin.state === 'refused'
          ? `refused: "${view.admin.error.message}" [${view.admin.error.code}]`
          : `${view.admin.state === 'not-tried' ? 'not tried' : 'unavailable'}: ${view.admin.reason}`,
    ...poolEvidence(view),
    ...(view.database ? { paused: view.database.paused > 0, disabled: view.database.disabled > 0 } : {}),
    ...(console ? { config: { ...console.config }, ...(stats ? { stats: { ...stats } } : {}) } : {}),
    ...(view.backend ? { database: view.backendReach ? backendEvidence(view.backendReach) : { ...view.backend } } : {}),
    ...(view.confirmation ? { databaseBehind: confirmationEvidence(view.confirmation) } : {}),
  };
}

/** The slice the pool step talks about: this pool's clients and server connections, and the limits. */
export function poolEvidence(view: PoolerView): Evidence {
  const console = consoleOf(view);
  const { pool } = view;
  const limits = poolLimits(view);
  return {
    name: view.name,
    ...(poolModeOf(view) ? { poolMode: poolModeOf(view) } : {}),
    ...(pool
      ? {
          pool: {
            database: pool.database,
            user: pool.user,
            clientsActive: pool.cl_active,
            clientsWaiting: pool.cl_waiting,
            longestWaitSeconds: pool.maxwait + pool.maxwait_us / 1e6,
            serversActive: pool.sv_active,
            serversIdle: pool.sv_idle,
            serversUsed: pool.sv_used,
            serversTested: pool.sv_tested,
            serversLoggingIn: pool.sv_login,
          },
        }
      : {}),
    ...(limits ? { limits: limits.evidence } : {}),
    ...(console ? { clients: { used: console.lists.used_clients ?? null, maxClientConn: Number(console.config.max_client_conn ?? 0) } } : {}),
  };
}
