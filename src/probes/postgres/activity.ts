import type { Deadline } from '../../engine/deadline.js';
import type { Thresholds } from '../../engine/thresholds.js';
import type { ReadOnlySession } from './session.js';

/**
 * The pool step's question (seed 003's step 4), in one read-only query: how many of max_connections are used, by whom,
 * and which sessions sit idle (or idle inside a transaction) past the thresholds.
 *
 * A role without pg_read_all_stats sees other roles' rows with backend_type, state and query all
 * NULL; only datid stays visible. We count such rows that are connected to a database as hidden
 * sessions (which may include an autovacuum worker or two: an upper bound, not an exact count),
 * so that a limited role does not under-report how full the server is.
 *
 * An idle transaction's harm is usually the locks it keeps: for each one the sessions waiting on it
 * are listed (`blocks`). pg_blocking_pids is only called for sessions already waiting on a lock,
 * as the queries step does, so a quiet server pays nothing for it.
 */
export const ACTIVITY_SQL = `SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved,
       coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) AS reserved,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats,
       count(*) FILTER (WHERE backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL))::int AS in_use,
       count(*) FILTER (WHERE backend_type IS NULL AND datid IS NOT NULL)::int AS hidden,
       count(*) FILTER (WHERE state = 'active')::int AS active,
       count(*) FILTER (WHERE state = 'idle')::int AS idle,
       count(*) FILTER (WHERE state = 'idle' AND state_change < now() - make_interval(secs => $1))::int AS idle_long,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_transaction,
       coalesce(json_agg(json_build_object(
           'pid', pid, 'user', usename, 'database', datname, 'applicationName', application_name,
           'client', client_addr::text, 'state', state,
           'idleSeconds', round(extract(epoch FROM now() - state_change)::numeric, 1),
           'transactionSeconds', round(extract(epoch FROM now() - xact_start)::numeric, 1),
           'lastQuery', left(query, 300),
           'blocks', (SELECT coalesce(json_agg(json_build_object(
                 'pid', w.pid, 'user', w.usename, 'applicationName', w.application_name,
                 'waitingSeconds', round(extract(epoch FROM now() - coalesce(w.state_change, w.query_start))::numeric, 1),
                 'query', left(w.query, 300)) ORDER BY w.pid), '[]')
              FROM pg_stat_activity w
              WHERE w.wait_event_type = 'Lock' AND w.pid <> pg_backend_pid() AND a.pid = ANY (pg_blocking_pids(w.pid))))
         ORDER BY state_change)
         FILTER (WHERE state LIKE 'idle in transaction%' AND state_change < now() - make_interval(secs => $2)), '[]') AS stuck
FROM pg_stat_activity a`;

export interface ActivityRow {
  max_connections: number;
  superuser_reserved: number;
  reserved: number;
  is_superuser: boolean | null;
  reads_all_stats: boolean;
  in_use: number;
  hidden: number;
  active: number;
  idle: number;
  idle_long: number;
  idle_in_transaction: number;
  stuck: {
    pid: number;
    user: string;
    database: string;
    applicationName: string;
    state: string;
    idleSeconds: number;
    transactionSeconds: number;
    lastQuery: string;
    /** The sessions waiting on a lock this one holds. */
    blocks: { pid: number; user: string | null; applicationName: string | null; waitingSeconds: number | null; query: string | null }[];
  }[];
}

export interface Visibility {
  readonly allSessions: boolean;
  readonly hiddenSessions: number;
  readonly reason?: string;
}

/** pg_stat_activity as this role sees it, under the run's idle thresholds. */
export async function readActivity(session: ReadOnlySession, thresholds: Thresholds, deadline: Deadline): Promise<ActivityRow | undefined> {
  const [row] = await session.query<ActivityRow>(ACTIVITY_SQL, [thresholds.idleMs / 1000, thresholds.idleInTransactionMs / 1000], deadline);
  return row;
}

/** Whether this role sees other sessions' state and queries: a superuser or pg_read_all_stats does. */
export function visibilityOf(row: ActivityRow, user: string): Visibility {
  return row.reads_all_stats || row.is_superuser === true
    ? { allSessions: true, hiddenSessions: 0 }
    : {
        allSessions: false,
        hiddenSessions: row.hidden,
        reason: `role "${user}" is not a superuser and lacks pg_read_all_stats: other roles' sessions show no state or query`,
      };
}
