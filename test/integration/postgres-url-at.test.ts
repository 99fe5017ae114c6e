import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson } from '../lab/dbdoctor.js';
import { Cluster, pgBinDir } from '../lab/postgres.js';

/**
 * A password with a raw "@" in a PostgreSQL URL: the clients sharing the URL read it in two ways,
 * shown here with the real ones. dbdoctor refuses the URL (exit 3) and says how to write it.
 */
const run = promisify(execFile);
const PASSWORD = 'p@ss-word';

describe('a raw "@" in a PostgreSQL URL', () => {
  let cluster: Cluster;
  const raw = (): string => `postgresql://atuser:${PASSWORD}@127.0.0.1:${cluster.port}/app`;
  const encoded = (): string => `postgresql://atuser:${encodeURIComponent(PASSWORD)}@127.0.0.1:${cluster.port}/app`;

  beforeAll(async () => {
    cluster = await Cluster.create('rawat');
    await cluster.sql(`CREATE ROLE atuser LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql('CREATE DATABASE app OWNER atuser');
  });
  afterAll(async () => cluster?.destroy());

  test('libpq (psql) reads the rest of the password as the host and fails; node-postgres logs in', async () => {
    const psql = await run(`${pgBinDir()}/psql`, [raw(), '-Atc', 'SELECT 1'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } }).then(
      () => 'connected',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(psql).toContain('could not translate host name "ss-word@127.0.0.1"');
    const client = new pg.Client({ connectionString: raw() });
    await client.connect();
    expect((await client.query('SELECT current_user AS who')).rows[0]).toEqual({ who: 'atuser' });
    await client.end();
  });

  test('dbdoctor refuses it as bad input, names both readings and the fix, and never shows the password', async () => {
    const result = await dbdoctor(['diagnose', raw()]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('the password holds a raw "@"');
    expect(result.stderr).toContain('psql');
    expect(result.stderr).toContain('node-postgres');
    expect(result.stderr).toContain('%40');
    expect(result.stderr).not.toContain('ss-word');
    expect(result.stdout).toBe('');
  });

  test('percent-encoded as %40: psql and dbdoctor both log in', async () => {
    const psql = await run(`${pgBinDir()}/psql`, [encoded(), '-Atc', 'SELECT current_user'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    expect(psql.stdout.trim()).toBe('atuser');
    const { target } = await diagnoseJson([encoded()]);
    expect(target.status).toBe('healthy');
  });
});
