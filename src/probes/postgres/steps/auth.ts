import { ipFamily } from '../../../text/ip.js';
import { userInfo } from 'node:os';
import { isSocketHost, type PostgresTarget } from '../../../config/postgres/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Evidence, Remediation } from '../../../engine/schema.js';
import { hbaToken, pgpassField, psqlAs, psqlAsAdmin, setPassword, urlCommand, urlWith } from '../commands.js';
import type { ServerError } from '../connect.js';
import type { PgContext } from '../context.js';
import { serverErrorEvidence } from '../evidence.js';
import { pathOperand, raw, sh } from '../../../text/shell.js';
import { pgIdent, pgLiteral } from '../../../text/sql.js';
import { spokenSource } from '../../../config/source.js';

/** What PostgreSQL's pg_hba rejection names: the four things a pg_hba.conf line matches on. */
export interface HbaRejection {
  readonly host: string;
  readonly user: string;
  readonly database: string;
  /** "no encryption", "SSL encryption", "GSS encryption", or (before 14) "SSL on" / "SSL off". */
  readonly encryption: string;
  readonly explicitReject: boolean;
}

export function parseHbaRejection(message: string): HbaRejection | undefined {
  const match = /(no pg_hba\.conf entry|pg_hba\.conf rejects connection) for host "([^"]*)", user "([^"]*)", database "([^"]*)"(?:, (.+))?/.exec(message);
  if (!match) return undefined;
  return {
    explicitReject: match[1] !== 'no pg_hba.conf entry',
    host: match[2] ?? '',
    user: match[3] ?? '',
    database: match[4] ?? '',
    encryption: match[5]?.trim() ?? 'unknown',
  };
}

/**
 * The pg_hba.conf line that admits what the server's message names. Its words come from the
 * server: each is a pg_hba.conf token (quoted when needed), the address must be an IP address, and
 * a name a printed line cannot carry (a line break, a control character) gives no line at all.
 */
function hbaLine(rejection: HbaRejection): string | undefined {
  const database = hbaToken(rejection.database);
  const user = hbaToken(rejection.user);
  if (database === undefined || user === undefined) return undefined;
  if (rejection.host === '[local]') return `local   ${database}   ${user}   scram-sha-256`;
  const family = ipFamily(rejection.host);
  if (family === 0) return undefined;
  return `host    ${database}   ${user}   ${rejection.host}/${family === 6 ? '128' : '32'}   scram-sha-256`;
}

const reload: Remediation = { text: 'Reload the configuration (no restart needed):', command: 'SELECT pg_reload_conf();', language: 'sql' };

const remedies = {
  hba_rejected: (target: PostgresTarget, rejection: HbaRejection | undefined): Remediation[] => {
    if (rejection?.explicitReject) {
      return [
        {
          text: 'A "reject" line in pg_hba.conf matches this connection. Find it (lines are read top to bottom; the first match wins):',
          command: "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE auth_method = 'reject';",
          language: 'sql',
        },
        { text: 'Remove or narrow that line, or put an allowing line above it, in the file SHOW hba_file; names.' },
        reload,
      ];
    }
    const line = rejection ? hbaLine(rejection) : undefined;
    return [
      { text: 'Find the pg_hba.conf in use and its rules (as a superuser):', command: psqlAsAdmin(target, 'SHOW hba_file;'), language: 'shell' },
      ...(rejection
        ? [
            line
              ? { text: 'Add a line that admits this client to pg_hba.conf, above any broader reject line:', command: line }
              : {
                  text: 'Add a line that admits this client, above any broader reject line (the names the server reported cannot be written in pg_hba.conf as they are: match them with all, or with a group role, +role).',
                },
          ]
        : []),
      reload,
      {
        text: 'Check that the line parsed (errors show in the error column):',
        command: 'SELECT line_number, type, database, user_name, address, auth_method, error FROM pg_hba_file_rules;',
        language: 'sql',
      },
    ];
  },
  auth_failed: (target: PostgresTarget, method: string | undefined): Remediation[] => {
    if (method === 'peer' || method === 'ident') {
      return [
        {
          text: `${method} authentication lets the operating-system user "${osUser()}" in only as the database role of the same name. Run as that OS user, map it in pg_ident.conf, or connect over TCP with a password:`,
          command: urlCommand(urlWith(target, { host: '127.0.0.1' })),
        },
      ];
    }
    return [
      { text: `Check the password for role "${target.user}"; it came from ${spokenSource(target.sources.password, 'nowhere (none was given)')}.` },
      {
        text: 'PostgreSQL gives this same answer when the role does not exist. Check the role (as a superuser):',
        command: psqlAsAdmin(target, `SELECT rolname, rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = ${pgLiteral(target.user)};`),
        language: 'shell',
      },
      {
        text: 'To set a new password (as a superuser; psql asks for it twice, so it stays out of shell history and the server log), then update it where the application reads it:',
        command: setPassword(target, target.user),
        language: 'shell',
      },
    ];
  },
  role_missing: (target: PostgresTarget): Remediation[] => [
    ...(target.sources.user?.startsWith('default')
      ? [{ text: `No user was given, so libpq used the operating-system user "${target.user}". Set the user in the URL or with PGUSER.` }]
      : [
          {
            text: `The role "${target.user}" came from ${spokenSource(target.sources.user, 'the URL')}; check its spelling. Existing roles:`,
            command: psqlAsAdmin(target, 'SELECT rolname FROM pg_roles WHERE rolcanlogin ORDER BY 1;'),
            language: 'shell' as const,
          },
        ]),
    {
      text: 'Or create the role and give it a password (as a superuser; psql asks for the password twice):',
      command: setPassword(target, target.user, [`CREATE ROLE ${pgIdent(target.user)} LOGIN;`]),
      language: 'shell',
    },
  ],
  database_missing: (target: PostgresTarget): Remediation[] => [
    ...(target.sources.database?.startsWith('default')
      ? [{ text: `No database was given, so libpq used one named like the user ("${target.database}"). Set the database in the URL or with PGDATABASE.` }]
      : [
          {
            text: `The database name came from ${spokenSource(target.sources.database, 'the URL')}; check its spelling. Existing databases:`,
            command: sh`${raw(psqlAs(target, target.user, 'postgres'))} -l`,
            language: 'shell' as const,
          },
        ]),
    {
      text: 'Or create it (as a superuser or a role with CREATEDB):',
      command: `CREATE DATABASE ${pgIdent(target.database)} OWNER ${pgIdent(target.user)};`,
      language: 'sql',
    },
  ],
  password_missing: (target: PostgresTarget): Remediation[] => {
    const passfile = target.passfile;
    const endpoint = target.endpoints[0];
    // Each field escaped as libpq reads the file; printf, not echo, which may read "-n" or "\c" in it.
    const fields = [
      endpoint && isSocketHost(endpoint.host) ? 'localhost' : (endpoint?.host ?? '*'),
      String(endpoint?.port ?? '*'),
      target.database,
      target.user,
    ].map(pgpassField);
    const line = fields.every((field) => field !== undefined) ? `${fields.join(':')}:your-password` : undefined;
    const file = pathOperand(passfile.path);
    if (passfile.state === 'ignored-permissions') {
      return [
        {
          text: `${passfile.path} exists but libpq ignores it: its mode is ${passfile.mode ?? 'too open'}, and it must not be readable by group or others.`,
          command: sh`chmod 0600 ${file}`,
          language: 'shell',
        },
      ];
    }
    return [
      line
        ? {
            text: 'Give the password in the URL, in PGPASSWORD, or in the password file. A password-file line for this target:',
            command: sh`printf '%s\n' ${line} >> ${file} && chmod 0600 ${file}`,
            language: 'shell',
          }
        : { text: 'Give the password in the URL or in PGPASSWORD (a password-file line cannot hold a line break, which the user or database name has).' },
      ...(passfile.state === 'no-match' ? [{ text: `${passfile.path} exists but has no line matching host, port, database and user (fields may be *).` }] : []),
    ];
  },
  permission_denied: (target: PostgresTarget, cannotLogin: boolean): Remediation[] =>
    cannotLogin
      ? [
          {
            text: `The role "${target.user}" exists but has NOLOGIN. Allow it to log in (as a superuser):`,
            command: `ALTER ROLE ${pgIdent(target.user)} LOGIN;`,
            language: 'sql',
          },
        ]
      : [
          {
            text: `Grant the role the right to connect to the database (as its owner or a superuser):`,
            command: `GRANT CONNECT ON DATABASE ${pgIdent(target.database)} TO ${pgIdent(target.user)};`,
            language: 'sql',
          },
        ],
};

/** Step 5: may this user log in to this database? */
export const authStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'auth',
  checks:
    'Completes the startup handshake as the given user and database, and tells apart: wrong password, missing role, pg_hba.conf rejection, missing database, no password given, no permission.',
  remedies,
  manual: [
    {
      text: 'Log in as the application does (psql asks for the password):',
      command: 'psql -h <host> -p <port> -U <user> -d <database> -c "SELECT 1"',
      language: 'shell',
    },
    {
      text: 'Does the role exist and may it log in? (as a superuser)',
      command: "SELECT rolname, rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = '<user>';",
      language: 'sql',
    },
    {
      text: 'The pg_hba.conf rules in force:',
      command: 'SELECT line_number, type, database, user_name, address, auth_method, error FROM pg_hba_file_rules;',
      language: 'sql',
    },
  ],
  async run(ctx, io) {
    const decision = await ctx.decision();
    const { trace } = await ctx.connection();
    const target = ctx.target;
    if (decision.kind === 'session') {
      return io.pass(`logged in as "${target.user}" to database "${target.database}" (authentication: ${trace.authMethod ?? 'unknown'})`, {
        user: target.user,
        database: target.database,
        authMethod: trace.authMethod ?? 'unknown',
        ...(trace.backendPid ? { backendPid: trace.backendPid } : {}),
      });
    }
    if (decision.kind !== 'failure' || decision.step !== 'auth') return io.skip('the server was not reached far enough to log in');
    const error = trace.serverError;
    const evidence: Evidence = {
      user: target.user,
      database: target.database,
      authMethod: trace.authMethod ?? 'unknown',
      ...serverErrorEvidence(trace),
      passwordSource: target.sources.password ?? 'none',
      passfile: { ...target.passfile },
    };
    const said = error ? `: "${error.message}" [${error.code}]` : '';
    switch (decision.cause) {
      case 'hba_rejected': {
        const rejection = parseHbaRejection(error?.message ?? '');
        const what = rejection ? `host ${rejection.host}, user ${rejection.user}, database ${rejection.database}, ${rejection.encryption}` : 'this connection';
        return io.found(
          'hba_rejected',
          `pg_hba.conf ${rejection?.explicitReject ? 'rejects' : 'has no line admitting'} ${what}`,
          remedies.hba_rejected(target, rejection),
          { ...evidence, ...(rejection ? { hba: { ...rejection } } : {}) },
        );
      }
      case 'role_missing':
        return io.found('role_missing', `the role "${target.user}" does not exist${said}`, remedies.role_missing(target), evidence);
      case 'database_missing':
        return io.found('database_missing', `the database "${target.database}" does not exist${said}`, remedies.database_missing(target), evidence);
      case 'password_missing':
        return io.found(
          'password_missing',
          `the server asked for a password (${trace.authMethod ?? 'password'}) and none was given${passfileNote(target)}`,
          remedies.password_missing(target),
          evidence,
        );
      case 'permission_denied': {
        const cannotLogin = /not permitted to log in/.test(error?.message ?? '');
        return io.found(
          'permission_denied',
          `"${target.user}" may not connect to "${target.database}"${said}`,
          remedies.permission_denied(target, cannotLogin),
          evidence,
        );
      }
      default: {
        const method = methodOf(error);
        const summary =
          method === 'password'
            ? `password authentication failed for user "${target.user}" [${error?.code ?? '28P01'}]: the password is wrong, or the role does not exist (PostgreSQL answers both the same way)`
            : error
              ? `authentication failed for user "${target.user}"${said}`
              : `authentication could not be completed: ${trace.clientError?.message ?? 'unknown error'}`;
        return io.found('auth_failed', summary, remedies.auth_failed(target, method), evidence);
      }
    }
  },
});

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'you';
  }
}

function methodOf(error: ServerError | undefined): string | undefined {
  if (!error) return undefined;
  if (/^Peer authentication/.test(error.message)) return 'peer';
  if (/^Ident authentication/.test(error.message)) return 'ident';
  if (error.code === '28P01') return 'password';
  return undefined;
}

function passfileNote(target: PostgresTarget): string {
  const { passfile } = target;
  switch (passfile.state) {
    case 'ignored-permissions':
      return ` (${passfile.path} is ignored: mode ${passfile.mode ?? '?'} lets group or others read it)`;
    case 'no-match':
      return ` (${passfile.path} has no matching line)`;
    case 'missing':
      return ` (no ${passfile.path})`;
    default:
      return '';
  }
}

/** The remedies, for `dbdoctor explain` (the same fixes for a cause read from an error message). */
export { remedies as authRemedies };
