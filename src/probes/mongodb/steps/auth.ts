import type { MongoTarget } from '../../../config/mongodb/target.js';
import { DeadlineExceeded } from '../../../engine/deadline.js';
import { defineStep, type StepIO } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { causeOfServerError } from '../classify.js';
import { jsString, mongoshAsAdmin, urlWith } from '../commands.js';
import type { MongoContext } from '../context.js';
import { adminCommand, type DriverError } from '../session.js';
import { answeringSeed, type SeedProbe } from '../survey.js';
import { urlLine } from '../../../text/url.js';
import { spokenSource } from '../../../config/source.js';

/** Where the user is found, from hello's saslSupportedMechs (asked without logging in). */
export interface UserLookup {
  /** Mechanisms the user has in authSource; 'none' when the server says it has no such user there. */
  readonly inAuthSource: readonly string[] | 'none' | 'unknown';
  /** The same for the admin database, asked only when authSource is not admin. */
  readonly inAdmin: readonly string[] | 'none' | 'unknown';
}

export function lookupUser(seed: SeedProbe | undefined): UserLookup {
  const reply = seed?.hello?.outcome === 'reply' ? seed.hello.reply : undefined;
  const mechanisms: unknown = reply?.saslSupportedMechs;
  return {
    inAuthSource: Array.isArray(mechanisms) ? mechanisms.map(String) : reply ? 'none' : 'unknown',
    inAdmin: seed?.adminMechanisms ?? 'unknown',
  };
}

const createUser = (target: MongoTarget, database: string): Remediation => ({
  text: `Or create the user in "${database}" (as an administrator), then keep the password where the application reads it:`,
  command: mongoshAsAdmin(
    target,
    `db.getSiblingDB(${jsString(database)}).createUser({ user: ${jsString(target.user ?? 'app')}, pwd: passwordPrompt(), roles: [{ role: "readWrite", db: ${jsString(target.database)} }] })`,
  ),
  language: 'shell',
});

const remedies = {
  auth_failed: (target: MongoTarget, users: UserLookup): Remediation[] => {
    if (target.authSource !== 'admin' && Array.isArray(users.inAdmin)) {
      return [
        {
          text: `The user "${target.user ?? ''}" exists in the admin database, but the driver looked for it in "${target.authSource}" (authSource ← ${spokenSource(target.sources.authSource, 'default')}). Add authSource=admin:`,
          command: urlLine(urlWith(target, { set: { authSource: 'admin' } })),
        },
      ];
    }
    const fixes: Remediation[] = [
      { text: `Check the password for "${target.user ?? ''}"; it came from ${spokenSource(target.sources.password, 'nowhere (none was given)')}.` },
    ];
    if (
      target.authSource !== 'admin' &&
      !target.sources.authSource?.startsWith('url') &&
      !target.sources.authSource?.startsWith('env') &&
      !target.sources.authSource?.startsWith('.')
    ) {
      fixes.push({
        text: `The connection string gives no authSource, so the driver looks the user up in "${target.authSource}" (the database in the URL). Users are usually created in admin:`,
        command: urlLine(urlWith(target, { set: { authSource: 'admin' } })),
      });
    }
    fixes.push(
      {
        text: `See where the user is defined (as an administrator):`,
        command: mongoshAsAdmin(
          target,
          `db.getSiblingDB("admin").system.users.find({ user: ${jsString(target.user ?? '')} }, { user: 1, db: 1, mechanisms: 1 })`,
        ),
        language: 'shell',
      },
      createUser(target, target.authSource),
    );
    return fixes;
  },
  auth_mechanism: (target: MongoTarget, offered: readonly string[] | undefined): Remediation[] => [
    offered && offered.length > 0
      ? {
          text: `Use a mechanism the user has (${offered.join(', ')}), or leave authMechanism out and let the driver negotiate:`,
          command: urlLine(urlWith(target, { remove: ['authMechanism'] })),
        }
      : {
          text: 'Leave authMechanism out and let the driver negotiate SCRAM-SHA-256 / SCRAM-SHA-1:',
          command: urlLine(urlWith(target, { remove: ['authMechanism'] })),
        },
    {
      text: 'To give the user credentials for another mechanism (as an administrator), set its password again with the mechanisms listed:',
      command: mongoshAsAdmin(
        target,
        `db.getSiblingDB(${jsString(target.authSource)}).updateUser(${jsString(target.user ?? 'app')}, { pwd: passwordPrompt(), mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-1"] })`,
      ),
      language: 'shell',
    },
  ],
  password_missing: (target: MongoTarget): Remediation[] =>
    target.user
      ? [
          {
            text: `The connection string names the user "${target.user}" but gives no password. Put it in the URL (percent-encoded) or in the variable your application reads (MONGODB_URI).`,
          },
        ]
      : [
          {
            text: 'The server requires authentication, and the connection string names no user. Add the user and password (percent-encoded):',
            command: urlLine(urlWith(target).replace('://', '://USER:PASSWORD@')),
          },
        ],
  permission_denied: (target: MongoTarget): Remediation[] => [
    {
      text: `Grant the user a role on "${target.database}" (as an administrator):`,
      command: mongoshAsAdmin(
        target,
        `db.getSiblingDB(${jsString(target.authSource)}).grantRolesToUser(${jsString(target.user ?? '')}, [{ role: "readWrite", db: ${jsString(target.database)} }])`,
      ),
      language: 'shell',
    },
    { text: 'Or check the database name in the connection string: the user may have its roles on another one.' },
  ],
};

/** Step 5: may this user log in, with this mechanism, and use this database? */
export const authStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'auth',
  checks:
    'Logs in through the driver (one client, pool of one) and tells apart: wrong credentials (with where the user is actually defined, from hello’s saslSupportedMechs), an unsupported mechanism, a missing password, and a user without any role on the database.',
  remedies,
  manual: [
    {
      text: 'Log in as the application does, against the database that holds the user (authSource):',
      command: "mongosh '<url>' --quiet --eval 'jsString(db.runCommand({ connectionStatus: 1 }).authInfo)'",
      language: 'shell',
    },
    {
      text: 'Where the user is defined (as an administrator):',
      command: `mongosh '<admin-url>' --quiet --eval 'db.getSiblingDB("admin").system.users.find({ user: "<user>" }, { db: 1, mechanisms: 1 })'`,
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const session = await ctx.session();
    if (!session) return io.skip('the server was not reached far enough to log in');
    const surveyed = await ctx.survey();
    const { target } = surveyed;
    const users = lookupUser(answeringSeed(surveyed.seeds));
    const evidence: Evidence = {
      user: target.user ?? null,
      authSource: target.authSource,
      authSourceFrom: target.sources.authSource ?? 'default',
      ...(target.authMechanism ? { authMechanism: target.authMechanism } : {}),
      userLookup: { ...users },
    };
    if (session.kind === 'password_missing')
      return io.found(
        'password_missing',
        `the connection string names the user "${target.user ?? ''}" but no password`,
        remedies.password_missing(target),
        evidence,
      );
    if (session.kind === 'timed_out') throw new DeadlineExceeded('connect', session.budgetMs);
    const offered = Array.isArray(users.inAuthSource) ? users.inAuthSource : undefined;
    if (session.kind === 'failed') return judgeFailure(target, session.error, users, offered, evidence, io);
    if (!target.user) {
      const probe = await adminCommand(session.client, { listCollections: 1, nameOnly: true, authorizedCollections: true }, io.deadline, target.database);
      if (probe.kind === 'error' && causeOfServerError(probe.error) === 'password_missing') {
        return io.found(
          'password_missing',
          `the server requires authentication, and the connection string names no user ("${probe.error.message}")`,
          remedies.password_missing(target),
          { ...evidence, serverError: { ...probe.error } },
        );
      }
      return io.pass('no credentials given, and the server lets this client in without them', evidence);
    }
    // A login may be taken on trust and checked only when a command first needs the data: FerretDB
    // with PLAIN hands the user and password to its PostgreSQL backend then, and answers that first
    // command with PostgreSQL's "password authentication failed". One command that reaches the data
    // (allowed to any user that logged in) makes the login real.
    const reach = await adminCommand(session.client, { listCollections: 1, nameOnly: true, authorizedCollections: true }, io.deadline, target.database);
    if (reach.kind === 'error' && causeOfServerError(reach.error) === 'auth_failed') {
      // The user is known where the password is checked: no advice about where users are defined.
      const [checkPassword = { text: 'Check the password.' }] = remedies.auth_failed(target, { inAuthSource: 'unknown', inAdmin: 'unknown' });
      return io.found(
        'auth_failed',
        `the server took the login of "${target.user}" (${target.authMechanism ?? 'negotiated'}), then refused its credentials when a command first used them: "${refusalIn(reach.error.message)}"`,
        [
          checkPassword,
          {
            text: `This server checks the password only when a command first needs the data, where the data is. FerretDB with PLAIN, for one, hands it to its PostgreSQL backend: there it must be the password of the PostgreSQL role "${target.user ?? ''}".`,
          },
        ],
        { ...evidence, serverError: { ...reach.error }, refusedOnFirstCommand: 'listCollections' },
      );
    }
    const status = await adminCommand(session.client, { connectionStatus: 1, showPrivileges: true }, io.deadline);
    const authInfo: unknown = status.kind === 'ok' ? status.reply.authInfo : undefined;
    const privileges: unknown =
      typeof authInfo === 'object' && authInfo !== null && 'authenticatedUserPrivileges' in authInfo ? authInfo.authenticatedUserPrivileges : undefined;
    const mechanism = target.authMechanism ?? (offered?.includes('SCRAM-SHA-256') ? 'SCRAM-SHA-256' : offered ? 'SCRAM-SHA-1' : 'negotiated by the driver');
    const loggedIn = `logged in as "${target.user}" (authSource ${target.authSource}, ${mechanism})`;
    if (Array.isArray(privileges) && !privileges.some((privilege) => reachesDatabase(privilege, target.database))) {
      return io.found(
        'permission_denied',
        `"${target.user}" logged in, but has no role on database "${target.database}": every read or write there will fail with Unauthorized`,
        remedies.permission_denied(target),
        { ...evidence, privileges },
      );
    }
    const view = Array.isArray(privileges) ? '' : ' (roles not visible: the server reports none)';
    return io.pass(`${loggedIn}${view}`, { ...evidence, mechanism });
  },
});

function judgeFailure(
  target: MongoTarget,
  error: DriverError,
  users: UserLookup,
  offered: readonly string[] | undefined,
  evidence: Evidence,
  io: StepIO<keyof typeof remedies>,
): Finding {
  const said = `"${error.message.split('\n')[0] ?? ''}"${error.codeName ? ` [${error.codeName}${error.code !== undefined ? ` ${error.code}` : ''}]` : ''}`;
  const withError = { ...evidence, serverError: { ...error } };
  const cause = causeOfServerError(error);
  // A mechanism the user has no credentials for fails as code 18 on some servers: hello said so first.
  const mechanismMissing =
    target.authMechanism !== undefined && offered !== undefined && !offered.includes(target.authMechanism) && target.authMechanism.startsWith('SCRAM');
  if (cause === 'auth_mechanism' || mechanismMissing) {
    return io.found(
      'auth_mechanism',
      `authentication with ${target.authMechanism ?? 'the negotiated mechanism'} is not possible${offered ? ` (the user has: ${offered.join(', ')})` : ''}: ${said}`,
      remedies.auth_mechanism(target, offered),
      withError,
    );
  }
  if (cause === 'auth_failed' || cause === undefined) {
    const where =
      target.authSource !== 'admin' && Array.isArray(users.inAdmin)
        ? `: the user is not defined in "${target.authSource}" but exists in "admin" (authSource=admin is missing)`
        : users.inAuthSource === 'none'
          ? `: the server has no user "${target.user ?? ''}" in "${target.authSource}"`
          : ': the password is wrong, or the user is defined in another database';
    return io.found(
      'auth_failed',
      `authentication failed for "${target.user ?? ''}" (authSource ${target.authSource})${where}; the server said ${said}`,
      remedies.auth_failed(target, users),
      withError,
    );
  }
  return io.found('auth_failed', `the login did not complete: ${said}`, remedies.auth_failed(target, users), withError);
}

/** The refusal in a server's error: FerretDB wraps PostgreSQL's words in its call stack and the tried addresses. */
function refusalIn(message: string): string {
  const line =
    message
      .split('\n')
      .map((part) => part.trim())
      .reverse()
      .find((part) => /authentication failed|auth failed/i.test(part)) ??
    message.split('\n')[0] ??
    '';
  const fatal = line.indexOf('FATAL:');
  return (fatal >= 0 ? line.slice(fatal) : line.replace(/^(\[[^\]]*\]\s*)+/, '')).slice(0, 300);
}

function reachesDatabase(privilege: unknown, database: string): boolean {
  if (typeof privilege !== 'object' || privilege === null || !('resource' in privilege)) return false;
  const resource: unknown = privilege.resource;
  if (typeof resource !== 'object' || resource === null) return false;
  if ('anyResource' in resource && resource.anyResource === true) return true;
  return 'db' in resource && (resource.db === database || resource.db === '');
}
export { remedies as authRemedies };
