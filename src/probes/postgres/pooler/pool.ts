import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { StepIO } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../text/duration.js';
import { pidsOf } from '../commands.js';
import type { PgContext } from '../context.js';
import { serverErrorEvidence } from '../evidence.js';
import { poolRemedies, poolStep } from '../steps/pool.js';
import { judgeBackend, poolerSaid } from './judge.js';
import { describeConfirmation } from './confirm.js';
import { configFileOf, onConsole, pgbouncerName, showOnConsole } from './commands.js';
import { findingsOf, outcomeOf, poolerAware, withPooler, type StepExtension } from './extend.js';
import {
  configuredPoolMode,
  consoleOf,
  poolerEvidence,
  poolEvidence,
  poolLimits,
  poolModeOf,
  queryWouldQueue,
  type PoolerView,
  type PoolLimit,
} from './view.js';

/**
 * Session state a transaction-pooled server connection can carry from one client to the next,
 * seen from the server connection dbdoctor's own session got, and for advisory locks from every
 * idle server connection of the pool (SHOW SERVERS gives their pids). Settings PgBouncer itself
 * re-sends to each client, and the ones our own READ ONLY transaction sets, are left out.
 */
export const SESSION_STATE_SQL = `SELECT pg_backend_pid() AS backend_pid,
       (SELECT coalesce(json_agg(json_build_object('pid', l.pid, 'classid', l.classid::bigint, 'objid', l.objid::bigint,
                'heldBy', CASE WHEN l.pid = pg_backend_pid() THEN 'the server connection dbdoctor was given' ELSE 'an idle server connection of the pool' END,
                'idleSeconds', CASE WHEN l.pid <> pg_backend_pid() THEN round(extract(epoch FROM now() - a.state_change)::numeric, 1) END,
                'lastQuery', CASE WHEN l.pid <> pg_backend_pid() THEN left(a.query, 300) END) ORDER BY l.pid), '[]')
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted
           AND (l.pid = pg_backend_pid() OR (a.state = 'idle' AND l.pid = ANY ($1::int[])))) AS advisory_locks,
       (SELECT coalesce(json_agg(name ORDER BY name), '[]') FROM pg_prepared_statements WHERE name NOT LIKE 'PGBOUNCER\\_%') AS prepared_statements,
       (SELECT coalesce(json_agg(json_build_object('name', name, 'setting', setting) ORDER BY name), '[]')
          FROM pg_settings
         WHERE source = 'session'
           AND name NOT IN ('application_name', 'client_encoding', 'DateStyle', 'TimeZone', 'standard_conforming_strings',
                            'statement_timeout', 'lock_timeout', 'transaction_read_only', 'transaction_isolation', 'transaction_deferrable')) AS session_settings`;

export interface SessionStateRow {
  backend_pid: number;
  advisory_locks: { pid: number; classid: number; objid: number; heldBy: string; idleSeconds: number | null; lastQuery: string | null }[];
  prepared_statements: string[];
  session_settings: { name: string; setting: string }[];
}

const LIMIT_KEYS = {
  pool_size: "default_pool_size (or pool_size= on the database's [databases] line; reserve_pool_size adds a reserve)",
  max_db_connections: 'max_db_connections (or max_db_connections= on the [databases] line)',
  max_user_connections: 'max_user_connections (or max_user_connections= under [users])',
} as const satisfies Record<PoolLimit, string>;

const remedies = {
  pooler_client_limit: (target: PostgresTarget, view: PoolerView | undefined): Remediation[] => [
    {
      text: `PgBouncer admits at most max_client_conn clients in all (its console included). Raise max_client_conn in ${configFileOf(view)}; PgBouncer needs a file descriptor per client and per server connection, so raise its limit too (LimitNOFILE in its systemd unit, or ulimit -n).`,
    },
    onConsole(target, view, 'Then reload it', 'RELOAD;'),
    showOnConsole(target, view, 'See which applications hold the client connections (a leak shows as many idle clients from one address)', 'SHOW CLIENTS;'),
    {
      text: 'Clients of a pooler may stay connected for ever; it is the server connections that are scarce. An application pool far larger than needed is the usual cause.',
    },
  ],
  pooler_pool_exhausted: (target: PostgresTarget, view: PoolerView, limit: PoolLimit | undefined): Remediation[] => [
    showOnConsole(
      target,
      view,
      'See the queue and what holds the server connections: cl_waiting and maxwait per pool, then each server connection with its client',
      'SHOW POOLS; SHOW SERVERS;',
    ),
    whatHoldsThePool(view, target.database),
    onConsole(
      target,
      view,
      limit
        ? `The limit that binds is ${LIMIT_KEYS[limit]} in ${configFileOf(view)}. Raise it only if PostgreSQL's max_connections leaves room for the sum of all pools, then reload`
        : view.admin.state !== 'read'
          ? `SHOW POOLS tells which limit binds (sv_active against it): ${Object.values(LIMIT_KEYS).join('; ')}, in ${configFileOf(view)}. Raise one only if PostgreSQL's max_connections leaves room for the sum of all pools, then reload`
          : `Clients wait although the pool is below its limits: PgBouncer is still opening server connections, slowly (sv_login). Check how fast the database accepts connections, and the limits in ${configFileOf(view)}; after a change, reload`,
      'RELOAD;',
    ),
    { text: 'Keep waits bounded for the applications: query_wait_timeout makes a waiting client fail instead of hanging (120 s by default).' },
  ],
  near_limit: (target: PostgresTarget, view: PoolerView, what: 'servers' | 'clients'): Remediation[] =>
    what === 'servers'
      ? [
          showOnConsole(target, view, 'Every server connection of the pool is busy: the next query will wait. Watch cl_waiting and maxwait', 'SHOW POOLS;'),
          {
            text: `If clients start to wait, see which limit binds in ${configFileOf(view)} (default_pool_size, max_db_connections, max_user_connections) and look for long transactions on the database.`,
          },
        ]
      : [
          showOnConsole(target, view, 'Most of max_client_conn is in use; see who holds the client connections', 'SHOW CLIENTS;'),
          { text: `Raise max_client_conn in ${configFileOf(view)} (and the file-descriptor limit) before it is reached, or shrink the application pools.` },
        ],
  pooler_session_state: (target: PostgresTarget, view: PoolerView, lockPids: readonly number[]): Remediation[] => [
    {
      text: `PgBouncer runs "${target.database}" in ${poolModeOf(view) ?? 'transaction'} pool mode: after each transaction the server connection goes to another client, with whatever the last one left on it. Keep session state inside the transaction: pg_advisory_xact_lock instead of pg_advisory_lock, SET LOCAL instead of SET, unnamed or protocol-level prepared statements (PgBouncer 1.21+ with max_prepared_statements) instead of PREPARE.`,
    },
    { text: 'Or give the clients that need session state their own pool in session mode: a second [databases] entry with pool_mode=session, then RELOAD;.' },
    ...(pidsOf(lockPids).length > 0
      ? [
          {
            text: 'To release the leaked advisory locks now, end the server connections that hold them (PgBouncer opens new ones; review the evidence first):',
            command: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (${pidsOf(lockPids).join(', ')});`,
            language: 'sql' as const,
          },
        ]
      : []),
    onConsole(target, view, "Or let PgBouncer replace the pool's server connections once each is released", [
      `RECONNECT ${pgbouncerName(target.database) ?? ''};`,
    ]),
  ],
};

type PoolCause = keyof typeof remedies | 'too_many_connections';

/**
 * What holds a server connection depends on the pool mode: a session in session mode, a
 * transaction in transaction mode, a statement in statement mode. Unknown without the console:
 * transaction mode, PgBouncer's most used, is named as such.
 */
function whatHoldsThePool(view: PoolerView, database: string): Remediation {
  const mode = poolModeOf(view) ?? configuredPoolMode(view, database);
  switch (mode) {
    case 'session':
      return {
        text: "In session pool mode a server connection is held for a client's whole session, idle or not: clients that stay connected (an application pool's idle connections) hold the pool. Find the longest-connected sessions on the database:",
        command:
          "SELECT pid, usename, application_name, client_addr, state, now() - backend_start AS connected_for, now() - state_change AS in_state_for FROM pg_stat_activity WHERE backend_type = 'client backend' ORDER BY backend_start;",
        language: 'sql',
      };
    case 'statement':
      return {
        text: 'In statement pool mode a server connection is held only while a statement runs: long-running statements hold the pool. Find them on the database:',
        command:
          "SELECT pid, usename, application_name, now() - query_start AS running_for, left(query, 80) AS query FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' ORDER BY query_start;",
        language: 'sql',
      };
    default:
      return {
        text: `${mode === 'transaction' ? "In transaction pool mode (this pool's)" : 'In transaction pool mode (the usual; the console would say which mode this pool runs in)'} a server connection is held for a whole transaction: transactions left open by an application (idle in transaction) hold the pool. Find them on the database:`,
        command:
          "SELECT pid, usename, application_name, state, now() - xact_start AS in_transaction_for, left(query, 80) AS last_query FROM pg_stat_activity WHERE backend_type = 'client backend' AND state LIKE 'idle in transaction%' ORDER BY xact_start;",
        language: 'sql',
      };
  }
}

/** Step 4 behind a pooler: a slot at the pooler, a server connection from its pool, and session state in it. */
export const poolerPoolStep = poolerAware(poolStep, {
  checks:
    'Behind PgBouncer: its client limit (max_client_conn), its pool for this database and user (SHOW POOLS: waiting clients, server connections against default_pool_size, max_db_connections and max_user_connections), and session state left on transaction-pooled server connections.',
  remedies: { ...remedies, too_many_connections: poolRemedies.too_many_connections },
  async run(ctx, io, base) {
    const decision = await ctx.decision();
    const { trace } = await ctx.connection();
    if (decision.kind === 'failure' && decision.cause === 'pooler_client_limit') {
      const view = await ctx.pooler(io.deadline);
      return io.found(
        'pooler_client_limit',
        `the pooler refused the connection: "${trace.serverError?.message ?? 'no more connections allowed'}" — its client limit is reached, whatever room the database has`,
        remedies.pooler_client_limit(ctx.target, view),
        {
          ...serverErrorEvidence(trace),
          ...(view ? { pooler: poolerEvidence(view) } : {}),
        },
      );
    }
    const view = await ctx.poolerWithSession(io.deadline);
    if (!view) return base();
    const pooler = poolEvidence(view);
    const { pool } = view;
    const limits = poolLimits(view);
    const said = poolerSaid(trace, view);
    if (decision.kind === 'failure' && said && said.to !== 'login') {
      const words = `"${said.error.message}" [${said.error.code}]`;
      if (decision.cause === 'pooler_pool_exhausted') {
        return io.found(
          'pooler_pool_exhausted',
          `${view.name} disconnected the query that waited in its queue for ${pool ? `${pool.database}/${pool.user}` : 'a server connection'}: ${words}. Every server connection it may open was busy, or it could not open a new one to a database that does not answer`,
          remedies.pooler_pool_exhausted(ctx.target, view, limits?.binding),
          { pooler, serverMessage: said.error.message, sqlstate: said.error.code },
        );
      }
      if (decision.cause === 'too_many_connections') {
        return io.found(
          'too_many_connections',
          `the database behind ${view.name} refused its login for lack of connection slots: ${words} (relayed by the pooler)`,
          poolRemedies.too_many_connections(/for role/.test(said.error.message) ? 'role' : /for database/.test(said.error.message) ? 'database' : 'server'),
          { pooler, serverMessage: said.error.message, sqlstate: said.error.code },
        );
      }
    }
    const judged = judgeBackend(view, trace);
    // Clients wait because the database refuses PgBouncer's logins, not for lack of room: the auth step says so.
    if (judged.kind === 'refuses-login')
      return io.skip(`not checked: ${view.name}'s logins to the database are refused (see auth); its clients wait for that, not for room`, { pooler });
    if (judged.kind === 'at-limit') {
      // A limit across pools, held by the others: this pool's clients wait for a connection PgBouncer may not open.
      return io.found(
        'pooler_pool_exhausted',
        `${view.name} opens no server connection for ${pool ? `${pool.database}/${pool.user}` : `"${ctx.target.database}"`}, whose clients wait: ${judged.reasons.join('; ')}`,
        remedies.pooler_pool_exhausted(ctx.target, view, judged.limit),
        { pooler, limit: judged.limit, limitKnownFrom: judged.known },
      );
    }
    const confirmation = view.confirmation;
    if (confirmation?.kind === 'statement-mode') return io.skip(statementModeSkip(view.name), { pooler });
    if (confirmation?.kind === 'queued' && confirmation.second?.outcome !== 'login-held') {
      // Without the console, the queue is all there is to see: the query waited, a second
      // client was let in (PgBouncer's logins to the database are not failing), and waited too.
      const answeredMeanwhile = confirmation.second?.outcome === 'answered';
      return answeredMeanwhile
        ? io.found(
            'near_limit',
            `queries wait in ${view.name}'s queue: ours waited ${formatMs(confirmation.waitedMs)} while a second client's was answered`,
            remedies.near_limit(ctx.target, view, 'servers'),
            { pooler },
          )
        : io.found(
            'pooler_pool_exhausted',
            `a query through ${view.name} waited ${formatMs(confirmation.waitedMs)} in its queue without a server connection, and a second client's query waited too, while PgBouncer did not turn clients away (its logins to the database are not failing): every server connection it may open is busy. Not confirmed without its console: which limit binds, and whether it is instead holding the database paused (PAUSE) or still opening a connection to a database that does not answer (SHOW POOLS: sv_active against sv_login; SHOW DATABASES: paused)`,
            remedies.pooler_pool_exhausted(ctx.target, view, limits?.binding),
            { pooler, databaseBehind: describeConfirmation(confirmation) },
          );
    }
    if (pool && pool.cl_waiting > 0) {
      const bound = limits?.binding
        ? `all ${limits.held} server connections it may open are busy (${limits.binding} = ${limits.allowed})`
        : `only ${limits?.held ?? 0} server connections are open, below the pool size of ${limits?.allowed ?? '?'}`;
      return io.found(
        'pooler_pool_exhausted',
        `${pool.cl_waiting} client(s) wait in ${view.name}'s queue for ${pool.database}/${pool.user} (the longest for ${formatMs((pool.maxwait + pool.maxwait_us / 1e6) * 1000)}): ${bound}`,
        remedies.pooler_pool_exhausted(ctx.target, view, limits?.binding),
        { pooler, ...(limits?.binding ? { limit: limits.binding } : {}) },
      );
    }
    if (pool && limits?.binding && queryWouldQueue(view)) {
      // A query from us would join the queue: the pool is judged from the console alone.
      return io.found(
        'near_limit',
        `every server connection ${view.name} may open for ${pool.database}/${pool.user} is busy (${limits.held} of ${limits.binding} = ${limits.allowed}); no client waits yet`,
        remedies.near_limit(ctx.target, view, 'servers'),
        { pooler, limit: limits.binding },
      );
    }
    const findings: Finding[] = [...(await sessionStateFindings(ctx, io, view)), ...clientLimitFindings(ctx, io, view)];
    const unread = consoleOf(view)
      ? ''
      : " (its console is not open to this user: its pool's size and mode, and session state left on its server connections, are not checked)";
    const poolSummary = pool
      ? `${view.name} pool ${pool.database}/${pool.user}: ${pool.sv_active} of ${limits?.allowed ?? '?'} server connections busy, none waiting; PostgreSQL: `
      : `${view.name} in front${unread}; PostgreSQL: `;
    const baseFindings = findingsOf(withPooler(await base(), pooler, (summary) => `${poolSummary}${summary}`));
    const problems = baseFindings.filter((finding) => finding.status !== 'pass');
    return outcomeOf(
      problems.length > 0 || findings.length > 0 ? [...problems, ...findings, ...baseFindings.filter((finding) => finding.status === 'pass')] : baseFindings,
    );
  },
} satisfies StepExtension<PoolCause>);

async function sessionStateFindings(ctx: PgContext, io: StepIO<PoolCause>, view: PoolerView): Promise<Finding[]> {
  const mode = poolModeOf(view);
  if (mode !== 'transaction' && mode !== 'statement') return [];
  const session = await ctx.session();
  if (!session) return [];
  const pool = view.pool;
  const serverPids = (consoleOf(view)?.servers ?? [])
    .filter((server) => server.database === pool?.database && server.user === pool?.user)
    .map((server) => server.remote_pid);
  const [row] = await session.query<SessionStateRow>(SESSION_STATE_SQL, [serverPids], io.deadline);
  if (!row) return [];
  const parts = [
    ...(row.advisory_locks.length > 0
      ? [
          `${row.advisory_locks.length} session-level advisory lock(s) held by server connection(s) ${[...new Set(row.advisory_locks.map((lock) => lock.pid))].join(', ')} between transactions`,
        ]
      : []),
    ...(row.prepared_statements.length > 0
      ? [`prepared statement(s) ${row.prepared_statements.map((name) => `"${name}"`).join(', ')} left on the server connection dbdoctor was given`]
      : []),
    ...(row.session_settings.length > 0
      ? [`setting(s) changed with SET left on it: ${row.session_settings.map((setting) => `${setting.name} = ${setting.setting}`).join(', ')}`]
      : []),
  ];
  if (parts.length === 0) return [];
  const evidence: Evidence = {
    pooler: poolEvidence(view),
    backendPid: row.backend_pid,
    advisoryLocks: row.advisory_locks,
    preparedStatements: row.prepared_statements,
    sessionSettings: row.session_settings,
  };
  const lockPids = [...new Set(row.advisory_locks.map((lock) => lock.pid))];
  return [
    io.found(
      'pooler_session_state',
      `${mode} pool mode, and server connections carry session state from earlier clients: ${parts.join('; ')}`,
      remedies.pooler_session_state(ctx.target, view, lockPids),
      evidence,
    ),
  ];
}

function clientLimitFindings(ctx: PgContext, io: StepIO<PoolCause>, view: PoolerView): Finding[] {
  const console = consoleOf(view);
  const used = console?.lists.used_clients ?? 0;
  const max = Number(console?.config.max_client_conn ?? 0);
  if (max <= 0) return [];
  const percent = Math.round((used / max) * 1000) / 10;
  if (percent < ctx.run.thresholds.nearLimitPercent) return [];
  return [
    io.found(
      'near_limit',
      `${used} of max_client_conn = ${max} client connections in use at ${view.name} (${percent} %)`,
      remedies.near_limit(ctx.target, view, 'clients'),
      { pooler: poolEvidence(view), usedClients: used, maxClientConn: max },
    ),
  ];
}

/** Statement pool mode ended the diagnosis's session at its first transaction. */
export function statementModeSkip(name: string): string {
  return `not checked: ${name} runs this database in statement pool mode, which allows no transaction, and this check runs in one`;
}

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerPoolRemedies };
