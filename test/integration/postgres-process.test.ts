import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { IsolatedHost } from '../lab/isolated.js';
import { Cluster } from '../lab/postgres.js';

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
    cluster = await Cluster.create('process', { prefix: host.prefix, port: PORT, listen: '127.0.0.1' });
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
});
