import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { IsolatedHost } from '../lab/isolated.js';
import { Ferret } from '../lab/mongo.js';

/**
 * Process-step faults need a machine where the only MongoDB server is the one under test, so
 * they run on an isolated host (own PID and network namespaces) with a real FerretDB in it.
 */
describe('mongodb process step, on an isolated host with a real FerretDB', () => {
  let host: IsolatedHost;
  let server: Ferret;
  const PORT = 27017;

  beforeAll(async () => {
    host = await IsolatedHost.create({ pid: true });
    server = await Ferret.start({ prefix: host.prefix, listen: `127.0.0.1:${PORT}` });
  });
  afterAll(async () => {
    await server?.destroy();
    await host?.destroy();
  });

  test('healthy inside the isolated host (no authentication)', async () => {
    const { code, report } = await diagnoseJson([`mongodb://127.0.0.1:${PORT}/app`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
  });

  test('wrong port: names the port the server listens on', async () => {
    const { code, report, target } = await diagnoseJson(['mongodb://127.0.0.1:27018/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(code).toBe(2);
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
    expect(target.verdict.remediation[0]?.command).toBe(`mongodb://127.0.0.1:${PORT}/app`);
  });

  test('another address and another port: wrong_port, and its URL names the address the server is bound to', async () => {
    const { report, target } = await diagnoseJson(['mongodb://127.0.0.2:27018/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
    expect(target.verdict.remediation[0]?.command).toBe(`mongodb://127.0.0.1:${PORT}/app`);
  });

  test('not listening on this address: the server is bound to 127.0.0.1 only', async () => {
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.2:${PORT}/app`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(code).toBe(2);
    expect(target.verdict.details.listeningOn).toContain(`127.0.0.1:${PORT}`);
  });

  test('stopped server: not_running, with the start command', async () => {
    await server.stop();
    try {
      const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${PORT}/app`], { prefix: host.prefix });
      expect(verdictOf(report)).toBe('process/not_running');
      expect(code).toBe(2);
      expect(target.verdict.details.localServers).toEqual([]);
      expect(target.steps.slice(1).every((step) => step.status === 'skip')).toBe(true);
    } finally {
      await server.restart();
    }
  });
});
