import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { abstractSocketSupport } from '../../src/net/tcp.js';
import { IsolatedHost } from '../lab/isolated.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Cluster, pgBinDir } from '../lab/postgres.js';

/**
 * Process-step faults need a machine where the only PostgreSQL is the one under test, so each
 * runs on an isolated host (its own PID and network namespaces): /proc there shows nothing else.
 */
describe('postgres process step, on an isolated host', () => {
  let host: IsolatedHost;
  let cluster: Cluster;
  const PORT = 5433;

  beforeAll(async () => {
    host = await IsolatedHost.create({ pid: true });
    cluster = await Cluster.create('process', { prefix: host.prefix, port: PORT, listen: '127.0.0.1', abstractSocket: 'dbdoctor-process' });
  });
  afterAll(async () => {
    await cluster?.destroy();
    await host?.destroy();
  });

  test('healthy over TCP inside the isolated host', async () => {
    const { code, target } = await diagnoseJson([`postgresql://postgres@127.0.0.1:${PORT}/postgres`], { prefix: host.prefix, env: { PGPASSWORD: 'unused' } });
    // local connections in the lab are scram-sha-256 over TCP: a wrong password, but the server is up
    expect(target.steps.find((step) => step.id === 'process')?.status).toBe('pass');
    expect(code).toBe(2);
  });

  test('wrong port: names the port postgres listens on', async () => {
    const { code, report, target } = await diagnoseJson([`postgresql://postgres@127.0.0.1:6543/postgres`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(code).toBe(2);
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
    expect(target.verdict.message).toContain(`port ${PORT}`);
    expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain(`127.0.0.1:${PORT}`);
  });

  test('wrong port over the Unix socket: names the socket port', async () => {
    const { report, target } = await diagnoseJson([`host=${cluster.socketDir} port=6543 user=postgres dbname=postgres`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
  });

  test('not listening on this address: listen_addresses excludes 127.0.0.2', async () => {
    const { code, report, target } = await diagnoseJson([`postgresql://postgres@127.0.0.2:${PORT}/postgres`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(code).toBe(2);
    expect(target.steps.find((step) => step.id === 'process')?.status).toBe('pass');
    expect(target.verdict.details.listeningOn).toContain(`127.0.0.1:${PORT}`);
  });

  // Node 20's libuv (1.46) pads an abstract name to 108 bytes, so it cannot reach PostgreSQL's
  // "@name"; Node 22 and later can. Each runtime gets the answer it can give, both asserted.
  const abstract = abstractSocketSupport();

  test('an abstract socket (host=@name, libpq 14+): connected to as a Unix socket where the runtime can; else exit 3 in one line, never a DNS lookup', async () => {
    const args = [`host=@dbdoctor-process port=${PORT} user=postgres dbname=postgres`];
    if (abstract.state === 'supported') {
      const { code, report, target } = await diagnoseJson(args, { prefix: host.prefix });
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(target.steps.find((step) => step.id === 'network')?.summary).toContain('Unix socket');
      expect(target.target).toBe(`postgresql://postgres@/postgres?host=@dbdoctor-process&port=${PORT}`);
    } else {
      const result = await dbdoctor(['diagnose', ...args], { prefix: host.prefix });
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^dbdoctor: cannot reach the abstract socket "@dbdoctor-process" \(from connection string\): Node\.js v\S+ \(libuv [\d.]+\) pads/,
      );
      expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
    }
  });

  test('an abstract socket nobody listens on: names the sockets the server has (where the runtime reaches abstract sockets)', async () => {
    // The server's own "@name" listener is listed from /proc/net/unix on every runtime.
    const { target } = await diagnoseJson([`postgresql://postgres@127.0.0.1:6543/postgres`], { prefix: host.prefix });
    expect(JSON.stringify(target.verdict.details)).toContain(`@dbdoctor-process/.s.PGSQL.${PORT}`);
    if (abstract.state !== 'supported') return;
    const { report, target: socketTarget } = await diagnoseJson([`host=@dbdoctor-nosuch port=${PORT} user=postgres dbname=postgres`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(socketTarget.verdict.details.listeningOn).toContain(`@dbdoctor-process/.s.PGSQL.${PORT}`);
  });

  test('socket in another directory: names where the socket is', async () => {
    const { report, target } = await diagnoseJson([`host=/tmp port=${PORT} user=postgres dbname=postgres`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(target.verdict.details.listeningOn).toContain(`${cluster.socketDir}/.s.PGSQL.${PORT}`);
  });

  test('stopped server: not_running, with the start command', async () => {
    await cluster.stop('fast');
    try {
      const { code, report, target } = await diagnoseJson([`postgresql://postgres@127.0.0.1:${PORT}/postgres`], { prefix: host.prefix });
      expect(verdictOf(report)).toBe('process/not_running');
      expect(code).toBe(2);
      expect(target.verdict.details.localServers).toEqual([]);
      expect(target.steps.slice(1).every((step) => step.status === 'skip')).toBe(true);
      const socket = await diagnoseJson([`host=${cluster.socketDir} port=${PORT} user=postgres dbname=postgres`], { prefix: host.prefix });
      expect(verdictOf(socket.report)).toBe('process/not_running');
    } finally {
      await cluster.start();
    }
  });

  test('stopped server while a single-user postgres holds its data directory: not_running, and the holder is named', async () => {
    await cluster.stop('fast');
    // `postgres --single` (initdb runs two of these; operators run it for maintenance) listens on
    // nothing and keeps running while its standard input is open.
    const single = (port: number): ReturnType<typeof spawn> => {
      const [file, ...rest] = [
        ...host.prefix,
        'runuser',
        '-u',
        'postgres',
        '--',
        join(pgBinDir(), 'postgres'),
        '--single',
        '-D',
        cluster.dataDir,
        '-c',
        `port=${port}`,
        'postgres',
      ];
      return spawn(file ?? 'runuser', rest, { stdio: ['pipe', 'ignore', 'ignore'] });
    };
    const ended = (child: ReturnType<typeof spawn>): Promise<void> =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin?.end();
      });
    try {
      for (const [port, holds] of [
        [PORT, true],
        [6000, false],
      ] as const) {
        const child = single(port);
        try {
          const pidFile = join(cluster.dataDir, 'postmaster.pid');
          await waitFor(async () => (await host.exec('cat', [pidFile]).catch(() => ({ stdout: '' }))).stdout.startsWith('-'));
          const { report, target } = await diagnoseJson([`postgresql://postgres@127.0.0.1:${PORT}/postgres`], { prefix: host.prefix });
          expect(verdictOf(report)).toBe('process/not_running');
          expect(target.verdict.details.localServers).toEqual([]);
          if (holds) {
            expect(target.verdict.details.heldBy).toMatchObject({ mode: 'single-user', dataDir: cluster.dataDir, port: PORT });
            expect(target.verdict.message).toContain('single-user postgres');
            expect(target.verdict.remediation[0]?.text).toContain('postmaster.pid');
          } else {
            expect(target.verdict.details.heldBy).toBeUndefined();
          }
        } finally {
          await ended(child);
        }
      }
    } finally {
      await cluster.start();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met within 10 s');
}
