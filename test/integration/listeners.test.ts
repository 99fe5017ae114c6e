import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { dropbearServer, pythonHttpServer, pythonSilentServer, redisServer, type Listener } from '../lab/listeners.js';
import { resetPeer } from '../lab/servers.js';
import { Cluster } from '../lab/postgres.js';
import { Ferret } from '../lab/mongo.js';
import { exclusive, sharedCassandra, type CassandraNode } from '../lab/cassandra.js';

/**
 * A port that belongs to another program: real listeners on the target port, each diagnosed as
 * PostgreSQL, MongoDB and Cassandra. The verdict names the program (from /proc) and what answers
 * (its greeting, or its answer to one more bounded probe on a new connection), and the fix names
 * where the engine really listens. A listener that answers nothing at all stays no_response.
 */
const ENGINES = [
  { engine: 'postgres', name: 'PostgreSQL', url: (port: number) => `postgresql://app:pw-Listen1@127.0.0.1:${port}/app` },
  { engine: 'mongodb', name: 'MongoDB', url: (port: number) => `mongodb://127.0.0.1:${port}/app` },
  { engine: 'cassandra', name: 'Cassandra', url: (port: number) => `cassandra://127.0.0.1:${port}/` },
] as const;

describe('another program on the port', () => {
  const listeners: Listener[] = [];
  const track = async (starting: Promise<Listener>): Promise<Listener> => {
    const listener = await starting;
    listeners.push(listener);
    return listener;
  };
  afterAll(async () => {
    await Promise.all(listeners.map((listener) => listener.stop()));
  });

  test.each(ENGINES)("python's http.server, which waits for a request, as $name: wrong_protocol names python3 and its Server header", async ({ name, url }) => {
    const http = await track(pythonHttpServer());
    const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '6', url(http.port)]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.message).toMatch(
      new RegExp(
        `^${http.comm} \\(pid ${http.pid}\\) listens on 127\\.0\\.0\\.1:${http.port}, not ${name}: an HTTP server \\(Server: SimpleHTTP/[\\d.]+ Python/[\\d.]+\\) answers on this port$`,
      ),
    );
    expect(target.verdict.details).toMatchObject({ portOwner: { pid: http.pid, process: http.comm }, answeredBy: { protocol: 'http' } });
    expect(target.verdict.remediation.some((fix) => fix.command === `ps -o pid,user,args -p ${http.pid}`)).toBe(true);
    // The listener is named well before the silence would have run out (a deadline bound, with a margin).
    expect(wallMs).toBeLessThan(6000);
  });

  test.each(ENGINES)('an SSH server (Dropbear), which speaks first, as $name: wrong_protocol names dropbear and its banner', async ({ name, url }) => {
    const ssh = await track(dropbearServer());
    const { code, report, target } = await diagnoseJson([url(ssh.port)]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.message).toMatch(
      new RegExp(`^dropbear \\(pid ${ssh.pid}\\) listens on 127\\.0\\.0\\.1:${ssh.port}, not ${name}: an SSH server \\(SSH-2\\.0-dropbear`),
    );
  });

  test.each(ENGINES)('Redis, which waits for a command, as $name: wrong_protocol names redis-server', async ({ name, url }) => {
    const redis = await track(redisServer());
    const { code, report, target } = await diagnoseJson([url(redis.port)]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain(`redis-server (pid ${redis.pid}) listens on 127.0.0.1:${redis.port}, not ${name}: a Redis server`);
  });

  test.each(ENGINES)(
    'a program that accepts and never answers anything, as $name: still no_response, within --timeout, naming the program',
    async ({ url }) => {
      const silent = await track(pythonSilentServer());
      const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '3', url(silent.port)]);
      expect(verdictOf(report)).toBe('accepting/no_response');
      expect(code).toBe(2);
      expect(target.verdict.message).toContain(`; ${silent.comm} (pid ${silent.pid}) owns the port (127.0.0.1:${silent.port})`);
      expect(target.verdict.details.otherOpenings).toMatchObject({ answeredBy: 'nothing recognisable' });
      expect(wallMs).toBeLessThan(3000 + 2000);
      // The figure said is what was waited, never more than the run took (not the budget the wait had).
      const waited = /within ([\d.]+) (ms|s)\b/.exec(target.verdict.message);
      expect(waited).not.toBeNull();
      const said = Number(waited?.[1]) * (waited?.[2] === 's' ? 1000 : 1);
      expect(said).toBeLessThanOrEqual(report.durationMs + 100);
      expect(said).toBeGreaterThan(300);
      // The wait is the handshake's, timed on the accepting step, not on the process step that only needed the TCP connection.
      const timed = (id: string): number => target.steps.find((step) => step.id === id)?.durationMs ?? 0;
      expect(timed('accepting')).toBeGreaterThan(timed('process'));
    },
  );

  test.each(ENGINES)('the same silent program on [::1], as $name: the address is written with brackets', async ({ url }) => {
    const silent = await track(pythonSilentServer('::1'));
    const { report, target } = await diagnoseJson(['--timeout', '3', url(silent.port).replace('127.0.0.1', '[::1]')]);
    expect(verdictOf(report)).toBe('accepting/no_response');
    expect(target.verdict.message.startsWith(`[::1]:${silent.port} accepted the TCP connection`)).toBe(true);
  });

  test.each(ENGINES)(
    'a peer that resets the connection (RST) on its first bytes, as a killing proxy does, as $name: connection_reset, not "closed"',
    async ({ url }) => {
      const peer = await resetPeer();
      try {
        const { code, report, target } = await diagnoseJson(['--timeout', '3', url(peer.port)]);
        expect(verdictOf(report)).toBe('accepting/connection_reset');
        expect(code).toBe(2);
        expect(target.verdict.message).toContain('then reset it');
      } finally {
        await peer.close();
      }
    },
  );

  test('a MongoDB hello that python\'s http.server reads as an HTTP/0.9 request line (it holds a newline: user "uuu") gets a bare HTML page back; the listener is named as from any other URL (its Server header)', async () => {
    const http = await track(pythonHttpServer());
    for (const user of ['u', 'uu', 'uuu', 'uuuu', 'uuuuu']) {
      const { report, target } = await diagnoseJson(['--timeout', '6', `mongodb://${user}:pw@127.0.0.1:${http.port}/app`]);
      expect(verdictOf(report)).toBe('accepting/wrong_protocol');
      expect(target.verdict.message, user).toMatch(/not MongoDB: an HTTP server \(Server: SimpleHTTP\/[\d.]+ Python\/[\d.]+\) answers on this port$/);
    }
  });
});

describe("another engine's server on the port", () => {
  let cluster: Cluster;
  let ferret: Ferret;
  let cassandra: CassandraNode;
  beforeAll(async () => {
    [cluster, ferret, cassandra] = await Promise.all([Cluster.create('listened'), Ferret.start(), sharedCassandra()]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all([cluster?.destroy(), ferret?.stop()]);
  });

  test.each(['postgres', 'cassandra'] as const)('MongoDB (FerretDB) on a %s URL: "MongoDB 7.0 answers here: is this the MongoDB port?"', async (engine) => {
    const url = ENGINES.find((entry) => entry.engine === engine)?.url(ferret.port) ?? '';
    const { code, report, target } = await diagnoseJson([url]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.message).toMatch(/: MongoDB 7\.0 \(or a server speaking its protocol\) answers on this port: is this the MongoDB port\?$/);
    expect(target.verdict.remediation.some((fix) => fix.text.includes('if you meant MongoDB, use a mongodb:// URL'))).toBe(true);
  });

  test.each(['mongodb', 'cassandra'] as const)('PostgreSQL on a %s URL: wrong_protocol, "is this the PostgreSQL port?", named postgres', async (engine) => {
    const url = ENGINES.find((entry) => entry.engine === engine)?.url(cluster.port) ?? '';
    const { code, report, target } = await diagnoseJson([url]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.message).toMatch(
      new RegExp(
        `^postgres \\(pid \\d+\\) listens on 127\\.0\\.0\\.1:${cluster.port}, not \\w+: PostgreSQL, or a pooler such as PgBouncer \\(it answered PostgreSQL's SSLRequest with "N"\\) answers on this port: is this the PostgreSQL port\\?$`,
      ),
    );
  });

  test.each(['postgres', 'mongodb'] as const)('Cassandra on a %s URL: wrong_protocol, "is this the Cassandra port?"', async (engine) => {
    await exclusive(async () => {
      const url = ENGINES.find((entry) => entry.engine === engine)?.url(cassandra.port) ?? '';
      const { code, report, target } = await diagnoseJson([url]);
      expect(verdictOf(report)).toBe('accepting/wrong_protocol');
      expect(code).toBe(2);
      expect(target.verdict.message).toMatch(
        /: Cassandra or another CQL server \(CQL native protocol; it offers [^)]*\) answers on this port: is this the Cassandra port\?$/,
      );
    });
  });

  test('an HTTP server on a PostgreSQL URL while PostgreSQL runs here: the fix names where PostgreSQL listens', async () => {
    const http = await pythonHttpServer();
    try {
      const { target } = await diagnoseJson([ENGINES[0].url(http.port)]);
      expect(target.verdict.details.engineListensOn).toEqual(expect.arrayContaining([expect.objectContaining({ address: '127.0.0.1', port: cluster.port })]));
      expect(target.verdict.remediation[0]?.text).toMatch(/^PostgreSQL listens on 127\.0\.0\.1:\d+ on this machine \(pid \d+\): connect there:$/);
    } finally {
      await http.stop();
    }
  });
});
