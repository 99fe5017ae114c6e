import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Deadline } from '../../../engine/deadline.js';
import type { Evidence } from '../../../engine/schema.js';
import type { ConnectionTrace } from '../connect.js';
import { readAdminConsole, type AdminConsole, type AdminOutcome, type ConfigKey, type DatabaseRow, type PoolRow } from './admin.js';
import { databaseLine, findLocalPgBouncer, lastServerLogin, type LocalLookup, type LocalPgBouncer, type ServerLoginEvent } from './local.js';
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
  /**
   * PgBouncer on this machine, from its process and configuration file (pooler/local.ts): what an
   * ordinary user, whom the console refuses, can still learn here. Not looked at for a remote pooler.
   */
  readonly local?: LocalLookup;
  /** The last server login PgBouncer's log reports for this pool, when it holds no working server connection. */
  readonly lastLogin?: ServerLoginEvent;
  /** Whether the database behind answered a query through the pooler (pooler/confirm.ts). */
  readonly confirmation?: Confirmation;
}

export type PoolLimit = 'pool_size' | 'max_db_connections' | 'max_user_connections';

/** Share of the remaining time the console and the database check may use, each. */
const ADMIN_SHARE = 0.5;
const ADMIN_CAP_MS = 3000;

/** Sends the confirming query through the session (the context owns the session). */
export type Confirm = (deadline: Deadline) => Promise<Confirmation>;

export async function gatherPoolerView(
  target: PostgresTarget,
  trace: ConnectionTrace,
  signs: readonly PoolerSign[],
  deadline: Deadline,
  confirm: Confirm,
  known?: LocalLookup,
): Promise<PoolerView> {
  const rejected = trace.serverError ? poolerErrorOf(trace.serverError) : undefined;
  // The console checks the same credentials against the same limits: after the pooler refused
  // them, or refused a client for lack of room, asking again would only be refused again.
  const share = (): Deadline => deadline.limit(Math.min(ADMIN_CAP_MS, deadline.remainingMs() * ADMIN_SHARE), 'pooler admin console');
  const [admin, local] = await Promise.all([
    rejected?.cause === 'pooler_auth' || rejected?.cause === 'pooler_client_limit'
      ? ({ state: 'not-tried', reason: 'the pooler refused this login; its console would refuse it too' } as const)
      : readAdminConsole(target, share()),
    known ?? findLocalPgBouncer(trace.connected, share()),
  ]);
  const console = admin.state === 'read' ? admin.console : undefined;
  const here = local.state === 'found' ? local.pooler : undefined;
  // "not allowed" from the console is PgBouncer's own answer too.
  const saidByPgBouncer =
    signs.includes('pooler-error') || signs.includes('relayed-error') || (admin.state === 'refused' && poolerErrorOf(admin.error)?.origin === 'pooler');
  const name = console?.version ?? (saidByPgBouncer || local.state === 'found' ? 'PgBouncer' : 'a connection pooler');
  const database = console?.databases.find((row) => row.name === target.database);
  const line = here ? databaseLine(here, target.database) : undefined;
  const poolUser = database?.force_user ?? line?.fields.user ?? target.user;
  const pool = console?.pools.find((row) => row.database === target.database && row.user === poolUser);
  // Where PgBouncer sends the database: its console's SHOW DATABASES, else its configuration file here.
  const backend = database
    ? backendAddress(database, console?.config.unix_socket_dir)
    : line
      ? backendAddress(
          {
            name: target.database,
            host: line.fields.host ?? null,
            port: Number(line.fields.port ?? 5432),
            database: line.fields.dbname ?? (line.name === '*' ? target.database : line.name),
          },
          here?.settings.unix_socket_dir || undefined,
        )
      : undefined;
  const view: PoolerView = { name, signs, admin, local, ...(pool ? { pool } : {}), ...(database ? { database } : {}), ...(backend ? { backend } : {}) };
  const serving = pool !== undefined && workingServers(pool) > 0;
  // The database's address and PgBouncer's log are looked at only when the pooler may not be
  // serving the pool: with its console, when the pool holds no working server connection (before
  // any query, which would only wait); without it, once the query through it was not answered.
  const probeAddress = async (seen: PoolerView): Promise<PoolerView> => {
    if (serving || (database?.paused ?? 0) > 0 || !backend) return seen;
    const backendReach = await reachBackend(
      backend,
      deadline.limit(Math.min(ADMIN_CAP_MS, deadline.remainingMs() * ADMIN_SHARE), 'database behind the pooler'),
    );
    return { ...seen, backendReach };
  };
  // The log is read last: the query through the pooler may have made PgBouncer try (and fail) a login.
  const readLog = async (seen: PoolerView): Promise<PoolerView> => {
    const logFile = logFileOf(seen);
    if (serving || (database?.paused ?? 0) > 0 || !logFile) return seen;
    const lastLogin = await lastServerLogin(logFile, target.database, poolUser);
    return lastLogin ? { ...seen, lastLogin } : seen;
  };
  if (console) return readLog(await askThePooler(await probeAddress(view)));
  const asked = await askThePooler(view);
  return mayNotServe(asked, trace) ? readLog(await probeAddress(asked)) : asked;

  async function askThePooler(current: PoolerView): Promise<PoolerView> {
    // A login the pooler holds has no session to ask through: a second client asks instead.
    if (signs.includes('silent-after-authentication')) return { ...current, confirmation: await confirmWithSecondClient(target, deadline) };
    const unasked = reasonNotToAsk(current, trace);
    return { ...current, confirmation: unasked ? { kind: 'not-asked', reason: unasked } : await confirm(deadline) };
  }
}

/**
 * Whether what the client saw leaves the database behind in doubt: a login or a query held, a
 * session lost, or PgBouncer's words that its logins to the database fail. A refused password or
 * an answered query leaves nothing to look behind the pooler for.
 */
function mayNotServe(view: PoolerView, trace: ConnectionTrace): boolean {
  const confirmation = view.confirmation;
  const words = trace.serverError ?? (confirmation?.kind === 'turned-away' ? confirmation.error : undefined);
  if (words) return poolerErrorOf(words)?.cause === 'pooler_backend_down';
  return (
    confirmation?.kind === 'queued' ||
    confirmation?.kind === 'lost' ||
    view.signs.includes('silent-after-authentication') ||
    view.signs.includes('held-before-authentication')
  );
}

/** When a query through the pooler would tell nothing new, or only join a queue. */
function reasonNotToAsk(view: PoolerView, trace: ConnectionTrace): string | undefined {
  if (trace.phase !== 'ready') return 'the login through the pooler did not complete';
  if ((view.database?.paused ?? 0) > 0) return 'the pooler holds the database paused: a query would wait until RESUME';
  if (queryWouldQueue(view)) return "every server connection of the pool is busy and at its limit (the pooler's console): a query would only join the queue";
  const outcome = view.backendReach?.outcome;
  if (view.pool && workingServers(view.pool) === 0 && outcome !== undefined && outcome !== 'answers')
    return "the pooler holds no server connection and no PostgreSQL answers at the database's address from here";
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

/** PgBouncer on this machine, when its process and configuration file were found. */
export function localOf(view: PoolerView | undefined): LocalPgBouncer | undefined {
  return view?.local?.state === 'found' ? view.local.pooler : undefined;
}

/** A PgBouncer setting: from its console (SHOW CONFIG), else from its configuration file here. */
export function settingOf(view: PoolerView | undefined, key: ConfigKey): string | undefined {
  const shown = view?.admin.state === 'read' ? view.admin.console.config[key] : undefined;
  return shown ?? localOf(view)?.settings[key];
}

/** PgBouncer's log file, when it writes one (not syslog only). */
export function logFileOf(view: PoolerView | undefined): string | undefined {
  const file = settingOf(view, 'logfile');
  return file && file.trim() !== '' ? file.trim() : undefined;
}

export function poolModeOf(view: PoolerView): string | undefined {
  return view.pool?.pool_mode ?? view.database?.pool_mode ?? consoleOf(view)?.config.pool_mode;
}

/**
 * The pool mode as the configuration file on this machine has it, when the console is not read
 * (for the fixes' words only: the session-state check trusts the console alone). PgBouncer's
 * default is session.
 */
export function configuredPoolMode(view: PoolerView, database: string): string | undefined {
  const local = localOf(view);
  if (!local) return undefined;
  return local.databases[database]?.pool_mode ?? local.settings.pool_mode ?? 'session';
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
  if (maxDb > 0 && database.current_connections >= maxDb)
    return { binding: 'max_db_connections', allowed: maxDb, held: database.current_connections, evidence };
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
    ...(view.local?.state === 'found'
      ? { onThisMachine: { pid: view.local.pooler.pid, configFile: view.local.pooler.configFile } }
      : view.local && view.admin.state !== 'read'
        ? { onThisMachine: `not read: ${view.local.reason}` }
        : {}),
    ...(view.lastLogin ? { lastServerLogin: { ...view.lastLogin, logFile: logFileOf(view) } } : {}),
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
