import { describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { pgbouncerLab } from '../lab/pgbouncer-lab.js';
import { selfSignedCertificate } from '../lab/tls.js';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pythonSilentServer, redisServer, type Listener } from '../lab/listeners.js';
import type { TargetReport } from '../../src/engine/schema.js';
import type { PgBouncer } from '../lab/pgbouncer.js';

/**
 * PgBouncer (Debian's package) in front of a real PostgreSQL, each scenario diagnosed twice: as
 * "app", whom stats_users lets read PgBouncer's admin console, and as "other", an ordinary
 * application user the console refuses ("not allowed"), as in most deployments. Without the
 * console dbdoctor has only what PgBouncer says, when it says it, and what it withholds: a login
 * PgBouncer answers from its cache proves nothing about the database, so a query is sent
 * through it, and a second client looks at the queue when that query waits.
 */
const PASSWORD = 'client-side-Pa55';
const USERS = [
  { user: 'app', console: true },
  { user: 'other', console: false },
] as const;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const stepOf = (target: { steps: { id: string; summary: string; status: string; evidence: Record<string, unknown> }[] }, id: string) =>
  target.steps.find((step) => step.id === id);

describe('PgBouncer from the client side, the database up', () => {
  const lab = pgbouncerLab('bouncer-client', PASSWORD);

  test.each(USERS)(
    'healthy ($user, console: $console): the database behind is confirmed by a query, not by values PgBouncer replays',
    async ({ user, console }) => {
      const pooler = await lab.bouncer();
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(stepOf(target, 'accepting')?.summary).toMatch(
        /^PgBouncer[\d. ]* \(a connection pooler\) answers; behind it, PostgreSQL \d+\.\d+ answers .*, confirmed by a query through it$/,
      );
      expect(stepOf(target, 'auth')?.summary).toContain('own login to the database confirmed (a query was answered)');
      expect(stepOf(target, 'accepting')?.evidence.pooler).toMatchObject({
        adminConsole: console ? expect.stringMatching(/^read/) : 'refused: "not allowed" [08P01]',
        databaseBehind: { outcome: 'answered' },
      });
    },
  );

  test.each(USERS)(
    'a session-level advisory lock left on a transaction-pooled server connection ($user, console: $console): pooler_session_state with the console; without it the pool mode is unknown, and the pool step says so',
    async ({ user, console }) => {
      const pooler = await lab.bouncer();
      const [client] = await lab.hold(pooler, 1, user);
      await client?.query('SELECT pg_advisory_lock(4343)');
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      if (console) {
        expect(verdictOf(report)).toBe('pool/pooler_session_state');
        expect(code).toBe(1);
      } else {
        expect(verdictOf(report)).toBe('none/healthy');
        expect(stepOf(target, 'pool')?.summary).toContain(
          "its console is not open to this user: its pool's size and mode, and session state left on its server connections, are not checked",
        );
      }
    },
  );

  test.each(USERS)(
    'statement pool mode ($user, console: $console): the database answers; that mode allows no transaction, which is said, not failed',
    async ({ user }) => {
      const pooler = await lab.bouncer({ settings: { pool_mode: 'statement' } });
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(stepOf(target, 'accepting')?.summary).toContain('the database answered a query, then PgBouncer');
      expect(stepOf(target, 'accepting')?.summary).toContain('its statement pool mode allows no transaction');
      expect(stepOf(target, 'pool')?.status).toBe('skip');
      expect(stepOf(target, 'auth')?.summary).toContain('own login to the database confirmed (a query reached it)');
    },
  );

  test.each(USERS)(
    'disable_pqexec = 1 ($user, console: $console): PgBouncer refuses the simple query protocol the checks use: a limit of dbdoctor (check_error, degraded), not a verdict on the database',
    async ({ user }) => {
      const pooler = await lab.bouncer({ settings: { disable_pqexec: 1 } });
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('accepting/check_error');
      expect(code).toBe(1);
      expect(target.verdict.message).toContain('answers, but the database behind it is not confirmed: PgBouncer refuses the simple query protocol');
    },
  );

  test.each(USERS)('two transactions hold the pool of two, a client queues ($user, console: $console): pooler_pool_exhausted', async ({ user, console }) => {
    const pooler = await lab.bouncer({ settings: { default_pool_size: 2 } });
    const queue = await lab.queueBehindTwoTransactions(pooler, user);
    const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
    expect(code).toBe(2);
    if (console) expect(target.verdict.details).toMatchObject({ limit: 'pool_size' });
    else
      expect(target.verdict.message).toMatch(
        /waited [\d.]+ s in its queue without a server connection, and a second client's query waited too, while PgBouncer did not turn clients away .* Not confirmed without its console: which limit binds/,
      );
    expect(stepOf(target, 'accepting')?.status).toBe(console ? 'pass' : 'skip');
    await queue.release();
  });

  test.each(USERS)(
    'query_wait_timeout = 1 s, the one server connection held ($user, console: $console): the console says near_limit and sends no query; without it, PgBouncer\'s "query_wait_timeout" is a verdict, pooler_pool_exhausted',
    async ({ user, console }) => {
      const pooler = await lab.bouncer({ settings: { default_pool_size: 1, query_wait_timeout: 1 } });
      const [holder] = await lab.hold(pooler, 1, user);
      await holder?.query('BEGIN; SELECT 1');
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      if (console) {
        expect(verdictOf(report)).toBe('pool/near_limit');
        expect(code).toBe(1);
      } else {
        expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
        expect(code).toBe(2);
        expect(target.verdict.message).toContain('"query_wait_timeout" [08P01]');
      }
      await holder?.query('ROLLBACK');
    },
  );

  test.each(USERS)(
    'PAUSE appdb ($user, console: $console): pooler_paused from the console; without it, the queue is all there is, and PAUSE is named among its reasons',
    async ({ user, console }) => {
      const pooler = await lab.bouncer();
      const warm = pooler.client(user, PASSWORD);
      await warm.connect();
      await warm.end();
      await pooler.admin('PAUSE appdb');
      try {
        const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
        expect(code).toBe(2);
        if (console) {
          expect(verdictOf(report)).toBe('accepting/pooler_paused');
        } else {
          expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
          expect(target.verdict.message).toContain('holding the database paused (PAUSE)');
        }
      } finally {
        await pooler.admin('RESUME appdb');
      }
    },
  );

  test.each(USERS)("DISABLE appdb ($user, console: $console): pooler_paused, in PgBouncer's words", async ({ user }) => {
    const pooler = await lab.bouncer();
    await pooler.admin('DISABLE appdb');
    const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
    expect(verdictOf(report)).toBe('accepting/pooler_paused');
    expect(code).toBe(2);
    expect(target.verdict.details.serverMessage).toBe('database "appdb" is disabled');
  });

  test.each(USERS)('max_client_conn reached ($user, console: $console): pooler_client_limit', async ({ user }) => {
    const pooler = await lab.bouncer({ settings: { max_client_conn: 2 } });
    await lab.hold(pooler, 2);
    const { code, report } = await diagnoseJson([pooler.url(user, PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_client_limit');
    expect(code).toBe(2);
  });

  test.each(USERS)('a wrong password at PgBouncer ($user, console: $console): pooler_auth', async ({ user }) => {
    const pooler = await lab.bouncer();
    const { code, report } = await diagnoseJson([pooler.url(user, 'not-the-password')]);
    expect(verdictOf(report)).toBe('auth/pooler_auth');
    expect(code).toBe(2);
  });

  test.each(USERS)('a database PgBouncer does not know ($user, console: $console): database_missing', async ({ user }) => {
    const pooler = await lab.bouncer();
    const { code, report } = await diagnoseJson([pooler.url(user, PASSWORD, 'nowhere')]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(code).toBe(2);
  });

  test.each(USERS)(
    'client_tls_sslmode = require, a client with sslmode=disable ($user, console: $console): PgBouncer\'s "SSL required" is tls_required',
    async ({ user }) => {
      const certificate = await selfSignedCertificate('localhost');
      const pooler = await lab.bouncer({
        settings: { client_tls_sslmode: 'require', client_tls_key_file: certificate.keyFile, client_tls_cert_file: certificate.certFile },
      });
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD, 'appdb', '?sslmode=disable')]);
      expect(verdictOf(report)).toBe('accepting/tls_required');
      expect(code).toBe(2);
      expect(target.verdict.message).toContain('"SSL required"');
    },
  );

  test.each(USERS)(
    "the database refuses PgBouncer's login, PgBouncer fresh ($user, console: $console): pooler_backend_auth, the database's words relayed",
    async ({ user }) => {
      const pooler = await lab.bouncer({ users: { app: 'stale-password', other: 'stale-password' } });
      const { code, report, target } = await diagnoseJson([pooler.url(user, 'stale-password')]);
      expect(verdictOf(report)).toBe('auth/pooler_backend_auth');
      expect(code).toBe(2);
      expect(target.verdict.details.serverMessage).toBe(`password authentication failed for user "${user}"`);
      // Run again within server_login_retry: PgBouncer now holds the login (or says "server login has
      // been failing") instead of relaying the words; its log still has them, and the verdict stays.
      const next = await diagnoseJson(['--timeout', '5', pooler.url(user, 'stale-password')]);
      expect(verdictOf(next.report)).toBe('auth/pooler_backend_auth');
      expect(next.target.verdict.details.databaseSaid).toBe(`password authentication failed for user "${user}"`);
      expect(next.target.verdict.remediation.map((fix) => fix.text).join('\n')).not.toMatch(/Start it/);
    },
  );

  /** PgBouncer serves the role, then PostgreSQL changes the role's password and ends the server connections. */
  const refuseAfterServing = async (pooler: PgBouncer, user: string): Promise<void> => {
    await pooler.serve(user, PASSWORD);
    await lab.cluster().sql(`ALTER ROLE ${user} PASSWORD 'changed-elsewhere'`);
    await lab.cluster().sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${user}'`);
    await pause(200);
  };

  test.each(USERS)(
    "the database starts refusing PgBouncer's login after serving it ($user, console: $console): PgBouncer's log (on this machine) has the database's words, pooler_backend_auth, the same on the next run",
    async ({ user }) => {
      const pooler = await lab.bouncer();
      await refuseAfterServing(pooler, user);
      try {
        // Within server_login_retry, run after run: PgBouncer's "server login has been failing" (or a
        // held login) fits a database that is down and one that refuses it alike; its log does not.
        for (const run of ['first', 'next']) {
          const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
          expect(verdictOf(report), `${run} run`).toBe('auth/pooler_backend_auth');
          expect(code).toBe(2);
          expect(target.verdict.message).toMatch(
            new RegExp(
              `the database behind it rejected PgBouncer[\\d. ]*'s own login: "password authentication failed for user "${user}"" \\(PgBouncer[\\d. ]*'s log, `,
            ),
          );
          expect(target.verdict.details).toMatchObject({ databaseSaid: `password authentication failed for user "${user}"`, saidIn: pooler.logFile });
          expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).not.toMatch(/Start it/);
        }
      } finally {
        await lab.cluster().sql(`ALTER ROLE ${user} PASSWORD '${PASSWORD}'`);
      }
    },
  );

  /**
   * Until an application's query has made PgBouncer try the database and fail: a new client's
   * query is turned away with "server login has been failing". As in an incident, where clients
   * keep knocking; without it the diagnosis's own query is the first to make PgBouncer try, and
   * on a loaded machine PgBouncer may still be logging in when the second client comes.
   */
  const untilLoginsFail = async (pooler: PgBouncer, user: string): Promise<void> => {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const client = pooler.client(user, PASSWORD);
      const stream = (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream;
      try {
        await client.connect();
        const said = await Promise.race([
          client.query('SELECT 1').then(
            () => 'answered',
            (error: Error) => error.message,
          ),
          pause(250).then(() => 'waiting'),
        ]);
        if (said.startsWith('server login has been failing')) return;
        if (said === 'answered') throw new Error('the database still serves PgBouncer');
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('server login has been failing')) return;
        if (error instanceof Error && error.message === 'the database still serves PgBouncer') throw error;
      } finally {
        stream.destroy();
      }
    }
    throw new Error('PgBouncer never said "server login has been failing"');
  };

  test.each(USERS)(
    'the same without PgBouncer\'s log (logfile unset) ($user, console: $console): pooler_backend_down, and what is and is not known: PostgreSQL answers at the database address, so PgBouncer\'s logins fail or it just came back; never "start it"',
    async ({ user, console }) => {
      const pooler = await lab.bouncer({ settings: { logfile: '' } });
      await refuseAfterServing(pooler, user);
      await untilLoginsFail(pooler, user);
      try {
        const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
        expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
        expect(code).toBe(2);
        expect(target.verdict.message).toContain('server login has been failing');
        expect(target.verdict.message).toContain(
          `PostgreSQL answers at 127.0.0.1:${lab.cluster().port}${console ? '' : ` (from ${pooler.iniFile})`} (it answered an SSLRequest from here), so PgBouncer's logins to it fail — refused (PgBouncer's log says why), or it came back less than server_login_retry (15 s) ago`,
        );
        expect(target.verdict.message).toContain(`its logins to 127.0.0.1:${lab.cluster().port} (database "appdb") fail`);
        if (!console)
          expect(target.verdict.message).toContain("PgBouncer before 1.24 says this both when the database is down and when it refuses PgBouncer's login");
        expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).not.toMatch(/Start it/);
        expect(target.verdict.remediation[0]?.text).toContain('PostgreSQL runs at');
      } finally {
        await lab.cluster().sql(`ALTER ROLE ${user} PASSWORD '${PASSWORD}'`);
      }
    },
  );

  test.each(USERS)(
    'max_db_connections = 1 held by another user\'s pool ($user, console: $console): pooler_pool_exhausted naming max_db_connections (never "start it")',
    async ({ user, console }) => {
      const pooler = await lab.bouncer({ settings: { max_db_connections: 1 } });
      // A third role's transaction holds the database's one server connection.
      const [holder] = await lab.hold(pooler, 1, 'third');
      await holder?.query('BEGIN; SELECT 1');
      try {
        const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
        expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
        expect(code).toBe(2);
        expect(target.verdict.details).toMatchObject({ limit: 'max_db_connections', limitKnownFrom: console ? 'console' : 'configuration' });
        if (console) {
          expect(target.verdict.message).toContain('its console shows max_db_connections = 1 for database "appdb", all 1 held by other pools');
          expect(stepOf(target, 'accepting')?.summary).toContain('the database serves 1 server connection(s) of other pools');
        } else {
          expect(target.verdict.message).toContain(`max_db_connections = 1 is set in ${pooler.iniFile}`);
        }
        expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).toContain(
          `The limit that binds is max_db_connections (or max_db_connections= on the [databases] line) in ${pooler.iniFile}`,
        );
      } finally {
        await holder?.query('ROLLBACK');
      }
    },
  );

  /** PgBouncer whose [databases] line sends appdb to another program's port: the verdict, that program, the pooler. */
  const behind = async (start: () => Promise<Listener>, user: string): Promise<{ listener: Listener; pooler: PgBouncer; target: TargetReport }> => {
    const listener = await start();
    try {
      const pooler = await lab.bouncer({ databases: { appdb: `host=127.0.0.1 port=${listener.port} dbname=appdb` } });
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
      expect(code).toBe(2);
      return { listener, pooler, target };
    } finally {
      await listener.stop();
    }
  };

  test.each(USERS)(
    'the [databases] line points at a port that takes connections and never answers ($user, console: $console): pooler_backend_down naming what listens there',
    async ({ user, console }) => {
      const { listener, target } = await behind(() => pythonSilentServer(), user);
      expect(target.verdict.message).toContain(`gets no PostgreSQL answer from 127.0.0.1:${listener.port} (database "appdb")`);
      expect(target.verdict.message).toContain(`${listener.comm} (pid ${listener.pid}) takes the connection but sends no PostgreSQL answer`);
      if (console) expect(target.verdict.message).toContain('server connection(s) still logging in (sv_login)');
      expect(target.verdict.remediation[0]?.text).toContain('takes connections but sends no PostgreSQL answer');
    },
  );

  test.each(USERS)(
    'the [databases] line points at a Redis ($user, console: $console): pooler_backend_down, the Redis named as for a URL that points at it',
    async ({ user }) => {
      const { listener, pooler, target } = await behind(redisServer, user);
      expect(target.verdict.message).toContain(`redis-server (pid ${listener.pid}) listens, not PostgreSQL: a Redis server`);
      expect(target.verdict.remediation[0]?.text).toContain(
        `The [databases] line for "appdb" in ${pooler.iniFile} sends PgBouncer to 127.0.0.1:${listener.port}`,
      );
    },
  );

  test.each(USERS)(
    "auth_type = hba, a reject line in PgBouncer's auth_hba_file ($user, console: $console): pooler_auth, and the fix is that file",
    async ({ user }) => {
      const hbaFile = join(mkdtempSync(join(tmpdir(), 'dbdoctor-pgb-hba-')), 'pgb_hba.conf');
      writeFileSync(hbaFile, `host all ${user} 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 scram-sha-256\n`);
      chmodSync(hbaFile, 0o644);
      chmodSync(dirname(hbaFile), 0o755);
      const pooler = await lab.bouncer({ settings: { auth_type: 'hba', auth_hba_file: hbaFile } });
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('auth/pooler_auth');
      expect(code).toBe(2);
      expect(target.verdict.details.serverMessage).toBe('login rejected');
      expect(target.verdict.remediation[0]?.text).toContain(`its auth_hba_file ${hbaFile}) turned this connection away`);
      expect(target.verdict.remediation[0]?.command).toBe(`grep -nEv '^[[:space:]]*(#|$)' ${hbaFile}`);
    },
  );

  test.each(USERS)(
    "a reject line in PostgreSQL's pg_hba.conf matches PgBouncer's login ($user, console: $console): pooler_backend_auth, and the fix is that reject line, not a missing one",
    async ({ user }) => {
      const hba = join(lab.cluster().dataDir, 'pg_hba.conf');
      const original = readFileSync(hba, 'utf8');
      writeFileSync(hba, `host appdb ${user} 127.0.0.1/32 reject\n${original}`);
      await lab.cluster().reload();
      try {
        const pooler = await lab.bouncer();
        const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
        expect(verdictOf(report)).toBe('auth/pooler_backend_auth');
        expect(code).toBe(2);
        expect(target.verdict.remediation[0]?.text).toContain("A reject line in PostgreSQL's pg_hba.conf matches PgBouncer's login");
        expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).not.toContain('has no line for PgBouncer');
      } finally {
        writeFileSync(hba, original);
        await lab.cluster().reload();
      }
    },
  );

  test.each(USERS)(
    'session pool mode, the pool of one held by a connected client ($user, console: $console): pooler_pool_exhausted, and the fix speaks of sessions, not transactions',
    async ({ user }) => {
      const pooler = await lab.bouncer({ settings: { pool_mode: 'session', default_pool_size: 1 } });
      const clients = await lab.hold(pooler, 2, user);
      await clients[0]?.query('SELECT 1');
      const waiting = clients[1]?.query('SELECT 1').catch(() => undefined);
      await pause(300);
      const { report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
      const fixes = target.verdict.remediation.map((fix) => fix.text).join('\n');
      expect(fixes).toContain("In session pool mode a server connection is held for a client's whole session");
      expect(fixes).not.toContain('In transaction pool mode');
      await clients[0]?.end();
      await waiting;
    },
  );
});

describe('PgBouncer from the client side, a database that just came back or needs auth_query', () => {
  const lab = pgbouncerLab('bouncer-client-back', PASSWORD);

  test.each(USERS)(
    'the database restarted less than server_login_retry ago ($user, console: $console): PgBouncer has not logged in again yet; pooler_backend_down that says it heals by itself, never "start it"',
    async ({ user }) => {
      const pooler = await lab.bouncer();
      await pooler.serve(user, PASSWORD);
      await lab.cluster().stop('fast');
      // A query while it is away makes PgBouncer's next login fail ("connect failed").
      const during = pooler.client(user, PASSWORD);
      await Promise.race([during.connect().then(() => during.query('SELECT 1')), pause(1500)]).catch(() => undefined);
      await Promise.race([during.end(), pause(500)]).catch(() => undefined);
      await lab.cluster().start();
      const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
      expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
      expect(code).toBe(2);
      expect(target.verdict.message).toContain(
        `the database answers at 127.0.0.1:${lab.cluster().port} now, but PgBouncer's last login to it failed to connect`,
      );
      expect(target.verdict.remediation[0]?.text).toContain('PgBouncer tries again by itself after server_login_retry');
      expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).not.toMatch(/Start it/);
    },
  );

  test.each(USERS)(
    'auth_query, the database down, PgBouncer fresh ($user, console: $console): the login is held before any password is asked; pgbouncer owns the port, so pooler_backend_down (auth_query needs the database)',
    async ({ user }) => {
      await lab.cluster().stop('fast');
      try {
        const pooler = await lab.bouncer({
          users: { postgres: 'unused' },
          settings: { auth_user: 'postgres', auth_query: 'SELECT usename, passwd FROM pg_shadow WHERE usename=$1' },
        });
        const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '6', pooler.url(user, PASSWORD)]);
        expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
        expect(code).toBe(2);
        expect(target.verdict.message).toContain('before asking for a password (auth_query, run as auth_user, needs the database to check the password)');
        expect(target.verdict.message).toContain('refuses connections from here too');
        expect(stepOf(target, 'accepting')?.evidence.pooler).toMatchObject({
          name: 'PgBouncer',
          recognisedBy: [expect.stringContaining('pgbouncer owns the port on this machine')],
        });
        expect(wallMs).toBeLessThan(6000 + 2000);
      } finally {
        await lab.cluster().start();
      }
    },
  );
});

describe('PgBouncer from the client side, the database stopped', () => {
  const lab = pgbouncerLab('bouncer-client-down', PASSWORD);

  test.each(USERS)(
    'stopped after PgBouncer served it ($user, console: $console): pooler_backend_down on the first run and the next, never a replayed "PostgreSQL answers"',
    async ({ user, console }) => {
      const pooler = await lab.bouncer();
      await pooler.serve(user, PASSWORD);
      await lab.cluster().stop('fast');
      try {
        for (const run of ['first', 'next']) {
          const { code, report, target } = await diagnoseJson([pooler.url(user, PASSWORD)]);
          expect(verdictOf(report), `${run} run`).toBe('accepting/pooler_backend_down');
          expect(code).toBe(2);
          expect(target.steps.map((step) => step.status)).toEqual(['pass', 'fail', 'skip', 'skip', 'skip', 'skip']);
          if (console) expect(target.verdict.message).toContain('refuses connections from here too');
          else expect(target.verdict.message).toContain('server login has been failing');
        }
      } finally {
        await lab.cluster().start();
      }
    },
  );

  test.each(USERS)(
    'a fresh PgBouncer whose database is down holds the login ($user, console: $console): pooler_backend_down within --timeout',
    async ({ user, console }) => {
      await lab.cluster().stop('fast');
      try {
        const pooler = await lab.bouncer();
        const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '4', pooler.url(user, PASSWORD)]);
        expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
        expect(code).toBe(2);
        expect(target.verdict.message).toContain('accepted the login, then held it without a server connection');
        // A fresh pool has no cached login to give out: PgBouncer holds every client's login, a
        // second one too, until client_login_timeout (60 s).
        if (console) expect(target.verdict.message).toContain('refuses connections from here too');
        else expect(target.verdict.message).toContain("a second client's login was held too");
        // A deadline bound, with a margin: the run ends by its --timeout.
        expect(wallMs).toBeLessThan(4000 + 2000);
      } finally {
        await lab.cluster().start();
      }
    },
  );
});
