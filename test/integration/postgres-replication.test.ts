import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { Cluster } from '../lab/postgres.js';
import { pythonBlackHole, pythonHttpServer, pythonSilentServer } from '../lab/listeners.js';

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
    await primary.sql(`CREATE ROLE reader LOGIN PASSWORD '${PASSWORD}'`);
    await primary.sql(`CREATE ROLE statsonly LOGIN PASSWORD '${PASSWORD}' IN ROLE pg_read_all_stats`);
    await primary.sql('ALTER ROLE reader SET default_transaction_read_only = on');
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
    expect(target.verdict.message).toContain(
      'read-only standby (in hot standby), and the connection settings do not ask for one (target_session_attrs=any, the default): reads work, every write fails with SQLSTATE 25006',
    );
    expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain(
      `,127.0.0.1:${standby.port}/postgres?target_session_attrs=read-write`,
    );
    expect(target.warnings).toEqual([expect.objectContaining({ step: 'accepting', cause: 'standby' })]);
  });

  test('the standby through a plain URL, as a monitoring role: the primary is named, with a URL for it', async () => {
    const { code, report, target } = await diagnoseJson([standbyUrl('monitor')]);
    expect(verdictOf(report)).toBe('accepting/standby');
    expect(code).toBe(1);
    expect(target.verdict.message).toContain(`it replicates from 127.0.0.1:${primary.port}`);
    expect(target.verdict.remediation[0]?.command).toBe(`postgresql://monitor@127.0.0.1:${primary.port}/postgres`);
    expect(target.verdict.details).toMatchObject({
      inRecovery: true,
      replication: { walReceiver: { status: 'streaming' }, primary: { host: '127.0.0.1', port: primary.port, from: 'pg_stat_wal_receiver' } },
    });
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

  /** Several hosts, as libpq walks them (hosts.ts): "primary,standby" as host:port pairs. */
  const hostsUrl = (user: string, order: readonly Cluster[], query = ''): string =>
    `postgresql://${user}:${PASSWORD}@${order.map((cluster) => `127.0.0.1:${cluster.port}`).join(',')}/postgres${query}`;
  const stepOf = (target: { steps: { id: string; summary: string; evidence: Record<string, unknown> }[] }, id: string) =>
    target.steps.find((step) => step.id === id);

  test.each(['read-write', 'primary'])(
    'the standby listed first, target_session_attrs=%s: libpq passes it over and settles on the primary, so does dbdoctor (healthy; the standby is in the evidence)',
    async (attrs) => {
      const { code, report, target } = await diagnoseJson([hostsUrl('app', [standby, primary], `?target_session_attrs=${attrs}`)]);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(stepOf(target, 'process')?.summary).toBe(`a server accepted the connection at 127.0.0.1:${primary.port} (host 2 of the 2 listed)`);
      const words = attrs === 'read-write' ? 'session is read-only' : 'server is in hot standby mode';
      expect(stepOf(target, 'accepting')?.summary).toContain(`libpq passed over 127.0.0.1:${standby.port} (a standby: "${words}")`);
      expect(stepOf(target, 'process')?.evidence.hostsTried).toEqual([
        expect.objectContaining({ port: standby.port, outcome: 'role', said: words, role: expect.objectContaining({ inHotStandby: true }) }),
        expect.objectContaining({ port: primary.port, outcome: 'chosen' }),
      ]);
    },
  );

  test.each([
    ['standby', 'server is not in hot standby mode'],
    ['read-only', 'session is not read-only'],
  ])('target_session_attrs=%s pointed at the primary alone: libpq refuses it, role_mismatch (a failure)', async (attrs, words) => {
    const { code, report, target } = await diagnoseJson([primary.url('app', PASSWORD, 'postgres', `?target_session_attrs=${attrs}`)]);
    expect(verdictOf(report)).toBe('accepting/role_mismatch');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain(
      `the server is a primary (read-write), not a standby, and target_session_attrs=${attrs} refuses it (libpq: "${words}")`,
    );
    expect(target.verdict.remediation[0]?.command).toBe(`postgresql://app@127.0.0.1:${primary.port}/postgres?target_session_attrs=prefer-standby`);
  });

  test.each(['read-only', 'standby', 'prefer-standby'])(
    'the primary listed first, target_session_attrs=%s: the diagnosis is made at the standby libpq picks',
    async (attrs) => {
      const { code, report, target } = await diagnoseJson([hostsUrl('app', [primary, standby], `?target_session_attrs=${attrs}`)]);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(stepOf(target, 'process')?.summary).toContain(`127.0.0.1:${standby.port} (host 2 of the 2 listed)`);
      expect(stepOf(target, 'accepting')?.summary).toContain(`a read-only standby, as target_session_attrs=${attrs} asks`);
    },
  );

  test('prefer-standby with no standby listed: libpq falls back to the primary, healthy, and says so', async () => {
    const { code, report, target } = await diagnoseJson([hostsUrl('app', [primary, primary], '?target_session_attrs=prefer-standby')]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(stepOf(target, 'accepting')?.summary).toContain('no host listed is a standby, so prefer-standby settles on this primary');
  });

  test('target_session_attrs=read-write against a primary whose role runs with default_transaction_read_only = on: libpq refuses it ("session is read-only"), role_mismatch', async () => {
    const { code, report, target } = await diagnoseJson([primary.url('reader', PASSWORD, 'postgres', '?target_session_attrs=read-write')]);
    expect(verdictOf(report)).toBe('accepting/role_mismatch');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain(
      'a primary that runs with default_transaction_read_only = on, so every session is read-only, and target_session_attrs=read-write refuses it (libpq: "session is read-only")',
    );
    // The same role without a role asked for: a primary, healthy.
    expect(verdictOf((await diagnoseJson([primary.url('reader', PASSWORD, 'postgres')])).report)).toBe('none/healthy');
  });

  test.each([
    ['connect_timeout in the URL', (url: string) => ({ args: [`${url}?connect_timeout=2`], env: {} })],
    ['PGCONNECT_TIMEOUT', (url: string) => ({ args: [url], env: { PGCONNECT_TIMEOUT: '2' } })],
  ])(
    'a silent first host, %s = 2: libpq gives it up after 2 s and connects to the second; so does dbdoctor, with a no_response warning (every connection waits 2 s)',
    async (_name, build) => {
      const silent = await pythonSilentServer();
      try {
        const url = `postgresql://app:${PASSWORD}@127.0.0.1:${silent.port},127.0.0.1:${primary.port}/postgres`;
        const { args, env } = build(url);
        const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '10', ...args], { env });
        expect(verdictOf(report)).toBe('accepting/no_response');
        expect(code).toBe(1);
        expect(report.status).toBe('degraded');
        expect(target.verdict.message).toBe(
          `127.0.0.1:${silent.port} accepted the TCP connection but sent no PostgreSQL answer within connect_timeout (2 s); libpq gave it up and moved on to 127.0.0.1:${primary.port}, so every new connection waits 2 s first`,
        );
        expect(stepOf(target, 'process')?.summary).toContain(`127.0.0.1:${primary.port} (host 2 of the 2 listed)`);
        // connect_timeout bounds the first host's whole attempt (a deadline bound, with a margin).
        expect(wallMs).toBeLessThan(2000 + 2500);
      } finally {
        await silent.stop();
      }
    },
  );

  test('a black-holed first host, connect_timeout=2: the second host serves, with a connect_timeout warning', async () => {
    const hole = await pythonBlackHole();
    try {
      const { code, report, target } = await diagnoseJson([
        `postgresql://app:${PASSWORD}@127.0.0.1:${hole.port},127.0.0.1:${primary.port}/postgres?connect_timeout=2`,
      ]);
      expect(verdictOf(report)).toBe('network/connect_timeout');
      expect(code).toBe(1);
      expect(target.warnings.map((warning) => `${warning.step}/${warning.cause}`)).toEqual(['network/connect_timeout']);
      expect(target.verdict.message).toContain(
        `127.0.0.1:${hole.port} did not answer at all within connect_timeout (2 s); libpq gave it up and moved on to 127.0.0.1:${primary.port}`,
      );
    } finally {
      await hole.stop();
    }
  });

  test('a URL that points at a web server while a primary and a standby run here: where PostgreSQL listens is offered, the standby last and named as read-only', async () => {
    const web = await pythonHttpServer();
    try {
      const { report, target } = await diagnoseJson([`postgresql://app:${PASSWORD}@127.0.0.1:${web.port}/postgres`]);
      expect(verdictOf(report)).toBe('accepting/wrong_protocol');
      const listens = target.verdict.details.engineListensOn as { port: number; note?: string }[];
      expect(listens.find((listener) => listener.port === standby.port)).toMatchObject({ note: 'a read-only standby: writes fail there' });
      expect(listens.find((listener) => listener.port === primary.port)?.note).toBeUndefined();
      // A standby is never offered before a server that takes writes.
      expect(listens.findIndex((listener) => listener.port === primary.port)).toBeLessThan(listens.findIndex((listener) => listener.port === standby.port));
      const offered = target.verdict.remediation[0];
      if (offered?.command?.includes(`:${standby.port}/`)) expect(offered.text).toContain('a read-only standby');
    } finally {
      await web.stop();
    }
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
      expect(target.verdict.message).toMatch(
        /the standby applies changes late: its last replayed transaction is [\d.]+ s old, with \d+ bytes of WAL received and not replayed yet \(replay is paused/,
      );
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
      expect(asked.target.verdict.message).toContain(
        `its primary is 127.0.0.1:${primary.port} (from primary_conninfo), which refuses connections from here too: it is down`,
      );
      expect(asked.target.verdict.remediation[0]?.command).toBe(`pg_isready -h 127.0.0.1 -p ${primary.port}`);

      // pg_read_all_stats without pg_read_all_settings: no WAL receiver runs to name its sender,
      // and only primary_conninfo is out of reach; the role is not told it lacks what it has.
      const stats = await diagnoseJson([standbyUrl('statsonly')]);
      expect(verdictOf(stats.report)).toBe('accepting/standby');
      expect(stats.target.warnings.map((warning) => warning.cause)).toEqual(['standby', 'replication_stopped']);
      expect(stats.target.warnings[1]?.summary).toContain(
        'no WAL receiver runs to name its sender, and primary_conninfo needs pg_read_all_settings, which this role lacks',
      );
      expect(JSON.stringify(stats.target)).not.toMatch(/needs pg_read_all_stats[^"]*lacks|lacks pg_read_all_stats/);

      const plain = await diagnoseJson([standbyUrl('app')]);
      expect(plain.target.warnings[1]?.summary).toContain(
        "its WAL receiver's sender needs pg_read_all_stats and its primary_conninfo pg_read_all_settings, and this role has neither",
      );
      expect(verdictOf(plain.report)).toBe('accepting/standby');
      expect(plain.code).toBe(1);
      expect(plain.target.warnings.map((warning) => warning.cause)).toEqual(['standby', 'replication_stopped']);

      // Both nodes listed, the stopped primary first: libpq settles on the standby; the primary's
      // refusal is in the evidence, and the fixes neither ask to list a primary that is listed nor
      // send the operator to the stopped primary's port for the standby's WAL receiver.
      const both = await diagnoseJson([hostsUrl('monitor', [primary, standby])]);
      expect(verdictOf(both.report)).toBe('accepting/standby');
      expect(both.code).toBe(1);
      expect(both.target.verdict.message).toContain(`libpq passed over 127.0.0.1:${primary.port} (connection refused)`);
      expect(stepOf(both.target, 'process')?.evidence.hostsTried).toEqual([
        expect.objectContaining({ port: primary.port, outcome: 'refused' }),
        expect.objectContaining({ port: standby.port, outcome: 'chosen' }),
      ]);
      const fixes = [...both.target.verdict.remediation, ...both.target.steps.flatMap((step) => (step.also ?? []).flatMap((finding) => finding.remediation))];
      expect(fixes.map((fix) => fix.text).join('\n')).not.toMatch(/list every node|add the primary/i);
      expect(fixes.map((fix) => fix.text).join('\n')).toContain(
        `The primary the standby replicates from, 127.0.0.1:${primary.port}, is already in the host list, and libpq passed it over: connection refused`,
      );
      const walReceiver = fixes.find((fix) => fix.command?.includes('pg_stat_wal_receiver'));
      expect(walReceiver?.command).toContain(`-p ${standby.port} `);

      const readWrite = await diagnoseJson([hostsUrl('monitor', [primary, standby], '?target_session_attrs=read-write')]);
      expect(verdictOf(readWrite.report)).toBe('accepting/standby');
      expect(readWrite.code).toBe(2);
      expect(readWrite.target.verdict.message).toContain(
        `no host listed is a primary, which target_session_attrs=read-write requires: 127.0.0.1:${primary.port} (connection refused); 127.0.0.1:${standby.port} is a read-only hot standby; it replicates from 127.0.0.1:${primary.port}`,
      );
    } finally {
      await primary.start();
    }
  });
});
