import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, emptyHome } from '../lab/dbdoctor.js';
import { Cluster } from '../lab/postgres.js';
import { silentPeer, type Peer } from '../lab/servers.js';

/**
 * Never leaks a secret: every scenario, in every output format, with a known password given in
 * the URL, the environment, ~/.pgpass and a .env file. The password must not appear anywhere in
 * stdout or stderr, whether the diagnosis passes, fails, or the input is rejected.
 */
const SECRET = 'Tr0ub4dor-and-3-horses';
const FORMATS = [['--json'], [], ['--verbose'], ['--verbose', '--json']];

describe('no secret ever reaches the output', () => {
  let cluster: Cluster;
  let silent: Peer;
  beforeAll(async () => {
    cluster = await Cluster.create('secrets');
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${SECRET}'`);
    await cluster.sql('CREATE DATABASE appdb OWNER app');
    silent = await silentPeer();
  });
  afterAll(async () => {
    await cluster?.destroy();
    await silent?.close();
  });

  const scenarios: [string, () => { args: string[]; env?: Record<string, string>; cwd?: string }][] = [
    ['healthy, password in the URL', () => ({ args: [cluster.url('app', SECRET, 'appdb')] })],
    ['wrong password in the URL (the secret is the wrong one)', () => ({ args: [cluster.url('app', SECRET + 'x', 'appdb')] })],
    ['missing database, password in PGPASSWORD', () => ({ args: [`postgresql://app@127.0.0.1:${cluster.port}/nope`], env: { PGPASSWORD: SECRET } })],
    ['healthy, password in ~/.pgpass', () => {
      const home = emptyHome();
      writeFileSync(join(home, '.pgpass'), `*:*:*:app:${SECRET}\n`);
      chmodSync(join(home, '.pgpass'), 0o600);
      return { args: [`postgresql://app@127.0.0.1:${cluster.port}/appdb`], env: { HOME: home } };
    }],
    ['password in DATABASE_URL in ./.env, no target', () => {
      const cwd = emptyHome();
      writeFileSync(join(cwd, '.env'), `DATABASE_URL=${cluster.url('app', SECRET, 'appdb')}\nPOSTGRES_PASSWORD=${SECRET}\n`);
      return { args: [], cwd };
    }],
    ['password in a named --env-file, with PG* variables', () => {
      const dir = emptyHome();
      mkdirSync(join(dir, 'cfg'));
      writeFileSync(join(dir, 'cfg', 'db.env'), `PGHOST=127.0.0.1\nPGPORT=${cluster.port}\nPGUSER=app\nPGPASSWORD=${SECRET}\nPGDATABASE=appdb\n`);
      return { args: ['--env-file', join(dir, 'cfg', 'db.env')] };
    }],
    ['a silent server (deadline), password in the URL', () => ({ args: ['--timeout', '1', `postgresql://app:${SECRET}@127.0.0.1:${silent.port}/appdb`] })],
    ['an unresolvable host, password in a keyword/value string', () => ({ args: [`host=db.invalid user=app password=${SECRET} dbname=x`] })],
    ['malformed URL: password with an unescaped slash', () => ({ args: [`postgresql://app:${SECRET}/x@db/app`] })],
    ['malformed URL: bad port', () => ({ args: [`postgresql://app:${SECRET}@db:notaport/app`] })],
    ['unknown engine', () => ({ args: [`mysql://root:${SECRET}@db/app`] })],
    ['bad flag value next to a URL with a password', () => ({ args: ['--timeout', 'never', cluster.url('app', SECRET, 'appdb')] })],
  ];

  for (const [name, scenario] of scenarios) {
    test.each(FORMATS)(`${name} %j`, async (...format) => {
      const { args, env, cwd } = scenario();
      const result = await dbdoctor(['diagnose', ...format, ...args], { ...(env ? { env } : {}), ...(cwd ? { cwd } : {}) });
      expect(result.stdout + result.stderr).not.toContain(SECRET);
      expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(SECRET));
      expect([0, 1, 2, 3]).toContain(result.code);
    });
  }
});

describe('explain never echoes a secret pasted with the error', () => {
  const pasted: [string, string][] = [
    ['a URL in a SQLAlchemy error', `sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "db" (10.0.0.7), port 5432 failed: FATAL:  password authentication failed for user "app"\n(engine url: postgresql://app:${SECRET}@db:5432/appdb)`],
    ['PGPASSWORD in a log line', `PGPASSWORD=${SECRET} psql -h db -U app\npsql: error: connection to server at "db" (10.0.0.7), port 5432 failed: FATAL:  database "appdb" does not exist`],
    ['a keyword/value string', `could not connect with "host=db user=app password=${SECRET} dbname=x": could not translate host name "db" to address: Name or service not known`],
    ['a JSON config dump, unrecognised text', `{"mongo_password": "${SECRET}", "status": "weird"}`],
  ];
  for (const [name, text] of pasted) {
    test.each(FORMATS)(`${name} %j`, async (...format) => {
      const result = await dbdoctor(['explain', ...format.filter((flag) => flag !== '--verbose'), ...(format.includes('--verbose') ? ['-v'] : []), text]);
      expect(result.stdout + result.stderr).not.toContain(SECRET);
      expect([1, 2, 4]).toContain(result.code);
    });
  }
});
