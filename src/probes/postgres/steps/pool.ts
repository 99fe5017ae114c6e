import { defineStep, type StepIO } from '../../../engine/probe.js';
import type { Finding, Remediation, SessionEvidence } from '../../../engine/schema.js';
import { DEFAULT_THRESHOLDS } from '../../../engine/thresholds.js';
import { formatMs } from '../../../text/duration.js';
import { pgIdent, pgLiteral } from '../../../text/sql.js';
import { pidsOf } from '../commands.js';
import type { ActivityRow, Visibility } from '../activity.js';
import type { PgContext } from '../context.js';
import { namedSession, serverErrorEvidence } from '../evidence.js';

/** Who holds the connections: the first thing to look at when the pool is exhausted. */
const WHO_HOLDS_CONNECTIONS =
  "SELECT usename, application_name, client_addr, state, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC;";

/** The neutral fields the human report lists (engine/schema.ts: SessionEvidence), beside the row's own. */
function idleSession(stuck: ActivityRow['stuck'][number]): SessionEvidence {
  const blocks = stuck.blocks ?? [];
  return {
    role: 'idle in transaction',
    pid: stuck.pid,
    user: stuck.user,
    ...(stuck.applicationName ? { application: stuck.applicationName } : {}),
    detail: `idle ${formatMs(stuck.idleSeconds * 1000)}, transaction open ${formatMs(stuck.transactionSeconds * 1000)}${blocks.length > 0 ? `, blocking ${blocks.map((waiter) => `pid ${waiter.pid}`).join(', ')}` : ''}`,
    query: stuck.lastQuery,
  };
}

/** The sessions an idle transaction keeps waiting, each once, listed after the idle ones. */
function waitingOn(stuck: readonly ActivityRow['stuck'][number][]): SessionEvidence[] {
  const seen = new Set<number>(stuck.map((session) => session.pid));
  return stuck.flatMap((holder) =>
    (holder.blocks ?? []).flatMap((waiter): SessionEvidence[] => {
      if (seen.has(waiter.pid)) return [];
      seen.add(waiter.pid);
      return [
        {
          ...namedSession('waiting', waiter),
          detail: `waiting${waiter.waitingSeconds !== null ? ` ${formatMs(waiter.waitingSeconds * 1000)}` : ''} on a lock held by pid ${holder.pid}`,
          ...(waiter.query ? { query: waiter.query } : {}),
        },
      ];
    }),
  );
}

/** The lasting fix for sessions idle in a transaction; explain reuses it by name. */
export const preventIdleInTransaction: Remediation = {
  text: 'Prevent it: let the server end such sessions by itself (one minute is a common choice):',
  command: "ALTER SYSTEM SET idle_in_transaction_session_timeout = '1min'; SELECT pg_reload_conf();",
  language: 'sql',
};

/**
 * "idle for longer than the threshold" as SQL: the threshold the diagnosis applied (--idle), so the
 * sessions a printed statement ends are the ones the report counted, not a fixed 30 minutes.
 */
function idleLongerThan(idleMs: number): string {
  return `state = 'idle' AND state_change < now() - interval '${idleMs / 1000} seconds'`;
}

/** The role or database a "too many connections for role \"x\"" message names, when it does. */
export function limitOf(message: string): { kind: 'server' | 'role' | 'database'; name?: string } {
  const named = /for (role|database) "((?:[^"]|"")*)"/.exec(message);
  if (named?.[1] === 'role' || named?.[1] === 'database') return { kind: named[1], ...(named[2] !== undefined ? { name: named[2].replace(/""/g, '"') } : {}) };
  return { kind: /for role/.test(message) ? 'role' : /for database/.test(message) ? 'database' : 'server' };
}

const remedies = {
  /**
   * The server's limit: who holds the slots, the idle ones to free, then sizing. A role's or a
   * database's own CONNECTION LIMIT: that one first (its sessions, its idle ones, the limit), since
   * server-wide fixes would not let this role in.
   */
  too_many_connections: (limitKind: 'server' | 'role' | 'database', idleMs: number = DEFAULT_THRESHOLDS.idleMs, name?: string): Remediation[] => {
    const idleText = formatMs(idleMs);
    if (limitKind === 'server') {
      return [
        { text: 'See who holds the connections (as a superuser: superusers keep reserved slots):', command: WHO_HOLDS_CONNECTIONS, language: 'sql' },
        {
          text: `Free the slots held by sessions idle for more than ${idleText} (review the list above first):`,
          command: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${idleLongerThan(idleMs)} AND pid <> pg_backend_pid();`,
          language: 'sql',
        },
        {
          text: 'Lasting fix: size the application pools so their sum stays below max_connections, or put PgBouncer in front. Raising max_connections needs a restart.',
        },
      ];
    }
    const column = limitKind === 'role' ? 'usename' : 'datname';
    const keyword = limitKind === 'role' ? 'ROLE' : 'DATABASE';
    const catalog =
      limitKind === 'role'
        ? `SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname = ${pgLiteral(name ?? '')};`
        : `SELECT datname, datconnlimit FROM pg_database WHERE datname = ${pgLiteral(name ?? '')};`;
    const own = name !== undefined ? `${limitKind} ${name}` : `the ${limitKind}`;
    return [
      {
        text: `The ${limitKind}'s own CONNECTION LIMIT is reached, not the server's: raise it (${name !== undefined ? `ALTER ${keyword} ${pgIdent(name)} CONNECTION LIMIT n` : `ALTER ${keyword} … CONNECTION LIMIT n`}; -1 for none) or shrink the pools using it. Its limit now:`,
        ...(name !== undefined ? { command: catalog, language: 'sql' as const } : {}),
      },
      ...(name !== undefined
        ? [
            {
              text: `The sessions of ${own} that hold it:`,
              command: `SELECT pid, usename, datname, application_name, client_addr, state, state_change FROM pg_stat_activity WHERE ${column} = ${pgLiteral(name)} ORDER BY state_change;`,
              language: 'sql' as const,
            },
            {
              text: `Free the ones idle for more than ${idleText} (review the list above first):`,
              command: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${column} = ${pgLiteral(name)} AND ${idleLongerThan(idleMs)} AND pid <> pg_backend_pid();`,
              language: 'sql' as const,
            },
          ]
        : []),
      { text: 'Server-wide, who holds the connections:', command: WHO_HOLDS_CONNECTIONS, language: 'sql' },
    ];
  },
  near_limit: (): Remediation[] => [
    { text: 'See who holds the connections:', command: WHO_HOLDS_CONNECTIONS, language: 'sql' },
    { text: 'Shrink the application pools, close leaked connections, or put PgBouncer in front before the limit is hit.' },
  ],
  idle_in_transaction: (pids: readonly number[], waiting: readonly unknown[] = []): Remediation[] => [
    {
      text: 'These sessions opened a transaction and stopped talking: they hold locks and connections. Find the code path that does not COMMIT/ROLLBACK (the last query is in the evidence).',
    },
    ...(pidsOf(pids).length > 0
      ? [
          {
            text: `To end them now (review first: their transactions are rolled back)${pidsOf(waiting).length > 0 ? `; this releases their locks, and the waiting session(s) ${pidsOf(waiting).join(', ')} carry on` : ''}:`,
            command: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (${pidsOf(pids).join(', ')});`,
            language: 'sql' as const,
          },
        ]
      : []),
    preventIdleInTransaction,
  ],
  idle_connections: (idleMs: number = DEFAULT_THRESHOLDS.idleMs): Remediation[] => [
    {
      text: 'Many sessions have been idle for a long time: a client pool that is too large or never releases connections. Lower the pool size or its idle timeout.',
    },
    {
      text: `To free the ones idle for more than ${formatMs(idleMs)} now:`,
      command: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${idleLongerThan(idleMs)} AND pid <> pg_backend_pid();`,
      language: 'sql',
    },
  ],
};

/** Step 4: is a connection slot free? */
export const poolStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'pool',
  checks: 'Reads max_connections and pg_stat_activity: slots in use, sessions idle past the idle threshold, sessions idle in a transaction past its threshold.',
  remedies,
  manual: [
    {
      text: 'Connections by state, and the limit ',
      command: 'SELECT state, count(*) FROM pg_stat_activity GROUP BY state; SHOW max_connections;',
      language: 'sql',
    },
    {
      text: 'Utilisation (alert above 80 %):',
      command:
        "SELECT count(*) AS in_use, current_setting('max_connections')::int AS max, round(100.0 * count(*) / current_setting('max_connections')::int, 1) AS percent FROM pg_stat_activity WHERE backend_type = 'client backend';",
      language: 'sql',
    },
    {
      text: 'Sessions idle for more than 30 minutes, and those idle in a transaction:',
      command:
        "SELECT pid, usename, application_name, state, state_change FROM pg_stat_activity WHERE (state = 'idle' AND state_change < now() - interval '30 minutes') OR state LIKE 'idle in transaction%' ORDER BY state_change;",
      language: 'sql',
    },
  ],
  async run(ctx, io) {
    const decision = await ctx.decision();
    const { trace } = await ctx.connection();
    if (decision.kind === 'failure' && decision.cause === 'too_many_connections') {
      const message = trace.serverError?.message ?? 'too many connections';
      const limit = limitOf(message);
      const name = limit.name ?? (limit.kind === 'role' ? ctx.target.user : limit.kind === 'database' ? ctx.target.database : undefined);
      return io.found(
        'too_many_connections',
        `the server refused the connection: "${message}"`,
        remedies.too_many_connections(limit.kind, ctx.run.thresholds.idleMs, name),
        serverErrorEvidence(trace),
      );
    }
    const session = await ctx.session();
    if (!session) return io.skip('not checked: the login failed, and the sessions are read through a login');
    const row = await ctx.activity(io.deadline);
    if (!row) return io.skip('pg_stat_activity returned nothing');
    return judge(row, await ctx.visibility(io.deadline), ctx, io);
  },
});

function judge(row: ActivityRow, visibility: Visibility | undefined, ctx: PgContext, io: StepIO<keyof typeof remedies>): Finding | [Finding, ...Finding[]] {
  const { thresholds } = ctx.run;
  const usable = row.max_connections - row.superuser_reserved - row.reserved;
  const percent = Math.round((row.in_use / row.max_connections) * 1000) / 10;
  const evidence = {
    maxConnections: row.max_connections,
    reservedSlots: row.superuser_reserved + row.reserved,
    inUse: row.in_use,
    usedPercent: percent,
    active: row.active,
    idle: row.idle,
    idleInTransaction: row.idle_in_transaction,
    idlePastThreshold: row.idle_long,
    ...(visibility && !visibility.allSessions ? { hiddenSessions: row.hidden, visibility: visibility.reason } : {}),
  };
  const findings: Finding[] = [];
  if (row.in_use >= usable) {
    // We got in through a superuser-reserved slot: ordinary roles are being refused right now.
    findings.push(
      io.found(
        'too_many_connections',
        `${row.in_use} of ${row.max_connections} connections are in use: only reserved slots are left, so ordinary roles are refused`,
        remedies.too_many_connections('server', thresholds.idleMs),
        evidence,
      ),
    );
  }
  if (row.stuck.length > 0) {
    const oldest = row.stuck[0];
    const waiting = waitingOn(row.stuck);
    const blockingNote =
      waiting.length > 0 ? `; ${waiting.length} session(s) wait on their locks (pid ${waiting.map((session) => session.pid).join(', ')})` : '';
    findings.push(
      io.found(
        'idle_in_transaction',
        `${row.stuck.length} session(s) idle in a transaction for more than ${formatMs(thresholds.idleInTransactionMs)}${oldest ? ` (oldest: pid ${oldest.pid}, ${oldest.user}, ${formatMs(oldest.idleSeconds * 1000)})` : ''}${blockingNote}`,
        remedies.idle_in_transaction(
          row.stuck.map((session) => session.pid),
          waiting.map((session) => session.pid),
        ),
        { ...evidence, sessions: [...row.stuck.map((stuck) => ({ ...stuck, ...idleSession(stuck) })), ...waiting] },
      ),
    );
  }
  if (percent >= thresholds.nearLimitPercent && row.in_use < usable) {
    findings.push(
      io.found(
        'near_limit',
        `${row.in_use} of ${row.max_connections} connections in use (${percent} %, warning at ${thresholds.nearLimitPercent} %)`,
        remedies.near_limit(),
        evidence,
      ),
    );
  }
  if (row.idle_long > 0 && row.idle_long >= row.max_connections * 0.2) {
    findings.push(
      io.found(
        'idle_connections',
        `${row.idle_long} sessions idle for more than ${formatMs(thresholds.idleMs)} hold ${Math.round((row.idle_long / row.max_connections) * 100)} % of max_connections`,
        remedies.idle_connections(thresholds.idleMs),
        evidence,
      ),
    );
  }
  const hidden =
    visibility && !visibility.allSessions
      ? ` (limited view: the role lacks pg_read_all_stats${row.hidden > 0 ? `; ${row.hidden} sessions of other roles hidden` : ''})`
      : '';
  const pass = io.pass(`${row.in_use} of ${row.max_connections} connections in use (${percent} %)${hidden}`, evidence);
  const [first, ...rest] = findings;
  return first ? [first, ...rest] : pass;
}

/** The remedies, for `dbdoctor explain` (the same fixes for a cause read from an error message). */
export { remedies as poolRemedies };
