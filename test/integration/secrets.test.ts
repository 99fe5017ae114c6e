import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, emptyHome } from '../lab/dbdoctor.js';
import { PgBouncer } from '../lab/pgbouncer.js';
import { Cluster, freePort } from '../lab/postgres.js';
import { silentPeer, type Peer } from '../lab/servers.js';
import { Ferret } from '../lab/mongo.js';
import { DC, exclusive, sharedCassandra, type CassandraNode } from '../lab/cassandra.js';

/**
 * Never leaks a secret: every scenario, in every output format, with a known password given in
 * the URL, the environment, ~/.pgpass, a .env file and a --config file. The password must not appear anywhere in
 * stdout or stderr, whether the diagnosis passes, fails, or the input is rejected.
 */
const SECRET = 'Tr0ub4dor-and-3-horses';
const EXPLAIN_FORMATS = [['--json'], [], ['-v'], ['-v', '--json'], ['--format', 'human'], ['--format', 'json']];
const FORMATS = [
  ['--json'],
  [],
  ['--verbose'],
  ['--verbose', '--json'],
  ['--format', 'junit'],
  ['--format', 'markdown'],
  ['--format', 'nagios'],
  ['--format', 'prometheus'],
];

describe('no secret ever reaches the output', () => {
  let cluster: Cluster;
  let silent: Peer;
  let pooler: PgBouncer;
  let ferret: Ferret;
  beforeAll(async () => {
    ferret = await Ferret.start({ adminPassword: SECRET });
    cluster = await Cluster.create('secrets');
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${SECRET}'`);
    // PgBouncer holds the secret for "stale"; the database has another password for it.
    await cluster.sql("CREATE ROLE stale LOGIN PASSWORD 'rotated-elsewhere'");
    await cluster.sql('CREATE DATABASE appdb OWNER app');
    silent = await silentPeer();
    pooler = await PgBouncer.start(cluster, {
      users: { app: SECRET, stale: SECRET },
      databases: { appdb: `host=${cluster.host} port=${cluster.port} dbname=appdb`, gone: `host=127.0.0.1 port=${await freePort()} dbname=appdb` },
      settings: { stats_users: 'app, stale' },
    });
  });
  afterAll(async () => {
    await pooler?.stop();
    await cluster?.destroy();
    await silent?.close();
    await ferret?.destroy();
  });

  const scenarios: [string, () => { args: string[]; env?: Record<string, string>; cwd?: string; command?: 'diagnose' | 'wait' }][] = [
    ['wait, failing fast on a wrong password in the URL', () => ({ command: 'wait', args: ['--timeout', '5', cluster.url('app', SECRET + 'x', 'appdb')] })],
    [
      'wait, timing out on a silent server, password in PGPASSWORD',
      () => ({ command: 'wait', args: ['--timeout', '1.5', `postgresql://app@127.0.0.1:${silent.port}/appdb`], env: { PGPASSWORD: SECRET } }),
    ],
    ['healthy, password in the URL', () => ({ args: [cluster.url('app', SECRET, 'appdb')] })],
    ['wrong password in the URL (the secret is the wrong one)', () => ({ args: [cluster.url('app', SECRET + 'x', 'appdb')] })],
    ['missing database, password in PGPASSWORD', () => ({ args: [`postgresql://app@127.0.0.1:${cluster.port}/nope`], env: { PGPASSWORD: SECRET } })],
    [
      'healthy, password in ~/.pgpass',
      () => {
        const home = emptyHome();
        writeFileSync(join(home, '.pgpass'), `*:*:*:app:${SECRET}\n`);
        chmodSync(join(home, '.pgpass'), 0o600);
        return { args: [`postgresql://app@127.0.0.1:${cluster.port}/appdb`], env: { HOME: home } };
      },
    ],
    [
      'password in DATABASE_URL in ./.env, no target',
      () => {
        const cwd = emptyHome();
        writeFileSync(join(cwd, '.env'), `DATABASE_URL=${cluster.url('app', SECRET, 'appdb')}\nPOSTGRES_PASSWORD=${SECRET}\n`);
        return { args: [], cwd };
      },
    ],
    [
      'password in a named --env-file, with PG* variables',
      () => {
        const dir = emptyHome();
        mkdirSync(join(dir, 'cfg'));
        writeFileSync(join(dir, 'cfg', 'db.env'), `PGHOST=127.0.0.1\nPGPORT=${cluster.port}\nPGUSER=app\nPGPASSWORD=${SECRET}\nPGDATABASE=appdb\n`);
        return { args: ['--env-file', join(dir, 'cfg', 'db.env')] };
      },
    ],
    ['a silent server (deadline), password in the URL', () => ({ args: ['--timeout', '1', `postgresql://app:${SECRET}@127.0.0.1:${silent.port}/appdb`] })],
    ['an unresolvable host, password in a keyword/value string', () => ({ args: [`host=db.invalid user=app password=${SECRET} dbname=x`] })],
    ['malformed URL: password with an unescaped slash', () => ({ args: [`postgresql://app:${SECRET}/x@db/app`] })],
    ['malformed URL: bad port', () => ({ args: [`postgresql://app:${SECRET}@db:notaport/app`] })],
    ['healthy through PgBouncer (console read), password in the URL', () => ({ args: [pooler.url('app', SECRET)] })],
    ['wrong password at PgBouncer', () => ({ args: [pooler.url('app', SECRET + 'x')] })],
    [
      "the database rejects PgBouncer's login, password in PGPASSWORD",
      () => ({ args: [`postgresql://stale@127.0.0.1:${pooler.port}/appdb`], env: { PGPASSWORD: SECRET } }),
    ],
    ['the database behind PgBouncer is down (login held), password in the URL', () => ({ args: ['--timeout', '2', pooler.url('app', SECRET, 'gone')] })],
    ['unknown engine', () => ({ args: [`mysql://root:${SECRET}@db/app`] })],
    ['mongodb: healthy, password in the URL', () => ({ args: [ferret.url('admin', SECRET)] })],
    ['mongodb: wrong password (the secret is the wrong one)', () => ({ args: [ferret.url('admin', SECRET + 'x', 'shop')] })],
    [
      'mongodb: password in MONGODB_URI in ./.env, no target',
      () => {
        const cwd = emptyHome();
        writeFileSync(join(cwd, '.env'), `MONGODB_URI=${ferret.url('admin', SECRET)}\n`);
        return { args: [], cwd };
      },
    ],
    ['mongodb: password in MONGO_URL in the environment', () => ({ args: [], env: { MONGO_URL: ferret.url('admin', SECRET, 'app', '?authSource=admin') } })],
    [
      'mongodb: a silent server (deadline), password in the URL',
      () => ({ args: ['--timeout', '1', `mongodb://admin:${SECRET}@127.0.0.1:${silent.port}/app`] }),
    ],
    ['mongodb+srv: an unresolvable cluster, password in the URL', () => ({ args: [`mongodb+srv://admin:${SECRET}@cluster.invalid/app`] })],
    ['mongodb: malformed option value next to a password', () => ({ args: [`mongodb://admin:${SECRET}@db:27017/?maxPoolSize=lots`] })],
    ['mongodb: bad port next to a password', () => ({ args: [`mongodb://admin:${SECRET}@db:99999/`] })],
    ['mongodb: a secret TLS key password option', () => ({ args: [`mongodb://db.invalid/?tls=true&tlsCertificateKeyFilePassword=${SECRET}`] })],
    [
      'a config file with passwords in its URLs (one right, one wrong)',
      () => {
        const cwd = emptyHome();
        writeFileSync(
          join(cwd, 'fleet.yaml'),
          `targets:\n  - label: orders\n    url: ${cluster.url('app', SECRET, 'appdb')}\n  - label: stale\n    url: ${cluster.url('app', SECRET + 'x', 'appdb')}\n  - label: catalogue\n    url: ${ferret.url('admin', SECRET)}\n`,
        );
        return { args: ['--config', 'fleet.yaml'], cwd };
      },
    ],
    [
      'a config file reading its URL from a variable (urlFrom)',
      () => {
        const cwd = emptyHome();
        writeFileSync(join(cwd, 'fleet.json'), JSON.stringify({ targets: [{ label: 'orders', urlFrom: 'ORDERS_URL' }] }));
        return { args: ['--config', 'fleet.json'], cwd, env: { ORDERS_URL: cluster.url('app', SECRET, 'appdb') } };
      },
    ],
    [
      'a config file with a syntax error on the line holding the password',
      () => {
        const cwd = emptyHome();
        writeFileSync(join(cwd, 'fleet.yaml'), `targets:\n  - label: orders\n    url: "postgresql://app:${SECRET}@db/app\n    timeout: [5\n`);
        return { args: ['--config', 'fleet.yaml'], cwd };
      },
    ],
    [
      'a config file with an invalid field next to the password',
      () => {
        const cwd = emptyHome();
        writeFileSync(join(cwd, 'fleet.yaml'), `targets:\n  - url: postgresql://app:${SECRET}@db/app\n    password: ${SECRET}\n`);
        return { args: ['--config', 'fleet.yaml'], cwd };
      },
    ],
    ['bad flag value next to a URL with a password', () => ({ args: ['--timeout', 'never', cluster.url('app', SECRET, 'appdb')] })],
  ];

  for (const [name, scenario] of scenarios) {
    // Each run is its own process, mostly waiting on a server: several at once keep the suite short.
    test.concurrent.each(FORMATS)(`${name} %j`, async (...format) => {
      const { args, env, cwd, command } = scenario();
      const before = cwd ? readdirSync(cwd).sort() : [];
      const result = await dbdoctor([command ?? 'diagnose', ...format, ...args], { ...(env ? { env } : {}), ...(cwd ? { cwd } : {}) });
      // dbdoctor writes no files: the working directory holds what the scenario put there, no more.
      if (cwd) expect(readdirSync(cwd).sort()).toEqual(before);
      expect(result.stdout + result.stderr).not.toContain(SECRET);
      expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(SECRET));
      expect([0, 1, 2, 3]).toContain(result.code);
    });
  }
});

describe('no secret ever reaches the output: Cassandra', () => {
  let node: CassandraNode;
  let silent: Peer;
  beforeAll(async () => {
    node = await sharedCassandra();
    // Under the node's lock: another file may have it stopped for a moment.
    await exclusive(() => node.cql(`CREATE ROLE IF NOT EXISTS secretive WITH PASSWORD = '${SECRET}' AND LOGIN = true`));
    silent = await silentPeer();
  }, 240_000);
  afterAll(async () => {
    await silent?.close();
  });

  const url = (password: string, host = `127.0.0.1:${node.port}`): string => `cassandra://secretive:${password}@${host}/?dc=${DC}`;
  const scenarios: [string, () => { args: string[]; env?: Record<string, string>; cwd?: string }][] = [
    ['healthy, password in the URL', () => ({ args: [url(SECRET)] })],
    ['wrong password in the URL (the secret is the wrong one)', () => ({ args: [url(SECRET + 'x')] })],
    [
      'password in CASSANDRA_PASSWORD, no target',
      () => ({
        args: [],
        env: { CASSANDRA_CONTACT_POINTS: `127.0.0.1:${node.port}`, CASSANDRA_USERNAME: 'secretive', CASSANDRA_PASSWORD: SECRET, CASSANDRA_DC: DC },
      }),
    ],
    [
      'password in DATABASE_URL in ./.env, no target',
      () => {
        const cwd = emptyHome();
        writeFileSync(join(cwd, '.env'), `DATABASE_URL=${url(SECRET)}\nCASSANDRA_PASSWORD=${SECRET}\n`);
        return { args: [], cwd };
      },
    ],
    ['a silent port (deadline), password in the URL', () => ({ args: ['--timeout', '1', url(SECRET, `127.0.0.1:${silent.port}`)] })],
    ['an unresolvable host, password in the URL', () => ({ args: [url(SECRET, 'db.invalid:9042')] })],
    ['malformed URL: bad port', () => ({ args: [url(SECRET, 'db:notaport')] })],
  ];

  for (const [name, scenario] of scenarios) {
    test.each(FORMATS)(`${name} %j`, async (...format) => {
      const { args, env, cwd } = scenario();
      const result = await exclusive(() => dbdoctor(['diagnose', ...format, ...args], { ...(env ? { env } : {}), ...(cwd ? { cwd } : {}) }));
      expect(result.stdout + result.stderr).not.toContain(SECRET);
      expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(SECRET));
      expect([0, 1, 2, 3]).toContain(result.code);
    });
  }
});

describe('explain never echoes a secret pasted with the error', () => {
  const pasted: [string, string][] = [
    [
      'a URL in a SQLAlchemy error',
      `sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "db" (10.0.0.7), port 5432 failed: FATAL:  password authentication failed for user "app"\n(engine url: postgresql://app:${SECRET}@db:5432/appdb)`,
    ],
    [
      'PGPASSWORD in a log line',
      `PGPASSWORD=${SECRET} psql -h db -U app\npsql: error: connection to server at "db" (10.0.0.7), port 5432 failed: FATAL:  database "appdb" does not exist`,
    ],
    [
      'a keyword/value string',
      `could not connect with "host=db user=app password=${SECRET} dbname=x": could not translate host name "db" to address: Name or service not known`,
    ],
    ['a JSON config dump, unrecognised text', `{"mongo_password": "${SECRET}", "status": "weird"}`],
  ];
  for (const [name, text] of pasted) {
    // explain writes for people and for machines only (human, json); the
    // report formats of diagnose do not apply to it.
    test.each(EXPLAIN_FORMATS)(`${name} %j`, async (...format) => {
      const result = await dbdoctor(['explain', ...format, text]);
      expect(result.stdout + result.stderr).not.toContain(SECRET);
      expect([1, 2, 4]).toContain(result.code);
    });
  }
});
