import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { Cluster } from '../lab/postgres.js';

/**
 * "Not running" vs "starting up" vs "in recovery" vs "shutting down", each held for real:
 *  - starting up: a standby start whose restore_command blocks on a FIFO, so the startup process
 *    never gets past reading its first WAL segment;
 *  - recovery: a standby with hot_standby = off, which never accepts connections;
 *  - shutting down: a smart shutdown held open by one connected session.
 */
const PASSWORD = 'life-Pa55-word';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('postgres lifecycle states', () => {
  let cluster: Cluster;
  const url = (query = ''): string => cluster.url('app', PASSWORD, 'postgres', query);

  /** Restarts the cluster as a standby with these settings, without waiting for readiness. */
  async function startAsStandby(settings: Record<string, string>): Promise<void> {
    await cluster.stop('fast');
    cluster.markStandby();
    cluster.configure(settings);
    await cluster.startNoWait();
    for (let waited = 0; waited < 10_000 && !existsSync(join(cluster.socketDir, `.s.PGSQL.${cluster.port}`)); waited += 100) await pause(100);
    await pause(300);
  }

  /** Back to a plain primary: no standby.signal, no restore_command, hot_standby on. */
  async function restorePrimary(): Promise<void> {
    await cluster.stop('immediate');
    execFileSync('rm', ['-f', join(cluster.dataDir, 'standby.signal')]);
    cluster.configure({ restore_command: "''", hot_standby: 'on' });
    await cluster.start();
  }

  beforeAll(async () => {
    cluster = await Cluster.create('life');
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
  });
  afterAll(async () => cluster?.destroy());

  test('starting up (WAL restore in progress): starting_up, with a wait loop in the fix', async () => {
    const fifo = join(cluster.root, 'restore.fifo');
    execFileSync('runuser', ['-u', 'postgres', '--', 'mkfifo', fifo]);
    await startAsStandby({ hot_standby: 'on', restore_command: `'cat ${fifo} > /dev/null; false'` });
    try {
      const { code, report, target } = await diagnoseJson([url()]);
      expect(verdictOf(report)).toBe('accepting/starting_up');
      expect(code).toBe(2);
      expect(target.verdict.details).toMatchObject({ sqlstate: '57P03', serverMessage: 'the database system is starting up' });
      expect(target.verdict.remediation.some((fix) => /^timeout \d+ sh -c 'until pg_isready /.test(fix.command ?? ''))).toBe(true);
      expect(target.steps.find((step) => step.id === 'process')?.status).toBe('pass');

      // wait asks a starting server again every second or so, instead of backing off to 5 s.
      const waited = await dbdoctor(['wait', '--timeout', '4', '--until', 'accepting', url()]);
      expect(waited.code).toBe(2);
      const pauses = [...waited.stderr.matchAll(/accepting\/starting_up .*; next try in ([\d.]+) (ms|s)/g)].map(
        (match) => Number(match[1]) * (match[2] === 's' ? 1000 : 1),
      );
      expect(pauses.length).toBeGreaterThanOrEqual(3);
      for (const pause of pauses) expect(pause).toBeLessThanOrEqual(1200);
    } finally {
      await restorePrimary();
    }
  });

  test('a standby with hot_standby off: recovery, never "not running"', async () => {
    await startAsStandby({ hot_standby: 'off' });
    try {
      const { code, report, target } = await diagnoseJson([url()]);
      expect(verdictOf(report)).toBe('accepting/recovery');
      expect(code).toBe(2);
      expect(target.verdict.details).toMatchObject({ sqlstate: '57P03', detail: 'Hot standby mode is disabled.' });
    } finally {
      await restorePrimary();
    }
  });

  test('a hot standby with target_session_attrs=read-write: standby; without it: degraded (standby, a warning), noted read-only', async () => {
    await cluster.stop('fast');
    cluster.markStandby();
    cluster.configure({ hot_standby: 'on' });
    await cluster.start();
    try {
      const strict = await diagnoseJson([url('?target_session_attrs=read-write')]);
      expect(verdictOf(strict.report)).toBe('accepting/standby');
      const relaxed = await diagnoseJson([url()]);
      // Issue 14: a standby reached through a URL that asks for no role is degraded, not healthy.
      expect(relaxed.code).toBe(1);
      expect(relaxed.target.steps.find((step) => step.id === 'accepting')?.summary).toContain('read-only standby');
    } finally {
      await restorePrimary();
    }
  });

  test('a smart shutdown held by a session: shutting_down', async () => {
    const session = cluster.client();
    await session.connect();
    await cluster.stop('smart', false);
    await pause(300);
    try {
      const { code, report, target } = await diagnoseJson([url()]);
      expect(verdictOf(report)).toBe('accepting/shutting_down');
      expect(code).toBe(2);
      expect(target.verdict.details.serverMessage).toBe('the database system is shutting down');
    } finally {
      await session.end().catch(() => undefined);
      await cluster.stop('fast');
      await cluster.start();
    }
  });

  test('after all that, the same cluster is healthy again', async () => {
    const { code } = await diagnoseJson([url()]);
    expect(code).toBe(0);
  });
});
