import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, emptyHome, verdictOf } from '../lab/dbdoctor.js';
import { ExporterProcess, get, samples } from '../lab/exporter.js';
import { Ferret } from '../lab/mongo.js';
import { Cluster } from '../lab/postgres.js';

/**
 * FerretDB 1.x in front of a real PostgreSQL, with its own PLAIN authentication: FerretDB takes the
 * login on trust and hands the user and password to PostgreSQL when a command first needs the
 * data, so a wrong password "logs in" and fails only then, with PostgreSQL's words. (The other
 * FerretDB scenarios run its SQLite backend with SCRAM, where the login itself is checked.)
 */
const PASSWORD = 'ferret-Plain-pw-31';
const WRONG = 'ferret-Wrong-pw-64';

describe('FerretDB with PLAIN authentication against its PostgreSQL backend', () => {
  let cluster: Cluster;
  let ferret: Ferret;

  beforeAll(async () => {
    cluster = await Cluster.create('ferret-backend');
    await cluster.sql(`CREATE ROLE ferret LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql('CREATE DATABASE ferretdb OWNER ferret');
    ferret = await Ferret.start({ postgresqlUrl: `postgres://127.0.0.1:${cluster.port}/ferretdb` });
  });
  afterAll(async () => {
    await ferret?.destroy();
    await cluster?.destroy();
  });

  test('the right password: healthy, logged in with PLAIN', async () => {
    const { code, report, target } = await diagnoseJson([ferret.url('ferret', PASSWORD, 'ferretdb', '?authMechanism=PLAIN')]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'auth')?.summary).toMatch(/^logged in as "ferret" \(authSource ferretdb, PLAIN\)/);
  });

  test("a wrong password, which FerretDB accepts at login: auth/auth_failed with PostgreSQL's words, not healthy", async () => {
    const { code, report, target, stdout, stderr } = await diagnoseJson([ferret.url('ferret', WRONG, 'ferretdb', '?authMechanism=PLAIN')]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(code).toBe(2);
    expect(target.verdict.message).toBe(
      'the server took the login of "ferret" (PLAIN), then refused its credentials when a command first used them: "FATAL: password authentication failed for user "ferret" (SQLSTATE 28P01)"',
    );
    expect(target.verdict.details).toMatchObject({ refusedOnFirstCommand: 'listCollections' });
    expect(target.verdict.remediation[0]?.text).toMatch(/^Check the password for "ferret"; it came from the connection URL/);
    expect(`${stdout}${stderr}`).not.toContain(WRONG);
  });

  test('the exporter says the same: dbdoctor_up 0, auth/auth_failed', async () => {
    const dir = emptyHome();
    writeFileSync(
      join(dir, 'targets.yaml'),
      ['targets:', '  - label: sessions', `    url: ${ferret.url('ferret', WRONG, 'ferretdb', '?authMechanism=PLAIN')}`, ''].join('\n'),
    );
    const exporter = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0'], { cwd: dir });
    try {
      const answer = await get(`${exporter.url}/probe?target=sessions`);
      expect(samples(answer.body, 'dbdoctor_up')[0]?.value).toBe(0);
      expect(samples(answer.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'auth', cause: 'auth_failed' });
      expect(answer.body).not.toContain(WRONG);
    } finally {
      await exporter.stop();
    }
    expect(exporter.log).not.toContain(WRONG);
  });
});
