import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { shellQuote } from '../../../text/shell.js';
import { urlCommand, urlWith } from '../commands.js';
import { authStep } from '../steps/auth.js';
import { authFileLine, authFileOf, configFileOf, onConsole, pgbouncerName, pgbouncerValue, showOnConsole } from './commands.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { poolerEvidence, settingOf, workingServers, type PoolerView } from './view.js';
import { sh } from '../../../text/shell.js';
import { setPassword } from '../commands.js';
import { spokenSource } from '../../../config/source.js';
import { judgeBackend, poolerSaid } from './judge.js';
import { describeConfirmation } from './confirm.js';

const reload = (target: PostgresTarget, view: PoolerView | undefined): Remediation =>
  onConsole(target, view, 'PgBouncer re-reads its auth_file and pgbouncer.ini on reload', 'RELOAD;');

const remedies = {
  pooler_auth: (target: PostgresTarget, view: PoolerView | undefined, words = ''): Remediation[] => {
    const hbaFile = settingOf(view, 'auth_hba_file');
    // PgBouncer's words name the family: its auth_hba_file, PAM, LDAP, a client certificate, or a password.
    if (/^(unix socket )?login rejected$/.test(words)) {
      return [
        {
          text: `PgBouncer's own host-based rules (auth_type = hba, its auth_hba_file${hbaFile ? ` ${hbaFile}` : ''}) turned this connection away: a reject line matches its host, user "${target.user}" and database "${target.database}", or no line admits it. PostgreSQL never saw this login. Find the line, narrow the reject (or add a line that admits this client before it)${hbaFile ? ':' : '.'}`,
          ...(hbaFile ? { command: `grep -nEv '^[[:space:]]*(#|$)' ${shellQuote(hbaFile)}`, language: 'shell' as const } : {}),
        },
        { text: `The file is named by auth_hba_file in ${configFileOf(view)}; its lines read as pg_hba.conf's (first match wins).` },
        reload(target, view),
      ];
    }
    if (/^(PAM|LDAP) authentication failed$/.test(words)) {
      const pam = words.startsWith('PAM');
      return [
        {
          text: pam
            ? `PgBouncer asked PAM (its "pgbouncer" service, /etc/pam.d/pgbouncer) about "${target.user}", and PAM said no: check the user's password there and the PAM stack; PgBouncer's log has PAM's reason.`
            : `PgBouncer asked LDAP about "${target.user}" (auth_ldap_options in ${configFileOf(view)}), and the directory said no: check the user's password in the directory and the bind settings; PgBouncer's log has the reason.`,
        },
        reload(target, view),
      ];
    }
    if (/^certificate authentication failed$/.test(words)) {
      return [
        {
          text: `PgBouncer checks a client certificate for "${target.user}" (auth_type = cert, or a cert line of its auth_hba_file): the certificate's common name must be the user name, signed by client_tls_ca_file in ${configFileOf(view)}. Give the certificate with sslcert and sslkey:`,
          command: urlCommand(urlWith(target, { sslmode: 'require' })),
        },
        reload(target, view),
      ];
    }
    return [
      {
        text: `PgBouncer checked the password for "${target.user}" itself (it came from ${spokenSource(target.sources.password, 'nowhere')}); PostgreSQL never saw this login. PgBouncer compares it with the "${target.user}" line of its auth_file (${authFileOf(view)}), or, for a user without a line there, with what auth_query returns when run as auth_user. It answers the same way for a user it does not know.${hbaFile ? ` With auth_type = hba, the line of its auth_hba_file (${hbaFile}) that matches chooses how.` : ''}`,
      },
      authFileLine(target, view),
      reload(target, view),
      {
        text: `If auth_query is used: check auth_user in ${configFileOf(view)}, that it may log in to the database, and that the query finds "${target.user}".`,
      },
    ];
  },
  pooler_backend_auth: (target: PostgresTarget, view: PoolerView | undefined, hba: boolean, words = ''): Remediation[] => [
    ...(hba
      ? /rejects connection/.test(words)
        ? [
            {
              text: "A reject line in PostgreSQL's pg_hba.conf matches PgBouncer's login (its host, user and database, as the database's words say): PgBouncer logs in from its own address, not the application's. Find the line and narrow it, or put a line that admits the pooler before it, then reload PostgreSQL:",
              command:
                "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE auth_method = 'reject' ORDER BY line_number;",
              language: 'sql' as const,
              ...onBackend(
                view,
                "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE auth_method = 'reject' ORDER BY line_number;",
              ),
            },
            { text: 'Then reload PostgreSQL:', command: 'SELECT pg_reload_conf();', language: 'sql' as const, ...onBackend(view, 'SELECT pg_reload_conf();') },
          ]
        : [
            {
              text: "PostgreSQL's pg_hba.conf has no line for PgBouncer's address: add one for the pooler's host (PgBouncer logs in from its own address, not the application's), then reload PostgreSQL:",
              command: 'SELECT pg_reload_conf();',
              language: 'sql' as const,
              ...onBackend(view, 'SELECT pg_reload_conf();'),
            },
          ]
      : [
          {
            text: `PgBouncer logs in to PostgreSQL as "${target.user}" with the password it holds: the "${target.user}" line of its auth_file (plain text, or the SCRAM secret copied from PostgreSQL), or the password keyword on the [databases] line. The role's password in PostgreSQL is different. Make them match, with one of the two fixes that follow.`,
          },
          authFileLine(target, view),
          {
            text: 'Or give the role the password PgBouncer holds (as a superuser on the database behind PgBouncer; psql asks for it twice):',
            command: setPassword(target, target.user, [], backendServer(view) ?? { host: 'the-database-host', port: 5432, database: 'postgres' }),
            language: 'shell' as const,
          },
        ]),
    reload(target, view),
    {
      text: `PgBouncer waits server_login_retry (${settingOf(view, 'server_login_retry') ?? 15} s${settingOf(view, 'server_login_retry') ? '' : ' by default'}) before it tries the database again.`,
    },
  ],
  database_missing: (target: PostgresTarget, view: PoolerView | undefined): Remediation[] => [
    databasesLine(target, view),
    reload(target, view),
    showOnConsole(target, view, 'The databases PgBouncer knows', 'SHOW DATABASES;'),
  ],
};

/** Where PgBouncer sends this database (its [databases] line), when the console said. */
function backendServer(view: PoolerView | undefined): { host: string; port: number; database: string } | undefined {
  const backend = view?.backend;
  const host = backend?.host.split(',')[0]?.trim();
  return backend && host ? { host, port: backend.port, database: backend.database } : undefined;
}

/**
 * A statement for PostgreSQL behind the pooler runs there, not on the pooler the diagnosis
 * reached: psql to the backend when the console named it; else no run line (`run` present but
 * empty keeps the engine from pointing one at the pooler).
 */
function onBackend(view: PoolerView | undefined, sql: string): { run?: string } {
  const server = backendServer(view);
  return server ? { run: sh`psql -h ${server.host} -p ${server.port} -U postgres -d ${server.database} -c ${sql}` } : { run: undefined };
}

/** The [databases] line to add, its name and dbname written as pgbouncer.ini reads them. */
function databasesLine(target: PostgresTarget, view: PoolerView | undefined): Remediation {
  const text = `PgBouncer has no [databases] entry named "${target.database}" (and no "*" fallback). Add one in ${configFileOf(view)}`;
  const key = pgbouncerName(target.database, 'ini');
  const dbname = pgbouncerValue(target.database);
  if (key === undefined || dbname === undefined)
    return { text: `${text} (this name holds a line break or a control character, which a line of pgbouncer.ini cannot hold: rename the database).` };
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
    const view = await ctx.poolerWithSession(io.deadline);
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
    const judged = judgeBackend(view, trace);
    if (judged.kind === 'refuses-login') {
      // The client saw a held login or PgBouncer's ambiguous words; PgBouncer's log has the database's.
      return io.found(
        'pooler_backend_auth',
        `${view.name} accepted "${target.user}", but the database behind it rejected ${view.name}'s own login: "${judged.words}" (${view.name}'s log, ${judged.at}); ${judged.reasons.slice(0, -1).join('; ') || 'the client was kept waiting'}`,
        remedies.pooler_backend_auth(target, view, /pg_hba\.conf/.test(judged.words), judged.words),
        { ...evidence, databaseSaid: judged.words, saidIn: judged.logFile, rejectedBy: "database, at the pooler's login" },
      );
    }
    if (decision.kind === 'failure' && error) {
      switch (decision.cause) {
        case 'pooler_auth':
          return io.found(
            'pooler_auth',
            `${view.name} itself rejected the login of "${target.user}": "${error.message}" [${error.code}]; the database was not asked`,
            remedies.pooler_auth(target, view, error.message),
            { ...evidence, rejectedBy: 'pooler' },
          );
        case 'pooler_backend_auth':
          return io.found(
            'pooler_backend_auth',
            `${view.name} accepted "${target.user}", but the database behind it rejected ${view.name}'s own login: "${error.message}" (${said?.to === 'login' ? 'relayed by the pooler' : `said by the pooler to ${said?.to ?? 'the client'}`} [${error.code}])`,
            remedies.pooler_backend_auth(target, view, /pg_hba\.conf/.test(error.message), error.message),
            { ...evidence, rejectedBy: "database, at the pooler's login" },
          );
        case 'database_missing':
          return io.found(
            'database_missing',
            `${view.name} knows no database "${target.database}": "${error.message}" [${error.code}]`,
            remedies.database_missing(target, view),
            { ...evidence, rejectedBy: 'pooler' },
          );
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
  if (view.pool && workingServers(view.pool) > 0)
    return `${view.name}'s own logins to the database confirmed by its console (${workingServers(view.pool)} server connection(s) logged in)`;
  return `${view.name}'s own login to the database not confirmed${confirmation ? ` (${describeConfirmation(confirmation)})` : ''}`;
}

/** For `dbdoctor explain`, which names the same fixes from a pasted message. */
export { remedies as poolerAuthRemedies };
