import { describe, expect, test } from 'vitest';
import { emptyTrace } from '../../src/probes/postgres/connect.js';
import { decide } from '../../src/probes/postgres/classify.js';
import type { DatabaseRow, PoolRow } from '../../src/probes/postgres/pooler/admin.js';
import { decidePooler, isProcessId, poolerErrorOf, poolerSigns } from '../../src/probes/postgres/pooler/recognise.js';
import { poolLimits, type PoolerView } from '../../src/probes/postgres/pooler/view.js';
import { configArgument, lastServerLoginIn, parsePgBouncerIni } from '../../src/probes/postgres/pooler/local.js';
import { judgeBackend } from '../../src/probes/postgres/pooler/judge.js';
import { poolerAcceptingRemedies } from '../../src/probes/postgres/pooler/accepting.js';
import type { PostgresTarget } from '../../src/config/postgres/target.js';

/** PgBouncer's words, as its sources (1.18 to 1.25) write them: SQLSTATE 08P01 and no location fields. */
describe("layer 1 for poolers: PgBouncer's own errors (SQLSTATE 08P01, no source location)", () => {
  test.each([
    ['no more connections allowed (max_client_conn)', 'pooler_client_limit'],
    ['client connections exceeded (max_db_client_connections)', 'pooler_client_limit'],
    ['server login has been failing, try again later (server_login_retry)', 'pooler_backend_down'],
    ['server login has been failing, cached error: connect failed (server_login_retry)', 'pooler_backend_down'],
    ['client_login_timeout (server down)', 'pooler_backend_down'],
    ['pgbouncer cannot connect to server', 'pooler_backend_down'],
    ['server login failed: wrong password type', 'pooler_backend_auth'],
    ['password authentication failed', 'pooler_auth'],
    ['SASL authentication failed', 'pooler_auth'],
    ['login rejected', 'pooler_auth'],
    ['no such user', 'pooler_auth'],
    ['not allowed', 'pooler_auth'],
    ['no such database: nowhere', 'database_missing'],
    ['database "appdb" is disabled', 'pooler_paused'],
    // The rest of the family, from PgBouncer's sources (1.10 to 1.25): every message it sends a client.
    ['database does not allow connections: appdb', 'pooler_paused'],
    ['server login has been failing, cached error: password authentication failed for user "app" (server_login_retry)', 'pooler_backend_auth'],
    [
      'server login has been failing, cached error: no pg_hba.conf entry for host "10.0.0.7", user "app", database "appdb", no encryption (server_login_retry)',
      'pooler_backend_auth',
    ],
    ['server login has been failing, cached error: server DNS lookup failed (server_login_retry)', 'pooler_backend_down'],
    ['server login has been failing, cached error: the database system is starting up (server_login_retry)', 'pooler_backend_down'],
    ['server conn crashed?', 'pooler_backend_down'],
    ['query_wait_timeout', 'pooler_pool_exhausted'],
    ['query_timeout', 'pooler_pool_exhausted'],
    ['SSL required', 'tls_required'],
    ['server shutting down', 'shutting_down'],
    ['pooler is shutting down', 'shutting_down'],
    ['PAM authentication failed', 'pooler_auth'],
    ['LDAP authentication failed', 'pooler_auth'],
    ['certificate authentication failed', 'pooler_auth'],
    ['"trust" authentication failed', 'pooler_auth'],
    ['unix socket login rejected', 'pooler_auth'],
    ['no username supplied', 'pooler_auth'],
    ['username too long', 'pooler_auth'],
    ['client selected an invalid SASL authentication mechanism', 'pooler_auth'],
    ['bouncer config error', 'not_accepting'],
    ['bouncer resources exhaustion', 'not_accepting'],
    ['no memory for pool', 'not_accepting'],
    ['admin forced disconnect', 'not_accepting'],
    ['suspend_timeout', 'not_accepting'],
    ['unsupported startup parameter: search_path', 'not_accepting'],
  ])('"%s" → %s', (message, cause) => {
    expect(poolerErrorOf({ code: '08P01', severity: 'FATAL', message, located: false })).toEqual({ cause, origin: 'pooler' });
  });

  test.each([
    ['08P01', 'password authentication failed for user "app"', 'pooler_backend_auth'],
    ['28P01', 'password authentication failed for user "app"', 'pooler_backend_auth'],
    ['28000', 'no pg_hba.conf entry for host "10.0.0.7", user "app", database "appdb", no encryption', 'pooler_backend_auth'],
    ['08P01', 'database "gone" does not exist', 'pooler_backend_auth'],
    ['08P01', 'the database system is starting up', 'pooler_backend_down'],
    ['08P01', 'sorry, too many clients already', 'pooler_backend_down'],
  ])('relayed from the database: %s "%s" → %s', (code, message, cause) => {
    expect(poolerErrorOf({ code, severity: 'FATAL', message, located: false })).toEqual({ cause, origin: 'database, relayed by the pooler' });
  });

  test.each([
    [
      'PostgreSQL itself, with its location fields',
      { code: '28P01', severity: 'FATAL', message: 'password authentication failed for user "app"', located: true },
    ],
    ['unknown origin (no record of the fields)', { code: '28P01', severity: 'FATAL', message: 'password authentication failed for user "app"' }],
    ["another proxy's own refusal", { code: '08004', severity: 'FATAL', message: 'server rejected the connection: maintenance window', located: false }],
  ])('not a pooler: %s', (_name, error) => {
    expect(poolerErrorOf(error)).toBeUndefined();
  });

  test("a pooler's decision overrides PostgreSQL's message rules (max_client_conn is not the database's too_many_connections)", () => {
    const trace = {
      ...emptyTrace(1000),
      phase: 'startup' as const,
      connected: { host: '127.0.0.1', port: 6432, address: '127.0.0.1', transport: 'tcp' as const },
      serverError: { code: '08P01', severity: 'FATAL', message: 'no more connections allowed (max_client_conn)', located: false },
    };
    expect(decide(trace)).toMatchObject({ step: 'pool', cause: 'too_many_connections' });
    expect(decidePooler(trace)).toEqual({ kind: 'failure', step: 'pool', cause: 'pooler_client_limit' });
  });
});

describe('signs of a pooler on a login that worked', () => {
  test.each([
    [4242, true],
    [4_194_304, true],
    [4_194_305, false],
    [689_506_417, false],
    [-547_750_497, false],
    [0, false],
  ])('backend key pid %d is a process id: %s', (pid, expected) => {
    expect(isProcessId(pid)).toBe(expected);
  });

  test('a made-up backend key, and a login held after the password, are signs; a plain login is none', () => {
    expect(poolerSigns({ ...emptyTrace(1000), phase: 'ready', backendPid: 689_506_417 })).toEqual(['backend-key-not-a-pid']);
    expect(poolerSigns({ ...emptyTrace(1000), phase: 'auth', timedOut: true, authAccepted: true })).toEqual(['silent-after-authentication']);
    expect(poolerSigns({ ...emptyTrace(1000), phase: 'ready', backendPid: 31337 })).toEqual([]);
  });
});

describe("which of PgBouncer's limits binds", () => {
  const pool = (servers: number, user = 'app', database = 'appdb'): PoolRow => ({
    database,
    user,
    cl_active: 0,
    cl_waiting: 1,
    sv_active: servers,
    sv_idle: 0,
    sv_used: 0,
    sv_tested: 0,
    sv_login: 0,
    maxwait: 2,
    maxwait_us: 0,
    pool_mode: 'transaction',
  });
  const database = (poolSize: number, maxConnections = 0, current = 0): DatabaseRow => ({
    name: 'appdb',
    host: '127.0.0.1',
    port: 5432,
    database: 'appdb',
    force_user: null,
    pool_size: poolSize,
    reserve_pool: 0,
    pool_mode: null,
    max_connections: maxConnections,
    current_connections: current,
    paused: 0,
    disabled: 0,
  });
  const view = (pools: PoolRow[], row: DatabaseRow, maxUser = 0): PoolerView => ({
    name: 'PgBouncer 1.18.0',
    signs: ['backend-key-not-a-pid'],
    admin: {
      state: 'read',
      console: {
        version: 'PgBouncer 1.18.0',
        config: { max_user_connections: String(maxUser) },
        databases: [row],
        pools,
        servers: [],
        stats: [],
        lists: {},
        unanswered: [],
      },
    },
    ...(pools[0] ? { pool: pools[0] } : {}),
    database: row,
  });

  test.each([
    ['the pool size', view([pool(2)], database(2)), 'pool_size'],
    ['max_db_connections before the pool size', view([pool(2)], database(10, 2, 2)), 'max_db_connections'],
    ["max_user_connections, counted over the user's pools", view([pool(1), pool(1, 'app', 'other')], database(10), 2), 'max_user_connections'],
    ['none: room left', view([pool(1)], database(5)), undefined],
  ])('%s', (_name, pooler, binding) => {
    expect(poolLimits(pooler)?.binding).toBe(binding);
  });
});

/** PgBouncer 1.18's log, as it wrote it in the lab (a fresh pool's first login, then a warm pool's). */
const LOG_FIRST_LOGIN = `2026-11-29 16:58:11.596 UTC [22213] LOG C-0x55a68a66a880: appdb/other@127.0.0.1:46842 login attempt: db=appdb user=other tls=no
2026-11-29 16:58:11.621 UTC [22213] LOG S-0x55a68a672100: appdb/other@127.0.0.1:25432 new connection to server (from 127.0.0.1:43448)
2026-11-29 16:58:11.640 UTC [22213] WARNING server login failed: FATAL password authentication failed for user "other"
2026-11-29 16:58:11.641 UTC [22213] LOG C-0x55a68a66a880: appdb/other@127.0.0.1:46842 closing because: password authentication failed for user "other" (age=0s)
2026-11-29 16:58:11.641 UTC [22213] WARNING C-0x55a68a66a880: appdb/other@127.0.0.1:46842 pooler error: password authentication failed for user "other"
2026-11-29 16:58:11.670 UTC [22213] LOG S-0x55a68a672100: appdb/other@127.0.0.1:25432 closing because: login failed (age=0s)`;
const LOG_WARM_POOL = `2026-11-29 17:11:45.309 UTC [17841] WARNING S-0x55c8a34dbf60: appdb/other@127.0.0.1:25432 got packet 'E' from server when not linked
2026-11-29 17:11:45.311 UTC [17841] LOG S-0x55c8a34dbf60: appdb/other@127.0.0.1:25432 closing because: server conn crashed? (age=0s)
2026-11-29 17:11:45.800 UTC [17841] LOG C-0x55c8a34d4880: appdb/other@127.0.0.1:39610 login attempt: db=appdb user=other tls=no
2026-11-29 17:11:45.816 UTC [17841] LOG S-0x55c8a34dbf60: appdb/other@127.0.0.1:25432 new connection to server (from 127.0.0.1:33306)
2026-11-29 17:11:45.832 UTC [17841] ERROR S: login failed: FATAL: password authentication failed for user "other"
2026-11-29 17:11:45.832 UTC [17841] LOG S-0x55c8a34dbf60: appdb/other@127.0.0.1:25432 closing because: login failed (age=0s)`;
const LOG_DOWN = `2026-11-29 16:58:59.768 UTC [29104] LOG S-0x56430f8ebf20: appdb/app@127.0.0.1:25432 closing because: connect failed (age=0s)`;

describe('PgBouncer on this machine: its configuration file and its log (pooler/local.ts)', () => {
  const at = Date.parse('2026-11-29T17:05:00Z');
  test.each([
    [
      "a fresh pool's first login, refused",
      LOG_FIRST_LOGIN,
      'appdb',
      'other',
      { kind: 'login-failed', words: 'password authentication failed for user "other"' },
    ],
    [
      "a warm pool's login, refused (a crashed server connection before it is no login)",
      LOG_WARM_POOL,
      'appdb',
      'other',
      { kind: 'login-failed', words: 'password authentication failed for user "other"' },
    ],
    ['a database that is down', LOG_DOWN, 'appdb', 'app', { kind: 'connect-failed' }],
    ["another pool's lines say nothing about this one", LOG_DOWN, 'appdb', 'other', undefined],
  ])('%s', (_name, log, database, user, expected) => {
    const event = lastServerLoginIn(log, database, user, at);
    if (expected === undefined) expect(event).toBeUndefined();
    else expect(event).toMatchObject(expected);
  });

  test('a failure older than ten minutes explains nothing now', () => {
    expect(lastServerLoginIn(LOG_DOWN, 'appdb', 'app', at + 20 * 60_000)).toBeUndefined();
  });

  test('the configuration file is the argument that is no option, and [databases] lines drop their passwords', () => {
    expect(configArgument(['/usr/sbin/pgbouncer', '-d', '/etc/pgbouncer/pgbouncer.ini'])).toBe('/etc/pgbouncer/pgbouncer.ini');
    expect(configArgument(['pgbouncer', 'pgbouncer.ini', '-u', 'postgres'])).toBe('pgbouncer.ini');
    const parsed = parsePgBouncerIni(
      '[databases]\nappdb = host=db port=6543 dbname=app password=s3cret max_db_connections=3\n* = host=fallback\n\n[pgbouncer]\n; a comment\nLogFile = /var/log/pgbouncer.log\nauth_query = SELECT usename, passwd FROM pg_shadow WHERE usename=$1\n',
    );
    expect(parsed.databases.appdb).toEqual({ host: 'db', port: '6543', dbname: 'app', max_db_connections: '3' });
    expect(parsed.settings).toMatchObject({ logfile: '/var/log/pgbouncer.log', auth_query: 'SELECT usename, passwd FROM pg_shadow WHERE usename=$1' });
  });
});

const baseTarget: PostgresTarget = {
  engine: 'postgres',
  display: 'postgresql://app@pooler.example:6432/appdb',
  sources: {},
  endpoints: [{ host: 'pooler.example', port: 6432 }],
  user: 'app',
  database: 'appdb',
  passfile: { state: 'not-consulted', path: '' },
  sslmode: 'prefer',
  targetSessionAttrs: 'any',
  ignoredParams: [],
};

describe('judging the database behind the pooler from the client side alone (pooler/judge.ts)', () => {
  const trace = { ...emptyTrace(1000), phase: 'ready' as const };
  const remote = (said: string): PoolerView => ({
    name: 'PgBouncer',
    signs: ['pooler-error'],
    admin: { state: 'refused', error: { code: '08P01', severity: 'FATAL', message: 'not allowed', located: false } },
    local: { state: 'not-here', reason: 'the pooler runs on another host' },
    confirmation: { kind: 'turned-away', error: { code: '08P01', severity: 'FATAL', message: said, located: false }, by: 'the query', waitedMs: 3 },
  });

  test('"server login has been failing" from a remote PgBouncer, no console: down or refusing, said as such, and no fix tells to start a database that may run', () => {
    const view = remote('server login has been failing, try again later (server_login_retry)');
    const judged = judgeBackend(view, trace);
    expect(judged).toMatchObject({ kind: 'down', how: 'unknown' });
    expect(judged.kind === 'down' ? judged.reasons.join('; ') : '').toContain("not confirmed from here: the database is down, or refuses PgBouncer's login");
    const fixes = poolerAcceptingRemedies.pooler_backend_down({ ...baseTarget }, view, 'unknown');
    expect(fixes.map((fix) => fix.text).join('\n')).not.toMatch(/Start it/);
  });

  test('"pgbouncer cannot connect to server" says the database is out of reach: down, with "start it"', () => {
    const view = remote('pgbouncer cannot connect to server');
    expect(judgeBackend(view, trace)).toMatchObject({ kind: 'down', how: 'broke' });
  });

  // PgBouncer still opening its first server connection after the database began refusing it: the
  // query waits, and so does a second client's login. Not a pool that serves (a later step would
  // only queue its own query until --timeout ran out).
  test("the query queued and a second client's login held too: not serving, and said as such", () => {
    const view: PoolerView = {
      ...remote('unused'),
      signs: ['backend-key-not-a-pid'],
      confirmation: { kind: 'queued', waitedMs: 2500, second: { outcome: 'login-held' } },
    };
    const judged = judgeBackend(view, trace);
    expect(judged).toMatchObject({ kind: 'down', how: 'unknown' });
    expect(judged.kind === 'down' ? judged.reasons.join('; ') : '').toContain(
      "held the first query in its queue (2.5 s); a second client's login was held too",
    );
  });

  test('the query queued and a second client was let in and queued too: a busy pool, judged by the pool step', () => {
    const view: PoolerView = {
      ...remote('unused'),
      signs: ['backend-key-not-a-pid'],
      confirmation: { kind: 'queued', waitedMs: 2500, second: { outcome: 'queued' } },
    };
    expect(judgeBackend(view, trace)).toEqual({ kind: 'serving' });
  });
});
