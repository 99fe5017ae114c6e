import { describe, expect, test } from 'vitest';
import { runExplain, toExplainOptions, type StdinSource } from '../../src/cli/explain.js';
import type { CliIO } from '../../src/cli/io.js';
import { explainText } from '../../src/explain/match.js';
import { ExplainReportSchema, type ExplainReport } from '../../src/explain/schema.js';
import { displayWidth as visibleLength } from '../../src/report/wrap.js';

/**
 * Issue 19: a paste of several different errors is several findings, each with its own names and
 * fix; a statement the server rejected is not a connection problem; a limit the server enforces
 * that fired is said as such; the human output names the fault and fits the terminal.
 */
const explain = (text: string): Promise<ExplainReport> => explainText(text, { version: 'test' });

async function human(text: string, columns?: number, json = false): Promise<{ code: number; out: string }> {
  const stdout: string[] = [];
  const io: CliIO = {
    env: {},
    stdoutIsTTY: true,
    stderrIsTTY: false,
    ...(columns ? { columns } : {}),
    cwd: process.cwd(),
    out: async (chunk) => void stdout.push(chunk),
    err: async () => undefined,
  };
  const stdin: StdinSource = { isTTY: false, read: async () => text };
  const code = await runExplain(toExplainOptions(['-'], { color: false, json }, io), io, 'test', stdin);
  return { code, out: stdout.join('') };
}

/** The tester's paste (issue 19): a pgjdbc log line, psycopg2 refused, PostgreSQL's "too many clients", the MongoDB Node driver's ENOTFOUND. */
const MIXED = [
  '2026-11-29 03:01:02 ERROR o.p.Driver - org.postgresql.util.PSQLException: FATAL: password authentication failed for user "billing"',
  'psycopg2.OperationalError: connection to server at "db-replica.internal" (10.1.2.3), port 5433 failed: Connection refused',
  'FATAL:  sorry, too many clients already',
  'MongoServerSelectionError: getaddrinfo ENOTFOUND mongo-0.mongo.svc',
].join('\n');

/** Two psql runs against two hosts, each failing its own way. */
const TWO_PSQL = [
  'psql: error: connection to server at "db1" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user "alice"',
  'psql: error: connection to server at "db2" (10.0.0.6), port 6543 failed: Connection refused',
  '\tIs the server running on that host and accepting TCP/IP connections?',
].join('\n');

describe('several different errors in one paste: one finding each, newest last', () => {
  test("each error keeps its own names; none is merged into another's command", async () => {
    const report = await explain(MIXED);
    expect(report.findings?.map((finding) => [finding.engine, finding.verdict.cause, finding.fields])).toEqual([
      ['postgres', 'auth_failed', { user: 'billing' }],
      ['postgres', 'not_running', { host: 'db-replica.internal', port: 5433 }],
      ['postgres', 'too_many_connections', {}],
      ['mongodb', 'dns_not_found', { host: 'mongo-0.mongo.svc' }],
    ]);
    // The top level stays the newest finding's.
    expect(report.verdict?.cause).toBe('dns_not_found');
    expect(report.fields).toEqual({ host: 'mongo-0.mongo.svc' });
    expect(report.confirm).toBe('dbdoctor diagnose mongodb://mongo-0.mongo.svc:27017/');
    for (const finding of report.findings ?? []) {
      const commands = [finding.confirm ?? '', ...finding.remediation.map((fix) => fix.command ?? '')].join('\n');
      if (finding.verdict.cause !== 'dns_not_found') expect(commands).not.toContain('mongo-0');
      if (finding.verdict.cause !== 'auth_failed') expect(commands).not.toContain('billing');
      if (finding.verdict.cause !== 'not_running') expect(commands).not.toMatch(/5433|db-replica/);
    }
    expect(report.alternatives.map((alternative) => alternative.cause)).not.toContain('too_many_connections');
  });

  test('two psql runs: each host with its own failure and command', async () => {
    const report = await explain(TWO_PSQL);
    expect(report.findings?.map((finding) => [finding.verdict.cause, finding.fields, finding.confirm])).toEqual([
      ['auth_failed', { host: 'db1', port: 5432, user: 'alice' }, 'dbdoctor diagnose postgresql://alice@db1:5432/'],
      ['not_running', { host: 'db2', port: 6543 }, 'dbdoctor diagnose postgresql://db2:6543/'],
    ]);
  });

  test('the same error said again is one finding with a count; a repeat that names less is still the same', async () => {
    const line =
      'psql: error: connection to server at "db2" (10.0.0.6), port 6543 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?';
    const report = await explain(
      [
        line,
        'psql: error: connection to server at "db1" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user "alice"',
        line,
        line,
      ].join('\n'),
    );
    expect(report.findings?.map((finding) => [finding.verdict.cause, finding.occurrences])).toEqual([
      ['auth_failed', 1],
      ['not_running', 3],
    ]);
  });

  test('one libpq report that lists several hosts stays one report, split per host', async () => {
    const report = await explain(
      'psql: error: connection to server at "db" (10.0.0.1), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\nconnection to server at "db" (10.0.0.2), port 5432 failed: FATAL:  too many connections for role "app"',
    );
    expect(report.hosts).toHaveLength(2);
    expect(report.findings).toHaveLength(1);
  });

  test('a Java trace with its "Caused by" is one error', async () => {
    const report = await explain(
      'org.postgresql.util.PSQLException: Connection to db:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.\n\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:342)\nCaused by: java.net.ConnectException: Connection refused\n\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)',
    );
    expect(report.findings).toHaveLength(1);
    expect(report.verdict?.cause).toBe('not_running');
  });

  test('the CLI: every finding in JSON, one block each in the human output, exit code of the worst', async () => {
    const json = await human(MIXED, undefined, true);
    expect(json.code).toBe(2);
    expect(ExplainReportSchema.parse(JSON.parse(json.out)).findings).toHaveLength(4);
    const { out } = await human(MIXED, 100);
    expect(out).toMatch(
      /Different errors in the text, each once, newest last \(4\)[\s\S]*1\. ✖ auth\/auth_failed[\s\S]*2\. ✖ process\/not_running[\s\S]*3\. ✖ pool\/too_many_connections[\s\S]*4\. ✖ network\/dns_not_found/,
    );
    expect(out).not.toMatch(/RECOGNISED/);
  });
});

/** Captured from PostgreSQL 15 with psql 15 (a table t(id int primary key), a role "app" without grants). */
const STATEMENT_ERRORS: readonly (readonly [string, string, string])[] = [
  ['42P01', 'ERROR:  relation "users" does not exist\nLINE 1: select * from users\n                      ^', 'undefined_table'],
  ['42703', 'ERROR:  column "nme" does not exist\nLINE 1: select nme from t\n               ^', 'undefined_column'],
  ['23505', 'ERROR:  duplicate key value violates unique constraint "t_pkey"\nDETAIL:  Key (id)=(1) already exists.', 'unique_violation'],
  ['42501', 'ERROR:  permission denied for table t', 'insufficient_privilege'],
  ['40P01', 'ERROR:  deadlock detected\nDETAIL:  Process 4711 waits for ShareLock on transaction 812; blocked by process 4712.', 'deadlock_detected'],
  ['40001', 'ERROR:  could not serialize access due to concurrent update', 'serialization_failure'],
  ['22012', 'ERROR:  division by zero', 'division_by_zero'],
  ['25P02', 'ERROR:  current transaction is aborted, commands ignored until end of transaction block', 'in_failed_sql_transaction'],
  ['42601', 'psycopg2.errors.SyntaxError: syntax error at or near "FORM"\nLINE 1: SELECT * FORM users', 'syntax_error'],
  ['23503', 'error: insert or update on table "orders" violates foreign key constraint "orders_user_id_fkey"', 'foreign_key_violation'],
  ['P0001', 'ERROR: balance too low (SQLSTATE P0001)', 'raise_exception'],
  ['42P01', 'PG::UndefinedTable: ERROR:  relation "schema_migrations" does not exist', 'undefined_table'],
];

describe('a statement the server rejected is not a connection problem', () => {
  test.each(STATEMENT_ERRORS)('%s: the code and what it means, no connection cause, no guess', async (code, text, name) => {
    const report = await explain(text);
    expect(report.verdict).toBeNull();
    expect(report.guesses).toEqual([]);
    expect(report.statement).toMatchObject({ engine: 'postgres', code });
    expect(report.statement?.meaning).toContain(name);
  });

  test.each([
    [
      'MongoDB 11000',
      'MongoServerError: E11000 duplicate key error collection: shop.users index: email_1 dup key: { email: "a@example.com" }',
      'mongodb',
      /11000/,
    ],
    ['MongoDB 121', 'MongoServerError: Document failed validation', 'mongodb', /121/],
    [
      'MongoDB BadValue',
      "MongoServerError: unknown operator: $foo, full error: { ok: 0, errmsg: 'unknown operator: $foo', code: 2, codeName: 'BadValue' }",
      'mongodb',
      /BadValue/,
    ],
    [
      'Cassandra unconfigured table',
      'cassandra.InvalidRequest: Error from server: code=2200 [Invalid query] message="unconfigured table users"',
      'cassandra',
      /0x2200/,
    ],
    [
      'Cassandra syntax',
      'cassandra.protocol.SyntaxException: <Error from server: code=2000 [Syntax error in CQL query] message="line 1:7 no viable alternative at input \'FORM\'">',
      'cassandra',
      /0x2000/,
    ],
  ])('%s', async (_name, text, engine, code) => {
    const report = await explain(text);
    expect(report.verdict).toBeNull();
    expect(report.statement?.engine).toBe(engine);
    expect(report.statement?.code).toMatch(code);
  });

  test('permission denied for a database (CONNECT privilege) stays a connection error', async () => {
    const report = await explain(
      'psql: error: connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL:  permission denied for database "shop"\nDETAIL:  User does not have CONNECT privilege.',
    );
    expect(report.verdict?.cause).toBe('permission_denied');
    expect(report.statement).toBeUndefined();
  });

  test('the human output says so; exit code 4 (no connection cause), the JSON has the statement', async () => {
    const { code, out } = await human(STATEMENT_ERRORS[0]?.[1] ?? '');
    expect(code).toBe(4);
    expect(out).toMatch(/not a connection problem/);
    expect(out).toMatch(/42P01 undefined_table/);
    expect(out).not.toMatch(/database_missing/);
  });
});

describe('a limit the server enforces that fired is said as such', () => {
  test.each([
    ['statement_timeout', 'ERROR:  canceling statement due to statement timeout', /statement_timeout \(SQLSTATE 57014\)/],
    ['lock_timeout', 'ERROR:  canceling statement due to lock timeout', /lock_timeout \(SQLSTATE 55P03\)/],
    [
      'idle_in_transaction_session_timeout',
      'FATAL:  terminating connection due to idle-in-transaction timeout',
      /idle_in_transaction_session_timeout \(SQLSTATE 25P03\)/,
    ],
  ])('%s: which limit, where it is set, no "set a timeout", no diagnose threshold', async (setting, text, meaning) => {
    const report = await explain(text);
    expect(report.verdict?.meaning).toMatch(meaning);
    expect(report.verdict?.meaning).not.toMatch(/threshold|evidence/);
    const words = report.remediation.map((fix) => `${fix.text} ${fix.command ?? ''}`).join('\n');
    expect(words).toContain(`SHOW ${setting}`);
    expect(words).toContain('pg_db_role_setting');
    expect(words).not.toMatch(/Prevent it|are in the evidence/);
  });
});

describe('the human output fits the terminal and names the fault', () => {
  test.each([60, 80, 100])('%i columns: no line of prose runs past the width (commands may, unbroken)', async (columns) => {
    for (const text of [MIXED, TWO_PSQL, 'ERROR:  canceling statement due to statement timeout', 'ERROR:  relation "users" does not exist']) {
      const { out } = await human(text, columns);
      for (const line of out.split('\n')) {
        // A command line (indented seven spaces) is printed whole so a copy runs.
        if (line.startsWith('       ')) continue;
        const longWord = line.split(' ').some((word) => visibleLength(word) > columns / 2);
        if (!longWord) expect(visibleLength(line), line).toBeLessThanOrEqual(columns);
      }
    }
  });

  test("the header names the fault and where the words came from, not the tool's state; no rule ids", async () => {
    const { out } = await human('psql: error: connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  sorry, too many clients already', 100);
    expect(out.split('\n')[0]).toBe('✖ pool/too_many_connections — No connection slot is free (PostgreSQL, via psql)');
    expect(out).not.toMatch(/RECOGNISED|\(rule |pg\.too-many/);
    const unknown = await human('the widget frobnicated unexpectedly', 100);
    expect(unknown.out).not.toMatch(/no rule knows/);
  });
});
