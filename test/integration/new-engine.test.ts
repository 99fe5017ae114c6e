import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';

/**
 * Issue 16's promise, kept literally: adding an engine is its folder, its record and one line in
 * the registry. A copy of src/ gets test/fixtures/new-engine (FakeDB: a probe of two steps, an
 * explainer of one rule, a target parser, and its record in src/engines/), the registry gets its
 * import and its entry, and nothing else is edited. The copy must type-check (no hand-written list
 * of engines elsewhere goes stale unnoticed), and every command must know FakeDB: diagnose (by
 * URL and by discovery), explain, the JSON schema, shell completion, the runbook and config files.
 * A real FakeDB server (a TCP listener that greets) answers on loopback.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let copy = '';
let server: Server;
let port = 0;
let greeting = 'FAKEDB READY';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function dbdoctor(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(copy, 'run.ts'), ...args], {
      cwd: copy,
      // A clean environment: no PG*, DATABASE_URL or MONGODB_URI of the machine's own.
      env: { PATH: process.env.PATH ?? '', HOME: copy, NO_COLOR: '1', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'dbdoctor-new-engine-'));
  for (const entry of ['src', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // The engine's folder and its record.
  cpSync(join(ROOT, 'test/fixtures/new-engine/src'), join(copy, 'src'), { recursive: true });
  // The one registry line (and its import).
  const registry = join(copy, 'src/engines/registry.ts');
  const before = readFileSync(registry, 'utf8');
  const list = 'export const ENGINE_MODULES = [postgresEngine, mongodbEngine, cassandraEngine] as const;';
  expect(before).toContain(list);
  writeFileSync(
    registry,
    before
      .replace(list, 'export const ENGINE_MODULES = [postgresEngine, mongodbEngine, cassandraEngine, fakedbEngine] as const;')
      .replace(
        "import { cassandraEngine } from './cassandra.js';",
        "import { cassandraEngine } from './cassandra.js';\nimport { fakedbEngine } from './fakedb.js';",
      ),
  );
  // The command line, run from the sources (outside src/: not part of the engine).
  writeFileSync(join(copy, 'run.ts'), "import { main } from './src/cli/main.js';\nprocess.exit(await main(process.argv));\n");
  server = createServer((socket) => socket.end(`${greeting}\n`));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
}, 120_000);

afterAll(async () => {
  await new Promise((closed) => server?.close(closed));
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a new engine: its folder, its record and one registry line', () => {
  test('the tree with FakeDB added type-checks: no list of engines elsewhere needs an edit', async () => {
    const checked = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], {
      cwd: copy,
      timeout: 120_000,
    }).then(
      () => ({ ok: true, output: '' }),
      (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }),
    );
    expect(checked.output).toBe('');
    expect(checked.ok).toBe(true);
  }, 120_000);

  test('diagnose by URL: healthy through its own steps, and the other steps are said not checked', async () => {
    greeting = 'FAKEDB READY';
    const result = await dbdoctor(['diagnose', '--json', `fakedb://127.0.0.1:${port}`]);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as {
      status: string;
      targets: { engine: string; verdict: { cause: string }; steps: { id: string; status: string; summary: string }[] }[];
    };
    expect(report.targets[0]?.engine).toBe('fakedb');
    expect(report.targets[0]?.verdict.cause).toBe('healthy');
    expect(report.targets[0]?.steps.find((step) => step.id === 'accepting')?.summary).toBe('FakeDB says "FAKEDB READY"');
    expect(report.targets[0]?.steps.find((step) => step.id === 'auth')?.summary).toBe('not checked for fakedb');
    expect(result.code).toBe(0);
    // The report is the schema's: `dbdoctor schema` describes it.
    const schema = await dbdoctor(['schema']);
    expect(new Ajv({ strict: false }).validate(JSON.parse(schema.stdout) as object, report)).toBe(true);
  }, 60_000);

  test('diagnose: a server starting up, and a port nobody listens on, are its own verdicts', async () => {
    greeting = 'FAKEDB STARTING';
    const starting = await dbdoctor(['diagnose', '--json', `fakedb://127.0.0.1:${port}`]);
    expect(JSON.parse(starting.stdout).targets[0].verdict).toMatchObject({ step: 'accepting', cause: 'starting_up' });
    expect(starting.code).toBe(2);
    greeting = 'FAKEDB READY';
    const closed = createServer();
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening));
    const address = closed.address();
    const free = typeof address === 'object' && address ? address.port : 0;
    await new Promise((done) => closed.close(done));
    const refused = await dbdoctor(['diagnose', '--json', `fakedb://127.0.0.1:${free}`]);
    expect(JSON.parse(refused.stdout).targets[0].verdict).toMatchObject({ step: 'process', cause: 'not_running' });
    expect(refused.code).toBe(2);
  }, 60_000);

  test('discovery: its own variable and DATABASE_URL with its scheme name targets, with no argument', async () => {
    const own = await dbdoctor(['diagnose', '--json'], { FAKEDB_URL: `fakedb://127.0.0.1:${port}` });
    const found = JSON.parse(own.stdout).targets as { engine: string; label?: string }[];
    expect(found.map((target) => [target.engine, target.label])).toEqual([['fakedb', 'FAKEDB_URL']]);
    const url = await dbdoctor(['diagnose', '--json'], { DATABASE_URL: `FAKEDB://127.0.0.1:${port}` });
    expect((JSON.parse(url.stdout).targets as { engine: string; label?: string }[]).map((target) => [target.engine, target.label])).toEqual([
      ['fakedb', 'DATABASE_URL'],
    ]);
    // An unknown scheme names the new one among those dbdoctor reads.
    const unknown = await dbdoctor(['diagnose', 'nosuch://host']);
    expect(unknown.stderr).toContain('fakedb://');
    expect(unknown.code).toBe(3);
  }, 60_000);

  test('explain: its hints pick the engine, its rule names the cause; --engine accepts it', async () => {
    const told = await dbdoctor(['explain', '--json', 'fakedb-cli: FakeDB is starting up']);
    expect(JSON.parse(told.stdout)).toMatchObject({
      status: 'recognised',
      engine: 'fakedb',
      client: 'fakedb-cli',
      verdict: { cause: 'starting_up', rule: 'fakedb.starting' },
    });
    const named = await dbdoctor(['explain', '--json', '--engine', 'fakedb', 'error: FakeDB is starting up']);
    expect(JSON.parse(named.stdout)).toMatchObject({ engine: 'fakedb', verdict: { cause: 'starting_up' } });
  }, 60_000);

  test('completion, the runbook and config files know it', async () => {
    const bash = await dbdoctor(['completion', 'bash']);
    expect(bash.stdout).toMatch(/postgres mongodb cassandra fakedb/);
    const runbook = await dbdoctor(['runbook', 'fakedb']);
    expect(runbook.stdout).toContain('FakeDB');
    expect(runbook.stdout).toContain("Reads FakeDB's greeting.");
    expect(runbook.code).toBe(0);
    writeFileSync(join(copy, 'dbdoctor.yaml'), `targets:\n  - label: fake\n    url: fakedb://127.0.0.1:${port}\n    engine: fakedb\n`);
    const configured = await dbdoctor(['diagnose', '--json', '--config', join(copy, 'dbdoctor.yaml')]);
    expect(configured.stderr).toBe('');
    expect(JSON.parse(configured.stdout).targets[0]).toMatchObject({ engine: 'fakedb', label: 'fake' });
  }, 60_000);
});
