import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APP as CASSANDRA_APP, sharedCassandra, type CassandraNode } from '../lab/cassandra.js';
import { ROOT } from '../lab/dbdoctor.js';
import { ExporterProcess, get, samples } from '../lab/exporter.js';
import { IsolatedHost } from '../lab/isolated.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';
import { Cluster, freePort } from '../lab/postgres.js';
import { PrometheusServer, promtool, type PromVector } from '../lab/prometheus.js';
import { selfSignedCertificate } from '../lab/tls.js';

/**
 * A real Prometheus (Debian's package) scrapes `dbdoctor exporter` in front of real servers, with
 * the scrape config and alerting rules shipped in deploy/prometheus/, and the test reads what
 * Prometheus stored and fired through its HTTP API.
 *
 * The layout is a production one: the exporter and Prometheus share one test host (a pod: its own
 * network and PID namespaces, so no database server is local to the exporter), PostgreSQL and
 * FerretDB run on another test host linked to it (a database host: a stopped server there refuses,
 * as a remote one does, and the verdict is not_running), and the run's shared Apache Cassandra on
 * this machine's loopback is reached from the pod through a Unix-socket relay, as is Prometheus's
 * API from the test. Nothing outside loopback and these namespaces is contacted.
 */
const RELAY = join(dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'relay.mjs');
const PG_PASSWORD = 'prom-Orders-pw-41';
const FERRET_PASSWORD = 'prom-Ferret-pw-52';
const WRONG = { postgres: 'wrong-Pg-pw-93', mongodb: 'wrong-Ferret-pw-77', cassandra: 'wrong-Cass-pw-88' };
const SCRAPE = { user: 'prometheus', password: 'prom-Scrape-pw-19', wrong: 'prom-Wrong-pw-20' };
const EXPORTER = '127.0.0.1:9187';
const SECURED = '127.0.0.1:9188';
const PROMETHEUS = '127.0.0.1:9090';

const TARGETS = {
  'pg-orders': { engine: 'postgres', verdict: 'none/healthy', up: 1 },
  'pg-stopped': { engine: 'postgres', verdict: 'process/not_running', up: 0 },
  'pg-wrong-password': { engine: 'postgres', verdict: 'auth/auth_failed', up: 0 },
  'mongo-sessions': { engine: 'mongodb', verdict: 'none/healthy', up: 1 },
  'mongo-wrong-password': { engine: 'mongodb', verdict: 'auth/auth_failed', up: 0 },
  'cassandra-events': { engine: 'cassandra', verdict: 'none/healthy', up: 1 },
  'cassandra-wrong-password': { engine: 'cassandra', verdict: 'auth/auth_failed', up: 0 },
} as const;
type Name = keyof typeof TARGETS;
const NAMES = Object.keys(TARGETS) as Name[];

function relay(pairs: readonly string[], prefix: readonly string[] = []): Promise<ChildProcess> {
  const [command, ...args] = [...prefix, process.execPath, RELAY, ...pairs];
  const child = spawn(command ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the relay exited (${code})`)));
    child.stdout?.once('data', () => resolve(child));
  });
}

describe('a real Prometheus scrapes dbdoctor exporter in front of PostgreSQL, FerretDB and Cassandra', () => {
  let pod: IsolatedHost;
  let dbHost: IsolatedHost;
  let link: { a: string; b: string };
  let orders: Cluster;
  let stopped: Cluster;
  let ferret: Ferret;
  let cassandra: CassandraNode;
  let exporter: ExporterProcess;
  let secured: ExporterProcess;
  let prometheus: PrometheusServer;
  const relays: ChildProcess[] = [];
  let dir: string;
  let exporterUrl: string;
  const endpoints = {} as Record<Name, string>;

  beforeAll(async () => {
    cassandra = await sharedCassandra();
    dir = mkdtempSync(join(tmpdir(), 'dbdoctor-exporter-prom-'));
    pod = await IsolatedHost.create({ pid: true });
    dbHost = await IsolatedHost.create({ pid: true });
    link = await IsolatedHost.link(pod, dbHost);
    const hba = [`host all all ${link.a}/32 scram-sha-256`];
    [orders, stopped, ferret] = await Promise.all([
      Cluster.create('prom-orders', { prefix: dbHost.prefix, port: 5432, listen: link.b, hbaFirst: hba, settings: { max_connections: 50 } }),
      Cluster.create('prom-stopped', { prefix: dbHost.prefix, port: 5433, listen: link.b, hbaFirst: hba }),
      Ferret.start({ adminPassword: FERRET_PASSWORD, listen: `${link.b}:27017`, prefix: dbHost.prefix }),
    ]);
    await orders.sql(`CREATE ROLE app LOGIN PASSWORD '${PG_PASSWORD}'`);
    await orders.sql('GRANT pg_read_all_stats TO app');
    await orders.sql('CREATE DATABASE appdb OWNER app');
    await stopped.stop('fast');

    // Cassandra into the pod; Prometheus's API and the exporter out of it.
    const [promPort, exporterPort] = [await freePort(), await freePort()];
    const sock = (name: string): string => join(dir, `${name}.sock`);
    relays.push(
      await relay([
        `unix:${sock('cassandra')}=tcp:127.0.0.1:${cassandra.port}`,
        `tcp:127.0.0.1:${promPort}=unix:${sock('prometheus')}`,
        `tcp:127.0.0.1:${exporterPort}=unix:${sock('exporter')}`,
      ]),
    );
    relays.push(
      await relay(
        [
          `tcp:127.0.0.1:${cassandra.port}=unix:${sock('cassandra')}`,
          `unix:${sock('prometheus')}=tcp:${PROMETHEUS}`,
          `unix:${sock('exporter')}=tcp:${EXPORTER}`,
        ],
        pod.prefix,
      ),
    );
    exporterUrl = `http://127.0.0.1:${exporterPort}`;

    const urls: Record<Name, string> = {
      'pg-orders': `postgresql://app:${PG_PASSWORD}@${link.b}:5432/appdb`,
      'pg-stopped': `postgresql://app:${PG_PASSWORD}@${link.b}:5433/appdb`,
      'pg-wrong-password': `postgresql://app:${WRONG.postgres}@${link.b}:5432/appdb`,
      'mongo-sessions': `mongodb://${ADMIN_USER}:${FERRET_PASSWORD}@${link.b}:27017/`,
      'mongo-wrong-password': `mongodb://${ADMIN_USER}:${WRONG.mongodb}@${link.b}:27017/`,
      'cassandra-events': cassandra.url(CASSANDRA_APP, 'shop'),
      'cassandra-wrong-password': cassandra.url({ user: CASSANDRA_APP.user, password: WRONG.cassandra }, 'shop'),
    };
    for (const name of NAMES) endpoints[name] = urls[name].replace(/:[^:@/]*@/, '@');
    // The healthy PostgreSQL URL comes from a variable, as the Kubernetes manifest has it.
    const config = {
      defaults: { timeout: 10 },
      targets: NAMES.map((name) => (name === 'pg-orders' ? { label: name, urlFrom: 'ORDERS_DATABASE_URL' } : { label: name, url: urls[name] })),
    };
    writeFileSync(join(dir, 'targets.yaml'), stringify(config));
    const cert = await selfSignedCertificate('localhost');
    writeFileSync(
      join(dir, 'web.yaml'),
      stringify({
        tls_server_config: { cert_file: cert.certFile, key_file: cert.keyFile },
        basic_auth_users: { [SCRAPE.user]: (await import('bcryptjs')).default.hashSync(SCRAPE.password, 10) },
      }),
    );
    const env = { ORDERS_DATABASE_URL: urls['pg-orders'] };
    [exporter, secured] = await Promise.all([
      ExporterProcess.start(['--config', join(dir, 'targets.yaml'), '--listen', EXPORTER, '--log-level', 'debug'], { prefix: pod.prefix, env }),
      ExporterProcess.start(['--config', join(dir, 'targets.yaml'), '--listen', SECURED, '--web.config.file', join(dir, 'web.yaml')], {
        prefix: pod.prefix,
        env,
      }),
    ]);

    // The shipped scrape config and rules, with short intervals; alerts fire at once ("for: 0s").
    const shipped = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: Record<string, unknown>[];
    };
    shipped.global = { scrape_interval: '5s', scrape_timeout: '5s', evaluation_interval: '1s' };
    const probeJob = shipped.scrape_configs.find((job) => job.job_name === 'dbdoctor') as { static_configs: { targets: string[] }[] };
    probeJob.static_configs = [{ targets: NAMES }];
    const secureJob = (name: string, password: string): Record<string, unknown> => ({
      job_name: name,
      scheme: 'https',
      basic_auth: { username: SCRAPE.user, password },
      tls_config: { ca_file: cert.certFile, server_name: 'localhost' },
      static_configs: [{ targets: [SECURED] }],
    });
    shipped.scrape_configs.push(secureJob('dbdoctor-secured', SCRAPE.password), secureJob('dbdoctor-secured-wrong-password', SCRAPE.wrong));
    const rules = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'rules.yaml'), 'utf8')) as { groups: { rules: { for?: string }[] }[] };
    for (const group of rules.groups) for (const rule of group.rules) rule.for = '0s';
    prometheus = await PrometheusServer.start({
      config: stringify(shipped),
      files: { 'rules.yaml': stringify(rules) },
      listen: PROMETHEUS,
      apiUrl: `http://127.0.0.1:${promPort}`,
      prefix: pod.prefix,
    });
    const configCheck = await promtool(['check', 'config', join(ROOT, 'deploy', 'prometheus', 'prometheus.yml')]);
    expect(configCheck.code, configCheck.output).toBe(0);
    // Every target scraped at least once.
    await prometheus.until(
      'a dbdoctor_up series for every target',
      async () => ((await prometheus.query('dbdoctor_up')).length === NAMES.length ? true : undefined),
      90_000,
    );
  }, 300_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
    await secured?.stop();
    for (const child of relays) child.kill('SIGTERM');
    await orders?.destroy();
    await stopped?.destroy();
    await ferret?.destroy();
    await pod?.destroy();
    await dbHost?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const byTarget = (vector: readonly PromVector[]): Record<string, PromVector> =>
    Object.fromEntries(vector.map((sample) => [sample.metric.target ?? '', sample]));

  test('dbdoctor_up and dbdoctor_verdict{step,cause} for every target, labelled with its name, engine and endpoint (no password)', async () => {
    const up = byTarget(await prometheus.query('dbdoctor_up'));
    const verdicts = byTarget(await prometheus.query('dbdoctor_verdict'));
    for (const name of NAMES) {
      const expected = TARGETS[name];
      expect(up[name]?.value[1], name).toBe(String(expected.up));
      expect(up[name]?.metric, name).toEqual({
        __name__: 'dbdoctor_up',
        job: 'dbdoctor',
        instance: name,
        target: name,
        engine: expected.engine,
        endpoint: endpoints[name],
      });
      const [step, cause] = expected.verdict.split('/');
      expect(verdicts[name]?.metric, name).toEqual({
        __name__: 'dbdoctor_verdict',
        job: 'dbdoctor',
        instance: name,
        target: name,
        engine: expected.engine,
        endpoint: endpoints[name],
        step,
        cause,
      });
    }
  });

  test('dbdoctor_target_status{status} is a state set: one status at 1 per target', async () => {
    const current = await prometheus.query('dbdoctor_target_status == 1');
    expect(Object.fromEntries(current.map((sample) => [sample.metric.target, sample.metric.status]))).toEqual(
      Object.fromEntries(NAMES.map((name) => [name, TARGETS[name].up === 1 ? 'healthy' : 'unhealthy'])),
    );
    expect((await prometheus.query('count by (target) (dbdoctor_target_status)')).every((sample) => sample.value[1] === '3')).toBe(true);
  });

  test('evidence as figures: pool slots and lock waits where a step measured them, step durations, probe duration', async () => {
    expect((await prometheus.query('dbdoctor_max_connections{target="pg-orders"}'))[0]?.value[1]).toBe('50');
    expect(Number((await prometheus.query('dbdoctor_connections_in_use{target="pg-orders"}'))[0]?.value[1])).toBeGreaterThanOrEqual(1);
    expect((await prometheus.query('dbdoctor_lock_waits{target="pg-orders"}'))[0]?.value[1]).toBe('0');
    expect(await prometheus.query('dbdoctor_connections_in_use{target="pg-stopped"}')).toEqual([]);
    const steps = await prometheus.query('dbdoctor_step_duration_seconds{target="pg-orders"}');
    expect(steps.map((sample) => sample.metric.step).sort()).toEqual(['accepting', 'auth', 'network', 'pool', 'process', 'queries']);
    const stoppedSteps = await prometheus.query('dbdoctor_step_duration_seconds{target="pg-stopped"}');
    expect(stoppedSteps.map((sample) => sample.metric.step)).toEqual(['process']);
    const durations = await prometheus.query('dbdoctor_probe_duration_seconds');
    expect(durations).toHaveLength(NAMES.length);
    for (const sample of durations) expect(Number(sample.value[1])).toBeLessThanOrEqual(4.5);
  });

  test('the stopped PostgreSQL fires DatabaseUnhealthy, its annotations carrying the cause, what was measured, and the first fix', async () => {
    const alert = await prometheus.until('DatabaseUnhealthy firing for pg-stopped', async () =>
      (await prometheus.alerts()).find(
        (entry) => entry.labels.alertname === 'DatabaseUnhealthy' && entry.labels.target === 'pg-stopped' && entry.state === 'firing',
      ),
    );
    // The alert is the target's; the verdict's step and cause are read into its annotations.
    expect(alert.labels).toEqual({
      alertname: 'DatabaseUnhealthy',
      severity: 'critical',
      job: 'dbdoctor',
      instance: 'pg-stopped',
      target: 'pg-stopped',
      engine: 'postgres',
      endpoint: endpoints['pg-stopped'],
    });
    expect(alert.annotations).toMatchObject({ step: 'process', cause: 'not_running' });
    expect(alert.annotations.summary).toBe('pg-stopped (postgres) is unhealthy: not_running at the process step');
    expect(alert.annotations.description).toBe('No server is running');
    expect(alert.annotations.remediation).not.toBe('');
    expect(alert.annotations.runbook).toBe('dbdoctor runbook not_running');
    // Each target's alert becomes active at the first rule evaluation after its own first scrape
    // (a second apart): wait for the unusable ones, then assert the whole set.
    const unusable = NAMES.filter((name) => TARGETS[name].up === 0);
    const firingNow = async (): Promise<(typeof alert)[]> =>
      (await prometheus.alerts()).filter((entry) => entry.labels.alertname === 'DatabaseUnhealthy' && entry.state === 'firing');
    await prometheus.until(
      'DatabaseUnhealthy firing for every unusable target',
      async () => ((await firingNow()).length >= unusable.length ? true : undefined),
      30_000,
    );
    const firing = await firingNow();
    expect(firing.map((entry) => `${entry.labels.target} ${entry.annotations.cause}`).sort()).toEqual([
      'cassandra-wrong-password auth_failed',
      'mongo-wrong-password auth_failed',
      'pg-stopped not_running',
      'pg-wrong-password auth_failed',
    ]);
    const wrongPassword = firing.find((entry) => entry.labels.target === 'pg-wrong-password');
    expect(wrongPassword?.annotations.description).toBe('Authentication failed');
    expect(wrongPassword?.annotations.remediation).toMatch(/^Check the password for role "app"/);
    const capture = process.env.DBDOCTOR_EXPORTER_CAPTURE;
    if (capture) writeFileSync(`${capture}.alert.json`, JSON.stringify(alert, null, 2));
  });

  test('each /probe answer and /metrics pass promtool check metrics; Prometheus scraped the exporter itself', async () => {
    for (const name of NAMES) {
      const answer = await get(`${exporterUrl}/probe?target=${name}`);
      expect(answer.status).toBe(200);
      const check = await promtool(['check', 'metrics'], answer.body);
      expect(check.output, name).toBe('');
      expect(check.code, name).toBe(0);
      expect(samples(answer.body, 'dbdoctor_verdict')[0]?.labels.target).toBe(name);
      const capture = process.env.DBDOCTOR_EXPORTER_CAPTURE;
      if (capture && (name === 'pg-orders' || name === 'pg-stopped')) writeFileSync(`${capture}.${name}.prom`, answer.body);
    }
    const self = await get(`${exporterUrl}/metrics`);
    expect((await promtool(['check', 'metrics'], self.body)).code).toBe(0);
    const diagnoses = await prometheus.query('dbdoctor_exporter_diagnoses_total{job="dbdoctor-exporter"}');
    expect(diagnoses.map((sample) => sample.metric.target).sort()).toEqual([...NAMES].sort());
    expect((await prometheus.query('up{job="dbdoctor-exporter"}'))[0]?.value[1]).toBe('1');
  });

  test('TLS and basic auth from the web config: Prometheus scrapes with the right password, and is refused with a wrong one', async () => {
    const up = await prometheus.until('both secured jobs scraped', async () => {
      const found = await prometheus.query('up{job=~"dbdoctor-secured.*"}');
      return found.length === 2 ? Object.fromEntries(found.map((sample) => [sample.metric.job, sample.value[1]])) : undefined;
    });
    expect(up).toEqual({ 'dbdoctor-secured': '1', 'dbdoctor-secured-wrong-password': '0' });
    expect((await prometheus.query('dbdoctor_exporter_targets{job="dbdoctor-secured"}'))[0]?.value[1]).toBe(String(NAMES.length));
  });

  test('every query of the Grafana dashboard runs in this Prometheus, and its verdict panels have data', async () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dbdoctor-exporter.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$job', 'dbdoctor').replaceAll('$target', '.*').replaceAll('$__rate_interval', '1m');
        const result = await prometheus.query(expr);
        if (/^(Verdicts|Unhealthy targets|Usable|Diagnosis time|Step durations|Connection slots)/.test(panel.title))
          expect(result.length, panel.title).toBeGreaterThan(0);
      }
    }
    expect((await prometheus.query('count(dbdoctor_up{job=~"dbdoctor",target=~".*"} == 0) or vector(0)'))[0]?.value[1]).toBe('4');
  });

  test("no password in any series Prometheus stored, any answer, or any line of the exporter's log", async () => {
    const stored = JSON.stringify(await prometheus.series('{__name__=~"dbdoctor_.+"}'));
    const answers = (await Promise.all(NAMES.map((name) => get(`${exporterUrl}/probe?target=${name}`)))).map((answer) => answer.body).join('\n');
    const alerts = JSON.stringify(await prometheus.alerts());
    expect(exporter.log).toMatch(/msg=diagnosed target=pg-stopped engine=postgres status=unhealthy step=process cause=not_running/);
    for (const secret of [PG_PASSWORD, FERRET_PASSWORD, CASSANDRA_APP.password, SCRAPE.password, ...Object.values(WRONG)]) {
      for (const [where, text] of Object.entries({ stored, answers, alerts, log: exporter.log, securedLog: secured.log }))
        expect(text, `${where} holds a password`).not.toContain(secret);
    }
  });
});
