import { readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, emptyHome, verdictOf } from '../lab/dbdoctor.js';
import { ExporterProcess, get, samples, type HttpAnswer } from '../lab/exporter.js';
import { Cluster } from '../lab/postgres.js';
import { promtool } from '../lab/prometheus.js';
import { pgPeer } from '../lab/pg-peer.js';
import { PgBouncer } from '../lab/pgbouncer.js';
import { silentPeer, type Peer } from '../lab/servers.js';
import { selfSignedCertificate } from '../lab/tls.js';

/**
 * `dbdoctor exporter` in front of a real PostgreSQL, scraped the way Prometheus scrapes it (many at
 * once, with its timeout header), without a Prometheus server: what the query string may and may
 * not do, how many connections a burst of scrapes costs the database (from the server's own log),
 * deadlines, graceful shutdown, and access control. test/integration/exporter-prometheus.test.ts
 * has the real Prometheus.
 */
const PASSWORD = 'burst-Pa55-word-61';
const WRONG = 'not-the-Pa55-93';
const SCRAPE_PASSWORD = 'scrape-S3cret-17';
/** A bcrypt hash of SCRAPE_PASSWORD made by libxcrypt (glibc's crypt, $2y$, cost 10), as htpasswd -nBC 10 writes them. */
const SCRAPE_HASH = '$2y$10$abcdefghijklmnopqrstuunWOb7tlFo8R/aKWi8WjWLCeckTMuv/C';
const MIN_INTERVAL_S = 4;
const execFileAsync = promisify(execFile);

describe('dbdoctor exporter against a real PostgreSQL', () => {
  let cluster: Cluster;
  let silent: Peer;
  let decoy: Peer;
  let exporter: ExporterProcess;
  let dir: string;
  const answers: HttpAnswer[] = [];
  const logs: string[] = [];

  const probe = async (query: string, headers: Record<string, string> = {}): Promise<HttpAnswer> => {
    const answer = await get(`${exporter.url}/probe?${query}`, { headers });
    answers.push(answer);
    return answer;
  };
  /** Connections the server accepted over TCP since `offset` bytes of its log. */
  const connectionsSince = (offset: number): number =>
    readFileSync(cluster.logFile)
      .subarray(offset)
      .toString('utf8')
      .split('\n')
      .filter((line) => /connection received: host=127\.0\.0\.1/.test(line)).length;

  beforeAll(async () => {
    cluster = await Cluster.create('exporter', { settings: { log_connections: 'on', max_connections: 40 } });
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql('GRANT pg_read_all_stats TO app');
    await cluster.sql('CREATE DATABASE appdb OWNER app');
    silent = await silentPeer();
    decoy = await silentPeer();
    dir = emptyHome();
    writeFileSync(
      join(dir, 'targets.yaml'),
      [
        'targets:',
        '  - label: burst',
        `    url: ${cluster.url('app', PASSWORD, 'appdb')}`,
        `    minInterval: ${MIN_INTERVAL_S}s`,
        '  - label: wrong-password',
        '    urlFrom: WRONG_DATABASE_URL',
        '  - label: silent',
        `    url: postgresql://app:${PASSWORD}@127.0.0.1:${silent.port}/appdb`,
        '',
      ].join('\n'),
    );
    exporter = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0', '--log-level', 'debug'], {
      cwd: dir,
      env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
    });
  });
  afterAll(async () => {
    await exporter?.stop();
    if (exporter) logs.push(exporter.log);
    await silent?.close();
    await decoy?.close();
    await cluster?.destroy();
  });

  test('an unknown target name: 400, naming the targets the config file gives', async () => {
    const answer = await probe('target=orders');
    expect(answer.status).toBe(400);
    expect(answer.body).toBe('unknown target "orders": the targets in targets.yaml are burst, wrong-password, silent\n');
  });

  test('a URL in place of a name: 400, nothing contacted, its password not echoed', async () => {
    const url = `postgresql://app:${PASSWORD}@127.0.0.1:${decoy.port}/appdb`;
    const answer = await probe(`target=${encodeURIComponent(url)}`);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('targets are named in targets.yaml, never given as a URL or address in the query string');
    expect(answer.body).toContain(`postgresql://app:****@127.0.0.1:${decoy.port}/appdb`);
    const address = await probe(`target=${encodeURIComponent(`127.0.0.1:${decoy.port}`)}`);
    expect(address.status).toBe(400);
    expect(address.body).toMatch(/never given as a URL or address/);
    expect(decoy.connections).toBe(0);
  });

  test('no target, two targets, or another parameter: 400 with the form /probe takes', async () => {
    for (const query of ['', 'target=', 'target=burst&target=silent']) {
      const answer = await probe(query);
      expect(answer.status, query).toBe(400);
      expect(answer.body).toMatch(/^give one target: \/probe\?target=<name>, with a name from targets\.yaml \(burst, wrong-password, silent\)\n$/);
    }
    const extra = await probe('target=burst&password=x');
    expect(extra.status).toBe(400);
    expect(extra.body).toMatch(/^unknown parameter "password": \/probe takes one parameter/);
  });

  test(`40 concurrent scrapes of one target: one diagnosis, at most 2 connections in the server's log; more within ${MIN_INTERVAL_S}s: none; after it: one more`, async () => {
    const before = readFileSync(cluster.logFile).length;
    const burst = await Promise.all(Array.from({ length: 40 }, () => probe('target=burst')));
    expect(burst.every((answer) => answer.status === 200)).toBe(true);
    expect(new Set(burst.map((answer) => answer.body)).size).toBe(1);
    expect(samples(burst[0]?.body ?? '', 'dbdoctor_verdict')[0]?.labels).toMatchObject({ target: 'burst', step: 'none', cause: 'healthy' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = connectionsSince(before);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThanOrEqual(2);

    const cached = await Promise.all(Array.from({ length: 20 }, () => probe('target=burst')));
    expect(cached.every((answer) => answer.body === burst[0]?.body)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connectionsSince(before)).toBe(first);

    let self = samples((await get(`${exporter.url}/metrics`)).body, 'dbdoctor_exporter_diagnoses_total');
    expect(self.find((sample) => sample.labels.target === 'burst')?.value).toBe(1);
    const outcomes = Object.fromEntries(
      samples((await get(`${exporter.url}/metrics`)).body, 'dbdoctor_exporter_probe_requests_total').map((sample) => [sample.labels.outcome, sample.value]),
    );
    expect(outcomes).toMatchObject({ fresh: 1, shared: 39, cached: 20 });

    await new Promise((resolve) => setTimeout(resolve, MIN_INTERVAL_S * 1000));
    const middle = readFileSync(cluster.logFile).length;
    const again = await Promise.all(Array.from({ length: 40 }, () => probe('target=burst')));
    expect(again.every((answer) => answer.status === 200)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = connectionsSince(middle);
    expect(second).toBeGreaterThanOrEqual(1);
    expect(second).toBeLessThanOrEqual(2);
    self = samples((await get(`${exporter.url}/metrics`)).body, 'dbdoctor_exporter_diagnoses_total');
    expect(self.find((sample) => sample.labels.target === 'burst')?.value).toBe(2);
  });

  test('a healthy target: the series, pool figures, and promtool check metrics passes', async () => {
    const answer = await probe('target=burst');
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const labels = { target: 'burst', engine: 'postgres', endpoint: `postgresql://app@127.0.0.1:${cluster.port}/appdb` };
    expect(samples(answer.body, 'dbdoctor_up')).toEqual([{ labels, value: 1 }]);
    expect(samples(answer.body, 'dbdoctor_target_status').map((sample) => [sample.labels.status, sample.value])).toEqual([
      ['healthy', 1],
      ['degraded', 0],
      ['unhealthy', 0],
    ]);
    expect(samples(answer.body, 'dbdoctor_max_connections')).toEqual([{ labels, value: 40 }]);
    expect(samples(answer.body, 'dbdoctor_connections_in_use')[0]?.value).toBeGreaterThanOrEqual(1);
    expect(samples(answer.body, 'dbdoctor_lock_waits')).toEqual([{ labels, value: 0 }]);
    expect(samples(answer.body, 'dbdoctor_step_duration_seconds').map((sample) => sample.labels.step)).toEqual([
      'process',
      'accepting',
      'network',
      'pool',
      'auth',
      'queries',
    ]);
    const check = await promtool(['check', 'metrics'], answer.body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    const self = await promtool(['check', 'metrics'], (await get(`${exporter.url}/metrics`)).body);
    expect(self.output).toBe('');
    expect(self.code).toBe(0);
  });

  test("a wrong password (its URL from a variable): auth/auth_failed, with the server's words and the first fix", async () => {
    const answer = await probe('target=wrong-password');
    expect(answer.status).toBe(200);
    expect(samples(answer.body, 'dbdoctor_up')[0]?.value).toBe(0);
    expect(samples(answer.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({
      step: 'auth',
      cause: 'auth_failed',
      endpoint: `postgresql://app@127.0.0.1:${cluster.port}/appdb`,
    });
    const info = samples(answer.body, 'dbdoctor_verdict_info')[0]?.labels;
    // The label is the cause's title (it must not churn); the server's words are in the log line.
    expect(info?.message).toBe('Authentication failed');
    expect(info?.remediation).not.toBe('');
    expect(exporter.log).toMatch(/msg=diagnosed target=wrong-password .*message="[^"]*password authentication failed for user \\"app\\"/);
  });

  test("the scrape's X-Prometheus-Scrape-Timeout-Seconds caps the deadline: a silent server, 2 s scrape, a verdict within 1.5 s", async () => {
    const started = performance.now();
    const answer = await probe('target=silent', { 'X-Prometheus-Scrape-Timeout-Seconds': '2' });
    const wallMs = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(samples(answer.body, 'dbdoctor_up')[0]?.value).toBe(0);
    expect(samples(answer.body, 'dbdoctor_probe_duration_seconds')[0]?.value).toBeLessThanOrEqual(1.5);
    expect(wallMs).toBeLessThan(2000);
    expect(samples(answer.body, 'dbdoctor_verdict')[0]?.labels.step).toBe('accepting');
  });

  test("a scrape's own short timeout cannot poison what other scrapers see: 0.1 s starts no diagnosis (503, saying why, or the last result); a verdict decided by a short deadline is not served to a scrape that allows more", async () => {
    const slow = await pgPeer({ kind: 'silent-after-login' });
    writeFileSync(
      join(dir, 'short.yaml'),
      [
        'targets:',
        '  - label: orders',
        `    url: ${cluster.url('app', PASSWORD, 'appdb')}`,
        '    minInterval: 60s',
        '  - label: slow',
        `    url: postgresql://app:${PASSWORD}@127.0.0.1:${slow.port}/appdb`,
        '    minInterval: 60s',
        '',
      ].join('\n'),
    );
    const other = await ExporterProcess.start(['--config', 'short.yaml', '--listen', '127.0.0.1:0'], { cwd: dir });
    const diagnosesOf = async (target: string): Promise<number | undefined> =>
      samples((await get(`${other.url}/metrics`)).body, 'dbdoctor_exporter_diagnoses_total').find((sample) => sample.labels.target === target)?.value;
    const scrape = async (target: string, seconds?: string): Promise<HttpAnswer> => {
      const answer = await get(`${other.url}/probe?target=${target}`, { headers: seconds ? { 'X-Prometheus-Scrape-Timeout-Seconds': seconds } : {} });
      answers.push(answer);
      return answer;
    };
    try {
      // The interval the targets get (the config file's), not --min-interval's default of 15 s.
      expect(other.log).toMatch(/msg=listening .*min_interval_ms=60000 max_concurrent=16/);
      const tooShort = await scrape('orders', '0.1');
      expect(tooShort.status).toBe(503);
      expect(tooShort.body).toBe('the scrape allows 50 ms for a diagnosis of orders, less than the 1000 ms one needs; raise its scrape_timeout\n');
      expect(await diagnosesOf('orders')).toBe(0);
      const normal = await scrape('orders');
      expect(samples(normal.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'none', cause: 'healthy' });
      // Too short again: the last result (healthy), and still no diagnosis of its own.
      const again = await scrape('orders', '0.1');
      expect(again.status).toBe(200);
      expect(again.body).toBe(normal.body);
      expect(await diagnosesOf('orders')).toBe(1);
      // The first was counted apart from timeouts under load (DbdoctorProbesTimingOut): a scrape config to fix;
      // the second, within the interval, was served from the cache like any other.
      const outcomes = Object.fromEntries(
        samples((await get(`${other.url}/metrics`)).body, 'dbdoctor_exporter_probe_requests_total').map((sample) => [sample.labels.outcome, sample.value]),
      );
      expect(outcomes).toMatchObject({ too_short: 1, timed_out: 0, fresh: 1, cached: 1 });

      // A server that logs in and never answers, first scraped with a 2 s timeout: cut off by the
      // scrape's own deadline, named as such with its figure.
      const short = await scrape('slow', '2');
      expect(samples(short.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'pool', cause: 'deadline_exceeded' });
      expect(other.log).toMatch(
        /msg=diagnosed target=slow .*budget_ms=1500 .*message="still waiting when the scrape's deadline of 1\.5 s \(X-Prometheus-Scrape-Timeout-Seconds 2 less --timeout-offset 0\.5\) ran out"/,
      );
      // Then a scraper that allows 4 s, within the minimum interval: a diagnosis of its own, not the 1.5 s verdict.
      const longer = await scrape('slow', '4');
      expect(samples(longer.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'pool', cause: 'deadline_exceeded' });
      expect(samples(longer.body, 'dbdoctor_probe_duration_seconds')[0]?.value).toBeGreaterThan(2);
      expect(await diagnosesOf('slow')).toBe(2);
      expect(other.log).toMatch(/msg=diagnosed target=slow .*budget_ms=3500 .*message="still waiting when the scrape's deadline of 3\.5 s/);
      // And the 2 s scraper now gets that one (it allows no more time than it had).
      const shortAgain = await scrape('slow', '2');
      expect(shortAgain.body).toBe(longer.body);
      expect(await diagnosesOf('slow')).toBe(2);
    } finally {
      await other.stop();
      logs.push(other.log);
      await slow.close();
    }
  });

  test('memory is bounded: 300 scrapes of made-up names add no series to /metrics', async () => {
    const before = (await get(`${exporter.url}/metrics`)).body.split('\n').length;
    for (let index = 0; index < 300; index += 10)
      await Promise.all(Array.from({ length: 10 }, (_, offset) => get(`${exporter.url}/probe?target=made-up-${index + offset}`)));
    const after = (await get(`${exporter.url}/metrics`)).body;
    expect(after.split('\n').length).toBe(before);
    expect(samples(after, 'dbdoctor_exporter_probe_requests_total').find((sample) => sample.labels.outcome === 'unknown_target')?.value).toBeGreaterThanOrEqual(
      300,
    );
  });

  test('2000 scrapes of unknown names write 5 log lines and one that counts the rest, not 2000', async () => {
    const quiet = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0'], {
      cwd: dir,
      env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
    });
    try {
      for (let index = 0; index < 2000; index += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, (_, offset) => get(`${quiet.url}/probe?target=typo-${index + offset}`)));
        expect(batch.every((answer) => answer.status === 400)).toBe(true);
      }
      const counted = samples((await get(`${quiet.url}/metrics`)).body, 'dbdoctor_exporter_probe_requests_total').find(
        (sample) => sample.labels.outcome === 'unknown_target',
      );
      expect(counted?.value).toBe(2000);
    } finally {
      expect(await quiet.stop()).toBe(0);
      logs.push(quiet.log);
    }
    const lines = quiet.log.split('\n');
    expect(lines.filter((line) => /msg="unknown target" target=typo-/.test(line))).toHaveLength(5);
    expect(
      lines.filter((line) =>
        /msg="unknown target \(more, not logged one by one\)" suppressed=1995 window_s=60 examples=typo-\d+,typo-\d+,typo-\d+,typo-\d+,typo-\d+$/.test(line),
      ),
    ).toHaveLength(1);
  });

  test('SIGTERM: not ready any more, new probes refused, the diagnosis in flight still answered, exit 0', async () => {
    const other = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0'], {
      cwd: dir,
      env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
    });
    try {
      expect((await get(`${other.url}/-/ready`)).status).toBe(200);
      const inFlight = get(`${other.url}/probe?target=silent`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '3' } });
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(other.pid, 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ready = await get(`${other.url}/-/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toBe('Shutting down\n');
      const refused = await get(`${other.url}/probe?target=burst`);
      expect(refused.status).toBe(503);
      const answered = await inFlight;
      answers.push(answered, ready, refused);
      expect(answered.status).toBe(200);
      expect(samples(answered.body, 'dbdoctor_verdict')[0]?.labels.target).toBe('silent');
      expect(await other.exit).toBe(0);
      expect(other.log).toMatch(/msg="shutting down" reason=SIGTERM diagnoses_in_flight=1/);
      expect(other.log).toMatch(/msg=stopped reason=SIGTERM/);
    } finally {
      await other.stop();
      logs.push(other.log);
    }
  });

  test('SIGHUP reads the config file and the web config again: targets added, removed and changed (its old result dropped), the TLS certificate rotated; a file that no longer reads is logged and the running config kept', async () => {
    const [first, second] = await Promise.all([selfSignedCertificate('localhost'), selfSignedCertificate('localhost')]);
    const config = (targets: Record<string, string>): void =>
      writeFileSync(
        join(dir, 'reload.yaml'),
        ['targets:', ...Object.entries(targets).flatMap(([label, url]) => [`  - label: ${label}`, `    url: ${url}`]), ''].join('\n'),
      );
    const webConfig = (cert: { certFile: string; keyFile: string }): void =>
      writeFileSync(join(dir, 'reload-web.yaml'), `tls_server_config:\n  cert_file: ${cert.certFile}\n  key_file: ${cert.keyFile}\n`);
    config({ orders: cluster.url('app', PASSWORD, 'appdb'), legacy: cluster.url('app', PASSWORD, 'appdb') });
    webConfig(first);
    const reloading = await ExporterProcess.start(
      ['--config', 'reload.yaml', '--listen', '127.0.0.1:0', '--web.config.file', 'reload-web.yaml', '--min-interval', '1m'],
      { cwd: dir },
    );
    const tlsOptions = { ca: `${readFileSync(first.certFile, 'utf8')}${readFileSync(second.certFile, 'utf8')}`, servername: 'localhost' };
    const peerCertificate = async (): Promise<string> => {
      const { port } = new URL(reloading.url);
      return new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.destroy();
        });
        socket.once('error', reject);
      });
    };
    const fingerprint = async (file: string): Promise<string> => new X509Certificate(readFileSync(file)).fingerprint256;
    const hangUp = async (marker: RegExp): Promise<void> => {
      const before = reloading.log.length;
      process.kill(reloading.pid, 'SIGHUP');
      for (let waited = 0; waited < 10_000 && !marker.test(reloading.log.slice(before)); waited += 100)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(reloading.log.slice(before)).toMatch(marker);
    };
    try {
      expect(await peerCertificate()).toBe(await fingerprint(first.certFile));
      const healthy = await get(`${reloading.url}/probe?target=orders`, tlsOptions);
      expect(samples(healthy.body, 'dbdoctor_verdict')[0]?.labels.cause).toBe('healthy');

      // orders now with a wrong password, legacy gone, reports new; and the certificate rotated.
      config({ orders: cluster.url('app', WRONG, 'appdb'), reports: cluster.url('app', PASSWORD, 'appdb') });
      webConfig(second);
      await hangUp(/msg=reloaded targets=2 added=reports removed=legacy changed=orders min_interval_ms=60000 web_config=applied/);
      expect(await peerCertificate()).toBe(await fingerprint(second.certFile));
      // Within the minute the old healthy result would have been served: it was about another URL.
      const changed = await get(`${reloading.url}/probe?target=orders`, tlsOptions);
      expect(samples(changed.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'auth', cause: 'auth_failed' });
      expect((await get(`${reloading.url}/probe?target=reports`, tlsOptions)).status).toBe(200);
      const gone = await get(`${reloading.url}/probe?target=legacy`, tlsOptions);
      expect(gone.status).toBe(400);
      expect(gone.body).toBe('unknown target "legacy": the targets in reload.yaml are orders, reports\n');

      // A config file that no longer reads: logged, and the running one kept.
      writeFileSync(join(dir, 'reload.yaml'), 'targets:\n  - label: [unclosed\n');
      await hangUp(/level=error msg="reload failed: keeping the running config" error="reload\.yaml:/);
      expect((await get(`${reloading.url}/probe?target=reports`, tlsOptions)).status).toBe(200);
      // TLS off needs a restart: said so, the TLS config kept (the targets still reload).
      config({ orders: cluster.url('app', PASSWORD, 'appdb') });
      writeFileSync(join(dir, 'reload-web.yaml'), 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n');
      await hangUp(/msg=reloaded targets=1 removed=reports changed=orders min_interval_ms=60000 web_config="kept: turning TLS off needs a restart"/);
      expect(await peerCertificate()).toBe(await fingerprint(second.certFile));
      expect(reloading.log).toMatch(/msg="web config not applied" reason="turning TLS off needs a restart"/);
      expect((await get(`${reloading.url}/-/ready`, tlsOptions)).status).toBe(200);
      expect(reloading.log).not.toMatch(/internal error/);
    } finally {
      expect(await reloading.stop()).toBe(0);
      logs.push(reloading.log);
    }
  });

  test('a second SIGTERM while draining stops at once, saying so (exit 143)', async () => {
    const draining = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0'], {
      cwd: dir,
      env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
    });
    try {
      const inFlight = get(`${draining.url}/probe?target=silent`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '8' } }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(draining.pid, 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      process.kill(draining.pid, 'SIGTERM');
      expect(await draining.exit).toBe(143);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(draining.log).toMatch(/msg="shutting down" reason=SIGTERM diagnoses_in_flight=1/);
      expect(draining.log).toMatch(/level=warn msg="stopping now" reason="a second SIGTERM while shutting down"/);
      await inFlight;
    } finally {
      await draining.stop();
      logs.push(draining.log);
    }
  });

  test('--web.config.file: TLS, and basic auth against an htpasswd-style bcrypt hash; health endpoints open', async () => {
    const cert = await selfSignedCertificate('localhost');
    writeFileSync(
      join(dir, 'web.yaml'),
      `tls_server_config:\n  cert_file: ${cert.certFile}\n  key_file: ${cert.keyFile}\nbasic_auth_users:\n  prometheus: '${SCRAPE_HASH}'\n`,
    );
    const secured = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0', '--web.config.file', 'web.yaml'], {
      cwd: dir,
      env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
    });
    try {
      expect(secured.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(secured.log).toMatch(/tls=true basic_auth=true/);
      const ca = readFileSync(cert.certFile);
      const options = { ca, servername: 'localhost' };
      const anonymous = await get(`${secured.url}/probe?target=burst`, options);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect((await get(`${secured.url}/metrics`, { ...options, auth: `prometheus:${WRONG}` })).status).toBe(401);
      expect((await get(`${secured.url}/metrics`, { ...options, auth: `nobody:${SCRAPE_PASSWORD}` })).status).toBe(401);
      const allowed = await get(`${secured.url}/probe?target=burst`, { ...options, auth: `prometheus:${SCRAPE_PASSWORD}` });
      expect(allowed.status).toBe(200);
      expect(samples(allowed.body, 'dbdoctor_up')[0]?.value).toBe(1);
      expect((await get(`${secured.url}/-/healthy`, options)).status).toBe(200);
      expect((await get(`${secured.url}/-/ready`, options)).status).toBe(200);
      await expect(get(secured.url.replace('https:', 'http:') + '/metrics', { timeoutMs: 3000 })).rejects.toThrow();
      answers.push(anonymous, allowed);
    } finally {
      await secured.stop();
      logs.push(secured.log);
    }
  });

  test('basic auth under a flood of wrong passwords: health checks and a scrape with the right password still answer at once (bcrypt is off the event loop, bounded)', async () => {
    writeFileSync(join(dir, 'auth.yaml'), `basic_auth_users:\n  prometheus: '${SCRAPE_HASH}'\n`);
    const guarded = await ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0', '--web.config.file', 'auth.yaml'], {
      cwd: dir,
      env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
    });
    try {
      // Prometheus's scrape: its credentials are checked once, then remembered.
      expect((await get(`${guarded.url}/metrics`, { auth: `prometheus:${SCRAPE_PASSWORD}` })).status).toBe(200);
      const flood = Array.from({ length: 60 }, (_, index) => get(`${guarded.url}/metrics`, { auth: `prometheus:${WRONG}-${index}` }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const timed = async (request: Promise<HttpAnswer>): Promise<{ answer: HttpAnswer; ms: number }> => {
        const started = performance.now();
        const answer = await request;
        return { answer, ms: performance.now() - started };
      };
      const [healthy, ready, scrape] = await Promise.all([
        timed(get(`${guarded.url}/-/healthy`)),
        timed(get(`${guarded.url}/-/ready`)),
        timed(get(`${guarded.url}/metrics`, { auth: `prometheus:${SCRAPE_PASSWORD}` })),
      ]);
      // Bounds with a wide margin (a liveness probe's own timeout is 1 s), not speeds: with bcrypt
      // on the event loop these took 10 s and 9 s.
      expect(healthy.answer.status).toBe(200);
      expect(healthy.ms).toBeLessThan(1500);
      expect(ready.ms).toBeLessThan(1500);
      expect(scrape.answer.status).toBe(200);
      expect(scrape.ms).toBeLessThan(1500);
      const refused = await Promise.all(flood);
      answers.push(...refused);
      // Each wrong password refused: checked (401), or, past the few that may wait, turned away at once (429).
      expect(refused.every((answer) => answer.status === 401 || answer.status === 429)).toBe(true);
      expect(refused.filter((answer) => answer.status === 429).length).toBeGreaterThan(0);
      expect(refused.find((answer) => answer.status === 429)?.headers['retry-after']).toBe('1');
    } finally {
      await guarded.stop();
      logs.push(guarded.log);
    }
  });

  test('idle connections (slowloris) cannot lock others out: one address holds at most its share, and the server closes silent connections within its headers timeout (TLS: its handshake timeout)', async () => {
    const cert = await selfSignedCertificate('localhost');
    writeFileSync(join(dir, 'tls-only.yaml'), `tls_server_config:\n  cert_file: ${cert.certFile}\n  key_file: ${cert.keyFile}\n`);
    const env = { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') };
    const [plain, secured] = await Promise.all([
      ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0'], { cwd: dir, env }),
      ExporterProcess.start(['--config', 'targets.yaml', '--listen', '127.0.0.1:0', '--web.config.file', 'tls-only.yaml'], { cwd: dir, env }),
    ]);
    const idle: Socket[] = [];
    /** Opens `count` connections from `from` that never send a byte; resolves once each is connected or refused. */
    const open = async (url: string, from: string, count: number): Promise<{ sockets: Socket[]; closedAt: number[] }> => {
      const { hostname, port } = new URL(url);
      const closedAt: number[] = [];
      const sockets = await Promise.all(
        Array.from(
          { length: count },
          () =>
            new Promise<Socket>((resolve) => {
              const socket = connect({ host: hostname, port: Number(port), localAddress: from });
              idle.push(socket);
              socket.on('error', () => undefined);
              socket.once('close', () => closedAt.push(performance.now()));
              socket.once('connect', () => resolve(socket));
              socket.once('close', () => resolve(socket));
            }),
        ),
      );
      return { sockets, closedAt };
    };
    try {
      const started = performance.now();
      const [flood, tlsFlood] = await Promise.all([open(plain.url, '127.0.0.2', 300), open(secured.url, '127.0.0.2', 20)]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Past its share (256 for a handful of targets), the address's new connections are closed at once.
      expect(flood.closedAt.length).toBeGreaterThanOrEqual(300 - 256);
      expect(flood.closedAt.length).toBeLessThan(300);
      // Everyone else is served meanwhile.
      const healthStarted = performance.now();
      expect((await get(`${plain.url}/-/healthy`)).status).toBe(200);
      expect(performance.now() - healthStarted).toBeLessThan(1500);
      expect((await get(`${plain.url}/probe?target=burst`)).status).toBe(200);
      // And the silent ones are closed by the server: headers (or handshake) timeout 5 s, looked at every second.
      const until = async (closedAt: number[], count: number): Promise<void> => {
        while (closedAt.length < count && performance.now() - started < 12_000) await new Promise((resolve) => setTimeout(resolve, 200));
      };
      await Promise.all([until(flood.closedAt, 300), until(tlsFlood.closedAt, 20)]);
      expect(flood.closedAt).toHaveLength(300);
      expect(tlsFlood.closedAt).toHaveLength(20);
      // A bound the server promises (5 s, checked every 1 s), with a margin; Node's defaults took 28 s.
      expect(Math.max(...flood.closedAt, ...tlsFlood.closedAt) - started).toBeLessThan(9_000);
    } finally {
      for (const socket of idle) socket.destroy();
      await Promise.all([plain.stop(), secured.stop()]);
      logs.push(plain.log, secured.log);
    }
  });

  test('bad input stops the start with one line and exit 3: no --config, an unlabelled target, a web config setting Node cannot honour', async () => {
    const none = await dbdoctor(['exporter'], { cwd: dir });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^dbdoctor: dbdoctor exporter needs --config <file>/);
    writeFileSync(join(dir, 'unlabelled.yaml'), `targets:\n  - url: ${cluster.url('app', PASSWORD, 'appdb')}\n`);
    const unlabelled = await dbdoctor(['exporter', '--config', 'unlabelled.yaml'], { cwd: dir });
    expect(unlabelled.code).toBe(3);
    expect(unlabelled.stderr).toMatch(
      /^dbdoctor: unlabelled\.yaml: targets\[0\] \(postgresql:\/\/app:\*\*\*\*@127\.0\.0\.1:\d+\/appdb\) has no label: the exporter probes targets by label\n {2}give every target a label/,
    );
    writeFileSync(join(dir, 'ciphers.yaml'), 'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n');
    const ciphers = await dbdoctor(['exporter', '--config', 'targets.yaml', '--web.config.file', 'ciphers.yaml'], { cwd: dir });
    expect(ciphers.code).toBe(3);
    expect(ciphers.stderr).toMatch(/^dbdoctor: ciphers\.yaml: tls_server_config\.cipher_suites is not supported by dbdoctor/);
    const listen = await dbdoctor(['exporter', '--config', 'targets.yaml', '--listen', 'nowhere'], { cwd: dir });
    expect(listen.code).toBe(3);
    expect(listen.stderr).toMatch(/--listen.*expected host:port/);
    for (const run of [none, unlabelled, ciphers, listen]) logs.push(run.stderr, run.stdout);
  });

  test('start-up problems are one line each with the way out, exit 3, never "internal error": the port in use, an address not on this machine, certificate and key swapped, mismatched or garbage, an encrypted key, a CA file with no certificate, headers that cannot be sent', async () => {
    const [cert, other] = await Promise.all([selfSignedCertificate('localhost'), selfSignedCertificate('other.example')]);
    const file = (name: string, text: string): string => (writeFileSync(join(dir, name), text), name);
    const garbage = file('garbage.pem', 'this is not a certificate\n');
    await execFileAsync('openssl', ['pkey', '-in', cert.keyFile, '-aes256', '-passout', 'pass:not-given', '-out', join(dir, 'encrypted.key')]);
    const web = (name: string, tls: Record<string, string>, extra = ''): string =>
      file(
        name,
        `tls_server_config:\n${Object.entries(tls)
          .map(([key, value]) => `  ${key}: ${value}\n`)
          .join('')}${extra}`,
      );
    const port = new URL(exporter.url).port;
    const cases: [string, string[], RegExp, RegExp][] = [
      [
        'the port in use',
        ['--listen', `127.0.0.1:${port}`],
        new RegExp(`^dbdoctor: --listen 127\\.0\\.0\\.1:${port}: the address is already in use: another process listens on port ${port} of 127\\.0\\.0\\.1$`),
        /ss -ltnp 'sport = :\d+'/,
      ],
      [
        'an address not on this machine',
        ['--listen', '192.0.2.1:9187'],
        /^dbdoctor: --listen 192\.0\.2\.1:9187: 192\.0\.2\.1 is not an address of this machine$/,
        /--listen :9187/,
      ],
      [
        'certificate and key swapped',
        ['--web.config.file', web('swapped.yaml', { cert_file: cert.keyFile, key_file: cert.certFile })],
        /^dbdoctor: swapped\.yaml: tls_server_config\.cert_file \S+ holds a private key, not a certificate$/,
        /swapped/,
      ],
      [
        "a key that is not the certificate's",
        ['--web.config.file', web('mismatch.yaml', { cert_file: cert.certFile, key_file: other.keyFile })],
        /^dbdoctor: mismatch\.yaml: tls_server_config\.key_file \S+ is not the private key of cert_file \S+ \(CN=localhost\)$/,
        /issued for/,
      ],
      [
        'a garbage certificate',
        ['--web.config.file', web('garbage-cert.yaml', { cert_file: garbage, key_file: cert.keyFile })],
        /^dbdoctor: garbage-cert\.yaml: tls_server_config\.cert_file garbage\.pem is not a PEM certificate/,
        /in PEM/,
      ],
      [
        'a garbage key',
        ['--web.config.file', web('garbage-key.yaml', { cert_file: cert.certFile, key_file: garbage })],
        /^dbdoctor: garbage-key\.yaml: tls_server_config\.key_file garbage\.pem is not a PEM private key/,
        /private key of cert_file/,
      ],
      [
        'an encrypted key',
        ['--web.config.file', web('encrypted.yaml', { cert_file: cert.certFile, key_file: 'encrypted.key' })],
        /^dbdoctor: encrypted\.yaml: tls_server_config\.key_file encrypted\.key is encrypted with a passphrase/,
        /openssl pkey/,
      ],
      [
        'a CA file with no certificate',
        [
          '--web.config.file',
          web('garbage-ca.yaml', { cert_file: cert.certFile, key_file: cert.keyFile, client_auth_type: 'RequireAndVerifyClientCert', client_ca_file: garbage }),
        ],
        /^dbdoctor: garbage-ca\.yaml: tls_server_config\.client_ca_file garbage\.pem is not a PEM certificate/,
        /sign the client certificates/,
      ],
      [
        'a header value with a line break',
        ['--web.config.file', file('crlf.yaml', 'http_server_config:\n  headers:\n    Content-Security-Policy: "default-src \'none\'\\r\\nX-Injected: 1"\n')],
        /^dbdoctor: crlf\.yaml: http_server_config\.headers\.Content-Security-Policy: the value .* has a line break or control character/,
        /one line/,
      ],
      [
        'a header the format does not allow',
        ['--web.config.file', file('x-foo.yaml', 'http_server_config:\n  headers:\n    X-Foo: bar\n')],
        /^dbdoctor: x-foo\.yaml: http_server_config\.headers: "X-Foo" cannot be set \(the exporter-toolkit format allows Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy\)$/,
        /allowed header/,
      ],
      [
        'Content-Type, which the exporter sets itself',
        ['--web.config.file', file('content-type.yaml', 'http_server_config:\n  headers:\n    Content-Type: text/html\n')],
        /"Content-Type" cannot be set/,
        /allowed header/,
      ],
      [
        'a value outside the allowed set',
        ['--web.config.file', file('frame.yaml', 'http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n')],
        /^dbdoctor: frame\.yaml: http_server_config\.headers\.X-Frame-Options: "allow-from x" is not one of "deny", "sameorigin"$/,
        /deny or sameorigin/,
      ],
    ];
    for (const [name, args, line, hint] of cases) {
      const run = await dbdoctor(['exporter', '--config', 'targets.yaml', '--listen', '127.0.0.1:0', ...args], {
        cwd: dir,
        env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') },
      });
      logs.push(run.stderr, run.stdout);
      expect(run.code, name).toBe(3);
      const [first, second, ...rest] = run.stderr.trimEnd().split('\n');
      expect(first, name).toMatch(line);
      expect(second, name).toMatch(hint);
      expect(rest, name).toEqual([]);
      expect(run.stderr, name).not.toMatch(/internal error|please report/);
    }
    // The allowed headers, as allowed, are sent.
    const headed = await ExporterProcess.start(
      [
        '--config',
        'targets.yaml',
        '--listen',
        '127.0.0.1:0',
        '--web.config.file',
        file('headers.yaml', 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Content-Security-Policy: "default-src \'none\'"\n'),
      ],
      { cwd: dir, env: { WRONG_DATABASE_URL: cluster.url('app', WRONG, 'appdb') } },
    );
    try {
      const answer = await get(`${headed.url}/metrics`);
      expect(answer.status).toBe(200);
      expect(answer.headers).toMatchObject({ 'x-frame-options': 'deny', 'content-security-policy': "default-src 'none'" });
    } finally {
      await headed.stop();
    }
  });

  test("through a real PgBouncer: dbdoctor_max_connections is its max_client_conn and in use its clients (not PostgreSQL's max_connections behind it); a wrong password is pooler_auth, whose fix names the auth_file setting when the console cannot be read", async () => {
    const bouncer = await PgBouncer.start(cluster, { users: { app: PASSWORD }, settings: { stats_users: 'app', max_client_conn: 60 } });
    writeFileSync(
      join(dir, 'bouncer.yaml'),
      [
        'targets:',
        '  - label: pooled',
        `    url: postgresql://app:${PASSWORD}@127.0.0.1:${bouncer.port}/appdb`,
        '  - label: pooled-wrong',
        `    url: postgresql://app:${WRONG}@127.0.0.1:${bouncer.port}/appdb`,
        '',
      ].join('\n'),
    );
    const pooled = await ExporterProcess.start(['--config', 'bouncer.yaml', '--listen', '127.0.0.1:0'], { cwd: dir });
    try {
      const answer = await get(`${pooled.url}/probe?target=pooled`);
      answers.push(answer);
      expect(samples(answer.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'none', cause: 'healthy' });
      expect(samples(answer.body, 'dbdoctor_max_connections')[0]?.value).toBe(60);
      expect(samples(answer.body, 'dbdoctor_connections_in_use')[0]?.value).toBeGreaterThanOrEqual(1);
      expect(samples(answer.body, 'dbdoctor_connections_in_use')[0]?.value).toBeLessThanOrEqual(60);
      const wrong = await get(`${pooled.url}/probe?target=pooled-wrong`);
      answers.push(wrong);
      expect(samples(wrong.body, 'dbdoctor_verdict')[0]?.labels).toMatchObject({ step: 'auth', cause: 'pooler_auth' });
      const remediation = samples(wrong.body, 'dbdoctor_verdict_info')[0]?.labels.remediation ?? '';
      // Without the console, the file is read from this machine's running PgBouncer (issue 14: the
      // real pgbouncer.ini and auth_file, no longer Debian's default), here the lab's own userlist.
      expect(remediation).toMatch(/its auth_file \(\/tmp\/dbdoctor-pgbouncer-[^/]+\/userlist\.txt\)/);
      // When the console can be read (PgBouncer let the user in; PostgreSQL refused PgBouncer), the fix names the real file.
      const stale = await PgBouncer.start(cluster, { users: { app: WRONG }, settings: { stats_users: 'app' } });
      try {
        const { report, target } = await diagnoseJson([`postgresql://app:${WRONG}@127.0.0.1:${stale.port}/appdb`]);
        expect(verdictOf(report)).toBe('auth/pooler_backend_auth');
        expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).toContain(
          `then put it in ${join(stale.root, 'userlist.txt')} in place of the old one`,
        );
      } finally {
        await stale.stop();
      }
    } finally {
      await pooled.stop();
      logs.push(pooled.log);
      await bouncer.stop();
    }
  });

  test('small things said right: //probe is no page (not the index, 200); a bad percent-escape and a zero minInterval name the file and the target', async () => {
    const doubled = await get(`${exporter.url}//probe?target=burst`);
    expect(doubled.status).toBe(404);
    expect(doubled.body).toMatch(/^no such page: \/\/probe;/);
    answers.push(doubled);
    writeFileSync(join(dir, 'escape.yaml'), ['targets:', '  - label: orders', '    url: postgresql://app:50%zz-off@127.0.0.1:5432/appdb', ''].join('\n'));
    const escape = await dbdoctor(['exporter', '--config', 'escape.yaml', '--listen', '127.0.0.1:0'], { cwd: dir });
    expect(escape.code).toBe(3);
    expect(escape.stderr).toMatch(
      /^dbdoctor: escape\.yaml: orders: cannot parse postgresql:\/\/app:\*\*\*\*@127\.0\.0\.1:5432\/appdb: the password has a malformed percent-escape\n {2}a literal "%" must be written %25\n$/,
    );
    writeFileSync(
      join(dir, 'zero.yaml'),
      ['defaults:', '  minInterval: 0s', 'targets:', '  - label: orders', `    url: ${cluster.url('app', PASSWORD, 'appdb')}`, ''].join('\n'),
    );
    const zero = await dbdoctor(['exporter', '--config', 'zero.yaml', '--listen', '127.0.0.1:0'], { cwd: dir });
    expect(zero.code).toBe(3);
    expect(zero.stderr).toMatch(/^dbdoctor: zero\.yaml:2:\d+: defaults\.minInterval: must be greater than 0, e\.g\. 30s\n/);
    logs.push(escape.stderr, zero.stderr);
  });

  test('the password never appears in any response or log line', async () => {
    expect(answers.length).toBeGreaterThan(100);
    const everything = [...answers.map((answer) => `${JSON.stringify(answer.headers)}\n${answer.body}`), exporter.log, ...logs].join('\n');
    expect(exporter.log).toMatch(/msg=diagnosed target=burst engine=postgres status=healthy/);
    for (const secret of [PASSWORD, WRONG, SCRAPE_PASSWORD, encodeURIComponent(PASSWORD)]) expect(everything).not.toContain(secret);
  });
});
