import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { pgbouncerLab, type PgBouncerLab } from '../lab/pgbouncer-lab.js';
import { pgBinDir } from '../lab/postgres.js';

/**
 * Real PgBouncer (Debian's package) in front of real PostgreSQL clusters, faults made for real:
 * held transactions, held clients, PAUSE, wrong passwords on either hop, a stopped database.
 * Each scenario starts its own PgBouncer (config and auth_file in a temp directory, a free port).
 */
const PASSWORD = 'bouncer-Pa55-word';
const run = promisify(execFile);

function lab(name: string): PgBouncerLab {
  return pgbouncerLab(name, PASSWORD);
}

const stepOf = (target: { steps: { id: string; evidence: Record<string, unknown>; summary: string; status: string }[] }, id: string) =>
  target.steps.find((step) => step.id === id);

describe('through PgBouncer, the database up', () => {
  const { cluster, bouncer, hold, queueBehindTwoTransactions } = lab('bouncer');

  test('healthy through the pooler: PgBouncer recognised, its pool read from the console, exit 0', async () => {
    const pooler = await bouncer();
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    const accepting = stepOf(target, 'accepting');
    expect(accepting?.summary).toMatch(/^PgBouncer \d+\.\d+\.\d+ \(a connection pooler\) answers; behind it, PostgreSQL \d+/);
    expect(accepting?.evidence.pooler).toMatchObject({
      poolMode: 'transaction',
      adminConsole: expect.stringMatching(/^read/),
      database: { port: cluster().port, database: 'appdb' },
    });
    expect(stepOf(target, 'pool')?.summary).toMatch(/^PgBouncer [\d.]+ pool appdb\/app: \d+ of 5 server connections busy, none waiting; PostgreSQL: /);
  });

  test('a pooler diagnosis opens two connections at PgBouncer (session + console), at most one server connection, and leaves no transaction behind', async () => {
    const pooler = await bouncer();
    const serverLog = readFileSync(cluster().logFile).length;
    const poolerLog = pooler.logSize();
    const { code } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(code).toBe(0);
    const logins = pooler
      .logSince(poolerLog)
      .split('\n')
      .filter((line) => / login attempt: /.test(line));
    expect(logins).toHaveLength(2);
    expect(logins.some((line) => /db=appdb user=app/.test(line))).toBe(true);
    expect(logins.some((line) => /db=pgbouncer user=app/.test(line))).toBe(true);
    // PgBouncer drops a server connection whose client leaves inside a transaction: dbdoctor ends its own.
    expect(pooler.logSince(poolerLog)).not.toContain('client disconnect while server was not ready');
    const serverConnections = readFileSync(cluster().logFile)
      .subarray(serverLog)
      .toString('utf8')
      .split('\n')
      .filter((line) => /connection received: host=127\.0\.0\.1/.test(line));
    expect(serverConnections.length).toBeLessThanOrEqual(1);
  });

  test('a user the console does not admit: PgBouncer still recognised, the refusal reported, healthy', async () => {
    const pooler = await bouncer();
    const { code, target } = await diagnoseJson([pooler.url('other', PASSWORD)]);
    expect(code).toBe(0);
    expect(stepOf(target, 'accepting')?.evidence.pooler).toMatchObject({ name: 'PgBouncer', adminConsole: 'refused: "not allowed" [08P01]' });
  });

  test('default_pool_size 2, both server connections held in transactions, a client waiting: pooler_pool_exhausted names pool_size', async () => {
    const pooler = await bouncer({ settings: { default_pool_size: 2 } });
    const queue = await queueBehindTwoTransactions(pooler);
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({
      limit: 'pool_size',
      pooler: { pool: { clientsWaiting: 1, serversActive: 2 }, limits: { poolSize: 2, serverConnections: 2 } },
    });
    expect(target.verdict.message).toMatch(/^1 client\(s\) wait in PgBouncer [\d.]+'s queue for appdb\/app .*\(pool_size = 2\)/);
    expect(target.verdict.remediation.some((fix) => fix.command?.endsWith("pgbouncer -c 'RELOAD;'"))).toBe(true);
    expect(stepOf(target, 'queries')?.status).toBe('skip');
    await queue.release();
  });

  test('max_db_connections 2 below a pool size of 10: pooler_pool_exhausted names max_db_connections', async () => {
    const pooler = await bouncer({ settings: { default_pool_size: 10, max_db_connections: 2 } });
    const queue = await queueBehindTwoTransactions(pooler);
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ limit: 'max_db_connections', pooler: { limits: { maxDbConnections: 2, databaseConnections: 2 } } });
    await queue.release();
  });

  test('max_user_connections 2: pooler_pool_exhausted names max_user_connections', async () => {
    const pooler = await bouncer({ settings: { default_pool_size: 10, max_user_connections: 2 } });
    const queue = await queueBehindTwoTransactions(pooler);
    const { report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_pool_exhausted');
    expect(target.verdict.details).toMatchObject({ limit: 'max_user_connections', pooler: { limits: { maxUserConnections: 2, userConnections: 2 } } });
    await queue.release();
  });

  test('every server connection busy, nobody waiting yet: near_limit, degraded, and dbdoctor does not queue a query', async () => {
    const pooler = await bouncer({ settings: { default_pool_size: 2 } });
    const clients = await hold(pooler, 2);
    for (const client of clients) await client.query('BEGIN; SELECT 1');
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/near_limit');
    expect(code).toBe(1);
    expect(stepOf(target, 'queries')?.summary).toContain('a query would wait in its queue');
    for (const client of clients) await client.query('ROLLBACK');
  });

  test("max_client_conn reached: pooler_client_limit with PgBouncer's words, exit 2", async () => {
    const pooler = await bouncer({ settings: { max_client_conn: 3 } });
    await hold(pooler, 3);
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_client_limit');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ sqlstate: '08P01', serverMessage: 'no more connections allowed (max_client_conn)' });
    expect(target.verdict.remediation[0]?.text).toContain('max_client_conn');
  });

  test('wrong password at the pooler: pooler_auth, and the database never saw the login', async () => {
    const pooler = await bouncer();
    const serverLog = readFileSync(cluster().logFile).length;
    const { code, report, target } = await diagnoseJson([pooler.url('app', 'not-the-password')]);
    expect(verdictOf(report)).toBe('auth/pooler_auth');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ rejectedBy: 'pooler', sqlstate: '08P01', serverMessage: 'SASL authentication failed' });
    expect(target.verdict.remediation.some((fix) => Boolean(fix.command?.includes('FROM pg_authid WHERE rolname =')))).toBe(true);
    const received = readFileSync(cluster().logFile).subarray(serverLog).toString('utf8');
    expect(received).not.toMatch(/connection authorized: user=app/);
  });

  test("wrong password from the pooler to the database: pooler_backend_auth, with the server's words relayed", async () => {
    // The client and PgBouncer agree on the password; PostgreSQL's role has another one.
    const pooler = await bouncer({ users: { app: 'stale-password' } });
    const { code, report, target } = await diagnoseJson([pooler.url('app', 'stale-password')]);
    expect(verdictOf(report)).toBe('auth/pooler_backend_auth');
    expect(code).toBe(2);
    expect(target.verdict.details.serverMessage).toBe('password authentication failed for user "app"');
    expect(target.verdict.message).toContain('rejected PgBouncer');
  });

  test("a database PgBouncer has no [databases] entry for: database_missing, with the pooler's fix", async () => {
    const pooler = await bouncer();
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD, 'nowhere')]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(code).toBe(2);
    expect(target.verdict.details.serverMessage).toBe('no such database: nowhere');
    expect(target.verdict.remediation[0]?.text).toContain('[databases]');
  });

  test('PAUSE appdb on the console: pooler_paused, RESUME printed (never run)', async () => {
    const pooler = await bouncer();
    const warm = pooler.client('app', PASSWORD);
    await warm.connect();
    await warm.end();
    await pooler.admin('PAUSE appdb');
    try {
      const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
      expect(verdictOf(report)).toBe('accepting/pooler_paused');
      expect(code).toBe(2);
      expect(target.verdict.remediation.some((fix) => fix.command?.endsWith("-c 'RESUME appdb;'"))).toBe(true);
      expect((await pooler.admin('SHOW DATABASES')).rows.find((row: { name: string }) => row.name === 'appdb')).toMatchObject({ paused: 1 });
    } finally {
      await pooler.admin('RESUME appdb');
    }
  });

  test('transaction pool mode, a session-level advisory lock left on a pooled server connection: pooler_session_state, degraded', async () => {
    const pooler = await bouncer();
    const [client] = await hold(pooler, 1);
    await client?.query('SELECT pg_advisory_lock(4242)');
    const holder = (await cluster().sql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242")).rows[0]?.pid as number;
    const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
    expect(verdictOf(report)).toBe('pool/pooler_session_state');
    expect(code).toBe(1);
    expect(target.verdict.details.advisoryLocks).toEqual([expect.objectContaining({ pid: holder, objid: 4242 })]);
    expect(target.verdict.remediation.some((fix) => fix.command === `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (${holder});`)).toBe(
      true,
    );
  });
});

describe('through PgBouncer, the database behind it down', () => {
  const { cluster, bouncer } = lab('bouncer-down');

  test('database stopped while PgBouncer runs: pg_isready says "accepting connections", dbdoctor says pooler_backend_down', async () => {
    const pooler = await bouncer();
    const warm = pooler.client('app', PASSWORD);
    await warm.connect();
    await warm.query('SELECT 1');
    await warm.end();
    await cluster().stop('fast');
    try {
      const isReady = await run(join(pgBinDir(), 'pg_isready'), ['-h', pooler.host, '-p', String(pooler.port), '-d', 'appdb', '-U', 'app']);
      expect(isReady.stdout).toContain('accepting connections');
      const { code, report, target } = await diagnoseJson([pooler.url('app', PASSWORD)]);
      expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
      expect(code).toBe(2);
      expect(target.verdict.message).toContain(`cannot reach 127.0.0.1:${cluster().port} (database "appdb")`);
      expect(target.verdict.message).toContain('refuses connections from here too');
      expect(target.verdict.details.pooler).toMatchObject({ pool: { serversActive: 0, serversIdle: 0 }, database: { seenFromHere: 'refused' } });
      expect(target.verdict.remediation.some((fix) => fix.command === `pg_isready -h 127.0.0.1 -p ${cluster().port}`)).toBe(true);
    } finally {
      await cluster().start();
    }
  });

  test('a fresh PgBouncer whose database is down holds the login: pooler_backend_down within the deadline', async () => {
    await cluster().stop('fast');
    try {
      const pooler = await bouncer();
      const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '4', pooler.url('app', PASSWORD)]);
      expect(verdictOf(report)).toBe('accepting/pooler_backend_down');
      expect(code).toBe(2);
      expect(target.verdict.message).toContain('accepted the login, then held it without a server connection');
      // A deadline bound, with a margin: the run ends by its --timeout.
      expect(wallMs).toBeLessThan(4000 + 2000);
    } finally {
      await cluster().start();
    }
  });
});
