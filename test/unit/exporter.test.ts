import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { exporterCommand, parseListen, type ExporterOptions } from '../../src/cli/exporter.js';
import { InputError } from '../../src/config/errors.js';
import { DeadlineExceeded } from '../../src/engine/deadline.js';
import type { TargetReport } from '../../src/engine/schema.js';
import { escapeLabelValue, labelSafeText } from '../../src/exporter/exposition.js';
import { createLogger, ThrottledLog } from '../../src/exporter/log.js';
import { endpointOf, figuresOf, renderProbe } from '../../src/exporter/metrics.js';
import { Scheduler } from '../../src/exporter/scheduler.js';
import { compareTargets, intervalFields } from '../../src/exporter/serve.js';
import type { PlannedTarget } from '../../src/cli/prepare.js';
import { DEFAULT_THRESHOLDS } from '../../src/engine/probe.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { resolveTargets } from '../../src/config/targets.js';
import { requestUrl, scrapeBudget } from '../../src/exporter/server.js';
import { BasicAuth, loadWebConfig } from '../../src/exporter/webconfig.js';
import { samples } from '../lab/exporter.js';
import { promtool } from '../lab/prometheus.js';

/** The exporter's pure parts: flags, the text format, figures from evidence, the scheduler, the web config. */
function report(overrides: Partial<TargetReport> = {}): TargetReport {
  return {
    target: 'postgresql://app:****@db:5432/app',
    engine: 'postgres',
    source: {},
    status: 'healthy',
    verdict: { step: null, cause: 'healthy', message: 'all checks passed', details: {}, remediation: [] },
    warnings: [],
    steps: [],
    durationMs: 42,
    ...overrides,
  };
}

describe('exporter flags', () => {
  const parse = async (args: string[]): Promise<ExporterOptions> => {
    let options: ExporterOptions | undefined;
    const command = exporterCommand(async (parsed) => void (options = parsed));
    command.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    await command.parseAsync(args, { from: 'user' });
    if (!options) throw new Error('not run');
    return options;
  };

  test.each([
    ['127.0.0.1:9187', { host: '127.0.0.1', port: 9187 }],
    [':9187', { host: undefined, port: 9187 }],
    ['[::1]:9187', { host: '::1', port: 9187 }],
    ['exporter.local:80', { host: 'exporter.local', port: 80 }],
  ])('--listen %s', (text, expected) => {
    expect(parseListen(text)).toEqual(expected);
  });

  test.each(['9187', '127.0.0.1', '127.0.0.1:99999', '::1:9187', 'host:port'])('--listen %s is bad input', (text) => {
    expect(() => parseListen(text)).toThrow(/expected host:port/);
  });

  test('defaults: loopback 9187, 10 s, 15 s minimum interval, 16 at once, logfmt', async () => {
    const options = await parse(['--config', 'targets.yaml']);
    expect(options).toMatchObject({
      listen: { host: '127.0.0.1', port: 9187 },
      timeoutMs: 10_000,
      timeoutOffsetMs: 500,
      minIntervalMs: 15_000,
      maxConcurrent: 16,
      logFormat: 'logfmt',
      logLevel: 'info',
      configFile: 'targets.yaml',
      webConfigFile: undefined,
    });
  });

  test('every flag', async () => {
    const options = await parse([
      '--config',
      'f.yaml',
      '--listen',
      ':9999',
      '--web.config.file',
      'web.yml',
      '-t',
      '20',
      '--timeout-offset',
      '1',
      '--min-interval',
      '1m',
      '--max-concurrent',
      '4',
      '--log-format',
      'json',
      '--log-level',
      'debug',
    ]);
    expect(options).toMatchObject({
      listen: { host: undefined, port: 9999 },
      webConfigFile: 'web.yml',
      timeoutMs: 20_000,
      timeoutOffsetMs: 1000,
      minIntervalMs: 60_000,
      maxConcurrent: 4,
      logFormat: 'json',
      logLevel: 'debug',
    });
  });

  test.each([
    [undefined, 10_000, "the exporter's --timeout"],
    ['15', 10_000, "the exporter's --timeout"],
    ['10', 9_500, "the scrape's deadline (X-Prometheus-Scrape-Timeout-Seconds 10 less --timeout-offset 0.5)"],
    ['2', 1_500, "the scrape's deadline (X-Prometheus-Scrape-Timeout-Seconds 2 less --timeout-offset 0.5)"],
    ['0.5', 250, "the scrape's deadline (half of X-Prometheus-Scrape-Timeout-Seconds 0.5, as --timeout-offset 0.5 is more than half)"],
    ['0.1', 50, "the scrape's deadline (half of X-Prometheus-Scrape-Timeout-Seconds 0.1, as --timeout-offset 0.5 is more than half)"],
    ['nonsense', 10_000, "the exporter's --timeout"],
    ['-3', 10_000, "the exporter's --timeout"],
  ])('the time a diagnosis gets: X-Prometheus-Scrape-Timeout-Seconds %s → %i ms, named %s', (header, ms, named) => {
    const budget = scrapeBudget(header, 10_000, 500);
    expect(budget.ms).toBe(ms);
    expect(`${budget.source.name}${budget.source.detail ? ` (${budget.source.detail})` : ''}`).toBe(named);
  });

  test('--timeout-offset 0 is allowed (as the blackbox exporter allows it): the whole scrape timeout', async () => {
    expect((await parse(['--config', 'f.yaml', '--timeout-offset', '0'])).timeoutOffsetMs).toBe(0);
    expect(scrapeBudget('2', 10_000, 0).ms).toBe(2000);
  });

  test("the listening line gives the minimum interval the targets get: the config file's default, not the flag's", () => {
    expect(
      intervalFields([
        { name: 'a', minIntervalMs: 60_000 },
        { name: 'b', minIntervalMs: 60_000 },
      ]),
    ).toEqual({ min_interval_ms: 60_000 });
    expect(
      intervalFields([
        { name: 'a', minIntervalMs: 15_000 },
        { name: 'b', minIntervalMs: 60_000 },
      ]),
    ).toEqual({ min_interval_ms: 15_000, min_interval_longest_ms: 60_000 });
  });

  test('a reload compares targets by label: added, removed, and changed (a new password too, compared as a hash)', async () => {
    const env = buildEnvironment({ HOME: mkdtempSync(join(tmpdir(), 'dbdoctor-unit-')) });
    const planned = async (url: string): Promise<PlannedTarget> => ({
      target: (await resolveTargets([url], env))[0] ?? expect.fail(url),
      thresholds: DEFAULT_THRESHOLDS,
    });
    const before = new Map([
      ['a', await planned('postgresql://app:one@db/a')],
      ['b', await planned('postgresql://app:x@db/b')],
      ['c', await planned('postgresql://app:x@db/c')],
    ]);
    const after = new Map([
      ['a', await planned('postgresql://app:two@db/a')],
      ['b', await planned('postgresql://app:x@db/b')],
      ['d', await planned('postgresql://app:x@db/d')],
    ]);
    expect(before.get('a')?.target.display).toBe(after.get('a')?.target.display);
    expect(compareTargets(before, after)).toEqual({ added: ['d'], removed: ['c'], changed: ['a'] });
  });

  test.each([
    ['/probe?target=x', '/probe', 'x'],
    ['//probe?target=x', '//probe', 'x'],
    ['http://exporter.example:9187/probe?target=y', '/probe', 'y'],
    ['/', '/', null],
  ])('the request path %s is %s (never resolved as a host)', (raw, path, target) => {
    const url = requestUrl(raw);
    expect(url?.pathname).toBe(path);
    expect(url?.searchParams.get('target') ?? null).toBe(target);
  });

  test.each(['probe?target=x', '*', 'ftp://x/probe'])('the request path %s is refused', (raw) => {
    expect(requestUrl(raw)).toBeUndefined();
  });

  test('no --config: bad input naming the flag', async () => {
    await expect(parse([])).rejects.toThrow(InputError);
    await expect(parse([])).rejects.toThrow(/needs --config <file>/);
  });
});

describe('the text format', () => {
  test('label values escape backslash, double quote and line feed; lone surrogates become U+FFFD', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('x\uD800y')).toBe('x\uFFFDy');
    expect(escapeLabelValue('😀')).toBe('😀');
  });

  test('free text for a label: one line, control characters visible, cut to length', () => {
    expect(labelSafeText('first\n  second\tthird\u0007')).toBe('first second third\\x07');
    expect(labelSafeText('x'.repeat(400))).toHaveLength(300);
    expect(labelSafeText('x'.repeat(400)).endsWith('…')).toBe(true);
  });

  test('a hostile server message stays inside its label, and promtool accepts the output', async () => {
    const message = 'FATAL: "} 1\ndbdoctor_up{target="evil"} 1\n# TYPE x counter \\';
    const text = renderProbe({
      name: 'orders',
      endedAt: 1_700_000_000_000,
      report: report({
        status: 'unhealthy',
        verdict: {
          step: 'auth',
          cause: 'auth_failed',
          message,
          details: {},
          remediation: [{ text: 'Fix "it":', command: 'psql "host=db"' }, { text: message }],
        },
      }),
    });
    expect(samples(text, 'dbdoctor_up')).toHaveLength(1);
    // The message label is the cause's title (the measured message would churn series): see below.
    expect(samples(text, 'dbdoctor_verdict_info')[0]?.labels).toMatchObject({ message: 'Authentication failed', remediation: 'Fix "it": psql "host=db"' });
    const hostileFirst = renderProbe({
      name: 'orders',
      endedAt: 1_700_000_000_000,
      report: report({
        status: 'unhealthy',
        verdict: { step: 'auth', cause: 'auth_failed', message, details: {}, remediation: [{ text: message, command: 'psql "host=db"\n' }] },
      }),
    });
    expect(samples(hostileFirst, 'dbdoctor_up')).toHaveLength(1);
    expect(samples(hostileFirst, 'dbdoctor_verdict_info')[0]?.labels.remediation).toBe(labelSafeText(`${message} psql "host=db"\n`));
    expect((await promtool(['check', 'metrics'], hostileFirst)).code).toBe(0);
    const check = await promtool(['check', 'metrics'], text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  test('a degraded target: usable (up 1), the first warning is the verdict, each warning a series, figures absent when not measured', () => {
    const text = renderProbe({
      name: 'reports',
      endedAt: 1_700_000_000_500,
      report: report({
        status: 'degraded',
        verdict: {
          step: 'pool',
          cause: 'near_limit',
          message: '85 of 100 connections in use',
          details: {},
          remediation: [{ text: 'Find who holds the connections:', command: 'SELECT 1;', language: 'sql' }],
        },
        warnings: [
          { step: 'pool', cause: 'near_limit', summary: '85 of 100' },
          { step: 'queries', cause: 'long_running', summary: '1 statement' },
        ],
        steps: [
          { id: 'pool', status: 'warn', cause: 'near_limit', summary: '', evidence: { inUse: 85, maxConnections: 100 }, remediation: [], durationMs: 12 },
        ],
      }),
    });
    const labels = { target: 'reports', engine: 'postgres', endpoint: 'postgresql://app@db:5432/app' };
    expect(samples(text, 'dbdoctor_up')).toEqual([{ labels, value: 1 }]);
    expect(
      samples(text, 'dbdoctor_target_status')
        .filter((sample) => sample.value === 1)
        .map((sample) => sample.labels.status),
    ).toEqual(['degraded']);
    expect(samples(text, 'dbdoctor_verdict')).toEqual([{ labels: { ...labels, step: 'pool', cause: 'near_limit' }, value: 1 }]);
    expect(samples(text, 'dbdoctor_warning').map((sample) => `${sample.labels.step}/${sample.labels.cause}`)).toEqual([
      'pool/near_limit',
      'queries/long_running',
    ]);
    expect(samples(text, 'dbdoctor_verdict_info')[0]?.labels.remediation).toBe('Find who holds the connections: SELECT 1;');
    expect(samples(text, 'dbdoctor_connections_in_use')).toEqual([{ labels, value: 85 }]);
    expect(samples(text, 'dbdoctor_step_duration_seconds')).toEqual([{ labels: { ...labels, step: 'pool' }, value: 0.012 }]);
    expect(samples(text, 'dbdoctor_lock_waits')).toEqual([]);
    expect(text).not.toContain('dbdoctor_lock_waits');
    expect(samples(text, 'dbdoctor_probe_timestamp_seconds')[0]?.value).toBe(1_700_000_000.5);
  });

  test('dbdoctor_verdict_info does not churn: diagnoses that measured different figures for the same verdict write the same series', () => {
    const at = (message: string, endedAt: number): string =>
      renderProbe({
        name: 'reports',
        endedAt,
        report: report({
          status: 'degraded',
          verdict: {
            step: 'pool',
            cause: 'near_limit',
            message,
            details: {},
            remediation: [{ text: 'Find who holds the connections:', command: 'SELECT 1;', language: 'sql' }],
          },
          warnings: [{ step: 'pool', cause: 'near_limit', summary: message }],
        }),
      });
    const first = samples(at('85 of 100 connections in use (85 %, warning at 80 %)', 1), 'dbdoctor_verdict_info');
    const later = samples(at('97 of 100 connections in use (97 %, warning at 80 %)', 2), 'dbdoctor_verdict_info');
    expect(later).toEqual(first);
    expect(first[0]?.labels).toMatchObject({
      step: 'pool',
      cause: 'near_limit',
      message: 'Connections near the limit',
      remediation: 'Find who holds the connections: SELECT 1;',
    });
    expect(samples(renderProbe({ name: 'a', endedAt: 1, report: report() }), 'dbdoctor_verdict_info')[0]?.labels).toMatchObject({
      cause: 'healthy',
      message: 'Healthy',
      remediation: '',
    });
  });

  test('the endpoint label is the shown target without its masked password', () => {
    expect(endpointOf({ target: 'postgresql://app:****@db:5432/app' })).toBe('postgresql://app@db:5432/app');
    expect(endpointOf({ target: 'mongodb://db:27017/?tlsCertificateKeyFilePassword=****' })).toBe('mongodb://db:27017/?tlsCertificateKeyFilePassword=****');
  });
});

describe('figures from the evidence each engine gives', () => {
  const step = (id: 'pool' | 'queries', evidence: Record<string, unknown>, status: 'pass' | 'skip' = 'pass') => ({
    id,
    status,
    cause: null,
    summary: '',
    evidence,
    remediation: [],
    durationMs: 1,
  });

  test.each([
    ['PostgreSQL', { inUse: 12, maxConnections: 100, usedPercent: 12 }, { inUse: 12, maxConnections: 100 }],
    ['MongoDB', { current: 5, available: 95, limit: 100 }, { inUse: 5, maxConnections: 100 }],
    ['PgBouncer', { usedClients: 90, maxClientConn: 100 }, { inUse: 90, maxConnections: 100 }],
    [
      'Cassandra: the fullest node',
      {
        nodes: [
          { node: 'a', connected: 10, limit: 100 },
          { node: 'b', connected: 9, limit: 10 },
        ],
      },
      { inUse: 9, maxConnections: 10 },
    ],
    [
      'Cassandra without a limit',
      {
        nodes: [
          { node: 'a', connected: 3, limit: -1 },
          { node: 'b', connected: 7, limit: -1 },
        ],
      },
      { inUse: 7 },
    ],
    ['a limited view', { visibility: 'no permission' }, {}],
    [
      "through PgBouncer: its clients and max_client_conn, not PostgreSQL's figures behind it",
      { inUse: 12, maxConnections: 100, pooler: { name: 'PgBouncer', clients: { used: 7, maxClientConn: 500 } } },
      { inUse: 7, maxConnections: 500 },
    ],
    [
      'through PgBouncer near max_client_conn: the same figures',
      { pooler: { name: 'PgBouncer', clients: { used: 450, maxClientConn: 500 } }, usedClients: 450, maxClientConn: 500 },
      { inUse: 450, maxConnections: 500 },
    ],
    [
      "through PgBouncer without its console: no figure (not PostgreSQL's under the pooler's name)",
      { inUse: 12, maxConnections: 100, pooler: { name: 'PgBouncer' } },
      {},
    ],
  ])('pool: %s', (_name, evidence, expected) => {
    expect(figuresOf(report({ steps: [step('pool', evidence)] }))).toEqual(expected);
  });

  test('lock waits and long-running statements: counts and the longest wait (PostgreSQL seconds, MongoDB milliseconds)', () => {
    expect(figuresOf(report({ steps: [step('queries', { blocked: [{ waiting_seconds: 12.5 }, { waiting_seconds: 3 }], longRunning: [{}] })] }))).toEqual({
      lockWaits: 2,
      lockWaitLongestSeconds: 12.5,
      longRunning: 1,
    });
    expect(figuresOf(report({ steps: [step('queries', { blocked: [{ lockWaitMs: 2500 }], longRunning: [] })] }))).toEqual({
      lockWaits: 1,
      lockWaitLongestSeconds: 2.5,
      longRunning: 0,
    });
    expect(figuresOf(report({ steps: [step('queries', { blocked: [], longRunning: [] })] }))).toEqual({
      lockWaits: 0,
      lockWaitLongestSeconds: 0,
      longRunning: 0,
    });
  });

  test('a skipped step gives no figure (not a zero)', () => {
    expect(figuresOf(report({ steps: [step('pool', { inUse: 1, maxConnections: 2 }, 'skip'), step('queries', { blocked: [] }, 'skip')] }))).toEqual({});
  });
});

describe('the scheduler', () => {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  test('one diagnosis per target at a time: concurrent scrapes share it; within the interval the result is cached; after it, a new one', async () => {
    let calls = 0;
    let running = 0;
    let most = 0;
    const scheduler = new Scheduler(
      [{ name: 'a', minIntervalMs: 200 }],
      async () => {
        calls += 1;
        running += 1;
        most = Math.max(most, running);
        await sleep(50);
        running -= 1;
        return report();
      },
      4,
    );
    const answers = await Promise.all(Array.from({ length: 25 }, () => scheduler.probe('a', 1000)));
    expect(answers.map((answer) => answer.kind).sort()).toEqual(['fresh', ...Array<string>(24).fill('shared')]);
    expect(new Set(answers.map((answer) => answer.entry?.text)).size).toBe(1);
    expect((await scheduler.probe('a', 1000)).kind).toBe('cached');
    expect(calls).toBe(1);
    await sleep(250);
    expect((await scheduler.probe('a', 1000)).kind).toBe('fresh');
    expect(calls).toBe(2);
    expect(most).toBe(1);
    expect(scheduler.diagnosesOf('a')).toBe(2);
  });

  test('at most maxConcurrent across targets; one that cannot start within its scrape time is timed_out, the others run', async () => {
    let running = 0;
    let most = 0;
    const scheduler = new Scheduler(
      ['a', 'b', 'c'].map((name) => ({ name, minIntervalMs: 1000 })),
      async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(150);
        running -= 1;
        return report();
      },
      2,
    );
    const answers = await Promise.all([scheduler.probe('a', 1000), scheduler.probe('b', 1000), scheduler.probe('c', 50)]);
    expect(answers.map((answer) => answer.kind)).toEqual(['fresh', 'fresh', 'timed_out']);
    expect(answers[2]).toMatchObject({ entry: undefined, reason: expect.stringMatching(/no diagnosis slot for c within 50 ms: 2 diagnoses were running/) });
    expect(most).toBe(2);
    await scheduler.drain();
    expect(scheduler.inFlight).toBe(0);
    expect(scheduler.waiting).toBe(0);
  });

  test('a scrape that stops waiting gets the last result, if there is one', async () => {
    let slow = false;
    const scheduler = new Scheduler(
      [{ name: 'a', minIntervalMs: 1 }],
      async () => (slow ? (await sleep(300), report({ durationMs: 2 })) : report({ durationMs: 1 })),
      1,
    );
    const first = await scheduler.probe('a', 1000);
    await sleep(5);
    slow = true;
    const late = await scheduler.probe('a', 50);
    expect(late.kind).toBe('timed_out');
    expect(late.entry).toBe(first.entry);
    await scheduler.drain();
  });
});

describe("the scheduler: freshness and what a scrape's own timeout may do", () => {
  const unhealthy = (cause: 'deadline_exceeded' | 'connect_timeout' | 'auth_failed'): TargetReport =>
    report({ status: 'unhealthy', verdict: { step: 'accepting', cause, message: cause, details: {}, remediation: [] } });

  test('the minimum interval counts from the start of a diagnosis, with slack: a scrape every minInterval gets a fresh one each time, even a few ms early', async () => {
    let clock = 1_000_000;
    const scheduler = new Scheduler(
      [{ name: 'a', minIntervalMs: 30_000 }],
      async () => ((clock += 250), report()),
      4,
      () => clock,
    );
    const kinds: string[] = [];
    // The scrapes of one Prometheus every 30 s (jittered by a few ms), and of a second replica in between.
    for (const at of [0, 15_000, 29_995, 45_000, 60_003, 75_000, 89_980, 105_000, 119_999]) {
      clock = 1_000_000 + at;
      kinds.push(`${at}:${(await scheduler.probe('a', 9500)).kind}`);
    }
    expect(kinds).toEqual([
      '0:fresh',
      '15000:cached',
      '29995:fresh',
      '45000:cached',
      '60003:fresh',
      '75000:cached',
      '89980:fresh',
      '105000:cached',
      '119999:fresh',
    ]);
    clock = 1_000_000 + 119_999 + 28_000; // within the interval less its slack (1 s at most)
    expect((await scheduler.probe('a', 9500)).kind).toBe('cached');
  });

  test('a scrape that allows less than a diagnosis needs starts none: the last result, or nothing (a 503)', async () => {
    let calls = 0;
    const scheduler = new Scheduler([{ name: 'a', minIntervalMs: 1 }], async () => ((calls += 1), report()), 4, Date.now, 1000);
    const none = await scheduler.probe('a', 50);
    expect(none).toMatchObject({
      kind: 'too_short',
      entry: undefined,
      reason: 'the scrape allows 50 ms for a diagnosis of a, less than the 1000 ms one needs; raise its scrape_timeout',
    });
    expect(calls).toBe(0);
    const good = await scheduler.probe('a', 9500);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const short = await scheduler.probe('a', 50);
    expect(short).toMatchObject({ kind: 'too_short', entry: good.entry });
    expect(calls).toBe(1);
  });

  test.each(['deadline_exceeded', 'connect_timeout'] as const)(
    'a short scrape cannot poison the others: its unhealthy %s, decided under its short budget, is not served to a scrape that allows more',
    async (cause) => {
      let calls = 0;
      const scheduler = new Scheduler(
        [{ name: 'a', minIntervalMs: 60_000 }],
        async (_name, deadline) => {
          calls += 1;
          // A slow server: answers in 1.2 s; a shorter budget runs out (it used all of it).
          if (deadline.budgetMs < 1200) return (await new Promise((resolve) => setTimeout(resolve, deadline.budgetMs - 20)), unhealthy(cause));
          return (await new Promise((resolve) => setTimeout(resolve, 10)), report());
        },
        4,
        Date.now,
        100,
      );
      const short = await scheduler.probe('a', 200);
      expect(short.kind).toBe('fresh');
      expect(short.entry?.report.verdict.cause).toBe(cause);
      expect(short.entry?.timeBound).toBe(true);
      // Another scraper, within the interval, with Prometheus's usual 9.5 s: a diagnosis of its own.
      const normal = await scheduler.probe('a', 9500);
      expect(normal.kind).toBe('fresh');
      expect(normal.entry?.report.status).toBe('healthy');
      // From then on every scraper gets the healthy result, the short one too.
      expect((await scheduler.probe('a', 9500)).entry?.report.status).toBe('healthy');
      expect(await scheduler.probe('a', 200)).toMatchObject({ kind: 'cached', entry: normal.entry });
      expect(calls).toBe(2);
    },
  );

  test('a target\'s own timeout caps every scrape\'s budget, and is the one named; a short one of its own is not "too short"', async () => {
    const seen: { budgetMs: number; source: string }[] = [];
    const own = { ms: 600, source: { name: 'the timeout', detail: 'targets.yaml: timeout of a' } };
    const scheduler = new Scheduler(
      [{ name: 'a', minIntervalMs: 60_000, timeout: own }],
      async (_name, deadline) => {
        const error = await deadline.race(new Promise(() => undefined)).catch((caught: unknown) => caught);
        seen.push({ budgetMs: deadline.budgetMs, source: error instanceof DeadlineExceeded ? error.describe((ms) => `${ms} ms`) : '' });
        return unhealthy('deadline_exceeded');
      },
      4,
      Date.now,
      1000,
    );
    const answer = await scheduler.probe('a', 9500, 0, { name: "the scrape's deadline" });
    expect(answer.kind).toBe('fresh');
    expect(answer.entry?.budgetMs).toBe(600);
    expect(seen).toEqual([{ budgetMs: 600, source: 'the timeout of 600 ms (targets.yaml: timeout of a)' }]);
    // A 15 s scrape is capped at 600 ms as well: the same result serves it, no diagnosis more.
    expect((await scheduler.probe('a', 15_000)).kind).toBe('cached');
    expect(seen).toHaveLength(1);
    // The target's 600 ms is less than the exporter's least (1 s), but its owner chose it: a 650 ms scrape diagnoses.
    const other = new Scheduler([{ name: 'b', minIntervalMs: 60_000, timeout: own }], async () => report(), 4, Date.now, 1000);
    expect((await other.probe('b', 650)).kind).toBe('fresh');
  });

  test('a scrape that joins a shorter diagnosis in flight and gets a verdict it may not use diagnoses again; a verdict that is not about time is shared', async () => {
    let calls = 0;
    const slow = new Scheduler(
      [{ name: 'a', minIntervalMs: 60_000 }],
      async (_name, deadline) => (
        (calls += 1),
        deadline.budgetMs < 1000 ? (await new Promise((resolve) => setTimeout(resolve, deadline.budgetMs - 10)), unhealthy('deadline_exceeded')) : report()
      ),
      4,
      Date.now,
      100,
    );
    const [short, long] = await Promise.all([slow.probe('a', 300), (await new Promise((resolve) => setTimeout(resolve, 50)), slow.probe('a', 9500))]);
    expect(short.entry?.report.status).toBe('unhealthy');
    expect(long).toMatchObject({ kind: 'fresh' });
    expect(long.entry?.report.status).toBe('healthy');
    expect(calls).toBe(2);
    // A wrong password is a wrong password whatever the budget: served to all, one diagnosis.
    let auth = 0;
    const fast = new Scheduler(
      [{ name: 'a', minIntervalMs: 60_000 }],
      async () => ((auth += 1), await new Promise((resolve) => setTimeout(resolve, 30)), unhealthy('auth_failed')),
      4,
      Date.now,
      100,
    );
    const [first, joined] = await Promise.all([fast.probe('a', 300), fast.probe('a', 9500)]);
    expect([first.kind, joined.kind]).toEqual(['fresh', 'shared']);
    expect(joined.entry?.timeBound).toBe(false);
    expect((await fast.probe('a', 9500)).kind).toBe('cached');
    expect(auth).toBe(1);
  });
});

describe('the web config file (the exporter-toolkit format)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-webconfig-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  test('basic_auth_users: bcrypt hashes from libxcrypt ($2y$, $2b$) and bcryptjs; wrong password, unknown user, malformed header refused', async () => {
    const config = await loadWebConfig(
      file(
        'users.yml',
        "basic_auth_users:\n  alice: '$2y$10$abcdefghijklmnopqrstuunWOb7tlFo8R/aKWi8WjWLCeckTMuv/C'\n  bob: '$2b$10$vhNjmM9yJaGHv2SyUk.2J.fU.LK5BnOTeVt1jWjSfvyJC/uqcYeie'\n",
      ),
    );
    const users = config.users as BasicAuth;
    const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;
    expect(await users.check(basic('alice:scrape-S3cret-17'))).toBe('alice');
    expect(await users.check(basic('alice:scrape-S3cret-17'))).toBe('alice'); // remembered
    expect(await users.check(basic('bob:s3cret-scrape'))).toBe('bob');
    expect(await users.check(basic('alice:s3cret-scrape'))).toBeUndefined();
    expect(await users.check(basic('carol:scrape-S3cret-17'))).toBeUndefined();
    expect(await users.check('Bearer x')).toBeUndefined();
    expect(await users.check(undefined)).toBeUndefined();
    expect(await users.check(basic('no colon'))).toBeUndefined();
    expect(config.tls).toBeUndefined();
  });

  test('bcrypt runs off the event loop, one comparison at a time, a bounded queue beyond which a check is refused at once as busy; both outcomes remembered', async () => {
    const auth = new BasicAuth({ alice: '$2y$10$abcdefghijklmnopqrstuunWOb7tlFo8R/aKWi8WjWLCeckTMuv/C' }, 4);
    const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;
    try {
      expect(await auth.verify(basic('alice:scrape-S3cret-17'))).toEqual({ kind: 'allowed', user: 'alice' });
      expect(await auth.verify(basic('alice:wrong-0'))).toEqual({ kind: 'refused' });
      // Twenty new wrong passwords at once: the event loop keeps turning (a timer set now fires
      // long before the comparisons are done), and those beyond one comparing plus four waiting are busy.
      let lag = Number.POSITIVE_INFINITY;
      const started = performance.now();
      const tick = new Promise<void>((resolve) => setTimeout(() => ((lag = performance.now() - started), resolve()), 10));
      const flood = Array.from({ length: 20 }, (_, index) => auth.verify(basic(`alice:wrong-${index + 1}`)));
      await tick;
      // A bound on a promise, with a wide margin, not a speed: on the event loop, twenty bcrypt
      // comparisons held this timer for over a second.
      expect(lag).toBeLessThan(500);
      const outcomes = await Promise.all(flood);
      expect(outcomes.filter((outcome) => outcome.kind === 'refused')).toHaveLength(5);
      expect(outcomes.filter((outcome) => outcome.kind === 'busy')).toHaveLength(15);
      // Remembered: the right password and a wrong one already seen answer without the worker, even while it is full.
      const busyAgain = Array.from({ length: 10 }, (_, index) => auth.verify(basic(`alice:other-${index}`)));
      expect(await auth.verify(basic('alice:scrape-S3cret-17'))).toEqual({ kind: 'allowed', user: 'alice' });
      expect(await auth.verify(basic('alice:wrong-0'))).toEqual({ kind: 'refused' });
      await Promise.all(busyAgain);
    } finally {
      await auth.close();
    }
  });

  test.each([
    ['a plain-text password', 'basic_auth_users:\n  alice: secret\n', /basic_auth_users\.alice: expected a bcrypt hash/],
    ['an unknown key', 'tls_config:\n  cert_file: x\n', /\(top level\): Unrecognized key\(s\) in object: 'tls_config'/],
    ['cipher_suites', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n', /tls_server_config\.cipher_suites is not supported/],
    ['http2', 'http_server_config:\n  http2: true\n', /http_server_config\.http2 is not supported/],
    [
      'client verification without a CA',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      /needs client_ca_file/,
    ],
    [
      'a certificate file that is not there',
      'tls_server_config:\n  cert_file: /nonexistent/tls.crt\n  key_file: /nonexistent/tls.key\n',
      /cannot read tls_server_config\.cert_file \/nonexistent\/tls\.crt \(ENOENT\)/,
    ],
    [
      "a header outside the exporter-toolkit's set",
      'http_server_config:\n  headers:\n    X-Powered-By: dbdoctor\n',
      /http_server_config\.headers: "X-Powered-By" cannot be set/,
    ],
    ['a header name in another case', 'http_server_config:\n  headers:\n    x-frame-options: deny\n', /"x-frame-options" cannot be set/],
    [
      'a header value with CR LF',
      'http_server_config:\n  headers:\n    Strict-Transport-Security: "max-age=1\\r\\nSet-Cookie: x=1"\n',
      /Strict-Transport-Security: the value .* has a line break or control character/,
    ],
    [
      'X-Content-Type-Options other than nosniff',
      'http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n',
      /X-Content-Type-Options: "sniff" is not one of "nosniff"/,
    ],
    [
      'min_version above max_version',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n',
      /min_version TLS13 is above max_version TLS12/,
    ],
  ])('%s is bad input', async (_name, text, message) => {
    await expect(loadWebConfig(file('bad.yml', text))).rejects.toThrow(message);
    await expect(loadWebConfig(file('bad.yml', text))).rejects.toBeInstanceOf(InputError);
  });
});

describe('the log under a flood of bad requests', () => {
  test('at most a burst of lines of one kind per window; the rest counted into one line at the end of the window (or at shutdown), with a few examples', () => {
    const lines: string[] = [];
    let clock = 0;
    const log = createLogger(
      (line) => lines.push(line),
      'logfmt',
      'info',
      () => new Date(0),
    );
    const throttled = new ThrottledLog(log, 60_000, 3, () => clock);
    for (let index = 0; index < 20_000; index += 1) throttled.warn('unknown target', { target: `x${index}`, remote: '10.0.0.9', subject: `x${index}` });
    throttled.warn('no result in time', { target: 'orders' }, 'no result in time orders');
    throttled.warn('no result in time', { target: 'billing' }, 'no result in time billing');
    expect(lines).toHaveLength(5);
    clock = 61_000;
    throttled.warn('unknown target', { target: 'later', remote: '10.0.0.9', subject: 'later' });
    expect(lines.slice(3)).toEqual([
      'ts=1970-01-01T00:00:00.000Z level=warn msg="no result in time" target=orders\n',
      'ts=1970-01-01T00:00:00.000Z level=warn msg="no result in time" target=billing\n',
      'ts=1970-01-01T00:00:00.000Z level=warn msg="unknown target (more, not logged one by one)" suppressed=19997 window_s=60 examples=x3,x4,x5,x6,x7\n',
      'ts=1970-01-01T00:00:00.000Z level=warn msg="unknown target" target=later remote=10.0.0.9\n',
    ]);
    throttled.flush();
    expect(lines).toHaveLength(7);
  });
});

describe('the log', () => {
  test('logfmt quotes what needs it; json is one object a line; below the level nothing', () => {
    const lines: string[] = [];
    const now = (): Date => new Date('2026-01-01T00:00:00Z');
    const logfmt = createLogger((line) => lines.push(line), 'logfmt', 'info', now);
    logfmt.info('diagnosed', { target: 'orders', cause: 'not_running', note: 'two words', quote: 'a"b', bell: '\u0007', ms: 12, skipped: undefined });
    logfmt.debug('hidden');
    const json = createLogger((line) => lines.push(line), 'json', 'debug', now);
    json.warn('unknown target', { target: 'x y' });
    expect(lines).toEqual([
      'ts=2026-01-01T00:00:00.000Z level=info msg=diagnosed target=orders cause=not_running note="two words" quote="a\\"b" bell="\\u0007" ms=12\n',
      '{"ts":"2026-01-01T00:00:00.000Z","level":"warn","msg":"unknown target","target":"x y"}\n',
    ]);
  });
});
