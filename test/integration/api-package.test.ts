import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RunReportSchema, type RunReport } from '../../src/engine/schema.js';
import { ExplainReportSchema } from '../../src/explain/schema.js';
import { type CassandraNode, sharedCassandra, SUPERUSER } from '../lab/cassandra.js';
import { diagnoseJson, emptyHome, ROOT } from '../lab/dbdoctor.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';
import { Cluster, freePort } from '../lab/postgres.js';
import { silentPeer } from '../lab/servers.js';

/**
 * dbdoctor as a library, as a user gets it: the packed tarball installed into a project outside
 * the repository, imported from ESM (.mjs) and type-checked from TypeScript (`tsc --noEmit`,
 * moduleResolution nodenext, against the published .d.ts), then `diagnose` and `waitFor` run
 * against the lab's real PostgreSQL, FerretDB and Cassandra: healthy, stopped, wrong password.
 * One pack and one install per run (npm pack --ignore-scripts: `prepare` would rebuild dist/
 * while other test files run the CLI from it).
 */
const run = promisify(execFile);
const PG_PASSWORD = 'api-consumer-Pw1';
/** One empty HOME for the consumer's calls and the CLI's, so that paths in evidence (~/.pgpass) are the same. */
const HOME = emptyHome();
const MONGO_PASSWORD = 'api-consumer-mongo-2';

let consumer: string;
let work: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'api', 'index.js')) || !existsSync(join(ROOT, 'dist', 'api', 'index.d.ts'))) {
    throw new Error('dist/api is missing: run "npm run build" first (npm test does)');
  }
  work = mkdtempSync(join(tmpdir(), 'dbdoctor-consumer-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], { cwd: ROOT });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack made no tarball: ${stdout}`);
  consumer = join(work, 'app');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'dbdoctor-consumer', private: true, type: 'module' }));
  await run('npm', ['install', join(work, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: consumer });
  writeFileSync(join(consumer, 'call.mjs'), CALL_SCRIPT);
  writeFileSync(join(consumer, 'import-probe.mjs'), IMPORT_PROBE);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Runs API calls in the consumer project, in one process, concurrently; each answers with the
 * document it resolved with, or the DbdoctorError it rejected with (its reason and report).
 */
const CALL_SCRIPT = `
import { diagnose, waitFor, explain, DbdoctorError } from 'dbdoctor';
const calls = JSON.parse(process.argv[2]);
const answers = await Promise.all(calls.map(async ({ call, targets, options }) => {
  const signal = options?.abortAfterMs ? AbortSignal.timeout(options.abortAfterMs) : undefined;
  const started = performance.now();
  try {
    const fn = { diagnose, waitFor, explain }[call];
    const value = await fn(targets, { ...options, ...(signal ? { signal } : {}) });
    return { value, ms: performance.now() - started };
  } catch (error) {
    if (!(error instanceof DbdoctorError)) return { crash: String(error && error.stack || error) };
    return { error: { name: error.name, reason: error.reason, message: error.message, hint: error.hint, report: error.report }, ms: performance.now() - started };
  }
}));
process.stdout.write(JSON.stringify(answers));
`;

interface Answer {
  readonly value?: RunReport;
  readonly error?: { name: string; reason: string; message: string; hint?: string; report?: RunReport };
  readonly crash?: string;
  readonly ms: number;
}

async function calls(list: readonly { call: 'diagnose' | 'waitFor' | 'explain'; targets?: unknown; options?: Record<string, unknown> }[]): Promise<Answer[]> {
  // The consumer's own environment: no DATABASE_URL or PG* variables of the machine leak in.
  const { stdout } = await run(process.execPath, ['call.mjs', JSON.stringify(list)], {
    cwd: consumer,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME, LANG: 'C.UTF-8' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const answers = JSON.parse(stdout) as Answer[];
  for (const answer of answers) expect(answer.crash).toBeUndefined();
  return answers;
}

const causeOf = (report: RunReport | undefined): string | undefined => report?.targets[0]?.verdict.cause;

describe('the published package, from a project outside the repository', () => {
  test('TypeScript (nodenext) compiles against the published .d.ts, and a wrong option is a type error', async () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'app.ts'),
      `import { diagnose, waitFor, explain, DbdoctorError, type Report, type Explanation, type DiagnoseOptions, type WaitForOptions, type Target, type DbdoctorErrorReason } from 'dbdoctor';
const options: DiagnoseOptions = { timeoutMs: 5000, only: ['process', 'accepting'], thresholds: { nearLimitPercent: 90 }, env: {}, signal: AbortSignal.timeout(10_000) };
const targets: Target[] = ['postgresql://app@db/x', { url: 'mongodb://db/x', label: 'events', timeoutMs: 2000 }];
export async function start(): Promise<string> {
  const report: Report = await diagnose(targets, options);
  const status: 'healthy' | 'degraded' | 'unhealthy' = report.status;
  const cause: string = report.targets[0]?.verdict.cause ?? 'healthy';
  const waitOptions: WaitForOptions = { timeoutMs: 60_000, until: 'auth', onProgress: (line: string) => void line };
  try {
    await waitFor(process.env.DATABASE_URL, waitOptions);
  } catch (error) {
    if (error instanceof DbdoctorError) {
      const reason: DbdoctorErrorReason = error.reason;
      const last: Report | undefined = error.report;
      return reason + (last?.status ?? '');
    }
    const explained: Explanation = await explain(error);
    return explained.verdict?.title ?? explained.status;
  }
  // @ts-expect-error timeoutMs is a number of milliseconds
  await diagnose('postgresql://db/x', { timeoutMs: '5s' });
  // @ts-expect-error until is one of accepting, auth, ready
  await waitFor(undefined, { until: 'soon' });
  return status + cause;
}
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? '' }),
    );
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});

/**
 * Imports the package with process.env replaced by a Proxy that records every read, and a module
 * resolve hook (module.register) that records every module loaded; then calls explain and diagnose
 * and records what each loaded. Writes its findings to a file: stdout and stderr must stay empty.
 */
const IMPORT_PROBE = `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
const { port1, port2 } = new MessageChannel();
const loaded = [];
port1.on('message', (url) => loaded.push(url));
port1.unref();
const hooks = 'let port; export function initialize(data) { port = data.port; } export async function resolve(specifier, context, next) { const found = await next(specifier, context); port.postMessage(found.url); return found; }';
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
const cjs = () => Object.keys(createRequire(import.meta.url).cache).map((path) => 'file://' + path);
// Node.js itself reads a variable or two while it loads modules (WATCH_REPORT_DEPENDENCIES, for
// --watch): an access counts when a frame of its stack is outside Node.js and this probe.
Error.stackTraceLimit = 100;
const accesses = [];
const record = (kind, key) => {
  const outside = (new Error().stack ?? '').split('\\n').slice(2).filter((line) => !/\\(node:|at node:|import-probe\\.mjs/.test(line));
  if (outside.length > 0) accesses.push([kind, key, outside[0].trim()]);
};
const realEnv = process.env;
process.env = new Proxy(realEnv, {
  get: (target, key) => { record('get', String(key)); return Reflect.get(target, key); },
  has: (target, key) => { record('has', String(key)); return Reflect.has(target, key); },
  ownKeys: (target) => { record('ownKeys', ''); return Reflect.ownKeys(target); },
  getOwnPropertyDescriptor: (target, key) => { record('describe', String(key)); return Reflect.getOwnPropertyDescriptor(target, key); },
});
const api = await import('dbdoctor');
process.env = realEnv;
await settle();
const atImport = [...loaded, ...cjs()];
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 5432 });
const database = Object.assign(new Error('password authentication failed for user "app"'), { name: 'error', severity: 'FATAL', code: '28P01', routine: 'auth_failed' });
await api.explain(refused);
await api.explain(database);
await settle();
const afterExplain = [...loaded, ...cjs()];
await api.diagnose(process.argv[3], { timeoutMs: 20000, env: {} });
await settle();
const afterDiagnose = [...loaded, ...cjs()];
writeFileSync(process.argv[2], JSON.stringify({ exports: Object.keys(api).sort(), accesses, loaded: atImport, afterExplain, afterDiagnose }));
`;

describe('diagnose and waitFor from the package, against the real servers', () => {
  let cluster: Cluster;
  let ferret: Ferret;
  let node: CassandraNode;
  let closedPort: number;

  beforeAll(async () => {
    [cluster, ferret, node, closedPort] = await Promise.all([
      Cluster.create('api-consumer'),
      Ferret.start({ adminPassword: MONGO_PASSWORD }),
      sharedCassandra(),
      freePort(),
    ]);
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${PG_PASSWORD}'`);
    await cluster.sql('CREATE DATABASE appdb OWNER app');
  }, 240_000);
  afterAll(async () => {
    await cluster?.destroy();
    await ferret?.destroy();
  });

  const targets = (): Record<'postgres' | 'mongodb' | 'cassandra', Record<'healthy' | 'stopped' | 'wrong_password', string>> => ({
    postgres: {
      healthy: cluster.url('app', PG_PASSWORD, 'appdb'),
      stopped: `postgresql://app:${PG_PASSWORD}@127.0.0.1:${closedPort}/appdb`,
      wrong_password: cluster.url('app', 'not-the-pg-pw', 'appdb'),
    },
    mongodb: {
      healthy: ferret.url(ADMIN_USER, MONGO_PASSWORD, 'admin'),
      stopped: `mongodb://127.0.0.1:${closedPort}/admin`,
      wrong_password: ferret.url(ADMIN_USER, 'not-the-mongo-pw', 'admin'),
    },
    cassandra: {
      healthy: node.url(SUPERUSER),
      stopped: `cassandra://127.0.0.1:${closedPort}/?dc=datacenter1`,
      wrong_password: node.url({ user: SUPERUSER.user, password: 'not-the-cass-pw' }),
    },
  });

  test(
    "diagnose: healthy, stopped and wrong password on each engine, each a valid report (the CLI's schema and version), passwords masked",
    { timeout: 120_000 },
    async () => {
      const cases = Object.entries(targets()).flatMap(([engine, byCase]) => Object.entries(byCase).map(([name, url]) => ({ engine, name, url })));
      const answers = await calls(cases.map(({ url }) => ({ call: 'diagnose', targets: url, options: { timeoutMs: 20_000 } })));
      // Nothing listens on a stopped server's port: not_running, or wrong_port when another server of
      // the engine runs on this machine (the lab's others do) — both say so, with the port.
      const stoppedCause = (cause: string | undefined): string | undefined => (cause === 'wrong_port' ? 'not_running' : cause);
      const expected: Record<string, string> = { healthy: 'healthy', stopped: 'not_running', wrong_password: 'auth_failed' };
      const seen = cases.map(
        (entry, index) => `${entry.engine}/${entry.name}: ${stoppedCause(causeOf(answers[index]?.value)) ?? JSON.stringify(answers[index])}`,
      );
      expect(seen).toEqual(cases.map((entry) => `${entry.engine}/${entry.name}: ${expected[entry.name]}`));
      for (const [index, entry] of cases.entries())
        if (entry.name === 'stopped') expect(answers[index]?.value?.targets[0]?.verdict.message).toContain(String(closedPort));
      for (const answer of answers) {
        const report = RunReportSchema.parse(answer.value);
        expect(report.schemaVersion).toBe(1);
        expect(JSON.stringify(report)).not.toMatch(/api-consumer-Pw1|api-consumer-mongo-2|not-the-(pg|mongo|cass)-pw/);
      }
    },
  );

  test(
    'waitFor: resolves with the report when ready; a wrong password rejects at once with not_healing and the last report; a stopped server with timed_out',
    { timeout: 120_000 },
    async () => {
      const all = targets();
      const [ready, wrong, stopped, many] = await calls([
        { call: 'waitFor', targets: all.postgres.healthy, options: { timeoutMs: 20_000 } },
        { call: 'waitFor', targets: all.mongodb.wrong_password, options: { timeoutMs: 30_000 } },
        { call: 'waitFor', targets: all.cassandra.stopped, options: { timeoutMs: 1500, intervalMs: 100 } },
        { call: 'waitFor', targets: [all.postgres.healthy, all.mongodb.healthy, all.cassandra.healthy], options: { timeoutMs: 30_000 } },
      ]);
      expect(ready?.value?.status).toBe('healthy');
      expect(many?.value?.targets.map((target) => target.status)).toEqual(['healthy', 'healthy', 'healthy']);
      expect(wrong?.error).toMatchObject({ name: 'DbdoctorError', reason: 'not_healing' });
      expect(causeOf(wrong?.error?.report)).toBe('auth_failed');
      // Fail-fast: the first attempt says it, long before the 30 s deadline.
      expect(wrong?.ms).toBeLessThan(15_000);
      expect(wrong?.error?.message).toContain('auth_failed');
      expect(wrong?.error?.message).not.toContain('not-the-mongo-pw');
      expect(stopped?.error).toMatchObject({ reason: 'timed_out' });
      expect(['not_running', 'wrong_port']).toContain(causeOf(stopped?.error?.report));
      expect(stopped?.ms).toBeGreaterThanOrEqual(1400);
      for (const answer of [wrong, stopped]) RunReportSchema.parse(answer?.error?.report);
    },
  );

  test('an AbortSignal ends a diagnosis stuck on a silent server at once, and the process then ends', async () => {
    const silent = await silentPeer();
    try {
      const [aborted] = await calls([
        { call: 'diagnose', targets: `postgresql://app@127.0.0.1:${silent.port}/x`, options: { timeoutMs: 30_000, abortAfterMs: 500 } },
      ]);
      expect(aborted?.error?.reason).toBe('aborted');
      // The 30 s deadline never came: the abort ended the run (margin for a loaded machine).
      expect(aborted?.ms).toBeLessThan(10_000);
      expect(silent.connections).toBeGreaterThan(0);
      // The process has exited (calls waits for it): nothing the run left keeps it alive.
    } finally {
      await silent.close();
    }
  });

  test('importing it prints nothing, reads no environment variable, and loads no driver (nor anything a call does not need)', async () => {
    const out = join(work, 'import-probe.json');
    const child = spawn(process.execPath, ['import-probe.mjs', out, targets().postgres.healthy], {
      cwd: consumer,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgresql://app:env-secret-pw@db/x', NO_COLOR: '1', CI: 'true' },
    });
    let printed = '';
    child.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(printed).toBe('');
    expect(code).toBe(0);
    const probe = JSON.parse(readFileSync(out, 'utf8')) as {
      exports: string[];
      accesses: string[][];
      loaded: string[];
      afterExplain: string[];
      afterDiagnose: string[];
    };
    expect(probe.exports).toEqual(['DbdoctorError', 'diagnose', 'explain', 'waitFor']);
    // process.env was a Proxy recording every get, has, ownKeys and descriptor read while importing.
    expect(probe.accesses).toEqual([]);
    const packages = (urls: readonly string[]): string[] =>
      [...new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))].sort();
    // Only dbdoctor's own entry module (and what it names for its types and error class): no dependency at all.
    expect(packages(probe.loaded)).toEqual(['dbdoctor']);
    expect(probe.loaded.filter((url) => url.includes('/dbdoctor/dist/')).length).toBeLessThanOrEqual(3);
    // explain() of a driver's error object loads no driver either; diagnose() of a PostgreSQL
    // target loads pg, and still not the MongoDB or Cassandra driver.
    for (const driver of ['pg', 'mongodb', 'cassandra-driver', 'bson']) expect(packages(probe.afterExplain)).not.toContain(driver);
    expect(packages(probe.afterDiagnose)).toContain('pg');
    for (const driver of ['mongodb', 'cassandra-driver', 'bson', 'commander', 'kleur']) expect(packages(probe.afterDiagnose)).not.toContain(driver);
  });
  test('in process: an abort ends diagnose (connected to a silent server) and waitFor long before their deadline', async () => {
    const { diagnose, waitFor } = await import('../../src/api/index.js');
    const open = new Set<Socket>();
    let accepted = 0;
    // Aborted once the run is connected and waiting on this silent server (not on a timer: a loaded
    // machine may take longer than any fixed delay to get there).
    const controller = new AbortController();
    let abortedAt = 0;
    const server = createServer((socket) => {
      accepted += 1;
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort(new Error('the application is shutting down'));
      }, 200);
      open.add(socket);
      // Read (and drop) what comes: a socket nobody reads never sees the client's FIN, and would
      // sit in CLOSE-WAIT however promptly dbdoctor closed its side.
      socket.resume();
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const error = await diagnose(`postgresql://app@127.0.0.1:${port}/x`, { env: {}, timeoutMs: 30_000, signal: controller.signal }).catch(
        (rejected: unknown) => rejected,
      );
      expect(error).toMatchObject({ name: 'DbdoctorError', reason: 'aborted' });
      // The server saw the run's connection; the abort, not the 30 s deadline, ended the run
      // (within a few seconds, with room for a loaded machine).
      expect(accepted).toBeGreaterThan(0);
      expect(performance.now() - abortedAt).toBeLessThan(5_000);
      // And the run's connection is closed by the abort, not left to the server or to a timer.
      for (let waited = 0; open.size > 0 && waited < 3_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(open.size).toBe(0);
      const waitStarted = performance.now();
      const waitError = await waitFor(`postgresql://app@127.0.0.1:${closedPort}/x`, { env: {}, timeoutMs: 30_000, signal: AbortSignal.timeout(400) }).catch(
        (rejected: unknown) => rejected,
      );
      expect(waitError).toMatchObject({ name: 'DbdoctorError', reason: 'aborted' });
      expect(performance.now() - waitStarted).toBeLessThan(10_000);
    } finally {
      // Whatever was left open is ended here, so that a failed check is reported, not a hung close.
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('in process: waitFor tells each attempt to onProgress, passwords masked, and gives up at its timeoutMs', async () => {
    const { waitFor } = await import('../../src/api/index.js');
    const lines: string[] = [];
    const error = await waitFor(`postgresql://app:progress-secret-pw@127.0.0.1:${closedPort}/x`, {
      env: {},
      timeoutMs: 1_200,
      intervalMs: 100,
      onProgress: (line) => lines.push(line),
    }).catch((rejected: unknown) => rejected);
    expect(error).toMatchObject({ name: 'DbdoctorError', reason: 'timed_out' });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^\[1\] /);
    expect(lines.at(-1)).toMatch(/^gave up at 1\.\d\d s: timed out after \d+ attempts? \(timeoutMs 1\.2 s from the call\)$/);
    expect(lines.join('\n')).not.toContain('progress-secret-pw');
  });

  test("diagnose()'s report is what `dbdoctor diagnose --json` prints for the same target, but for timings", { timeout: 120_000 }, async () => {
    const all = targets();
    for (const url of [all.postgres.wrong_password, all.postgres.stopped, all.mongodb.wrong_password]) {
      const [api] = await calls([{ call: 'diagnose', targets: url, options: { timeoutMs: 20_000 } }]);
      const cli = await diagnoseJson([url, '--timeout', '20', '--no-env-file'], { env: { HOME } });
      expect(withoutTimings(api?.value)).toEqual(withoutTimings(cli.report));
    }
  });

  test('explain from the package answers a text as `dbdoctor explain --json` does', async () => {
    const [answer] = await calls([{ call: 'explain', targets: 'FATAL:  password authentication failed for user "app"' }]);
    const explanation = ExplainReportSchema.parse(answer?.value);
    expect(explanation.verdict?.cause).toBe('auth_failed');
  });
});

/**
 * A report with what differs from run to run taken out: durations and timestamps, and the
 * environment (the CLI runs in its own working directory; its platform signals may differ).
 */
function withoutTimings(report: unknown): unknown {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => !/(?:ms|Ms|At|latency|Latency|elapsed|uptime)$/.test(key) && key !== 'environment')
          .map(([key, entry]) => [key, walk(entry)]),
      );
    }
    return typeof value === 'string' ? value.replace(/\b\d+(?:\.\d+)? ?(?:ms|s)\b/g, '<time>') : value;
  };
  return walk(report);
}
