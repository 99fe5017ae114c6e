import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { dbdoctor, diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { Cluster, holdConnections } from '../lab/postgres.js';

/**
 * Connection slots, idle sessions, long-running statements and lock waits, each made for real
 * on one small cluster (max_connections 20, 3 reserved for superusers, TLS off). The scenarios
 * run one after another and each releases what it held.
 */
const PASSWORD = 'pool-Pa55-word';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('postgres pool and queries', () => {
  let cluster: Cluster;
  let held: { release(): Promise<void> }[] = [];
  const hold = async (count: number, options: { user?: string; password?: string; database?: string } = {}): Promise<pg.Client[]> => {
    const holding = await holdConnections(cluster, count, options);
    held.push(holding);
    return holding.clients;
  };
  const url = (query = '', user = 'app'): string => cluster.url(user, PASSWORD, 'appdb', query);
  /** Opens a transaction on `holder` that keeps a row lock (UPDATE of accounts id 1), and returns its pid. */
  const lockRow = async (holder: pg.Client | undefined): Promise<number | undefined> => {
    await holder?.query('BEGIN');
    await holder?.query('UPDATE accounts SET balance = balance + 1 WHERE id = 1');
    return (await holder?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.rows[0]?.pid;
  };

  beforeAll(async () => {
    cluster = await Cluster.create('pool', { settings: { max_connections: 20, superuser_reserved_connections: 3 } });
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql(`CREATE ROLE limited LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql(`ALTER ROLE postgres PASSWORD '${PASSWORD}'`);
    await cluster.sql('GRANT pg_read_all_stats TO app');
    await cluster.sql('CREATE DATABASE appdb OWNER app');
    await cluster.sql('CREATE TABLE accounts (id int primary key, balance int)', 'appdb');
    await cluster.sql('INSERT INTO accounts VALUES (1, 100)', 'appdb');
  });
  afterEach(async () => {
    await Promise.all(held.map((holding) => holding.release()));
    held = [];
  });
  afterAll(async () => cluster?.destroy());

  test('healthy and quiet: pool passes with the count in use', async () => {
    const { code, target } = await diagnoseJson([url()]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'pool')?.evidence).toMatchObject({ maxConnections: 20, inUse: 1 });
  });

  test('80 % of max_connections in use: near_limit, degraded, exit 1', async () => {
    await hold(15);
    const { code, report, target } = await diagnoseJson([url()]);
    expect(verdictOf(report)).toBe('pool/near_limit');
    expect(code).toBe(1);
    expect(report.status).toBe('degraded');
    expect(target.verdict.details).toMatchObject({ inUse: 16, maxConnections: 20, usedPercent: 80 });
    expect(target.warnings).toEqual([expect.objectContaining({ step: 'pool', cause: 'near_limit' })]);
  });

  test('only superuser slots left: too_many_connections ("remaining connection slots are reserved")', async () => {
    await hold(17);
    const { code, report, target } = await diagnoseJson([url()]);
    expect(verdictOf(report)).toBe('pool/too_many_connections');
    expect(code).toBe(2);
    expect(target.verdict.details.sqlstate).toBe('53300');
    expect(String(target.verdict.details.serverMessage)).toContain('reserved');
  });

  test('every slot taken: too_many_connections ("sorry, too many clients already")', async () => {
    await hold(20);
    const { report, target } = await diagnoseJson([url()]);
    expect(verdictOf(report)).toBe('pool/too_many_connections');
    expect(target.verdict.details.serverMessage).toBe('sorry, too many clients already');
  });

  test('a superuser gets in through a reserved slot: still too_many_connections for everyone else', async () => {
    await hold(17, { user: 'app', password: PASSWORD });
    const { report, target } = await diagnoseJson([url('', 'postgres')]);
    expect(verdictOf(report)).toBe('pool/too_many_connections');
    expect(target.verdict.message).toContain('only reserved slots are left');
    expect(target.steps.find((step) => step.id === 'auth')?.status).toBe('skip');
  });

  test('a session idle in a transaction past the threshold: idle_in_transaction with its pid', async () => {
    const [client] = await hold(1);
    await client?.query('BEGIN');
    await client?.query('SELECT 1');
    const pid = (await client?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.rows[0]?.pid;
    await pause(1300);
    const { code, report, target } = await diagnoseJson(['--idle-in-transaction', '1s', url()]);
    expect(verdictOf(report)).toBe('pool/idle_in_transaction');
    expect(code).toBe(2);
    expect(target.verdict.details.sessions).toEqual([expect.objectContaining({ pid, state: 'idle in transaction' })]);
    expect(target.verdict.remediation.some((fix) => fix.command?.includes(`pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (${pid})`))).toBe(true);
  });

  test('a session idle in a transaction that holds a lock another waits on: idle_in_transaction names the waiter and says ending it releases it', async () => {
    const [holder, waiter] = await hold(2, { database: 'appdb' });
    const holderPid = await lockRow(holder);
    const waiterPid = (await waiter?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.rows[0]?.pid;
    const waiting = waiter?.query('UPDATE accounts SET balance = balance + 2 WHERE id = 1').catch(() => undefined);
    await pause(1300);
    const { report, target } = await diagnoseJson(['--idle-in-transaction', '1s', url()]);
    expect(verdictOf(report)).toBe('pool/idle_in_transaction');
    expect(target.verdict.message).toContain(`wait on their locks (pid ${waiterPid})`);
    expect(target.verdict.details.sessions).toEqual([
      expect.objectContaining({ pid: holderPid, role: 'idle in transaction', detail: expect.stringContaining(`blocking pid ${waiterPid}`) }),
      expect.objectContaining({ pid: waiterPid, role: 'waiting', query: 'UPDATE accounts SET balance = balance + 2 WHERE id = 1' }),
    ]);
    const terminate = target.verdict.remediation.find((fix) => fix.command?.includes(`WHERE pid IN (${holderPid})`));
    expect(terminate?.text).toContain(`the waiting session(s) ${waiterPid} carry on`);
    await holder?.query('ROLLBACK');
    await waiting;
  });

  test('many sessions idle past the idle threshold: idle_connections, degraded', async () => {
    await hold(5);
    await pause(1300);
    const { code, report, target } = await diagnoseJson(['--idle', '1s', url()]);
    expect(verdictOf(report)).toBe('pool/idle_connections');
    expect(code).toBe(1);
    expect(target.verdict.details.idlePastThreshold).toBe(5);
  });

  test('idle past --idle 1s: the printed terminate uses the 1 s actually applied, and the warning is said once in the human report', async () => {
    const [inTransaction] = await hold(6);
    await inTransaction?.query('BEGIN');
    await inTransaction?.query('SELECT 1');
    await pause(1300);
    const { report, target } = await diagnoseJson(['--idle', '1s', '--idle-in-transaction', '1s', url()]);
    expect(verdictOf(report)).toBe('pool/idle_in_transaction');
    const idle = target.steps.find((step) => step.id === 'pool')?.also?.find((finding) => finding.cause === 'idle_connections');
    const terminate = idle?.remediation.find((fix) => fix.command?.includes('pg_terminate_backend'));
    expect(terminate?.command).toContain("state_change < now() - interval '1 seconds'");
    expect(terminate?.text).toContain('1 s');
    expect(
      target.steps
        .flatMap((step) => [step, ...(step.also ?? [])])
        .flatMap((finding) => finding.remediation)
        .some((fix) => fix.command?.includes('30 minutes')),
    ).toBe(false);
    const human = await dbdoctor(['diagnose', '--idle', '1s', '--idle-in-transaction', '1s', url()]);
    expect(human.stdout.split('idle_connections').length - 1).toBe(1);
  });

  test("a role's own CONNECTION LIMIT reached: the role's fix comes first, not the server's", async () => {
    await cluster.sql('ALTER ROLE limited CONNECTION LIMIT 1');
    try {
      await hold(1, { user: 'limited', password: PASSWORD });
      const { report, target } = await diagnoseJson(['--idle', '1s', url('', 'limited')]);
      expect(verdictOf(report)).toBe('pool/too_many_connections');
      expect(String(target.verdict.details.serverMessage)).toContain('too many connections for role "limited"');
      const [first, second, third] = target.verdict.remediation;
      expect(first?.text).toContain('ALTER ROLE limited CONNECTION LIMIT n');
      expect(first?.command).toBe("SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname = 'limited';");
      expect(second?.command).toContain("WHERE usename = 'limited'");
      expect(third?.command).toContain("usename = 'limited' AND state = 'idle' AND state_change < now() - interval '1 seconds'");
    } finally {
      await cluster.sql('ALTER ROLE limited CONNECTION LIMIT -1');
    }
  });

  test('a statement active past the threshold: long_running with its pid and query', async () => {
    const [client] = await hold(1);
    const pid = (await client?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.rows[0]?.pid;
    const sleeping = client?.query('SELECT pg_sleep(30)').catch(() => undefined);
    await pause(1300);
    const { code, report, target } = await diagnoseJson(['--long-running', '1s', url()]);
    expect(verdictOf(report)).toBe('queries/long_running');
    expect(code).toBe(2);
    expect(target.verdict.details.longRunning).toEqual([expect.objectContaining({ pid, query: 'SELECT pg_sleep(30)' })]);
    expect(target.verdict.remediation[0]?.command).toBe(`SELECT pg_cancel_backend(${pid});`);
    await cluster.sql(`SELECT pg_cancel_backend(${pid})`);
    await sleeping;
  });

  test('a role without pg_read_all_stats: the limit of its view is reported, not hidden', async () => {
    const [client] = await hold(1);
    const sleeping = client?.query('SELECT pg_sleep(30)').catch(() => undefined);
    await pause(1300);
    const { code, target } = await diagnoseJson(['--long-running', '1s', url('', 'limited')]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'queries')?.summary).toContain('limited view');
    expect(target.steps.find((step) => step.id === 'pool')?.evidence.hiddenSessions).toBe(1);
    const pid = (await cluster.sql("SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")).rows[0]?.pid as number;
    await cluster.sql(`SELECT pg_cancel_backend(${pid})`);
    await sleeping;
  });

  test('a role without pg_read_all_stats, the pool step skipped: the queries step still reports the limit of its view (a fact, not left behind by the pool step)', async () => {
    const { code, target } = await diagnoseJson(['--skip', 'pool', url('', 'limited')]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'pool')?.summary).toBe('not checked: --skip');
    const queries = target.steps.find((step) => step.id === 'queries');
    expect(queries?.summary).toContain('(limited view: only this role’s sessions are visible)');
    expect(queries?.evidence.visibility).toContain('role "limited" is not a superuser and lacks pg_read_all_stats');
  });

  test('a transaction holding a lock another waits on: blocked, naming waiter and blocker', async () => {
    const [holder, waiter] = await hold(2, { database: 'appdb' });
    await holder?.query('BEGIN');
    await holder?.query('LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE');
    const holderPid = (await holder?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.rows[0]?.pid;
    const waiting = waiter?.query('SELECT * FROM accounts').catch(() => undefined);
    await pause(1300);
    const { code, report, target } = await diagnoseJson(['--lock-wait', '1s', url()]);
    expect(verdictOf(report)).toBe('queries/blocked');
    expect(code).toBe(2);
    const blocked = target.verdict.details.blocked as { blocked_by: number[]; query: string; blockers: { pid: number; state: string }[] }[];
    expect(blocked[0]?.blocked_by).toEqual([holderPid]);
    expect(blocked[0]?.query).toBe('SELECT * FROM accounts');
    expect(blocked[0]?.blockers[0]).toMatchObject({ pid: holderPid, state: 'idle in transaction' });
    expect(target.verdict.remediation.some((fix) => fix.command === `SELECT pg_terminate_backend(${holderPid});`)).toBe(true);
    await holder?.query('ROLLBACK');
    await waiting;
  });

  test('blocked by a session idle in a transaction: straight to pg_terminate_backend, no cancel (there is no statement to cancel)', async () => {
    const [holder, waiter] = await hold(2, { database: 'appdb' });
    const holderPid = await lockRow(holder);
    const waiting = waiter?.query('UPDATE accounts SET balance = balance + 2 WHERE id = 1').catch(() => undefined);
    await pause(1300);
    // The idle threshold above the wait, so the pool step passes and the lock wait is the verdict.
    const { report, target } = await diagnoseJson(['--lock-wait', '1s', '--idle-in-transaction', '1h', url()]);
    expect(verdictOf(report)).toBe('queries/blocked');
    const commands = target.verdict.remediation.map((fix) => fix.command ?? '');
    expect(commands).toContain(`SELECT pg_terminate_backend(${holderPid});`);
    expect(commands.some((command) => command.includes('pg_cancel_backend'))).toBe(false);
    await holder?.query('ROLLBACK');
    await waiting;
  });

  test('blocked by a running statement: cancel first, then terminate', async () => {
    const [holder, waiter] = await hold(2, { database: 'appdb' });
    const holderPid = await lockRow(holder);
    const sleeping = holder?.query('SELECT pg_sleep(30)').catch(() => undefined);
    const waiting = waiter?.query('UPDATE accounts SET balance = balance + 2 WHERE id = 1').catch(() => undefined);
    await pause(1300);
    const { report, target } = await diagnoseJson(['--lock-wait', '1s', '--long-running', '1h', url()]);
    expect(verdictOf(report)).toBe('queries/blocked');
    const commands = target.verdict.remediation.map((fix) => fix.command ?? '');
    const cancel = commands.indexOf(`SELECT pg_cancel_backend(${holderPid});`);
    expect(cancel).toBeGreaterThanOrEqual(0);
    expect(commands.indexOf(`SELECT pg_terminate_backend(${holderPid});`)).toBeGreaterThan(cancel);
    await cluster.sql(`SELECT pg_cancel_backend(${holderPid})`);
    await sleeping;
    await holder?.query('ROLLBACK');
    await waiting;
  });

  test('blocked by a superuser session an ordinary role cannot see: says so, lists the waiter, and the fix is for a superuser', async () => {
    await cluster.sql('GRANT SELECT, UPDATE ON accounts TO limited', 'appdb');
    const [holder] = await hold(1, { user: 'postgres', password: PASSWORD, database: 'appdb' });
    const [waiter] = await hold(1, { user: 'limited', password: PASSWORD, database: 'appdb' });
    const holderPid = await lockRow(holder);
    const waiterPid = (await waiter?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))?.rows[0]?.pid;
    const waiting = waiter?.query('UPDATE accounts SET balance = balance + 2 WHERE id = 1').catch(() => undefined);
    await pause(1300);
    const { report, target } = await diagnoseJson(['--lock-wait', '1s', url('', 'limited')]);
    expect(verdictOf(report)).toBe('queries/blocked');
    expect(target.verdict.message).toContain(`the blocker(s) ${holderPid} are another role's sessions this role cannot see`);
    expect(target.verdict.details.sessions).toEqual([
      expect.objectContaining({ role: 'waiting', pid: waiterPid, user: 'limited' }),
      expect.objectContaining({ role: 'blocking', pid: holderPid, user: 'postgres', state: 'not visible to this role' }),
    ]);
    const texts = target.verdict.remediation.map((fix) => fix.text).join('\n');
    expect(texts).not.toContain('are running statements');
    expect(texts).toContain('A superuser or postgres must look');
    const cancel = target.verdict.remediation.find((fix) => fix.command === `SELECT pg_cancel_backend(${holderPid});`);
    expect(cancel?.run).toContain('-U postgres');
    await holder?.query('ROLLBACK');
    await waiting;
  });

  test('pg_stat_activity revoked from PUBLIC (a hardened server): check_error on the checks, degraded, the rest carries on', async () => {
    // Catalog views are per database: revoke where the diagnosis connects.
    await cluster.sql('REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC', 'appdb');
    try {
      const { code, report, target } = await diagnoseJson([url('', 'limited')]);
      expect(verdictOf(report)).toBe('pool/check_error');
      expect(code).toBe(1);
      expect(target.steps.map((step) => `${step.id}:${step.status}`)).toEqual([
        'process:pass',
        'accepting:pass',
        'network:pass',
        'pool:warn',
        'auth:pass',
        'queries:warn',
      ]);
      expect(String(target.verdict.details.error)).toContain('permission denied');
    } finally {
      await cluster.sql('GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC', 'appdb');
    }
  });

  test('sslmode=require against a server with TLS off: tls_unsupported', async () => {
    const { code, report } = await diagnoseJson([url('?sslmode=require')]);
    expect(verdictOf(report)).toBe('accepting/tls_unsupported');
    expect(code).toBe(2);
  });

  test('the parameters the user gave (application_name, connect_timeout) stay in the headline and in every URL a fix prints', async () => {
    const { report, target } = await diagnoseJson([url('?sslmode=require&application_name=billing-api&connect_timeout=5')]);
    expect(verdictOf(report)).toBe('accepting/tls_unsupported');
    expect(target.target).toContain('application_name=billing-api');
    expect(target.target).toContain('connect_timeout=5');
    const urls = target.verdict.remediation.flatMap((fix) => [fix.command ?? '', fix.run ?? '']).filter((line) => line.includes('postgresql://'));
    expect(urls.length).toBeGreaterThan(0);
    for (const line of urls) {
      expect(line).toContain('application_name=billing-api');
      expect(line).toContain('connect_timeout=5');
      expect(line).not.toContain(PASSWORD);
    }
  });

  test('dbdoctor opens one connection and runs only read-only statements', async () => {
    await cluster.sql("ALTER SYSTEM SET log_statement = 'all'");
    await cluster.reload();
    await pause(300);
    const offset = readFileSync(cluster.logFile).length;
    try {
      const { code } = await diagnoseJson([url()]);
      expect(code).toBe(0);
    } finally {
      await cluster.sql('ALTER SYSTEM RESET log_statement');
      await cluster.reload();
    }
    const lines = readFileSync(cluster.logFile).subarray(offset).toString('utf8').split('\n');
    // The lab's own helpers connect over the Unix socket; dbdoctor is the only TCP client here.
    expect(lines.filter((line) => /connection received: host=127\.0\.0\.1/.test(line))).toHaveLength(1);
    expect(lines.some((line) => /connection authorized: user=app database=appdb application_name=dbdoctor/.test(line))).toBe(true);
    const statements = lines
      .filter((line) => / LOG: {2}(statement|execute [^:]*): /.test(line) && !/ALTER SYSTEM|pg_reload_conf/.test(line))
      .map((line) => line.replace(/^.* LOG: {2}(statement|execute [^:]*): /, ''));
    expect(statements.length).toBeGreaterThanOrEqual(3);
    for (const statement of statements) {
      expect(statement).toMatch(/^(BEGIN READ ONLY; SET LOCAL statement_timeout = \d+; SET LOCAL lock_timeout = \d+|SELECT |WITH )/);
    }
  });
});
