import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RunReportSchema } from '../../src/engine/schema.js';
import { dbdoctor, diagnoseJson, emptyHome, ROOT } from '../lab/dbdoctor.js';
import { BLACK_HOLE, IsolatedHost } from '../lab/isolated.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';
import { PgBouncer } from '../lab/pgbouncer.js';
import { Cluster } from '../lab/postgres.js';
import { SCHEMA_FILE } from '../lab/readme.js';

/**
 * The operator workflows against real servers: wait (backoff, fail-fast, a command after "--"),
 * several targets under one deadline, config files, step selection, and every output format.
 */
const PASSWORD = 'flow-Pa55-word';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('workflows', () => {
  let cluster: Cluster;
  const url = (query = '', password = PASSWORD): string => cluster.url('app', password, 'appdb', query);

  beforeAll(async () => {
    cluster = await Cluster.create('flows');
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql('CREATE DATABASE appdb OWNER app');
  });
  afterAll(async () => cluster?.destroy());

  describe('wait', () => {
    test('waits through a stopped server until it starts, then runs the command and exits with its code', async () => {
      await cluster.stop('fast');
      const starting = pause(1500).then(() => cluster.start());
      const result = await dbdoctor(['wait', '--timeout', '30', url(), '--', 'sh', '-c', 'exit 7']);
      await starting;
      expect(result.code).toBe(7);
      expect(result.stderr).toMatch(/dbdoctor wait: \[1\] .*process\//);
      expect(result.stderr).toMatch(/ready after \d+ attempts/);
      expect(result.stdout).toBe('');
    });

    test('already ready: exits 0 at once; with --json it keeps the final diagnosis', async () => {
      const result = await dbdoctor(['wait', '--json', url()]);
      expect(result.code).toBe(0);
      expect(RunReportSchema.parse(JSON.parse(result.stdout)).status).toBe('healthy');
      expect(result.stderr).toContain('ready after 1 attempt');
    });

    test('never ready: times out with exit 2 and prints the last full diagnosis', async () => {
      const result = await dbdoctor(['wait', '--timeout', '2', '--json', `postgresql://app:${PASSWORD}@127.0.0.1:1/appdb`]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/timed out after/);
      const report = RunReportSchema.parse(JSON.parse(result.stdout));
      expect(report.targets[0]?.verdict.step).toBe('process');
    });

    test('a wrong password will not heal: fails fast after one attempt', async () => {
      const result = await dbdoctor(['wait', '--timeout', '30', url('', 'not-the-password')]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('waiting will not heal auth_failed');
      expect(result.stderr).not.toContain('[2]');
      expect(result.stdout).toContain('auth: auth_failed');
    });

    test('--no-fail-fast keeps trying a wrong password until the timeout', async () => {
      const result = await dbdoctor(['wait', '--timeout', '2', '--interval', '200ms', '--no-fail-fast', '-q', url('', 'not-the-password')]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('auth: auth_failed');
    });

    test('--until accepting: a server that answers its protocol is enough, even with a wrong password', async () => {
      const result = await dbdoctor(['wait', '--until', 'accepting', url('', 'not-the-password')]);
      expect(result.code).toBe(0);
    });

    test("through PgBouncer: waits for the database behind the pooler, not for the pooler's port", async () => {
      const bouncer = await PgBouncer.start(cluster, { users: { app: PASSWORD }, settings: { stats_users: 'app', server_login_retry: 1 } });
      try {
        await cluster.stop('fast');
        // pg_isready against the pooler says "accepting connections" all along: it is no readiness check.
        const ready = await new Promise<number>((resolve) =>
          execFile('pg_isready', ['-h', '127.0.0.1', '-p', String(bouncer.port)], (error) => resolve(error ? Number(error.code) : 0)),
        );
        expect(ready).toBe(0);
        let started = 0;
        const starting = pause(2500).then(async () => {
          await cluster.start();
          started = Date.now();
        });
        // PgBouncer holds a login while it has no server connection: short attempts show each one.
        const result = await dbdoctor(['wait', '--timeout', '40', '--attempt-timeout', '1s', bouncer.url('app', PASSWORD)]);
        await starting;
        expect(result.code).toBe(0);
        expect(result.stderr).toContain('accepting/pooler_backend_down');
        expect(started).toBeGreaterThan(0);
      } finally {
        await cluster.start().catch(() => undefined);
        await bouncer.stop();
      }
    });

    test('an idle-in-transaction session does not make a server unready', async () => {
      const client = cluster.client({ user: 'app', password: PASSWORD, database: 'appdb' });
      await client.connect();
      await client.query('BEGIN');
      await client.query('SELECT 1');
      await pause(1200);
      try {
        expect((await dbdoctor(['diagnose', '--idle-in-transaction', '1s', url()])).code).toBe(2);
        expect((await dbdoctor(['wait', '--idle-in-transaction', '1s', url()])).code).toBe(0);
      } finally {
        await client.end();
      }
    });
  });

  describe('wait, through real network faults', () => {
    const hosts: IsolatedHost[] = [];
    const newHost = async (): Promise<IsolatedHost> => {
      const made = await IsolatedHost.create();
      hosts.push(made);
      return made;
    };
    afterAll(async () => {
      for (const made of hosts) await made.destroy();
    });

    test('seed 004, as an init container: the resolver is down at start, then comes up; wait returns once MongoDB answers', async () => {
      const host = await newHost();
      const mongo = await Ferret.start({ listen: '10.99.0.1:27017', adminPassword: 'focus-pw-1', prefix: host.prefix });
      try {
        const resolverComesUp = pause(1500).then(() => host.startDns({ mongodb: { A: [mongo.host] } }));
        const result = await dbdoctor(
          ['wait', '--timeout', '30', `mongodb://${ADMIN_USER}:focus-pw-1@mongodb:27017/focus?authSource=admin`, '--', 'sh', '-c', 'echo started'],
          { prefix: host.prefix },
        );
        await resolverComesUp;
        expect(result.code).toBe(0);
        expect(result.stderr).toContain('network/dns_temporary');
        expect(result.stdout).toBe('started\n');
      } finally {
        await mongo.destroy();
      }
    });

    test('a name that does not exist is final after --retries attempts', async () => {
      const host = await newHost();
      await host.startDns({});
      const result = await dbdoctor(['wait', '--timeout', '60', '--retries', '2', '--interval', '100ms', 'postgresql://app@nosuch.lab:5432/app'], {
        prefix: host.prefix,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('[1]');
      expect(result.stderr).not.toContain('[3]');
      expect(result.stderr).toContain('waiting will not heal dns_not_found');
    });
  });

  describe('several targets', () => {
    test('diagnosed concurrently under one deadline: a black hole does not delay the refused one', async () => {
      const host = await IsolatedHost.create({ pid: true });
      try {
        const { code, report } = await diagnoseJson(['--timeout', '2', `postgresql://app@${BLACK_HOLE}:5432/app`, 'postgresql://app@127.0.0.1:1/app'], {
          prefix: host.prefix,
        });
        expect(code).toBe(2);
        expect(report.targets.map((target) => target.verdict.cause)).toEqual(['connect_timeout', 'not_running']);
        expect(report.durationMs).toBeLessThanOrEqual(2000);
      } finally {
        await host.destroy();
      }
    });

    test('with no target, every *DATABASE_URL the environment holds, labelled by its name', async () => {
      const { report } = await diagnoseJson([], { env: { DATABASE_URL: url(), ORDERS_DATABASE_URL: url('', 'wrong-one') } });
      expect(report.targets.map((target) => `${target.label}:${target.verdict.cause}`)).toEqual(['DATABASE_URL:healthy', 'ORDERS_DATABASE_URL:auth_failed']);
      expect(report.status).toBe('unhealthy');
    });

    test('a config file: labels, URLs from variables, per-target thresholds and steps', async () => {
      const dir = emptyHome();
      const file = join(dir, 'dbdoctor.yaml');
      writeFileSync(
        file,
        [
          'defaults:',
          '  timeout: 5',
          'targets:',
          '  - label: main',
          `    url: ${url()}`,
          '  - label: from-env',
          '    urlFrom: APP_DB',
          '    only: [process, accepting, network]',
          '    thresholds: { nearLimit: 1 }',
          '',
        ].join('\n'),
      );
      const { code, report } = await diagnoseJson(['--config', file], { env: { APP_DB: url() } });
      expect(code).toBe(0);
      expect(report.targets.map((target) => target.label)).toEqual(['main', 'from-env']);
      expect(report.targets[1]?.steps.find((step) => step.id === 'pool')?.summary).toContain('not in --only');
      expect(report.targets[1]?.source.host).toBe('env APP_DB');
    });

    test('a bad config file: one line naming the file, line, column and field; exit 3', async () => {
      const dir = emptyHome();
      const file = join(dir, 'dbdoctor.yaml');
      writeFileSync(file, ['targets:', '  - label: main', '    url: postgresql://db/app', '    timeout: soon', ''].join('\n'));
      const result = await dbdoctor(['diagnose', '--config', file]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(new RegExp(`^dbdoctor: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:\\d+: targets\\[0\\]\\.timeout: Expected number`));
    });

    test('--only and --skip choose the steps', async () => {
      const only = await diagnoseJson(['--only', 'process,accepting', url()]);
      expect(only.target.steps.map((step) => step.status)).toEqual(['pass', 'pass', 'skip', 'skip', 'skip', 'skip']);
      const skip = await diagnoseJson(['--skip', 'queries', url()]);
      expect(skip.target.steps.find((step) => step.id === 'queries')?.summary).toBe('not checked: --skip');
      expect((await dbdoctor(['diagnose', '--only', 'process,dns', url()])).stderr).toContain('unknown step "dns"');
    });
  });

  describe('formats', () => {
    test('JUnit: a suite per target, a case per step, the failing step a <failure> typed by its cause', async () => {
      const { code, stdout } = await dbdoctor(['diagnose', '--format', 'junit', url('', 'not-the-password')]);
      expect(code).toBe(2);
      expect(stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="dbdoctor" tests="6" failures="1" skipped="2"/);
      expect(stdout).toContain('<testcase classname="dbdoctor.postgres.postgresql://app:****@127.0.0.1:');
      expect(stdout).toMatch(
        /<testcase [^>]*name="auth"[^>]*>\n\s*<failure type="auth_failed" message="password authentication failed for user &quot;app&quot;/,
      );
    });

    test('Markdown: a paste-ready note with the verdict, the steps and the fix', async () => {
      const { stdout } = await dbdoctor(['diagnose', '--format', 'markdown', url('', 'not-the-password')]);
      expect(stdout).toMatch(/^_Diagnosed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ by dbdoctor /);
      expect(stdout).toContain('## CRITICAL: `postgresql://app:****@127.0.0.1:');
      expect(stdout).toContain('**Verdict:** `auth/auth_failed`');
      expect(stdout).toContain('| auth | fail (`auth_failed`) |');
      expect(stdout).toContain('### What to do\n\n1. ');
    });

    test('Nagios: one status line with perfdata, and the plugin exit code', async () => {
      const healthy = await dbdoctor(['diagnose', '--format', 'nagios', url()]);
      expect(healthy.code).toBe(0);
      expect(healthy.stdout).toMatch(
        /^DBDOCTOR OK - postgresql:\/\/app:\*\*\*\*@127\.0\.0\.1:\d+\/appdb healthy \| '.*up'=1;;1:;0;1 '.*seconds'=\d+\.\d{3}s '.*connections used'=[\d.]+%;80;100;0;100\n$/,
      );
      const failing = await dbdoctor(['diagnose', '--format', 'nagios', url('', 'not-the-password')]);
      expect(failing.code).toBe(2);
      expect(failing.stdout).toMatch(/^DBDOCTOR CRITICAL - .* auth\/auth_failed: /);
    });

    test('Prometheus: the text exposition format with the documented series', async () => {
      const { stdout } = await dbdoctor(['diagnose', '--format', 'prometheus', url()]);
      const samples = stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      for (const sample of samples) expect(sample).toMatch(/^dbdoctor_[a-z_]+\{([a-z_]+="(?:[^"\\]|\\.)*",?)+\} -?\d+(\.\d+)?$/);
      expect(stdout).toMatch(
        /dbdoctor_target_up\{target="postgresql:\/\/app:\*\*\*\*@127\.0\.0\.1:\d+\/appdb",engine="postgres",status="healthy",step="",cause="healthy"\} 1/,
      );
      expect(samples.filter((line) => line.startsWith('dbdoctor_step_status{'))).toHaveLength(6);
      expect(stdout).toMatch(/dbdoctor_connections_used_ratio\{[^}]*\} 0\.\d+/);
      expect(stdout).toMatch(/# TYPE dbdoctor_diagnosis_seconds gauge\ndbdoctor_diagnosis_seconds\{[^}]*\} \d+\.\d{3}/);
    });

    test('the checked-in JSON Schema is what `dbdoctor schema` prints, and real reports validate against it', async () => {
      const printed = await dbdoctor(['schema']);
      expect(printed.stdout).toBe(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8'));
      const validate = new Ajv({ strict: false }).compile(JSON.parse(printed.stdout) as object);
      for (const run of [await diagnoseJson([url()]), await diagnoseJson([url('', 'not-the-password')])]) {
        expect(validate(run.report), JSON.stringify(validate.errors)).toBe(true);
      }
    });
  });
});
