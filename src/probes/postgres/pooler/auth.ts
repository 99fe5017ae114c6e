import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { quoteIdent } from '../commands.js';
import { serverErrorEvidence } from '../evidence.js';
import { authStep } from '../steps/auth.js';
import { authFileLine, authFileOf, CONFIG_FILE, onConsole, showOnConsole } from './commands.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { poolerEvidence, workingServers, type PoolerView } from './view.js';
import { poolerSaid } from './accepting.js';
import { describeConfirmation } from './confirm.js';

const reload = (target: PostgresTarget, view: PoolerView | undefined): Remediation => onConsole(target, view, 'PgBouncer re-reads its auth_file and pgbouncer.ini on reload', 'RELOAD;');

const remedies = {
  pooler_auth: (target: PostgresTarget, view: PoolerView | undefined): Remediation[] => [
    {
      text: `PgBouncer checked the password for "${target.user}" itself (it came from ${target.sources.password ?? 'nowhere'}); PostgreSQL never saw this login. PgBouncer compares it with the "${target.user}" line of its auth_file (${authFileOf(view)}), or, for a user without a line there, with what auth_query returns when run as auth_user. It answers the same way for a user it does not know.`,
    },
    authFileLine(target, view),
    reload(target, view),
    { text: `If auth_query is used: check auth_user in ${CONFIG_FILE}, that it may log in to the database, and that the query finds "${target.user}".` },
  ],
  pooler_backend_auth: (target: PostgresTarget, view: PoolerView | undefined, hba: boolean): Remediation[] => [
    ...(hba
      ? [{ text: "PostgreSQL's pg_hba.conf has no line for PgBouncer's address: add one for the pooler's host (PgBouncer logs in from its own address, not the application's), then reload PostgreSQL:", command: 'SELECT pg_reload_conf();', language: 'sql' as const }]
      : [
          {
            text: `PgBouncer logs in to PostgreSQL as "${target.user}" with the password it holds: the "${target.user}" line of its auth_file (plain text, or the SCRAM secret copied from PostgreSQL), or password= on the [databases] line. The role's password in PostgreSQL is different. Make them match:`,
          },
          authFileLine(target, view),
          { text: 'Or give the role the password PgBouncer holds (as a superuser on the database):', command: `ALTER ROLE ${quoteIdent(target.user)} PASSWORD 'the-password-in-auth_file';`, language: 'sql' as const },
        ]),
    reload(target, view),
    { text: 'PgBouncer waits server_login_retry (15 s by default) before it tries the database again.' },
  ],
  database_missing: (target: PostgresTarget, view: PoolerView | undefined): Remediation[] => [
    { text: `PgBouncer has no [databases] entry named "${target.database}" (and no "*" fallback). Add one in ${CONFIG_FILE}, e.g.:`, command: `${target.database} = host=db.example port=5432 dbname=${target.database}`, language: 'shell' },
    reload(target, view),
    showOnConsole(target, view, 'The databases PgBouncer knows', 'SHOW DATABASES;'),
  ],
};

/** Step 5 behind a pooler: two logins, client → pooler and pooler → database; says which one failed. */
export const poolerAuthStep = poolerAware(authStep, {
  checks: "Behind PgBouncer: tells its own rejection (auth_file, auth_query) from the database's rejection of PgBouncer's login, relayed by it.",
  remedies,
  async run(ctx, io, base) {
    const decision = await ctx.decision();
    const { trace } = await ctx.connection();
    const target = ctx.target;
    const view = await ctx.pooler(io.deadline);
    if (!view) return base();
    const pooler = poolerEvidence(view);
    const said = poolerSaid(trace, view);
    const error = said?.error;
    const evidence = {
      user: target.user,
      database: target.database,
      authMethod: trace.authMethod ?? 'unknown',
      ...(error ? { sqlstate: error.code, severity: error.severity, serverMessage: error.message, ...(said.to !== 'login' ? { saidTo: said.to } : {}) } : {}),
      passwordSource: target.sources.password ?? 'none',
      pooler,
    };
    if (decision.kind === 'failure' && error) {
      switch (decision.cause) {
        case 'pooler_auth':
          return io.found('pooler_auth', `${view.name} itself rejected the login of "${target.user}": "${error.message}" [${error.code}]; the database was not asked`, remedies.pooler_auth(target, view), { ...evidence, rejectedBy: 'pooler' });
        case 'pooler_backend_auth':
          return io.found(
            'pooler_backend_auth',
            `${view.name} accepted "${target.user}", but the database behind it rejected ${view.name}'s own login: "${error.message}" (${said?.to === 'login' ? 'relayed by the pooler' : `said by the pooler to ${said?.to ?? 'the client'}`} [${error.code}])`,
            remedies.pooler_backend_auth(target, view, /pg_hba\.conf/.test(error.message)),
            { ...evidence, rejectedBy: 'database, at the pooler\'s login' },
          );
        case 'database_missing':
          return io.found('database_missing', `${view.name} knows no database "${target.database}": "${error.message}" [${error.code}]`, remedies.database_missing(target, view), { ...evidence, rejectedBy: 'pooler' });
        default:
          break;
      }
    }
    return withPooler(await base(), { name: view.name }, (summary) => `${summary}, through ${view.name}; ${backendLogin(view)}`);
  },
} satisfies StepExtension<keyof typeof remedies>);

/**
 * The login to the pooler is one hop; its own login to the database is the other, and only a
 * server connection proves it: a query answered, or server connections on the console.
 */
function backendLogin(view: PoolerView): string {
  const confirmation = view.confirmation;
  if (confirmation?.kind === 'answered') return `${view.name}'s own login to the database confirmed (a query was answered)`;
  if (confirmation?.kind === 'statement-mode') return `${view.name}'s own login to the database confirmed (a query reached it)`;
  if (view.pool && workingServers(view.pool) > 0) return `${view.name}'s own logins to the database confirmed by its console (${workingServers(view.pool)} server connection(s) logged in)`;
  return `${view.name}'s own login to the database not confirmed${confirmation ? ` (${describeConfirmation(confirmation)})` : ''}`;
}

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerAuthRemedies };
