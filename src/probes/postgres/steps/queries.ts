import { defineStep } from '../../../engine/probe.js';
import type { Finding, Remediation, SessionEvidence } from '../../../engine/schema.js';
import { namedSession } from '../evidence.js';
import { formatMs } from '../../../text/duration.js';
import { perPid, pidsOf } from '../commands.js';
import type { PgContext } from '../context.js';

/**
 * Seed 003's step 6: statements active past the long-running threshold, and sessions waiting on
 * a lock past the lock-wait threshold with the sessions that block them. pg_blocking_pids is only
 * called for sessions already waiting on a lock: it briefly locks the lock manager, so we keep
 * the diagnosis gentle on a busy server.
 */
export const LONG_RUNNING_SQL = `SELECT pid, usename AS user, datname AS database, application_name, client_addr::text AS client,
       round(extract(epoch FROM now() - query_start)::numeric, 1)::float8 AS running_seconds,
       wait_event_type, wait_event, left(query, 300) AS query
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state = 'active'
  AND query_start < now() - make_interval(secs => $1)
ORDER BY query_start
LIMIT 20`;

/** Lock waits; `waitstart` (PostgreSQL 14+) says when the wait began, else the statement start. */
export function blockedSql(majorVersion: number): string {
  const waitStart = majorVersion >= 14 ? '(SELECT min(l.waitstart) FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted)' : 'NULL::timestamptz';
  return `WITH waiting AS (
  SELECT a.pid, a.usename, a.datname, a.application_name, left(a.query, 300) AS query,
         round(extract(epoch FROM now() - coalesce(${waitStart}, a.query_start))::numeric, 1)::float8 AS waiting_seconds,
         pg_blocking_pids(a.pid) AS blocked_by
  FROM pg_stat_activity a
  WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()
)
SELECT w.pid, w.usename AS user, w.datname AS database, w.application_name, w.query, w.waiting_seconds, w.blocked_by,
       (SELECT coalesce(json_agg(json_build_object(
            'pid', b.pid, 'user', b.usename, 'applicationName', b.application_name, 'state', b.state,
            'transactionSeconds', round(extract(epoch FROM now() - b.xact_start)::numeric, 1),
            'query', left(b.query, 300)) ORDER BY b.pid), '[]')
        FROM pg_stat_activity b WHERE b.pid = ANY (w.blocked_by)) AS blockers
FROM waiting w
WHERE w.waiting_seconds >= $1
ORDER BY w.waiting_seconds DESC
LIMIT 20`;
}

export interface LongRunningRow {
  pid: number;
  user: string;
  database: string;
  application_name: string;
  client: string | null;
  running_seconds: number;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string;
}

export interface BlockedRow {
  pid: number;
  user: string;
  database: string;
  application_name: string;
  query: string;
  waiting_seconds: number;
  blocked_by: number[];
  /** A row per blocker pg_stat_activity shows; another role's shows user and pid only (state, query null or "<insufficient privilege>"). */
  blockers: {
    pid: number;
    user: string | null;
    applicationName: string | null;
    state: string | null;
    transactionSeconds: number | null;
    query: string | null;
  }[];
}

/** The lasting fixes, reused by name by explain (which cannot know the sessions to cancel). */
export const preventLongRunning: Remediation = {
  text: "Prevent it: set a statement_timeout for the application role (ALTER ROLE … SET statement_timeout = '30s').",
};
export const preventLongWaits: Remediation = {
  text: 'Prevent long waits: set lock_timeout for the application role, and idle_in_transaction_session_timeout on the server.',
};

/**
 * The blocking sessions sorted by what ends their hold. A statement that runs can be cancelled; a
 * session idle in a transaction has no statement to cancel (pg_cancel_backend does nothing to it),
 * only ending the session releases its locks; and a session of another role this role may not see
 * (pg_stat_activity shows no state, query "<insufficient privilege>") is known only by its pid, and
 * signalling it needs a superuser or that role (a plain role cannot cancel a superuser's query).
 */
export interface Blockers {
  running: readonly number[];
  idle: readonly number[];
  hidden: readonly { pid: number; user: string | null }[];
}

/** Sorts the pids pg_blocking_pids named by what the blockers' rows show (see Blockers). */
export function sortBlockers(rows: readonly BlockedRow[]): Blockers {
  const byPid = new Map<number, BlockedRow['blockers'][number]>();
  for (const blocker of rows.flatMap((row) => row.blockers)) byPid.set(blocker.pid, blocker);
  const running: number[] = [];
  const idle: number[] = [];
  const hidden: { pid: number; user: string | null }[] = [];
  for (const pid of new Set(rows.flatMap((row) => row.blocked_by))) {
    const blocker = byPid.get(pid);
    if (!blocker || !blocker.state) hidden.push({ pid, user: blocker?.user ?? null });
    else if (blocker.state.startsWith('idle in transaction')) idle.push(pid);
    else running.push(pid);
  }
  return { running, idle, hidden };
}

const remedies = {
  long_running: (pids: readonly number[]): Remediation[] => [
    {
      text: 'Look at what they run (evidence has the queries) before acting. To cancel the statements but keep the sessions:',
      ...perPid(pids, (pid) => `SELECT pg_cancel_backend(${pid});`),
    },
    { text: 'If a statement will not cancel, end its session:', ...perPid(pids, (pid) => `SELECT pg_terminate_backend(${pid});`) },
    preventLongRunning,
  ],
  blocked: ({ running, idle, hidden }: Blockers): Remediation[] => {
    const fixes: Remediation[] = [];
    if (idle.length > 0) {
      fixes.push({
        text: `The blocking session(s) ${pidsOf(idle).join(', ')} are idle in a transaction: an application opened a transaction and stopped. There is no statement to cancel; ending the session rolls that transaction back and releases the locks (review first):`,
        ...perPid(idle, (pid) => `SELECT pg_terminate_backend(${pid});`),
      });
    }
    if (running.length > 0) {
      fixes.push(
        {
          text: `The blocking session(s) ${pidsOf(running).join(', ')} are running statements; cancelling them releases the locks when their transactions roll back:`,
          ...perPid(running, (pid) => `SELECT pg_cancel_backend(${pid});`),
        },
        { text: 'If the locks are still held, end those sessions:', ...perPid(running, (pid) => `SELECT pg_terminate_backend(${pid});`) },
      );
    }
    if (hidden.length > 0) {
      const roles = [...new Set(hidden.flatMap((blocker) => (blocker.user ? [blocker.user] : [])))];
      fixes.push(
        {
          text: `The blocking session(s) ${pidsOf(hidden.map((blocker) => blocker.pid)).join(', ')} belong to ${roles.length > 0 ? `role ${roles.join(', ')}` : 'another role'}, whose statements and state this role may not see (pg_stat_activity shows <insufficient privilege>): what they run is unknown here. A superuser${roles.length > 0 ? ` or ${roles.join(', ')}` : " or the blocker's own role"} must look, and cancel or end them (this role's pg_cancel_backend is refused for another role's session):`,
          ...perPid(
            hidden.map((blocker) => blocker.pid),
            (pid) => `SELECT pid, usename, state, xact_start, left(query, 200) FROM pg_stat_activity WHERE pid = ${pid};`,
          ),
        },
        {
          text: 'Then, as that superuser, if the state is active: cancel the statement:',
          ...perPid(
            hidden.map((blocker) => blocker.pid),
            (pid) => `SELECT pg_cancel_backend(${pid});`,
          ),
        },
        {
          text: 'If it is idle in a transaction (nothing to cancel), or the locks are still held: end the session:',
          ...perPid(
            hidden.map((blocker) => blocker.pid),
            (pid) => `SELECT pg_terminate_backend(${pid});`,
          ),
        },
      );
    }
    fixes.push(preventLongWaits);
    return fixes;
  },
};

/** Who waits and who holds the lock, each once, waiters first: what the human report lists. */
function blockedSessions(rows: readonly BlockedRow[]): SessionEvidence[] {
  const waiting = rows.map((row): SessionEvidence => ({
    role: 'waiting',
    pid: row.pid,
    user: row.user,
    ...(row.application_name ? { application: row.application_name } : {}),
    detail: `waited ${formatMs(row.waiting_seconds * 1000)} for ${row.blocked_by.map((pid) => `pid ${pid}`).join(', ')}`,
    query: row.query,
  }));
  const seen = new Set<number>(rows.map((row) => row.pid));
  const blocking = rows
    .flatMap((row) => row.blockers)
    .flatMap((blocker): SessionEvidence[] => {
      if (seen.has(blocker.pid)) return [];
      seen.add(blocker.pid);
      return [
        {
          ...namedSession('blocking', blocker),
          // Another role's session, unseen without pg_read_all_stats: no state, no query; say so.
          ...(blocker.state ? { state: blocker.state } : { state: 'not visible to this role' }),
          ...(blocker.transactionSeconds !== null && blocker.transactionSeconds !== undefined
            ? { detail: `transaction open ${formatMs(blocker.transactionSeconds * 1000)}` }
            : {}),
          ...(blocker.query ? { query: blocker.query } : {}),
        },
      ];
    });
  return [...waiting, ...blocking];
}

function runningSession(row: LongRunningRow): SessionEvidence {
  return {
    role: 'running',
    pid: row.pid,
    user: row.user,
    ...(row.application_name ? { application: row.application_name } : {}),
    detail: `for ${formatMs(row.running_seconds * 1000)}${row.wait_event ? `, waiting on ${row.wait_event_type ?? ''} ${row.wait_event}` : ''}`,
    query: row.query,
  };
}

/** Step 6: is anything long-running or blocked? */
export const queriesStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'queries',
  checks:
    'Reads pg_stat_activity for statements active past the long-running threshold, and pg_blocking_pids for sessions waiting on a lock past the lock-wait threshold.',
  remedies,
  manual: [
    {
      text: 'Statements active for more than 5 minutes:',
      command:
        "SELECT pid, now() - query_start AS duration, state, left(query, 200) FROM pg_stat_activity WHERE state <> 'idle' AND query_start < now() - interval '5 minutes' ORDER BY query_start;",
      language: 'sql',
    },
    {
      text: 'Who waits on whom:',
      command:
        "SELECT pid, pg_blocking_pids(pid) AS blocked_by, now() - query_start AS waiting, left(query, 200) FROM pg_stat_activity WHERE wait_event_type = 'Lock';",
      language: 'sql',
    },
    {
      text: 'Cancel a statement, or end its session (never run by dbdoctor):',
      command: 'SELECT pg_cancel_backend(<pid>); SELECT pg_terminate_backend(<pid>);',
      language: 'sql',
    },
  ],
  async run(ctx, io) {
    const session = await ctx.session();
    if (!session) return io.skip('not checked: the login failed, and running queries are read through a login');
    const { thresholds } = ctx.run;
    const longRunning = await session.query<LongRunningRow>(LONG_RUNNING_SQL, [thresholds.longRunningMs / 1000], io.deadline);
    io.evidence.longRunning = longRunning;
    const blocked = await session.query<BlockedRow>(blockedSql(session.majorVersion), [thresholds.lockWaitMs / 1000], io.deadline);
    io.evidence.blocked = blocked;
    // Read once by the pool step, or here when the pool step was not run (--skip, --only).
    const seen = await ctx.visibility(io.deadline);
    const visibility = seen && !seen.allSessions ? { visibility: seen.reason } : {};
    const findings: Finding[] = [];
    if (blocked.length > 0) {
      const blockers = sortBlockers(blocked);
      const worst = blocked[0];
      const unseen =
        blockers.hidden.length > 0
          ? `; the blocker(s) ${blockers.hidden.map((blocker) => blocker.pid).join(', ')} are another role's sessions this role cannot see`
          : '';
      findings.push(
        io.found(
          'blocked',
          `${blocked.length} session(s) waiting on a lock for more than ${formatMs(thresholds.lockWaitMs)}${worst ? ` (pid ${worst.pid} has waited ${formatMs(worst.waiting_seconds * 1000)}, blocked by ${worst.blocked_by.join(', ')})` : ''}${unseen}`,
          remedies.blocked(blockers),
          { blocked, sessions: blockedSessions(blocked), ...visibility },
        ),
      );
    }
    if (longRunning.length > 0) {
      const oldest = longRunning[0];
      findings.push(
        io.found(
          'long_running',
          `${longRunning.length} statement(s) active for more than ${formatMs(thresholds.longRunningMs)}${oldest ? ` (oldest: pid ${oldest.pid}, ${formatMs(oldest.running_seconds * 1000)})` : ''}`,
          remedies.long_running(longRunning.map((row) => row.pid)),
          { longRunning, sessions: longRunning.map(runningSession), ...visibility },
        ),
      );
    }
    const [first, ...rest] = findings;
    if (first) return [first, ...rest];
    const limited = seen && !seen.allSessions ? ' (limited view: only this role’s sessions are visible)' : '';
    return io.pass(`nothing active past ${formatMs(thresholds.longRunningMs)} and no lock wait past ${formatMs(thresholds.lockWaitMs)}${limited}`, {
      ...visibility,
    });
  },
});

/** The remedies, for `dbdoctor explain` (the same fixes for a cause read from an error message). */
export { remedies as queriesRemedies };
