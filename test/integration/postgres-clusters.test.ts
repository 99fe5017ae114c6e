import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { requireRoot } from '../lab/isolated.js';
import { asPostgres, freePort, labDir, pgBinDir } from '../lab/postgres.js';

/**
 * Two clusters on one host, one of them stopped: the refused port belongs to the stopped one, so
 * the verdict is not_running with that cluster named and its start command first; the cluster
 * that runs on another port is only a possibility. Real Debian clusters (pg_createcluster, as the
 * postgresql package makes them) and plain initdb data directories side by side.
 */
const run = promisify(execFile);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function commands(fixes: readonly { command?: string }[]): string[] {
  return fixes.flatMap((fix) => (fix.command ? [fix.command] : []));
}

describe('Debian clusters: one runs, one is stopped', () => {
  const version = /\/postgresql\/(\d+)\//.exec(pgBinDir())?.[1] ?? '15';
  const suffix = randomBytes(3).toString('hex');
  const running = `dbdrun${suffix}`;
  const stopped = `dbdstop${suffix}`;
  let runningPort: number;
  let stoppedPort: number;

  beforeAll(async () => {
    requireRoot('pg_createcluster');
    runningPort = await freePort();
    stoppedPort = await freePort();
    await run('pg_createcluster', [
      version,
      running,
      '-p',
      String(runningPort),
      '--start',
      '--',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
    ]);
    await run('pg_createcluster', [version, stopped, '-p', String(stoppedPort), '--', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync']);
  });
  afterAll(async () => {
    for (const name of [running, stopped]) await run('pg_dropcluster', [version, name, '--stop']).catch(() => undefined);
  });

  test("the stopped cluster's port: not_running, the cluster named, pg_ctlcluster first, the other port only as a possibility", async () => {
    const { code, report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${stoppedPort}/app`]);
    expect(verdictOf(report)).toBe('process/not_running');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain(
      `cluster ${version}/${stopped} (/var/lib/postgresql/${version}/${stopped}), configured for port ${stoppedPort}, is not running`,
    );
    // Other tests' clusters may run on this machine at the same time: ours is among those named.
    expect(target.verdict.message).toMatch(
      new RegExp(`(another PostgreSQL cluster runs|other PostgreSQL clusters run) here on ports? [\\d, ]*\\b${runningPort}\\b`),
    );
    const fixes = commands(target.verdict.remediation);
    expect(fixes[0]).toMatch(new RegExp(`pg_ctlcluster ${version} ${stopped} start$`));
    expect(fixes[0]).not.toContain(String(runningPort));
    const possibility = target.verdict.remediation.find((fix) => /^Another cluster listens on port \d+.*Only if your database lives there/.test(fix.text));
    expect(possibility?.command).toMatch(/^postgresql:\/\/app@127\.0\.0\.1:\d+\/app$/);
    expect(target.verdict.details.stoppedClusters).toEqual([expect.objectContaining({ name: `${version}/${stopped}`, port: stoppedPort })]);
  });

  test('the running cluster is still found where it runs: a port nobody is configured for stays wrong_port', async () => {
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${await freePort()}/app`]);
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(target.verdict.details.listeningPorts).toContain(runningPort);
  });

  test('wait while the stopped cluster is started: not_running, then ready; never wrong_port', async () => {
    const starting = pause(1500).then(() => run('pg_ctlcluster', [version, stopped, 'start']));
    const result = await dbdoctor(['wait', '--timeout', '30', '--until', 'accepting', `postgresql://app@127.0.0.1:${stoppedPort}/app`]);
    await starting;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('process/not_running');
    expect(result.stderr).not.toContain('wrong_port');
    await run('pg_ctlcluster', [version, stopped, 'stop']);
  });
});

describe('data directories side by side, one stopped', () => {
  let root: string;
  let runningPort: number;
  let stoppedPort: number;
  const dir = (name: string): string => join(root, name);

  beforeAll(async () => {
    requireRoot('clusters owned by the postgres user');
    root = labDir('siblings');
    runningPort = await freePort();
    stoppedPort = await freePort();
    for (const [name, port] of [
      ['main', runningPort],
      ['reporting', stoppedPort],
    ] as const) {
      await asPostgres('initdb', ['-D', dir(name), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--no-instructions']);
      appendFileSync(
        join(dir(name), 'postgresql.conf'),
        `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir(name)}'\ncluster_name = '${name}'\n`,
      );
    }
    await asPostgres('pg_ctl', ['-D', dir('main'), '-l', join(dir('main'), 'server.log'), '-w', 'start']);
  });
  afterAll(async () => {
    for (const name of ['main', 'reporting']) await asPostgres('pg_ctl', ['-D', dir(name), '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await run('rm', ['-rf', root]);
  });

  test('not_running names the stopped directory and its cluster_name; its printed start command starts it', async () => {
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${stoppedPort}/app`]);
    expect(verdictOf(report)).toBe('process/not_running');
    expect(target.verdict.message).toContain(`cluster reporting (${dir('reporting')}), configured for port ${stoppedPort}, is not running`);
    expect(target.verdict.message).toMatch(
      new RegExp(`(another PostgreSQL cluster runs|other PostgreSQL clusters run) here on ports? [\\d, ]*\\b${runningPort}\\b`),
    );
    const start = commands(target.verdict.remediation)[0] ?? '';
    expect(start).toContain(`-D ${dir('reporting')}`);
    // Runs as printed (dbdoctor runs as root here, so it names runuser for the owner, not sudo).
    await run('bash', ['-c', start]);
    const again = await diagnoseJson([`postgresql://app@127.0.0.1:${stoppedPort}/app`]);
    expect(again.target.steps.find((step) => step.id === 'process')?.status).toBe('pass');
  });

  test("PGDATA names a stopped cluster elsewhere: the same verdict from the operator's own variable", async () => {
    await asPostgres('pg_ctl', ['-D', dir('reporting'), '-m', 'fast', '-w', 'stop']);
    const elsewhere = labDir('pgdata');
    await asPostgres('initdb', ['-D', join(elsewhere, 'pg'), '-U', 'postgres', '--no-sync', '--no-instructions']);
    const port = await freePort();
    appendFileSync(join(elsewhere, 'pg', 'postgresql.conf'), `\nport = ${port}\n`);
    try {
      const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${port}/app`], { env: { PGDATA: join(elsewhere, 'pg') } });
      expect(verdictOf(report)).toBe('process/not_running');
      expect(target.verdict.message).toContain(`the cluster in ${join(elsewhere, 'pg')}, configured for port ${port}, is not running`);
    } finally {
      await run('rm', ['-rf', elsewhere]);
    }
  });

  test("over a Unix socket, the stopped cluster's socket directory and port: not_running as over TCP, the other cluster's socket only a possibility", async () => {
    await asPostgres('pg_ctl', ['-D', dir('reporting'), '-m', 'fast', '-w', 'stop']).catch(() => undefined);
    const { code, report, target } = await diagnoseJson([`postgresql://app@/app?host=${dir('reporting')}&port=${stoppedPort}`]);
    expect(verdictOf(report)).toBe('process/not_running');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain(`cluster reporting (${dir('reporting')}), configured for port ${stoppedPort}, is not running`);
    const fixes = commands(target.verdict.remediation);
    expect(fixes[0]).toContain(`-D ${dir('reporting')}`);
    const possibility = target.verdict.remediation.find((fix) => /^Another cluster listens at .*Only if your database lives there/.test(fix.text));
    expect(possibility?.text).toContain(join(dir('main'), `.s.PGSQL.${runningPort}`));
    expect(possibility?.command).toBe(`postgresql://app@/app?host=${dir('main')}&port=${runningPort}`);
    expect(target.verdict.details.stoppedClusters).toEqual([expect.objectContaining({ name: 'reporting', port: stoppedPort })]);
  });

  test("over a Unix socket no cluster here is configured for: not_listening, naming where PostgreSQL's sockets are", async () => {
    const nowhere = labDir('nosocket');
    const { report, target } = await diagnoseJson([`postgresql://app@/app?host=${nowhere}&port=${stoppedPort}`]);
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(target.verdict.message).toContain(join(dir('main'), `.s.PGSQL.${runningPort}`));
    await run('rm', ['-rf', nowhere]);
  });
});
