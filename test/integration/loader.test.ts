import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { IMPORT_FUNCTION, routeImports } from '../../scripts/bundle.js';
import { BIN, ROOT } from '../lab/dbdoctor.js';

/**
 * bin/dbdoctor.js runs the command line's one-file bundle with V8's cache of its compiled code
 * (scripts/bundle.ts, scripts/train-code-cache.cjs). The cache only makes a start faster: these
 * tests hold that V8 takes the one the build wrote, and that without it, or with one that does not
 * fit, every answer is the same.
 */
function node(args: readonly string[], env: Record<string, string> = {}, cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** A copy of the installed command (bin/, dist/bundle/, package.json; node_modules linked), whose cache a test may change. */
const copies: string[] = [];
function installedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-loader-'));
  copies.push(dir);
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  // The files' times kept: the cache is used only when it is no older than the bundle.
  cpSync(join(ROOT, 'dist', 'bundle'), join(dir, 'dist', 'bundle'), { recursive: true, preserveTimestamps: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

const cacheState = (bin: string, env: Record<string, string> = {}): string =>
  node(['-e', `process.stdout.write(String(require(${JSON.stringify(bin)}).load().cacheRejected))`], env).stdout;

/** What a run answered: its exit code and its verdict, without the parts that differ between two runs (durations). */
function answer(run: { code: number | null; stdout: string }): { code: number | null; verdict: unknown } {
  const report = JSON.parse(run.stdout, (key, value: unknown) => (key === 'durationMs' ? undefined : value)) as { targets: { verdict: unknown }[] };
  return { code: run.code, verdict: report.targets[0]?.verdict };
}

describe('the command line loader', () => {
  test('the build ships one file and the cache of its code, and V8 takes that cache', () => {
    expect(readdirSync(join(ROOT, 'dist', 'bundle')).sort()).toEqual(['main.cjs', 'main.code-cache']);
    expect(cacheState(BIN)).toBe('false');
  });

  test('with no cache, a damaged one, or a V8 flag that makes it unfit, every answer is the same', async () => {
    const port = await freePort();
    const target = `postgresql://app@127.0.0.1:${port}/app`;
    // The host is not read (DBDOCTOR_HOST_BACKEND=none): other test files start and stop servers
    // meanwhile, and what the process step sees of them is not what this test compares.
    const unseen = { DBDOCTOR_HOST_BACKEND: 'none' };
    const expected = answer(node([BIN, 'diagnose', '--json', '--timeout', '3', target], unseen));
    expect(expected).toMatchObject({ code: 2, verdict: { step: 'process' } });
    const help = node([BIN, '--help']).stdout;
    expect(help).toContain('Usage: dbdoctor');

    const missing = installedCopy();
    rmSync(join(missing, 'dist', 'bundle', 'main.code-cache'));
    const damaged = installedCopy();
    writeFileSync(join(damaged, 'dist', 'bundle', 'main.code-cache'), Buffer.alloc(4096, 7));
    const cases: { name: string; bin: string; env: Record<string, string>; rejected: string }[] = [
      { name: 'no cache', bin: join(missing, 'bin', 'dbdoctor.js'), env: {}, rejected: 'undefined' },
      { name: 'a damaged cache', bin: join(damaged, 'bin', 'dbdoctor.js'), env: {}, rejected: 'true' },
      // A V8 flag changes the flags V8 checks a cache against.
      { name: 'a V8 flag in NODE_OPTIONS', bin: BIN, env: { NODE_OPTIONS: '--max-semi-space-size=32' }, rejected: 'true' },
    ];
    for (const { name, bin, env, rejected } of cases) {
      expect(cacheState(bin, env), name).toBe(rejected);
      expect(answer(node([bin, 'diagnose', '--json', '--timeout', '3', target], { ...env, ...unseen })), name).toEqual(expected);
      expect(node([bin, '--help'], env).stdout, name).toBe(help);
    }
  });

  test('a bundle changed after its cache was written runs as changed, even at the same length (the cache is left unused)', () => {
    const copy = installedCopy();
    const bundle = join(copy, 'dist', 'bundle', 'main.cjs');
    const before = readFileSync(bundle, 'latin1');
    const sentence = 'one verdict, its evidence, and the fix';
    expect(before).toContain(sentence);
    writeFileSync(bundle, before.replace(sentence, sentence.toUpperCase()), 'latin1');
    const bin = join(copy, 'bin', 'dbdoctor.js');
    expect(node([bin, '--help']).stdout).toContain(sentence.toUpperCase());
    expect(cacheState(bin)).toBe('undefined');
  });

  test('a copy without its bundle (never built): one line saying how to build it, exit 3, for --version too', () => {
    const copy = installedCopy();
    rmSync(join(copy, 'dist', 'bundle'), { recursive: true });
    for (const args of [['--version'], ['diagnose', 'postgresql://app@127.0.0.1:1/app']]) {
      const run = node([join(copy, 'bin', 'dbdoctor.js'), ...args]);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^dbdoctor: \S+main\.cjs is missing: run `npm run build` in /);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  test("--version alone is answered without the bundle, in commander's words", () => {
    const commander = node([
      '-e',
      `require(${JSON.stringify(BIN)}).load().main([process.execPath, 'dbdoctor', '--version']).then((code) => process.exit(code))`,
    ]);
    expect(commander.code).toBe(0);
    for (const flag of ['--version', '-V']) expect(node([BIN, flag])).toEqual({ code: 0, stdout: commander.stdout, stderr: '' });
    // With anything else on the line, commander answers (here: its usage error for an unknown option).
    const other = node([BIN, '--version', '--no-such-flag']);
    expect(other.stdout).toBe(commander.stdout);
    // A package.json that is not dbdoctor's (a renamed fork): the bundle answers, as for every other version it prints.
    const fork = installedCopy();
    const manifest = JSON.parse(readFileSync(join(fork, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(fork, 'package.json'), JSON.stringify({ ...manifest, name: '@acme/dbdoctor' }));
    const forkBin = join(fork, 'bin', 'dbdoctor.js');
    const forkCommander = node([
      '-e',
      `require(${JSON.stringify(forkBin)}).load().main([process.execPath, 'dbdoctor', '--version']).then((code) => process.exit(code))`,
    ]);
    expect(node([forkBin, '--version']).stdout).toBe(forkCommander.stdout);
  });

  test("Node's own modules load where a path needs them: no TLS, crypto, DNS or child processes for --help or a refused port", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-modules-'));
    copies.push(dir);
    const preload = join(dir, 'record.cjs');
    writeFileSync(preload, "process.on('exit', () => require('node:fs').writeFileSync(process.env.RECORD, process.moduleLoadList.join('\\n')));\n");
    const loaded = (args: readonly string[]): string[] => {
      const record = join(dir, `modules-${copies.length}-${args.length}.txt`);
      node(['-r', preload, BIN, ...args], { RECORD: record });
      return readFileSync(record, 'utf8')
        .split('\n')
        .flatMap((line) => (line.startsWith('NativeModule ') ? [line.slice('NativeModule '.length)] : []));
    };
    const heavy = ['tls', 'crypto', 'dns', 'dns/promises', 'child_process', 'dgram'];
    const help = loaded(['--help']);
    // (net is Node's own here: its stdout is a pipe, a socket.)
    expect(help.filter((name) => heavy.includes(name))).toEqual([]);
    const refused = loaded(['diagnose', '--json', '--timeout', '3', `postgresql://app:password@127.0.0.1:${await freePort()}/app`]);
    // The witness sees what does load: the host scan's os (a refused port's look at this machine).
    expect(refused).toContain('os');
    expect(refused.filter((name) => heavy.includes(name))).toEqual([]);
  });

  test('a reader that stops reading (| head -1) ends the run quietly, with its own exit code', () => {
    for (const [args, code] of [
      ['--version', 0],
      ['--help', 0],
      ['diagnose --help', 0],
      ['explain --help', 0],
      ['diagnose postgresql://app@127.0.0.1:1/app', 2],
    ] as const) {
      const run = spawnSync('bash', ['-c', `"$0" "$1" ${args} 2>&1 | head -c 1 >/dev/null; echo "exit \${PIPESTATUS[0]}"`, process.execPath, BIN], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), NO_COLOR: '1' },
      });
      expect(run.stdout.trim(), args).toBe(`exit ${code}`);
    }
  });

  test('a standard output that cannot be written (a full disk) loses the report: one line, exit 3; a full standard error keeps the exit code', () => {
    const bash = (script: string) =>
      spawnSync('bash', ['-c', script, process.execPath, BIN], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), NO_COLOR: '1' },
      });
    for (const args of ['--version', '--help', 'diagnose postgresql://app@127.0.0.1:1/app']) {
      const run = bash(`"$0" "$1" ${args} > /dev/full; echo "exit $?" >&2`);
      expect(run.stderr, args).toBe('dbdoctor: could not write to standard output (ENOSPC)\nexit 3\n');
    }
    expect(bash('"$0" "$1" diagnose notaurl://x 2>/dev/full; echo "exit $?"').stdout).toBe('exit 3\n');
    expect(bash('"$0" "$1" diagnose postgresql://app@127.0.0.1:1/app 2>/dev/full >/dev/null; echo "exit $?"').stdout).toBe('exit 2\n');
  });

  test('an installation missing its PostgreSQL driver (pg): the check says so, no stack trace', async () => {
    const copy = installedCopy();
    // node_modules without pg: every other package linked one by one.
    rmSync(join(copy, 'node_modules'));
    mkdirSync(join(copy, 'node_modules'));
    for (const name of readdirSync(join(ROOT, 'node_modules')))
      if (name !== 'pg') symlinkSync(join(ROOT, 'node_modules', name), join(copy, 'node_modules', name));
    // A server that answers PostgreSQL's SSLRequest with "N" (no TLS): the driver is needed next.
    const server = createServer((socket) => socket.once('data', () => socket.write('N')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(copy, 'bin', 'dbdoctor.js'), 'diagnose', '--timeout', '3', `postgresql://app@127.0.0.1:${port}/app`], {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), NO_COLOR: '1' },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain("check_error — the check itself failed: Error: Cannot find module 'pg'");
      expect(run.stdout).not.toMatch(/\n\s+at /);
    } finally {
      server.close();
    }
  });

  test("the bundle's import() calls are the loader's, and anything else fails the build", () => {
    expect(routeImports('x = import("pg"); y = import(\'node:tls\');')).toBe(`x = ${IMPORT_FUNCTION}("pg"); y = ${IMPORT_FUNCTION}('node:tls');`);
    expect(() => routeImports('x = import(name);')).toThrow(/import\(name/);
  });
});
