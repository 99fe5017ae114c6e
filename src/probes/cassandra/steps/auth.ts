import type { CassandraTarget } from '../../../config/cassandra/target.js';
import { DeadlineExceeded } from '../../../engine/deadline.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { cqlsh, quoteName } from '../commands.js';
import type { CqlContext } from '../context.js';
import { query } from '../driver.js';
import { spokenSource } from '../../../config/source.js';

const remedies = {
  password_missing: (target: CassandraTarget): Remediation[] => [
    {
      text: 'The node requires a login (PasswordAuthenticator) and no credentials were given. Give them in the URL, or in the environment:',
      command: 'export CASSANDRA_USERNAME=app CASSANDRA_PASSWORD=…',
      language: 'shell',
    },
    { text: 'Check them with cqlsh (it prompts for the password):', command: cqlsh({ ...target, username: target.username ?? 'app' }), language: 'shell' },
  ],
  auth_failed: (target: CassandraTarget): Remediation[] => [
    {
      text: `Check the password for role "${target.username ?? ''}"; it came from ${spokenSource(target.sources.password, 'nowhere (none was given)')}. Cassandra gives the same answer when the role does not exist.`,
    },
    {
      text: 'As a superuser, check the role, and set a new password if needed (then update it where the application reads it):',
      command: `LIST ROLES; ALTER ROLE ${quoteName(target.username ?? 'app')} WITH PASSWORD = 'new-password';`,
      language: 'sql' as const,
    },
  ],
  permission_denied: (target: CassandraTarget): Remediation[] => [
    {
      text: `The role "${target.username ?? ''}" exists and its password is right, but it may not log in. As a superuser:`,
      command: `ALTER ROLE ${quoteName(target.username ?? 'app')} WITH LOGIN = true;`,
      language: 'sql',
    },
  ],
  database_missing: (target: CassandraTarget): Remediation[] => [
    {
      text: `The keyspace came from ${spokenSource(target.sources.keyspace, 'the URL')}; check its spelling (names are case-sensitive when quoted). Existing keyspaces:`,
      command: cqlsh(target, 'SELECT keyspace_name FROM system_schema.keyspaces;'),
      language: 'shell',
    },
  ],
};

/** Step 5: may this user log in, and does the keyspace exist? */
export const authStep = defineStep<CqlContext, keyof typeof remedies>({
  id: 'auth',
  checks:
    'Reads the authenticator the node names at STARTUP, logs in with the driver, and checks the keyspace exists: no credentials, wrong credentials, a role that may not log in, a missing keyspace.',
  remedies,
  manual: [
    {
      text: 'Log in as the application does (cqlsh prompts for the password):',
      command: "cqlsh <host> 9042 -u <user> -e 'SELECT release_version FROM system.local'",
      language: 'shell',
    },
    {
      text: 'The role and its rights (as a superuser):',
      command: "cqlsh <host> -u cassandra -e 'LIST ROLES; LIST ALL PERMISSIONS OF <user>'",
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const target = ctx.target;
    const { trace, decision } = await ctx.primary();
    if (decision.kind !== 'ok') return io.skip('the node was not reached far enough to log in');
    const evidence = {
      user: target.username ?? null,
      authenticator: trace.authenticator ?? 'none (AllowAllAuthenticator)',
      passwordSource: target.sources.password ?? 'none',
    };
    if (trace.startup === 'authenticate' && target.username === undefined) {
      return io.found(
        'password_missing',
        `the node requires a login (${shortName(trace.authenticator)}) and no credentials were given`,
        remedies.password_missing(target),
        evidence,
      );
    }
    const session = await ctx.session();
    if (session.kind === 'timeout') throw new DeadlineExceeded('connect', session.budgetMs);
    if (session.kind === 'failed') {
      const { failure } = session;
      const more = { ...evidence, driverError: failure.error, hosts: failure.hosts };
      switch (failure.cause) {
        case 'password_missing':
          return io.found(
            'password_missing',
            `the node requires a login and the driver had no credentials: ${failure.telling.message}`,
            remedies.password_missing(target),
            more,
          );
        case 'permission_denied':
          return io.found(
            'permission_denied',
            `"${target.username ?? ''}" may not log in: ${failure.telling.message}`,
            remedies.permission_denied(target),
            more,
          );
        case 'auth_failed':
          return io.found('auth_failed', `login failed for "${target.username ?? ''}": ${failure.telling.message}`, remedies.auth_failed(target), more);
        default:
          return io.skip(`no session: ${failure.telling.message}`, more);
      }
    }
    if (session.kind !== 'session') return io.skip(session.reason);
    if (target.keyspace) {
      const rows = await query(session.client, 'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [target.keyspace], io.deadline);
      if (rows.length === 0)
        return io.found('database_missing', `the keyspace "${target.keyspace}" does not exist`, remedies.database_missing(target), {
          ...evidence,
          keyspace: target.keyspace,
        });
    }
    const who = target.username !== undefined ? `logged in as "${target.username}"` : 'connected without a login';
    return io.pass(
      `${who} (${trace.authenticator ? shortName(trace.authenticator) : 'the node requires no login'})${target.keyspace ? `; keyspace "${target.keyspace}" exists` : ''}`,
      evidence,
    );
  },
});

function shortName(authenticator: string | undefined): string {
  return (authenticator ?? 'an authenticator').split('.').pop() ?? 'an authenticator';
}
export { remedies as authRemedies };
