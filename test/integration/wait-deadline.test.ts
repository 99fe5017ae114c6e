import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, type Run } from '../lab/dbdoctor.js';
import { BLACK_HOLE, IsolatedHost } from '../lab/isolated.js';
import { Cluster, freePort } from '../lab/postgres.js';
import { silentPeer, type Peer } from '../lab/servers.js';

/**
 * `wait --timeout T` is a promise to an init container: while the cause can heal, it waits the
 * whole T, measured from outside the process (spawn to exit, as a shell or the kubelet sees it),
 * and it is over by T + 0.2 s. Each fault is a real one: a port where nothing listens, a listener
 * that never answers, a black-holed address, a server that comes up just before the deadline.
 */
const SLACK_MS = 200;

function expectWholeTimeout(run: Run, seconds: number): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/timed out after/);
  expect(run.wallMs, `ended ${Math.round(seconds * 1000 - run.wallMs)} ms before --timeout ${seconds}`).toBeGreaterThanOrEqual(seconds * 1000);
  expect(run.wallMs, `ended ${Math.round(run.wallMs - seconds * 1000)} ms after --timeout ${seconds}`).toBeLessThanOrEqual(seconds * 1000 + SLACK_MS);
}

describe('wait keeps its --timeout', () => {
  let cluster: Cluster;
  let silent: Peer;

  beforeAll(async () => {
    cluster = await Cluster.create('waitdeadline');
    await cluster.sql("CREATE ROLE app LOGIN PASSWORD 'deadline-pw'");
    silent = await silentPeer();
  });
  afterAll(async () => {
    await silent?.close();
    await cluster?.destroy();
  });

  // Several lengths, each twice: the early give-up the issue measured depended on where the
  // backoff schedule happened to fall against the deadline.
  for (const seconds of [1, 2.5, 3.5]) {
    test(`nothing listens on the port: waits the whole --timeout ${seconds}, twice`, async () => {
      const port = await freePort();
      for (let run = 0; run < 2; run += 1) {
        const result = await dbdoctor(['wait', '--timeout', String(seconds), `postgresql://app@127.0.0.1:${port}/postgres`]);
        expectWholeTimeout(result, seconds);
        expect(result.stderr).toMatch(/process\/(not_running|wrong_port)/);
      }
    });
  }

  test('a listener that accepts and never answers (each attempt is slow): waits the whole --timeout 3', async () => {
    const result = await dbdoctor(['wait', '--timeout', '3', '--attempt-timeout', '1s', `postgresql://app@127.0.0.1:${silent.port}/postgres`]);
    expectWholeTimeout(result, 3);
    expect(result.stderr).toMatch(/no_response|deadline_exceeded/);
  });

  test('a black-holed address (connect never answers): waits the whole --timeout 2.5', async () => {
    const host = await IsolatedHost.create();
    try {
      const result = await dbdoctor(['wait', '--timeout', '2.5', `postgresql://app@${BLACK_HOLE}:5432/postgres`], { prefix: host.prefix });
      expectWholeTimeout(result, 2.5);
      expect(result.stderr).toMatch(/connect_timeout|deadline_exceeded/);
    } finally {
      await host.destroy();
    }
  });

  test('the server comes up 0.9 s before the deadline: wait sees it and exits 0', async () => {
    await cluster.stop('fast');
    try {
      const started = new Promise<void>((resolve) => setTimeout(() => void cluster.start().then(resolve, resolve), 2600));
      const result = await dbdoctor(['wait', '--timeout', '3.5', '--until', 'accepting', cluster.url('app', 'deadline-pw', 'postgres')]);
      await started;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/ready after \d+ attempts/);
      expect(result.wallMs).toBeLessThanOrEqual(3500 + SLACK_MS);
    } finally {
      await cluster.start().catch(() => undefined);
    }
  });

  test('a cause that cannot heal still fails fast, long before the deadline', async () => {
    const result = await dbdoctor(['wait', '--timeout', '30', cluster.url('app', 'not-the-password', 'postgres')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('waiting will not heal auth_failed');
    expect(result.wallMs).toBeLessThan(10_000);
  });
});
