import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../engine/walk.js';
import type { ConnectionTrace, ServerError } from '../connect.js';
import { protocolEvidence, whereOf } from '../evidence.js';
import { describeBackend } from './backend.js';
import { CONFIG_FILE, onConsole, showOnConsole } from './commands.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { poolerEvidence, workingServers, type PoolerView } from './view.js';
import { acceptingRemedies, acceptingStep } from '../steps/accepting.js';
import { describeConfirmation } from './confirm.js';

const remedies = {
  pooler_backend_down: (target: PostgresTarget, view: PoolerView): Remediation[] => {
    const backend = view.backend;
    const where = backend ? `the database it forwards to, ${describeBackend(backend)},` : `the database it forwards "${target.database}" to, as its [databases] line in ${CONFIG_FILE} says,`;
    return [
      { text: `PgBouncer is fine; ${where} does not serve it. Start it, or fix the address: on the database host, see whether PostgreSQL runs and where it listens:`, command: 'sudo systemctl status postgresql; sudo ss -tlnp | grep -i postgres', language: 'shell' },
      { text: "PgBouncer's log names each failed login to the database (\"connect failed\", or the database's own words, e.g. a password or pg_hba.conf refusal):", command: 'sudo grep -E "server login|login failed|connect failed|closing because" /var/log/postgresql/pgbouncer.log | tail -n 20', language: 'shell' },
      ...(backend && backend.transport === 'tcp'
        ? [{ text: 'Check the database itself, not the pooler (pg_isready on the pooler\'s port says "accepting connections" even now):', command: `pg_isready -h ${backend.host.split(',')[0] ?? backend.host} -p ${backend.port}`, language: 'shell' as const }]
        : []),
      showOnConsole(target, view, 'Watch the pool from the pooler: server connections (sv_*) stay at 0 and clients wait (cl_waiting) while the database is away', 'SHOW POOLS;'),
      onConsole(target, view, `If the database moved, correct its line under [databases] in ${CONFIG_FILE}, then reload PgBouncer`, 'RELOAD;'),
      { text: 'Once the database is back, PgBouncer reconnects by itself; between failed logins it waits server_login_retry (15 s by default), and meanwhile answers new clients "server login has been failing".' },
    ];
  },
  pooler_paused: (target: PostgresTarget, view: PoolerView | undefined, disabled: boolean): Remediation[] => [
    {
      text: disabled
        ? `DISABLE was run for "${target.database}" on PgBouncer: new clients are rejected until ENABLE. If the maintenance is over:`
        : `PAUSE was run for "${target.database}" on PgBouncer: clients log in, then every query waits in its queue until RESUME. If the maintenance is over:`,
    },
    onConsole(target, view, disabled ? 'Let clients in again' : 'Resume the database', `${disabled ? 'ENABLE' : 'RESUME'} ${target.database};`),
    showOnConsole(target, view, 'Check the paused and disabled columns', 'SHOW DATABASES;'),
  ],
};

/** A query the pooler would not take at all (disable_pqexec) is a limit of dbdoctor's, not the database's. */
const ourQueryRefused = (): Remediation[] => [
  { text: "dbdoctor could not ask the database behind the pooler: the pooler refused its query. Check the database directly, or through the pooler with a client that uses the extended query protocol (psql's \\bind, or an application's own health check)." },
];

/** Step 2 behind a pooler: the pooler answers, but can it serve the database behind it? */
export const poolerAcceptingStep = poolerAware(acceptingStep, {
  checks:
    'Behind a connection pooler (PgBouncer, recognised by its errors and its made-up backend key): reads its admin console (SHOW POOLS, DATABASES, SERVERS, STATS, CONFIG) when the user may, sends one query through it (a login alone proves nothing: PgBouncer answers it from values cached from an earlier server connection), opens a second client when that query waits, and, when it holds no server connection, checks whether the database behind it answers.',
  remedies: {
    ...remedies,
    check_error: ourQueryRefused,
    shutting_down: acceptingRemedies.shutting_down,
    not_accepting: acceptingRemedies.not_accepting,
    tls_required: acceptingRemedies.tls_required,
    starting_up: acceptingRemedies.starting_up,
    recovery: acceptingRemedies.recovery,
  },
  async run(ctx, io, base) {
    const atLogin = await ctx.decision();
    if (atLogin.kind === 'refused' || (atLogin.kind === 'failure' && atLogin.step === 'network')) return base();
    const view = await ctx.pooler(io.deadline);
    if (!view) return base();
    const { trace } = await ctx.connection();
    const decision = await ctx.decision();
    const said = poolerSaid(trace, view);
    const pooler = poolerEvidence(view);
    const evidence = { ...protocolEvidence(trace), ...(said ? { sqlstate: said.error.code, severity: said.error.severity, serverMessage: said.error.message, saidTo: said.to } : {}), pooler };
    const where = `${view.name} at ${whereOf(trace)}`;
    const failed = decision.kind === 'failure' ? decision.cause : undefined;
    if (failed === 'pooler_paused' || (view.database?.paused ?? 0) > 0) {
      const disabled = failed === 'pooler_paused';
      const what = disabled ? `rejects new clients for "${ctx.target.database}" (DISABLE): "${said?.error.message ?? 'disabled'}"` : `holds "${ctx.target.database}" paused (PAUSE): clients log in, then their queries wait`;
      return io.found('pooler_paused', `${where} ${what}`, remedies.pooler_paused(ctx.target, view, disabled), evidence);
    }
    const reasons = backendDownReasons(view, trace, failed === 'pooler_backend_down' ? said : undefined);
    if (reasons.length > 0) {
      const behind = view.backend ? describeBackend(view.backend) : 'the database behind it';
      return io.found('pooler_backend_down', `${where} is up, but cannot reach ${behind}: ${reasons.join('; ')}`, remedies.pooler_backend_down(ctx.target, view), evidence);
    }
    if (decision.kind === 'failure' && said) {
      const words = `"${said.error.message}" [${said.error.code}]${said.to === 'login' ? '' : ` (to ${said.to})`}`;
      switch (decision.cause) {
        case 'shutting_down':
          return io.found('shutting_down', `${where} is shutting down: ${words}`, acceptingRemedies.shutting_down(ctx.target), evidence);
        case 'tls_required':
          return io.found('tls_required', `${where} requires TLS from its clients (client_tls_sslmode), but sslmode=${ctx.target.sslmode}: ${words}`, acceptingRemedies.tls_required(ctx.target), evidence);
        case 'starting_up':
          return io.found('starting_up', `the database behind ${where} is starting up: ${words}`, acceptingRemedies.starting_up(ctx.target, ctx.run.environment.platform), evidence);
        case 'recovery':
          return io.found('recovery', `the database behind ${where} is in recovery: ${words}`, acceptingRemedies.recovery(ctx.target), evidence);
        case 'not_accepting':
          return io.found('not_accepting', `${where} refuses to serve the client: ${words}`, acceptingRemedies.not_accepting(), evidence);
        default:
          // A verdict of a later step (the database refused PgBouncer's login, a queue timed out):
          // PgBouncer answers, the database is not confirmed.
          return io.skip(`${where} answers; the database behind it: ${confirmationWords(view)} (see ${decision.step})`, evidence);
      }
    }
    const confirmation = view.confirmation;
    if (confirmation?.kind === 'answered') {
      return withPooler(await base(), pooler, (summary) => `${view.name} (a connection pooler) answers; behind it, ${summary}, confirmed by a query through it`);
    }
    if (confirmation?.kind === 'statement-mode') {
      return io.pass(`${view.name} (a connection pooler) answers; behind it, the database answered a query, then ${view.name} ended the session: its statement pool mode allows no transaction, and dbdoctor's checks run in one (pool and queries are not checked)`, evidence);
    }
    if (confirmation?.kind === 'refused-our-query') {
      return io.found('check_error', `${where} answers, but the database behind it is ${confirmationWords(view)}`, ourQueryRefused(), evidence);
    }
    if (confirmation?.kind === 'not-asked' && view.pool && workingServers(view.pool) > 0) {
      // The pool is busy: a query would only queue. Its console shows server connections logged in.
      return io.pass(`${where} answers; behind it, the database serves ${workingServers(view.pool)} server connection(s) of the pool (its console, SHOW POOLS; no query sent, it would only wait)`, { ...evidence });
    }
    const next = decision.kind === 'failure' ? decision.step : confirmation?.kind === 'queued' ? 'pool' : undefined;
    return io.skip(`${where} answers; the database behind it is ${confirmationWords(view)}${next ? ` (see ${next})` : ''}`, evidence);
  },
} satisfies StepExtension<keyof typeof remedies | 'check_error' | 'shutting_down' | 'not_accepting' | 'tls_required' | 'starting_up' | 'recovery'>);

/** What the pooler said, and to whom: the login, our first query, or a second client. */
export function poolerSaid(trace: ConnectionTrace, view: PoolerView | undefined): { readonly error: ServerError; readonly to: 'login' | 'the first query' | 'a second client' } | undefined {
  if (trace.serverError) return { error: trace.serverError, to: 'login' };
  const confirmation = view?.confirmation;
  if (confirmation?.kind === 'turned-away') return { error: confirmation.error, to: confirmation.by === 'the query' ? 'the first query' : 'a second client' };
  return undefined;
}

function saidWords(said: NonNullable<ReturnType<typeof poolerSaid>>, view: PoolerView): string {
  const words = `"${said.error.message}"`;
  switch (said.to) {
    case 'login':
      return `it says ${words}`;
    case 'the first query':
      return `it let the login in from its cache, then answered the first query with ${words}`;
    default:
      if (view.signs.includes('silent-after-authentication')) return `it turned a second client away with ${words}`;
      return `it let the login in from its cache and held the first query in its queue${view.confirmation && 'waitedMs' in view.confirmation ? ` (${formatMs(view.confirmation.waitedMs)})` : ''}, then turned a second client away with ${words}`;
  }
}

function confirmationWords(view: PoolerView): string {
  return view.confirmation ? describeConfirmation(view.confirmation) : 'not confirmed';
}

/** Why the pooler cannot serve the database, in its words and ours; empty when it can. */
function backendDownReasons(view: PoolerView, trace: ConnectionTrace, said: ReturnType<typeof poolerSaid>): string[] {
  const { pool, backendReach } = view;
  const noServer = !pool || workingServers(pool) === 0;
  const reachedFromHere = backendReach?.outcome;
  const stuck = view.signs.includes('silent-after-authentication');
  const pgbouncer = view.admin.state === 'read' || view.name.startsWith('PgBouncer');
  const lost = view.confirmation?.kind === 'lost';
  if (!said && !(noServer && reachedFromHere && reachedFromHere !== 'answers') && !(stuck && pgbouncer) && !lost) return [];
  const reasons: string[] = [];
  if (said) reasons.push(saidWords(said, view));
  if (said && /^server login has been failing, try again later/.test(said.error.message) && !backendReach) {
    reasons.push('PgBouncer before 1.24 says this both when the database is down and when it refuses PgBouncer\'s login; its log says which');
  }
  if (stuck) reasons.push(`it accepted the login, then held it without a server connection for ${formatMs(trace.budgetMs)}`);
  if (lost && view.confirmation?.kind === 'lost') reasons.push(`it closed the session under the first query without a word (${view.confirmation.message}): the server connection it had given the query broke`);
  if (view.confirmation?.kind === 'queued' && view.confirmation.second?.outcome === 'login-held') reasons.push('a second client\'s login was held too');
  if (pool) reasons.push(`it holds no server connection for ${pool.database}/${pool.user}${pool.cl_waiting > 0 ? ` and ${pool.cl_waiting} client(s) wait` : ''}`);
  if (reachedFromHere === 'refused') reasons.push('the database address refuses connections from here too (nothing listens there)');
  if (reachedFromHere === 'unreachable') reasons.push('the database address does not answer from here either');
  if (reachedFromHere === 'answers') reasons.push("the database's port answers from here, so PgBouncer's logins to it are what fail (its log says why)");
  return reasons;
}

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerAcceptingRemedies };
