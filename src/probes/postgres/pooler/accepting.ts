import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { protocolEvidence, whereOf } from '../evidence.js';
import { urlCommand, urlWith } from '../commands.js';
import { describeBackend } from './backend.js';
import { authFileLine, authFileOf, configFileOf, onConsole, pgbouncerName, serverLoginLog, showOnConsole } from './commands.js';
import { judgeBackend, poolerSaid, type DownHow } from './judge.js';
import { describeOwner } from '../../../host/owner.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { consoleOf, poolerEvidence, settingOf, workingServers, type PoolerView } from './view.js';
import { acceptingRemedies, acceptingStep } from '../steps/accepting.js';
import { describeConfirmation } from './confirm.js';
import { hostProblem } from '../../../net/hostname.js';
import { sh, sudoUnlessRoot } from '../../../text/shell.js';

const remedies = {
  pooler_backend_down: (target: PostgresTarget, view: PoolerView, how: DownHow = 'unreachable'): Remediation[] => {
    const backend = view.backend;
    const config = configFileOf(view);
    const where = backend
      ? `the database it forwards to, ${describeBackend(backend)},`
      : `the database it forwards "${target.database}" to, as its [databases] line in ${config} says,`;
    const first = backend?.host.split(',')[0] ?? backend?.host;
    const checkDatabase: Remediation[] =
      backend && backend.transport === 'tcp'
        ? [
            hostProblem(first ?? '') === undefined
              ? {
                  text: 'Check the database itself, not the pooler (pg_isready on the pooler\'s port says "accepting connections" even now):',
                  command: sh`pg_isready -h ${first ?? ''} -p ${backend.port}`,
                  language: 'shell',
                }
              : {
                  text: 'Check the database itself, not the pooler (pg_isready on the pooler\'s port says "accepting connections" even now); the host PgBouncer names for it is no host name, so check its [databases] line too.',
                },
          ]
        : [];
    const retry: Remediation = {
      text: `Once the database is back, PgBouncer reconnects by itself; between failed logins it waits server_login_retry (${settingOf(view, 'server_login_retry') ?? 15} s${settingOf(view, 'server_login_retry') ? '' : ' by default'}), and meanwhile answers new clients "server login has been failing".`,
    };
    const watch = showOnConsole(
      target,
      view,
      'Watch the pool from the pooler: server connections (sv_*) stay at 0 and clients wait (cl_waiting) while the database is away',
      'SHOW POOLS;',
    );
    const moved = onConsole(target, view, `If the database moved, correct its line under [databases] in ${config}, then reload PgBouncer`, 'RELOAD;');
    const owner = view.backendReach?.owner?.state === 'found' ? view.backendReach.owner.owner : undefined;
    switch (how) {
      case 'not-postgres':
        return [
          {
            text: `The [databases] line for "${target.database}" in ${config} sends PgBouncer to ${backend ? describeBackend(backend) : 'an address'}, where another program answers, not PostgreSQL. Correct its host= and port= to where PostgreSQL listens, then reload PgBouncer.`,
          },
          ...(owner
            ? [
                {
                  text: `${describeOwner(owner)} owns that port; see what it is:`,
                  command: sh`ps -o pid,user,args -p ${owner.pid}`,
                  language: 'shell' as const,
                },
              ]
            : []),
          onConsole(target, view, 'After the change, reload PgBouncer', 'RELOAD;'),
          ...checkDatabase,
        ];
      case 'not-answering':
        return [
          {
            text: `${backend ? describeBackend(backend) : 'The database address'} takes connections but sends no PostgreSQL answer, to PgBouncer as to dbdoctor: a hung server (look at its log and load), or a proxy or port forward with nothing behind it. PgBouncer's own connection waits there (server_connect_timeout, 15 s by default).`,
          },
          ...checkDatabase,
          serverLoginLog(view),
          showOnConsole(target, view, 'See the server connections PgBouncer is still opening (state "login" / sv_login)', 'SHOW SERVERS;'),
        ];
      case 'came-back':
        return [
          {
            text: `The database answers again; PgBouncer's last login to it failed while it was away, and PgBouncer tries again by itself after server_login_retry (${settingOf(view, 'server_login_retry') ?? 15} s). Nothing to do if the database is meant to be up: run this again in a moment.`,
          },
          ...checkDatabase,
          serverLoginLog(view),
        ];
      case 'logins-fail':
        return [
          {
            text: `PostgreSQL runs at ${backend ? describeBackend(backend) : 'the database address'}, and PgBouncer's logins to it fail: the database refuses them (a password in ${authFileOf(view)} or on the [databases] line that no longer matches, a pg_hba.conf line, a missing role), or it came back less than server_login_retry ago. PgBouncer's log says which.`,
          },
          serverLoginLog(view),
          authFileLine(target, view),
          retry,
        ];
      case 'unknown':
        return [
          {
            text: `Not confirmed from here whether ${where.replace(/,$/, '')} is down, refuses PgBouncer's login, or (a login PgBouncer holds) is out of reach behind a limit such as max_db_connections that other pools hold. Check the database first, on its host:`,
            command: sudoUnlessRoot('sudo systemctl status postgresql; sudo ss -tlnp | grep -i postgres'),
            language: 'shell',
          },
          serverLoginLog(view),
          showOnConsole(target, view, 'A user in admin_users or stats_users sees the pool and the limits', 'SHOW POOLS; SHOW DATABASES;'),
          retry,
        ];
      default:
        return [
          {
            text: `PgBouncer is fine; ${where} does not serve it. Start it, or fix the address: on the database host, see whether PostgreSQL runs and where it listens:`,
            command: sudoUnlessRoot('sudo systemctl status postgresql; sudo ss -tlnp | grep -i postgres'),
            language: 'shell',
          },
          serverLoginLog(view),
          ...checkDatabase,
          watch,
          moved,
          retry,
        ];
    }
  },
  /** PgBouncer's own client_tls_sslmode, not PostgreSQL's pg_hba.conf, asks for TLS on this hop. */
  tls_required: (target: PostgresTarget, view: PoolerView | undefined): Remediation[] => [
    {
      text: `PgBouncer requires TLS from its clients (client_tls_sslmode = ${settingOf(view, 'client_tls_sslmode') ?? 'require'} in ${configFileOf(view)}). Connect with TLS:`,
      command: urlCommand(urlWith(target, { sslmode: 'require' })),
    },
    {
      text: `Or, if plaintext is acceptable between the application and PgBouncer, set client_tls_sslmode = prefer (or allow) in ${configFileOf(view)}; PgBouncer applies it to new clients after a reload.`,
    },
    onConsole(target, view, 'Reload PgBouncer', 'RELOAD;'),
  ],
  pooler_paused: (target: PostgresTarget, view: PoolerView | undefined, disabled: boolean): Remediation[] => [
    {
      text: disabled
        ? `DISABLE was run for "${target.database}" on PgBouncer: new clients are rejected until ENABLE.`
        : `PAUSE was run for "${target.database}" on PgBouncer: clients log in, then every query waits in its queue until RESUME.`,
    },
    onConsole(target, view, disabled ? 'Once the maintenance is over, let clients in again' : 'Once the maintenance is over, resume the database', [
      `${disabled ? 'ENABLE' : 'RESUME'} ${pgbouncerName(target.database) ?? ''};`,
    ]),
    showOnConsole(target, view, 'Check the paused and disabled columns', 'SHOW DATABASES;'),
  ],
};

/** A query the pooler would not take at all (disable_pqexec) is a limit of dbdoctor's, not the database's. */
const ourQueryRefused = (): Remediation[] => [
  {
    text: "dbdoctor could not ask the database behind the pooler: the pooler refused its query. Check the database directly, or through the pooler with a client that uses the extended query protocol (psql's \\bind, or an application's own health check).",
  },
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
    const evidence = {
      ...protocolEvidence(trace),
      ...(said ? { sqlstate: said.error.code, severity: said.error.severity, serverMessage: said.error.message, saidTo: said.to } : {}),
      pooler,
    };
    const where = `${view.name} at ${whereOf(trace)}`;
    const failed = decision.kind === 'failure' ? decision.cause : undefined;
    if (failed === 'pooler_paused' || (view.database?.paused ?? 0) > 0) {
      const disabled = failed === 'pooler_paused';
      const what = disabled
        ? `rejects new clients for "${ctx.target.database}" (DISABLE): "${said?.error.message ?? 'disabled'}"`
        : `holds "${ctx.target.database}" paused (PAUSE): clients log in, then their queries wait`;
      return io.found('pooler_paused', `${where} ${what}`, remedies.pooler_paused(ctx.target, view, disabled), evidence);
    }
    const judged = judgeBackend(view, trace);
    if (judged.kind === 'down') {
      const behind = view.backend ? describeBackend(view.backend) : 'the database behind it';
      return io.found(
        'pooler_backend_down',
        `${where} is up, but ${HEADLINES[judged.how](behind)}: ${judged.reasons.join('; ')}`,
        remedies.pooler_backend_down(ctx.target, view, judged.how),
        evidence,
      );
    }
    if (decision.kind === 'failure' && said) {
      const words = `"${said.error.message}" [${said.error.code}]${said.to === 'login' ? '' : ` (to ${said.to})`}`;
      switch (decision.cause) {
        case 'shutting_down':
          return io.found('shutting_down', `${where} is shutting down: ${words}`, acceptingRemedies.shutting_down(ctx.target), evidence);
        case 'tls_required':
          return io.found(
            'tls_required',
            `${where} requires TLS from its clients (client_tls_sslmode), but sslmode=${ctx.target.sslmode}: ${words}`,
            remedies.tls_required(ctx.target, view),
            evidence,
          );
        case 'starting_up':
          return io.found(
            'starting_up',
            `the database behind ${where} is starting up: ${words}`,
            acceptingRemedies.starting_up(ctx.target, ctx.run.environment.platform),
            evidence,
          );
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
    if (judged.kind === 'at-limit' || judged.kind === 'refuses-login') {
      const others = serversOfOtherPools(view);
      const step = judged.kind === 'at-limit' ? 'pool' : 'auth';
      if (others > 0)
        return io.pass(
          `${where} answers; behind it, the database serves ${others} server connection(s) of other pools (its console, SHOW SERVERS), none for this one (see ${step})`,
          evidence,
        );
      return io.skip(`${where} answers; the database behind it: ${judged.reasons.at(-1) ?? 'not confirmed'} (see ${step})`, evidence);
    }
    const confirmation = view.confirmation;
    if (confirmation?.kind === 'answered') {
      return withPooler(
        await base(),
        pooler,
        (summary) => `${view.name} (a connection pooler) answers; behind it, ${summary}, confirmed by a query through it`,
      );
    }
    if (confirmation?.kind === 'statement-mode') {
      return io.pass(
        `${view.name} (a connection pooler) answers; behind it, the database answered a query, then ${view.name} ended the session: its statement pool mode allows no transaction, and dbdoctor's checks run in one (pool and queries are not checked)`,
        evidence,
      );
    }
    if (confirmation?.kind === 'refused-our-query') {
      return io.found('check_error', `${where} answers, but the database behind it is ${confirmationWords(view)}`, ourQueryRefused(), evidence);
    }
    if (confirmation?.kind === 'not-asked' && view.pool && workingServers(view.pool) > 0) {
      // The pool is busy: a query would only queue. Its console shows server connections logged in.
      return io.pass(
        `${where} answers; behind it, the database serves ${workingServers(view.pool)} server connection(s) of the pool (its console, SHOW POOLS; no query sent, it would only wait)`,
        { ...evidence },
      );
    }
    const next = decision.kind === 'failure' ? decision.step : confirmation?.kind === 'queued' ? 'pool' : undefined;
    return io.skip(`${where} answers; the database behind it is ${confirmationWords(view)}${next ? ` (see ${next})` : ''}`, evidence);
  },
} satisfies StepExtension<keyof typeof remedies | 'check_error' | 'shutting_down' | 'not_accepting' | 'tls_required' | 'starting_up' | 'recovery'>);

function confirmationWords(view: PoolerView): string {
  return view.confirmation ? describeConfirmation(view.confirmation) : 'not confirmed';
}

/** The headline's verb for each way the database behind is not served. */
const HEADLINES: Readonly<Record<DownHow, (behind: string) => string>> = {
  unreachable: (behind) => `cannot reach ${behind}`,
  broke: (behind) => `cannot reach ${behind}`,
  'not-postgres': (behind) => `gets no PostgreSQL answer from ${behind}`,
  'not-answering': (behind) => `gets no PostgreSQL answer from ${behind}`,
  'came-back': (behind) => `holds no server connection to ${behind} yet`,
  'logins-fail': (behind) => `its logins to ${behind} fail`,
  unknown: () => 'does not serve the database behind it',
};

/** Server connections the console shows logged in to this database for other pools (other users). */
function serversOfOtherPools(view: PoolerView): number {
  const console = consoleOf(view);
  if (!console || !view.database) return 0;
  return console.pools.filter((row) => row.database === view.database?.name && row !== view.pool).reduce((sum, row) => sum + workingServers(row), 0);
}

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerAcceptingRemedies };
