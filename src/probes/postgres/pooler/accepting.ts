import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../text/duration.js';
import type { ConnectionTrace } from '../connect.js';
import { protocolEvidence, serverErrorEvidence, whereOf } from '../evidence.js';
import { describeBackend } from './backend.js';
import { CONFIG_FILE, onConsole, showOnConsole } from './commands.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { poolerEvidence, workingServers, type PoolerView } from './view.js';
import { acceptingStep } from '../steps/accepting.js';

const remedies = {
  pooler_backend_down: (target: PostgresTarget, view: PoolerView): Remediation[] => {
    const backend = view.backend;
    const where = backend ? describeBackend(backend) : 'the database in its [databases] line';
    return [
      { text: `PgBouncer is fine; the database it forwards to, ${where}, is not. Start it, or fix the address: on the database host, see whether PostgreSQL runs and where it listens:`, command: 'sudo systemctl status postgresql; sudo ss -tlnp | grep -i postgres', language: 'shell' },
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

/** Step 2 behind a pooler: the pooler answers, but can it serve the database behind it? */
export const poolerAcceptingStep = poolerAware(acceptingStep, {
  checks:
    'Behind a connection pooler (PgBouncer, recognised by its errors and its made-up backend key): reads its admin console (SHOW POOLS, DATABASES, SERVERS, STATS, CONFIG) and, when it holds no server connection, checks whether the database behind it answers.',
  remedies,
  async run(ctx, io, base) {
    const decision = await ctx.decision();
    if (decision.kind === 'refused' || (decision.kind === 'failure' && decision.step === 'network')) return base();
    const view = await ctx.pooler(io.deadline);
    if (!view) return base();
    const { trace } = await ctx.connection();
    const pooler = poolerEvidence(view);
    const evidence = { ...protocolEvidence(trace), ...serverErrorEvidence(trace), pooler };
    const disabled = decision.kind === 'failure' && decision.cause === 'pooler_paused';
    if (disabled || (view.database?.paused ?? 0) > 0) {
      const what = disabled ? `rejects new clients for "${ctx.target.database}" (DISABLE): "${trace.serverError?.message ?? 'disabled'}"` : `holds "${ctx.target.database}" paused (PAUSE): clients log in, then their queries wait`;
      return io.found('pooler_paused', `${view.name} at ${whereOf(trace)} ${what}`, remedies.pooler_paused(ctx.target, view, disabled), evidence);
    }
    const reasons = backendDownReasons(view, trace, decision.kind === 'failure' && decision.cause === 'pooler_backend_down');
    if (reasons.length > 0) {
      const behind = view.backend ? describeBackend(view.backend) : 'the database behind it';
      return io.found('pooler_backend_down', `${view.name} at ${whereOf(trace)} is up, but cannot reach ${behind}: ${reasons.join('; ')}`, remedies.pooler_backend_down(ctx.target, view), evidence);
    }
    return withPooler(await base(), pooler, (summary) => `${view.name} (a connection pooler) answers; behind it, ${summary}`);
  },
} satisfies StepExtension<keyof typeof remedies>);

/** Why the pooler cannot serve the database, in its words and ours; empty when it can. */
function backendDownReasons(view: PoolerView, trace: ConnectionTrace, saidSo: boolean): string[] {
  const { pool, backendReach } = view;
  const noServer = !pool || workingServers(pool) === 0;
  const reachedFromHere = backendReach?.outcome;
  const stuck = view.signs.includes('silent-after-authentication');
  if (!saidSo && !(noServer && reachedFromHere && reachedFromHere !== 'answers') && !(stuck && noServer && view.admin.state === 'read')) return [];
  const reasons: string[] = [];
  if (saidSo && trace.serverError) reasons.push(`it says "${trace.serverError.message}"`);
  if (stuck) reasons.push(`it accepted the login, then held it without a server connection for ${formatMs(trace.budgetMs)}`);
  if (pool) reasons.push(`it holds no server connection for ${pool.database}/${pool.user}${pool.cl_waiting > 0 ? ` and ${pool.cl_waiting} client(s) wait` : ''}`);
  if (reachedFromHere === 'refused') reasons.push('the database address refuses connections from here too (nothing listens there)');
  if (reachedFromHere === 'unreachable') reasons.push('the database address does not answer from here either');
  if (reachedFromHere === 'answers') reasons.push("the database's port answers from here, so PgBouncer's logins to it are what fail (its log says why)");
  return reasons;
}

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerAcceptingRemedies };
