import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runExplain, toExplainOptions, type StdinSource } from '../../src/cli/explain.js';
import type { CliIO } from '../../src/cli/io.js';
import { explainText } from '../../src/explain/match.js';
import { flatten, normalise } from '../../src/explain/normalise.js';
import { ExplainReportSchema, type ExplainReport } from '../../src/explain/schema.js';
import { ERRNO_TABLE } from '../../src/net/errno.js';
import { ROOT } from '../lab/dbdoctor.js';

/**
 * explain on wordings the lab never produced: the same causes through other clients, platforms,
 * languages, escapings and log formats. Table tests, one per layer (normalisation, codes, errno,
 * hosts, streams), each row a text and the step/cause it must give — or "not recognised" where
 * the text does not decide.
 */
const explain = (text: string): Promise<ExplainReport> => explainText(text, { version: 'test' });
const verdictOf = (report: ExplainReport): string => (report.verdict ? `${report.verdict.step}/${report.verdict.cause}` : 'not recognised');

describe('normalisation: the message, not the way it travelled', () => {
  test.each([
    [
      'JSON-escaped quotes',
      '{"error":"connection to server at \\"172.26.0.3\\", port 5432 failed: FATAL:  password authentication failed for user \\"app\\""}',
      'password authentication failed for user "app"',
    ],
    ['PHP-escaped quotes and \\n', 'PDOException: SQLSTATE[08006] [7] FATAL:  role \\"ghost\\" does not exist\\n', 'role "ghost" does not exist'],
    ['HTML entities', 'FATAL: database &quot;orders&quot; does not exist', 'database "orders" does not exist'],
    ['UTF-8 read as Latin-1', 'FATAL:  la autentificaciÃ³n password fallÃ³ para el usuario Â«appÂ»', 'la autentificación password falló para el usuario «app»'],
    [
      'Python bytes escapes',
      "b'\\xd0\\xbf\\xd0\\xbe\\xd0\\xbb\\xd1\\x8c\\xd0\\xb7\\xd0\\xbe\\xd0\\xb2\\xd0\\xb0\\xd1\\x82\\xd0\\xb5\\xd0\\xbb\\xd1\\x8c'",
      'пользователь',
    ],
    ['ANSI colours', '\u001b[31mError: connect ECONNREFUSED 127.0.0.1:5432\u001b[0m', 'Error: connect ECONNREFUSED 127.0.0.1:5432'],
  ])('%s', (_name, raw, expected) => {
    expect(normalise(raw).text).toContain(expected);
  });

  test('log prefixes go (timestamps, pod names, levels, pids), and each prefixed line starts a record', () => {
    const { lines } = normalise(
      [
        '2024-05-01T10:00:00.123Z app-7d9f ERROR connect ECONNREFUSED 10.0.0.5:5432',
        '2024-05-01 10:00:01.456 UTC [4242] FATAL:  the database system is starting up',
        'May  1 10:00:02 db1 postgres[4242]: FATAL:  sorry, too many clients already',
        '[pod/api-5c7b/api] 2024/05/01 10:00:03 dial tcp 10.0.0.5:5432: connect: connection refused',
        'web-1  | Error: getaddrinfo ENOTFOUND db',
        'E0501 10:00:04.000000    1 main.go:42] failed to connect',
      ].join('\n'),
    );
    expect(lines.map((line) => line.text)).toEqual([
      'connect ECONNREFUSED 10.0.0.5:5432',
      'FATAL:  the database system is starting up',
      'FATAL:  sorry, too many clients already',
      'dial tcp 10.0.0.5:5432: connect: connection refused',
      'Error: getaddrinfo ENOTFOUND db',
      'failed to connect',
    ]);
    expect(lines.every((line) => line.record)).toBe(true);
  });

  test('stack frames go (Java, JavaScript, Python, Go, Ruby); Ruby keeps the message after its first frame', () => {
    const text = normalise(
      [
        'org.postgresql.util.PSQLException: FATAL: sorry, too many clients already',
        '\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693) ~[postgresql-42.7.3.jar:42.7.3]',
        '    at Connection.parseE (/app/node_modules/pg/lib/connection.js:614:13)',
        '  File "/app/db.py", line 12, in connect',
        '    conn = psycopg2.connect(dsn)',
        '           ^^^^^^^^^^^^^^^^^^^^^',
        '\t/usr/local/go/src/net/dial.go:580 +0x2a5',
        "/app/vendor/db.rb:83:in `rescue in initialize': FATAL:  sorry, too many clients already (PG::TooManyConnections)",
        "\tfrom /app/vendor/db.rb:40:in `initialize'",
      ].join('\n'),
    ).text;
    expect(text.split('\n')).toEqual([
      'org.postgresql.util.PSQLException: FATAL: sorry, too many clients already',
      'FATAL:  sorry, too many clients already (PG::TooManyConnections)',
    ]);
  });

  test('a structured (JSON) log line is read by its string values', () => {
    expect(normalise('{"ts":"2024-05-01T10:00:00Z","level":"error","msg":"db connect failed","error":"dial tcp 10.0.0.5:5432: i/o timeout"}').text).toBe(
      'error\ndb connect failed\ndial tcp 10.0.0.5:5432: i/o timeout',
    );
  });

  test('flatten joins wrapped lines and points back into them', () => {
    const text = 'could not translate host name "db" to address:\n   Name or service not known';
    const flat = flatten(text);
    expect(flat.text).toBe('could not translate host name "db" to address: Name or service not known');
    expect(text.slice(flat.origin(flat.text.indexOf('Name')))).toMatch(/^Name or service/);
  });
});

describe("the same causes in other clients' words, cases, escapings and languages", () => {
  test.each([
    // Windows, musl, macOS spellings of refusals and names (issue 13's list)
    [
      'Go on Windows (connectex)',
      'dial tcp 127.0.0.1:5432: connectex: No connection could be made because the target machine actively refused it.',
      'process/not_running',
    ],
    ['Windows errno 10061 (libpq)', 'could not connect to server: Connection refused (0x0000274D/10061)', 'process/not_running'],
    ['Python on Windows', 'ConnectionRefusedError: [WinError 1225] The remote computer refused the network connection', 'process/not_running'],
    ['musl: Name does not resolve', 'Error: getaddrinfo: Name does not resolve (postgres)', 'network/dns_not_found'],
    ['bionic/glibc EAI_NODATA', 'psql: error: could not translate host name "db" to address: No address associated with hostname', 'network/dns_not_found'],
    ['macOS gai', 'socket.gaierror: [Errno 8] nodename nor servname provided, or not known', 'network/dns_not_found'],
    ['Windows: No such host is known', 'System.Net.Sockets.SocketException (11001): No such host is known.', 'network/dns_not_found'],
    [
      'Windows timeout 10060',
      'A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.',
      'network/connect_timeout',
    ],
    ['Rust os error', 'Connection refused (os error 111)', 'process/not_running'],
    ['Node.js DNS SRV (lower case)', 'querysrv enotfound _mongodb._tcp.cluster0.example.mongodb.net', 'network/dns_not_found'],
    ['Node.js DNS TXT timeout', 'Error: queryTxt ETIMEOUT cluster0.example.mongodb.net', 'network/dns_temporary'],
    [
      'the resolver refused, not the database',
      'dial tcp: lookup db on 10.96.0.10:53: read udp 10.1.0.4:40000->10.96.0.10:53: read: connection refused',
      'network/dns_temporary',
    ],
    [
      'Unix socket file missing',
      'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory\n\tIs the server running locally and accepting connections on that socket?',
      'process/not_running',
    ],
    // PostgreSQL clients' own words, other cases
    [
      'pgjdbc: SCRAM unknown to an old driver',
      "org.postgresql.util.PSQLException: The authentication type 10 is not supported. Check that you have configured the pg_hba.conf file to include the client's IP address or subnet, and that it is using an authentication scheme supported by the driver.",
      'auth/auth_mechanism',
    ],
    ['libpq 9.6 and SCRAM', 'psycopg2.OperationalError: SCRAM authentication requires libpq version 10 or above', 'auth/auth_mechanism'],
    ['libpq: authentication method 10', 'psql: authentication method 10 not supported', 'auth/auth_mechanism'],
    ['another case: Server does not support SSL', 'Error: Server does not support SSL connections', 'accepting/tls_unsupported'],
    ['node-postgres connection timeout', 'Error: Connection terminated due to connection timeout', 'network/connect_timeout'],
    // 25006 is a standby or a read-only transaction on a primary (default_transaction_read_only): the words do not decide (issue 13's follow-up).
    ['Ruby PG::ReadOnlySqlTransaction', 'PG::ReadOnlySqlTransaction: ERROR:  cannot execute INSERT in a read-only transaction', 'not recognised'],
    // PostgreSQL in other languages (lc_messages)
    ['German server', 'FATAL:  Passwort-Authentifizierung für Benutzer »app« fehlgeschlagen', 'auth/auth_failed'],
    ['French server', "FATAL:  la base de données « orders » n'existe pas", 'auth/database_missing'],
    ['Japanese server', 'FATAL:  ロール"ghost"は存在しません', 'auth/role_missing'],
    [
      'Russian server via libpq',
      'psql: ошибка: подключиться к серверу "db" (10.0.0.5), порту 5432 не удалось: ВАЖНО:  извините, уже слишком много клиентов',
      'pool/too_many_connections',
    ],
    ['Chinese server', '致命错误:  数据库系统启动中', 'accepting/starting_up'],
    ['Spanish server', 'FATAL:  no hay una línea en pg_hba.conf para «10.0.0.9», usuario «app», base de datos «orders», sin cifrado', 'auth/hba_rejected'],
    [
      'German libpq and glibc',
      'psql: Fehler: Verbindung zum Server auf »db« (10.0.0.5), Port 5432 fehlgeschlagen: Verbindungsaufbau abgelehnt\n\tLäuft der Server auf diesem Host und akzeptiert er TCP/IP-Verbindungen?',
      'process/not_running',
    ],
    ['pgjdbc in Portuguese', 'org.postgresql.util.PSQLException: O servidor não suporta SSL.', 'accepting/tls_unsupported'],
    // MongoDB codes and words
    ['MongoDB NotMasterNoSlaveOk', 'MongoError: not master and slaveOk=false', 'accepting/standby'],
    ['MongoDB NotWritablePrimary code name', "MongoServerError: not primary\n  code: 10107,\n  codeName: 'NotWritablePrimary'", 'accepting/standby'],
    ['MongoDB 13 Unauthorized', 'MongoServerError: not authorized on admin to execute command { listDatabases: 1 }', 'auth/permission_denied'],
    ['MongoDB shell JSON code', '{ "ok" : 0, "errmsg" : "Authentication failed.", "code" : 18, "codeName" : "AuthenticationFailed" }', 'auth/auth_failed'],
    ['Atlas: bad auth', 'MongoServerError: bad auth : authentication failed', 'auth/auth_failed'],
    ['MongoDB no primary', 'MongoServerSelectionError: no primary found in replicaset or invalid replica set name', 'accepting/no_primary'],
    // Cassandra codes, classes and sentences
    [
      'Cassandra Python code=1000',
      "cassandra.Unavailable: Error from server: code=1000 [Unavailable exception] message=\"Cannot achieve consistency level QUORUM\" info={'consistency': 'QUORUM', 'required_replicas': 2, 'alive_replicas': 1}",
      'queries/unavailable',
    ],
    [
      'Cassandra OverloadedException',
      'com.datastax.driver.core.exceptions.OverloadedException: Queried host (/10.0.0.4:9042) was overloaded: Too many in flight hints',
      'pool/overloaded',
    ],
    [
      'Cassandra overloaded, Python code=1001',
      'Error from server: code=1001 [Coordinator node overloaded] message="Too many in flight hints: 10485800"',
      'pool/overloaded',
    ],
    [
      'Cassandra: Not enough replica available',
      'com.datastax.driver.core.exceptions.UnavailableException: Not enough replica available for query at consistency LOCAL_ONE (1 required but only 0 alive)',
      'queries/unavailable',
    ],
    [
      'Cassandra write timeout',
      'com.datastax.driver.core.exceptions.WriteTimeoutException: Cassandra timeout during SIMPLE write query at consistency LOCAL_QUORUM (2 replica were required but only 1 acknowledged the write)',
      'queries/unavailable',
    ],
    [
      'Cassandra bootstrapping',
      'com.datastax.driver.core.exceptions.BootstrappingException: Queried host (/10.0.0.4:9042) was bootstrapping',
      'accepting/starting_up',
    ],
    [
      'Cassandra keyspace without quotes',
      'errors=Error from server: code=2200 [Invalid query] message="Keyspace orders does not exist"',
      'auth/database_missing',
    ],
  ])('%s', async (_name, text, expected) => {
    expect(verdictOf(await explain(text))).toBe(expected);
  });

  test('fields still come out of a translated message: user, host and port', async () => {
    const report = await explain(
      'psql: Fehler: Verbindung zum Server auf »db.internal« (10.0.0.5), Port 5433 fehlgeschlagen: FATAL:  Passwort-Authentifizierung für Benutzer »billing« fehlgeschlagen',
    );
    expect(report.fields).toMatchObject({ host: 'db.internal', port: 5433, user: 'billing' });
    expect(report.confirm).toBe('dbdoctor diagnose postgresql://billing@db.internal:5433/');
  });
});

describe("codes before words: SQLSTATE in every client's spelling", () => {
  test.each([
    ['pgx', 'failed to connect to `host=db user=app database=app`: server error (FATAL: x (SQLSTATE 28P01))', 'auth/auth_failed'],
    ['PHP PDO', 'SQLSTATE[53300] [7] x', 'pool/too_many_connections'],
    ['node-postgres error object', "error: x\n  code: '3D000',\n  routine: 'InitPostgres'", 'auth/database_missing'],
    // 57P01 decides a shutdown only inside a connection attempt; on a session it may be pg_terminate_backend().
    ['psql verbose', 'psql: error: connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  57P01: x', 'accepting/shutting_down'],
    ['Npgsql', 'Npgsql.PostgresException (0x80004005): 53300: x', 'pool/too_many_connections'],
    ['Hibernate', 'SQL Error: 0, SQLState: 28P01', 'auth/auth_failed'],
    ['go-pg', 'ERROR #55P03 x', 'queries/blocked'],
    ['psycopg2 class', 'psycopg2.errors.InvalidCatalogName: x', 'auth/database_missing'],
    ['asyncpg class', 'asyncpg.exceptions.TooManyConnectionsError: x', 'pool/too_many_connections'],
    ['Ruby class', 'PG::ConnectionBad: x PG::InvalidPassword', 'auth/auth_failed'],
    ['Postgrex condition', '** (Postgrex.Error) FATAL 3D000 (invalid_catalog_name) x', 'auth/database_missing'],
  ])('%s', async (_name, text, expected) => {
    const report = await explain(text);
    expect(verdictOf(report)).toBe(expected);
  });

  test.each([
    [
      '28000 alone: pg_hba, a missing role, a role that may not log in, or a failed ident/peer check',
      "error: x\n  severity: 'FATAL',\n  code: '28000',\n  routine: 'ClientAuthentication'",
      ['auth/auth_failed', 'auth/hba_rejected', 'auth/role_missing'],
    ],
    ['57P03 alone: starting, stopping or recovering', 'FATAL:  57P03: x', ['accepting/starting_up', 'accepting/shutting_down', 'accepting/recovery']],
  ])('a code with several causes and no words: not recognised, with each as a guess (%s)', async (_name, text, guesses) => {
    const report = await explain(text);
    expect(report.status).toBe('not_recognised');
    const named = report.guesses.map((guess) => `${guess.step}/${guess.cause}`);
    for (const cause of guesses) expect(named).toContain(cause);
    for (const guess of report.guesses) expect(guess.why).toMatch(/a guess, not a diagnosis/);
  });

  test('a code that contradicts the words is no verdict: both are guesses', async () => {
    const report = await explain('FATAL:  database "orders" does not exist (SQLSTATE 53300)');
    expect(report.status).toBe('not_recognised');
    expect(report.guesses.map((guess) => guess.cause)).toEqual(expect.arrayContaining(['database_missing', 'too_many_connections']));
  });

  test('the words refine a code that carries several causes (28000 beside "role … does not exist")', async () => {
    const report = await explain('pq: role "ghost" does not exist (SQLSTATE 28000)');
    expect(verdictOf(report)).toBe('auth/role_missing');
    expect(report.alternatives.map((alternative) => alternative.cause)).not.toContain('auth_failed');
  });
});

describe('errno: every name, number and message of the table', () => {
  const CAUSE = {
    refused: 'process/not_running',
    timeout: 'network/connect_timeout',
    unreachable: 'network/host_unreachable',
    reset: 'accepting/connection_reset',
    name_not_found: 'network/dns_not_found',
    name_temporary: 'network/dns_temporary',
  } as const;
  const rows = ERRNO_TABLE.flatMap((entry) => [
    ...entry.names
      .filter((name) => !['ETIMEOUT', 'EREFUSED', 'ESERVFAIL'].includes(name))
      .map((name) => [`${name}`, `Error: connect ${name} 10.0.0.5:5432`, CAUSE[entry.failure]] as const),
    ...entry.numbers.map((number) => [`errno ${number}`, `OSError: [Errno ${number}] x`, CAUSE[entry.failure]] as const),
    ...(entry.gai ?? []).map((number) => [`gai ${number}`, `socket.gaierror: [Errno ${number}] x`, CAUSE[entry.failure]] as const),
    ...entry.messages.map((message) => [message, `could not connect: ${message}`, CAUSE[entry.failure]] as const),
  ]);
  test.each(rows)('%s', async (_name, text, expected) => {
    expect(verdictOf(await explain(text))).toBe(expected);
  });
});

describe('many hosts: one finding per host, the verdict is the most specific', () => {
  test('Cassandra (Python): one host refuses, another rejects the credentials', async () => {
    const report = await explain(
      "cassandra.cluster.NoHostAvailable: ('Unable to connect to any servers', {'10.0.0.1:9042': ConnectionRefusedError(111, \"Tried connecting to [('10.0.0.1', 9042)]. Last error: Connection refused\"), '10.0.0.2:9042': AuthenticationFailed('Failed to authenticate to 10.0.0.2:9042: Error from server: code=0100 [Bad credentials] message=\"Provided username app and/or password are incorrect\"')})",
    );
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(report.hosts?.map((host) => [host.host, host.port, host.cause])).toEqual([
      ['10.0.0.1', 9042, 'not_running'],
      ['10.0.0.2', 9042, 'auth_failed'],
    ]);
    expect(report.fields).toMatchObject({ host: '10.0.0.2', port: 9042, user: 'app' });
  });

  test('Cassandra (Java 3.x): "tried:" lists each host with its exception', async () => {
    const report = await explain(
      'com.datastax.driver.core.exceptions.NoHostAvailableException: All host(s) tried for query failed (tried: /10.0.0.1:9042 (com.datastax.driver.core.exceptions.TransportException: [/10.0.0.1:9042] Cannot connect), /10.0.0.2:9042 (com.datastax.driver.core.exceptions.UnavailableException: Not enough replicas available for query at consistency QUORUM (2 required but only 1 alive)))',
    );
    expect(verdictOf(report)).toBe('queries/unavailable');
    expect(report.hosts?.map((host) => host.host)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  test("libpq: one report per address; the server's answer outranks a refusal", async () => {
    const report = await explain(
      'psql: error: connection to server at "db" (10.0.0.1), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\nconnection to server at "db" (10.0.0.2), port 5432 failed: FATAL:  too many connections for role "app"',
    );
    expect(verdictOf(report)).toBe('pool/too_many_connections');
    expect(report.hosts?.map((host) => [host.host, host.cause])).toEqual([
      ['db (10.0.0.1)', 'not_running'],
      ['db (10.0.0.2)', 'too_many_connections'],
    ]);
  });

  test("libpq in German: the frames are read in the client's language", async () => {
    const report = await explain(
      'psql: Fehler: Verbindung zum Server auf »db« (10.0.0.1), Port 5432 fehlgeschlagen: Verbindungsaufbau abgelehnt\nVerbindung zum Server auf »db« (10.0.0.2), Port 5432 fehlgeschlagen: FATAL:  Datenbank »orders« existiert nicht',
    );
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(report.hosts).toHaveLength(2);
  });

  test('MongoDB (Go): the topology lists each server with its last error', async () => {
    const report = await explain(
      'server selection error: server selection timeout, current topology: { Type: ReplicaSetNoPrimary, Servers: [{ Addr: a.example:27017, Type: Unknown, Last error: dial tcp 10.0.0.1:27017: connect: connection refused }, { Addr: b.example:27017, Type: Unknown, Last error: dial tcp: lookup b.example on 10.96.0.10:53: no such host }, ] }',
    );
    expect(report.hosts?.map((host) => [host.host, host.cause])).toEqual([
      ['a.example', 'not_running'],
      ['b.example', 'dns_not_found'],
    ]);
  });
});

describe('log streams: each distinct diagnosis once, newest last', () => {
  const stream = [
    '2024-05-01T10:00:00Z api-1 INFO starting',
    '2024-05-01T10:00:01Z api-1 ERROR Error: connect ECONNREFUSED 10.0.0.5:5432',
    '2024-05-01T10:00:03Z api-1 ERROR Error: connect ECONNREFUSED 10.0.0.5:5432',
    '2024-05-01T10:00:05Z api-1 INFO retrying',
    '2024-05-01T10:00:08Z api-1 ERROR error: the database system is starting up',
    '2024-05-01T10:00:12Z api-1 ERROR error: password authentication failed for user "api"',
    '2024-05-01T10:00:13Z api-1 INFO giving up',
  ].join('\n');

  test('the verdict is the newest; the others are listed once each, with how often', async () => {
    const report = await explain(stream);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(report.diagnoses?.map((diagnosis) => [diagnosis.cause, diagnosis.occurrences])).toEqual([
      ['not_running', 2],
      ['starting_up', 1],
      ['auth_failed', 1],
    ]);
    expect(report.fields.user).toBe('api');
  });

  test('one error among noise is still found, with no list', async () => {
    const report = await explain(
      [
        '2024-05-01T10:00:00Z api-1 INFO starting',
        '2024-05-01T10:00:01Z api-1 ERROR FATAL:  sorry, too many clients already',
        '2024-05-01T10:00:02Z api-1 INFO retrying',
      ].join('\n'),
    );
    expect(verdictOf(report)).toBe('pool/too_many_connections');
    expect(report.diagnoses).toBeUndefined();
  });

  test('the CLI: exit code of the verdict, JSON valid, the human output lists the errors', async () => {
    const stdout: string[] = [];
    const io: CliIO = {
      env: {},
      stdoutIsTTY: false,
      stderrIsTTY: false,
      cwd: process.cwd(),
      out: async (text) => void stdout.push(text),
      err: async () => undefined,
    };
    const stdin: StdinSource = { isTTY: false, read: async () => stream };
    expect(await runExplain(toExplainOptions(['-'], { color: false, json: true }, io), io, 'test', stdin)).toBe(2);
    expect(ExplainReportSchema.parse(JSON.parse(stdout.join(''))).diagnoses).toHaveLength(3);
    stdout.length = 0;
    await runExplain(toExplainOptions(['-'], { color: false }, io), io, 'test', stdin);
    expect(stdout.join('')).toMatch(
      /Different errors in the text, each once, newest last[\s\S]*process\/not_running[\s\S]*accepting\/starting_up[\s\S]*auth\/auth_failed/,
    );
  });
});

describe('a wrong answer is worse than none', () => {
  test.each([
    ['an HTTP 503', 'HTTP/1.1 503 Service Unavailable'],
    [
      'an established node-postgres connection that dropped',
      "Error: Connection terminated unexpectedly\n    at Connection.<anonymous> (/app/node_modules/pg/lib/client.js:132:73)\nEmitted 'error' event on Client instance at:\n    at Client._handleErrorEvent (/app/node_modules/pg/lib/client.js:332:10)",
    ],
    ['EOF over TLS', 'DatabaseError: SSL SYSCALL error: EOF detected'],
    ['a bare "Unavailable" in prose', 'the reporting service is Unavailable: try later'],
    ['a query error', 'ERROR:  relation "users" does not exist at character 15'],
  ])('%s: not recognised', async (_name, text) => {
    expect((await explain(text)).status).toBe('not_recognised');
  });
});

describe('explain reaches the engines only through the registry (one contract, in src/engine/explainer.ts)', () => {
  const files = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
    );
  const imports = (file: string): string[] =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((match) => match[1] ?? '');

  test('src/explain imports no probe module but the lazy registry', () => {
    for (const file of files('src/explain'))
      for (const target of imports(file)) if (target.includes('/probes/')) expect(target, file).toBe('../probes/registry.js');
  });

  test('no probe imports src/explain', () => {
    for (const file of files('src/probes')) for (const target of imports(file)) expect(target, file).not.toMatch(/\/explain\//);
  });
});
