import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { serverErrorEvidence } from '../evidence.js';
import { authStep } from '../steps/auth.js';
import { authFileLine, authFileOf, CONFIG_FILE, onConsole, pgbouncerName, pgbouncerValue, showOnConsole } from './commands.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { poolerEvidence, type PoolerView } from './view.js';
import { pgIdent } from '../../../text/sql.js';

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
            text: `PgBouncer logs in to PostgreSQL as "${target.user}" with the password it holds: the "${target.user}" line of its auth_file (plain text, or the SCRAM secret copied from PostgreSQL), or the password setting on the [databases] line. The role's password in PostgreSQL is different. Make them match:`,
          },
          authFileLine(target, view),
          { text: 'Or give the role the password PgBouncer holds (as a superuser on the database):', command: `ALTER ROLE ${pgIdent(target.user)} PASSWORD 'the-password-in-auth_file';`, language: 'sql' as const },
        ]),
    reload(target, view),
    { text: 'PgBouncer waits server_login_retry (15 s by default) before it tries the database again.' },
  ],
  database_missing: (target: PostgresTarget, view: PoolerView | undefined): Remediation[] => [
    databasesLine(target),
    reload(target, view),
    showOnConsole(target, view, 'The databases PgBouncer knows', 'SHOW DATABASES;'),
  ],
};

/** The [databases] line to add, its name and dbname written as pgbouncer.ini reads them. */
function databasesLine(target: PostgresTarget): Remediation {
  const text = `PgBouncer has no [databases] entry named "${target.database}" (and no "*" fallback). Add one in ${CONFIG_FILE}`;
  const key = pgbouncerName(target.database, 'ini');
  const dbname = pgbouncerValue(target.database);
  if (key === undefined || dbname === undefined) return { text: `${text} (this name holds a line break or a control character, which a line of pgbouncer.ini cannot hold: rename the database).` };
  return { text: `${text}, e.g.:`, command: `${key} = host=db.example port=5432 dbname=${dbname}` };
}

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
    const error = trace.serverError;
    const evidence = { user: target.user, database: target.database, authMethod: trace.authMethod ?? 'unknown', ...serverErrorEvidence(trace), passwordSource: target.sources.password ?? 'none', pooler };
    if (decision.kind === 'failure' && error) {
      switch (decision.cause) {
        case 'pooler_auth':
          return io.found('pooler_auth', `${view.name} itself rejected the login of "${target.user}": "${error.message}" [${error.code}]; the database was not asked`, remedies.pooler_auth(target, view), { ...evidence, rejectedBy: 'pooler' });
        case 'pooler_backend_auth':
          return io.found(
            'pooler_backend_auth',
            `${view.name} accepted "${target.user}", but the database behind it rejected ${view.name}'s own login: "${error.message}" (relayed by the pooler [${error.code}])`,
            remedies.pooler_backend_auth(target, view, /pg_hba\.conf/.test(error.message)),
            { ...evidence, rejectedBy: 'database, at the pooler\'s login' },
          );
        case 'database_missing':
          return io.found('database_missing', `${view.name} knows no database "${target.database}": "${error.message}" [${error.code}]`, remedies.database_missing(target, view), { ...evidence, rejectedBy: 'pooler' });
        default:
          break;
      }
    }
    return withPooler(await base(), { name: view.name }, (summary) => `${summary}, through ${view.name}`);
  },
} satisfies StepExtension<keyof typeof remedies>);

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerAuthRemedies };
