import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { Cluster } from '../lab/postgres.js';

/**
 * A real primary and a real streaming hot standby made from it with pg_basebackup -R (as an
 * operator makes one), then the primary stopped. Diagnosed as an ordinary role ("app", which sees
 * that the server is a standby but not where its primary is) and as a monitoring role with
 * pg_read_all_stats and pg_read_all_settings ("monitor", which sees the WAL receiver's sender and
 * primary_conninfo).
 */
const PASSWORD = 'standby-Pa55-word';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a primary and a streaming standby', () => {
  let primary: Cluster;
  let standby: Cluster;
  const standbyUrl = (user: string, query = ''): string => standby.url(user, PASSWORD, 'postgres', query);

  beforeAll(async () => {
    primary = await Cluster.create('primary');
    await primary.sql(`CREATE ROLE replicator REPLICATION LOGIN PASSWORD '${PASSWORD}'`);
    await primary.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
    await primary.sql(`CREATE ROLE monitor LOGIN PASSWORD '${PASSWORD}' IN ROLE pg_read_all_stats, pg_read_all_settings`);
    await primary.sql('CREATE TABLE ticks (at timestamptz DEFAULT now())');
    standby = await Cluster.standbyOf(primary, 'standby', { user: 'replicator', password: PASSWORD });
    // Streaming, and one transaction replayed, before any scenario looks.
    await primary.sql('INSERT INTO ticks DEFAULT VALUES');
    for (let waited = 0; waited < 10_000; waited += 100) {
      const { rows } = await standby.sql("SELECT count(*)::int AS n FROM pg_stat_wal_receiver WHERE status = 'streaming'");
      if (rows[0]?.n === 1) break;
      await pause(100);
    }
  });
  afterAll(async () => {
    await standby?.destroy();
    await primary?.destroy();
  });

  test('the primary itself: healthy', async () => {
    const { code, report } = await diagnoseJson([primary.url('app', PASSWORD, 'postgres')]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
  });

  test('the standby through a plain URL, as an ordinary role: degraded, standby, and how to ask for the primary', async () => {
    const { code, report, target } = await diagnoseJson([standbyUrl('app')]);
    expect(verdictOf(report)).toBe('accepting/standby');
    expect(code).toBe(1);
    expect(report.status).toBe('degraded');
    expect(target.verdict.message).toContain('read-only standby (in hot standby), and the connection settings do not ask for one (target_session_attrs=any, the default): reads work, every write fails with SQLSTATE 25006');
    expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain(`,127.0.0.1:${standby.port}/postgres?target_session_attrs=read-write`);
    expect(target.warnings).toEqual([expect.objectContaining({ step: 'accepting', cause: 'standby' })]);
  });

  test('the standby through a plain URL, as a monitoring role: the primary is named, with a URL for it', async () => {
    const { code, report, target } = await diagnoseJson([standbyUrl('monitor')]);
    expect(verdictOf(report)).toBe('accepting/standby');
    expect(code).toBe(1);
    expect(target.verdict.message).toContain(`it replicates from 127.0.0.1:${primary.port}`);
    expect(target.verdict.remediation[0]?.command).toBe(`postgresql://monitor@127.0.0.1:${primary.port}/postgres`);
    expect(target.verdict.details).toMatchObject({ inRecovery: true, replication: { walReceiver: { status: 'streaming' }, primary: { host: '127.0.0.1', port: primary.port, from: 'pg_stat_wal_receiver' } } });
  });

  test('target_session_attrs=standby (asked for): healthy, replication streaming', async () => {
    const { code, report, target } = await diagnoseJson([standbyUrl('app', '?target_session_attrs=standby')]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.summary).toContain('a read-only standby, as target_session_attrs=standby asks');
  });

  test('target_session_attrs=read-write (a primary required): standby is a failure', async () => {
    const { code, report } = await diagnoseJson([standbyUrl('app', '?target_session_attrs=read-write')]);
    expect(verdictOf(report)).toBe('accepting/standby');
    expect(code).toBe(2);
  });

  test('replay paused while the primary writes: replication_lag past --replication-lag', async () => {
    await standby.sql('SELECT pg_wal_replay_pause()');
    try {
      await pause(1200);
      await primary.sql('INSERT INTO ticks DEFAULT VALUES');
      await pause(300);
      const { code, report, target } = await diagnoseJson(['--replication-lag', '1s', standbyUrl('app', '?target_session_attrs=prefer-standby')]);
      expect(verdictOf(report)).toBe('accepting/replication_lag');
      expect(code).toBe(1);
      expect(target.verdict.message).toMatch(/the standby applies changes late: its last replayed transaction is [\d.]+ s old, with \d+ bytes of WAL received and not replayed yet \(replay is paused/);
    } finally {
      await standby.sql('SELECT pg_wal_replay_resume()');
    }
  });

  test('the primary stopped: replication_stopped (a warning with its own cause), and the primary named as down when the role may see it', async () => {
    await primary.stop('fast');
    try {
      await pause(500);
      const asked = await diagnoseJson([standbyUrl('monitor', '?target_session_attrs=standby')]);
      expect(verdictOf(asked.report)).toBe('accepting/replication_stopped');
      expect(asked.code).toBe(1);
      expect(asked.target.verdict.message).toContain(`its primary is 127.0.0.1:${primary.port} (from primary_conninfo), which refuses connections from here too: it is down`);
      expect(asked.target.verdict.remediation[0]?.command).toBe(`pg_isready -h 127.0.0.1 -p ${primary.port}`);

      const plain = await diagnoseJson([standbyUrl('app')]);
      expect(verdictOf(plain.report)).toBe('accepting/standby');
      expect(plain.code).toBe(1);
      expect(plain.target.warnings.map((warning) => warning.cause)).toEqual(['standby', 'replication_stopped']);
    } finally {
      await primary.start();
    }
  });
});
