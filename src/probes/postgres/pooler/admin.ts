import { z } from 'zod';
import type { PostgresTarget } from '../../../config/postgres/target.js';
import { isDeadlineExceeded, type Deadline } from '../../../engine/deadline.js';
import { closeConnection, type ServerError } from '../connect.js';
import { openConnection, pinnedTo } from '../hosts.js';
import { bounded, NAME_CHARS } from '../../../text/bound.js';
import { mapStrings } from '../../../text/visible.js';

/**
 * PgBouncer's admin console: the virtual database "pgbouncer" on the pooler's own port. It speaks
 * only the simple query protocol, knows only its own commands (SHOW …, PAUSE, RELOAD, …) and
 * rejects BEGIN, so it gets one plain query per command and never a transaction. dbdoctor sends
 * SHOW commands only; users listed in stats_users may run them, admin_users may run everything.
 * The console answers at once whatever the database behind does: it never needs a server
 * connection, so it can tell why a pool is stuck while the pool itself cannot.
 */
const count = z.coerce.number().catch(0);
const text = z.string().nullable().catch(null);

export const PoolRowSchema = z.object({
  database: z.string(),
  user: z.string(),
  cl_active: count,
  cl_waiting: count,
  sv_active: count,
  sv_idle: count,
  sv_used: count,
  sv_tested: count,
  sv_login: count,
  maxwait: count,
  maxwait_us: count,
  pool_mode: text,
});
export type PoolRow = z.infer<typeof PoolRowSchema>;

export const DatabaseRowSchema = z.object({
  name: z.string(),
  host: text,
  port: count,
  database: text,
  force_user: text,
  pool_size: count,
  reserve_pool: count,
  pool_mode: text,
  max_connections: count,
  current_connections: count,
  paused: count,
  disabled: count,
});
export type DatabaseRow = z.infer<typeof DatabaseRowSchema>;

export const ServerRowSchema = z.object({
  user: z.string(),
  database: z.string(),
  state: z.string(),
  remote_pid: count,
  application_name: text,
});
export type ServerRow = z.infer<typeof ServerRowSchema>;

export const StatsRowSchema = z.object({
  database: z.string(),
  total_xact_count: count,
  total_wait_time: count,
  avg_wait_time: count,
});
export type StatsRow = z.infer<typeof StatsRowSchema>;

/** The settings a diagnosis reads; SHOW CONFIG has some eighty. */
export const CONFIG_KEYS = [
  'pool_mode',
  'default_pool_size',
  'reserve_pool_size',
  'max_client_conn',
  'max_db_connections',
  'max_user_connections',
  'auth_type',
  'auth_file',
  'auth_user',
  'auth_query',
  'auth_hba_file',
  'logfile',
  'client_tls_sslmode',
  'admin_users',
  'stats_users',
  'server_login_retry',
  'query_wait_timeout',
  'client_login_timeout',
  'unix_socket_dir',
  'server_reset_query',
  'server_reset_query_always',
  'max_prepared_statements',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export interface AdminConsole {
  /** "PgBouncer 1.18.0" */
  readonly version: string;
  readonly config: Partial<Record<ConfigKey, string>>;
  readonly databases: DatabaseRow[];
  readonly pools: PoolRow[];
  readonly servers: ServerRow[];
  readonly stats: StatsRow[];
  /** SHOW LISTS: used_clients, used_servers, … */
  readonly lists: Record<string, number>;
  /** Commands this PgBouncer did not answer (older or newer versions differ). */
  readonly unanswered: string[];
}

export type AdminOutcome =
  | { readonly state: 'read'; readonly console: AdminConsole }
  /** The pooler refused this user on its console (not in admin_users or stats_users, a wrong password, a full pooler). */
  | { readonly state: 'refused'; readonly error: ServerError }
  /** Something that is not PgBouncer's console answered, or nothing did in time. */
  | { readonly state: 'unavailable'; readonly reason: string };

export const ADMIN_DATABASE = 'pgbouncer';

/** One connection to the console with the target's own credentials; SHOW commands only. */
export async function readAdminConsole(target: PostgresTarget, deadline: Deadline): Promise<AdminOutcome> {
  // The console of the pooler the diagnosis connected to (the target's first host, once focused).
  const connection = await openConnection({ ...pinnedTo(target), database: ADMIN_DATABASE }, deadline);
  const { client, trace } = connection;
  try {
    if (!client) {
      if (trace.serverError) return { state: 'refused', error: trace.serverError };
      return { state: 'unavailable', reason: trace.timedOut ? 'no answer in time' : (trace.clientError?.message ?? `the login stopped at ${trace.phase}`) };
    }
    // The console announces itself: server_version "1.18.0/bouncer".
    if (!/\/bouncer$/.test(trace.serverParams.server_version ?? '')) {
      return {
        state: 'unavailable',
        reason: `database "${ADMIN_DATABASE}" is not PgBouncer's console (server_version ${trace.serverParams.server_version ?? 'unknown'})`,
      };
    }
    const unanswered: string[] = [];
    const show = async (command: string): Promise<Record<string, unknown>[]> => {
      try {
        // What the console says is kept as evidence: every string in it bounded (text/bound).
        return mapStrings((await deadline.race(client.query<Record<string, unknown>>(command))).rows, (value) => bounded(value, NAME_CHARS));
      } catch (error) {
        if (isDeadlineExceeded(error)) throw error;
        unanswered.push(command);
        return [];
      }
    };
    const rowsOf = <T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, rows: readonly Record<string, unknown>[]): T[] =>
      rows.flatMap((row) => {
        const parsed = schema.safeParse(row);
        return parsed.success ? [parsed.data] : [];
      });
    const version = String((await show('SHOW VERSION'))[0]?.version ?? trace.serverParams.server_version ?? 'PgBouncer');
    const config: Partial<Record<ConfigKey, string>> = {};
    for (const row of await show('SHOW CONFIG')) {
      const key = CONFIG_KEYS.find((name) => name === row.key);
      if (key && row.value !== null && row.value !== undefined) config[key] = String(row.value);
    }
    const databases = rowsOf(DatabaseRowSchema, await show('SHOW DATABASES'));
    const pools = rowsOf(PoolRowSchema, await show('SHOW POOLS'));
    const servers = rowsOf(ServerRowSchema, await show('SHOW SERVERS'));
    const stats = rowsOf(StatsRowSchema, await show('SHOW STATS'));
    const lists: Record<string, number> = {};
    for (const row of await show('SHOW LISTS')) lists[String(row.list)] = Number(row.items);
    return { state: 'read', console: { version, config, databases, pools, servers, stats, lists, unanswered } };
  } catch (error) {
    if (isDeadlineExceeded(error)) return { state: 'unavailable', reason: 'the console did not answer in time' };
    throw error;
  } finally {
    await closeConnection(connection, deadline).catch(() => undefined);
  }
}
