import { describe, expect, test } from 'vitest';
import { diagnoseCommand, wantsProgress, type DiagnoseOptions } from '../../src/cli/diagnose.js';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { fitLine, nextInterval, progressWriter, selectionFor, waitCommand, type WaitOptions } from '../../src/cli/wait.js';

function fakeIO(env: Record<string, string> = {}, tty = false): CliIO & { out: (text: string) => Promise<void>; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env,
    stdoutIsTTY: tty,
    stderrIsTTY: false,
    cwd: process.cwd(),
    stdout,
    stderr,
    out: async (text) => void stdout.push(text),
    err: async (text) => void stderr.push(text),
  };
}

async function parse(args: string[], env: Record<string, string> = {}, tty = false): Promise<{ inputs: string[]; options: DiagnoseOptions }> {
  let captured: { inputs: string[]; options: DiagnoseOptions } | undefined;
  const command = diagnoseCommand(fakeIO(env, tty), async (inputs, options) => {
    captured = { inputs, options };
  }).exitOverride();
  await command.parseAsync(args, { from: 'user' });
  if (!captured) throw new Error('the command did not run');
  return captured;
}

describe('diagnose: flag parsing', () => {
  test('defaults', async () => {
    const { inputs, options } = await parse([]);
    expect(inputs).toEqual([]);
    expect(options).toEqual({
      timeoutMs: 10_000,
      format: 'human',
      verbose: false,
      color: false,
      envFile: { path: '.env', required: false },
      thresholds: {
        longRunningMs: 300_000,
        lockWaitMs: 10_000,
        idleInTransactionMs: 300_000,
        idleMs: 1_800_000,
        nearLimitPercent: 80,
        replicationLagMs: 60_000,
      },
      platform: undefined,
    });
  });

  test.each([
    [['--timeout', '2.5'], { timeoutMs: 2500 }],
    [['-t', '30'], { timeoutMs: 30_000 }],
    [['--json'], { format: 'json' }],
    [['--format', 'json'], { format: 'json' }],
    [['--verbose'], { verbose: true }],
    [['--env-file', 'prod.env'], { envFile: { path: 'prod.env', required: true } }],
    [['--no-env-file'], { envFile: undefined }],
    [['--platform', 'k8s'], { platform: 'kubernetes' }],
    [['--platform', 'compose'], { platform: 'compose' }],
  ] as const)('%j', async (args, expected) => {
    const { options } = await parse([...args]);
    expect(options).toMatchObject(expected);
  });

  test.each([
    [['--long-running', '90s'], { longRunningMs: 90_000 }],
    [['--lock-wait', '500ms'], { lockWaitMs: 500 }],
    [['--idle-in-transaction', '2m'], { idleInTransactionMs: 120_000 }],
    [['--idle', '1h'], { idleMs: 3_600_000 }],
    [['--idle', '45'], { idleMs: 45_000 }],
    [['--near-limit', '90%'], { nearLimitPercent: 90 }],
    [['--replication-lag', '30s'], { replicationLagMs: 30_000 }],
  ] as const)('thresholds %j', async (args, expected) => {
    const { options } = await parse([...args]);
    expect(options.thresholds).toMatchObject(expected);
  });

  test('colour: on a TTY, off with NO_COLOR or --no-color, forced with FORCE_COLOR', async () => {
    expect((await parse([], {}, true)).options.color).toBe(true);
    expect((await parse([], { NO_COLOR: '1' }, true)).options.color).toBe(false);
    expect((await parse(['--no-color'], {}, true)).options.color).toBe(false);
    expect((await parse([], { FORCE_COLOR: '1' }, false)).options.color).toBe(true);
  });
});

describe('bad input: one line, exit 3, never a stack trace', () => {
  test.each([
    [['diagnose', '--timeout', 'soon'], /--timeout <seconds>' argument 'soon' is invalid/],
    [['diagnose', '--timeout', '0'], /greater than 0/],
    [['diagnose', '--long-running', 'forever'], /expected a duration/],
    [['diagnose', '--idle', '0s'], /greater than zero/],
    [['diagnose', '--near-limit', '150'], /between 0 and 100/],
    [['diagnose', '--format', 'xml'], /Allowed choices are human, json/],
    [['diagnose', '--platform', 'mainframe'], /Allowed choices are k8s, kubernetes/],
    [['diagnose', '--bogus'], /unknown option '--bogus'/],
    [['diagnose', 'mysql://root:topsecret@db/x'], /unknown engine "mysql"/],
    [['diagnose', 'postgresql://u:topsecret@db:notaport/x'], /invalid port "notaport"/],
    [['diagnose', '--env-file', '/nonexistent/.env'], /cannot read env file/],
  ])('%j', async (args, message) => {
    const io = fakeIO();
    const code = await main(['node', 'dbdoctor', ...args], io);
    expect(code).toBe(3);
    const text = io.stderr.join('');
    expect(text).toMatch(message);
    expect(text).toMatch(/^dbdoctor: /);
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toContain('topsecret');
    expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
    expect(io.stdout.join('')).toBe('');
  });

  test('--version and --help exit 0', async () => {
    const version = fakeIO();
    expect(await main(['node', 'dbdoctor', '--version'], version)).toBe(0);
    expect(version.stdout.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = fakeIO();
    expect(await main(['node', 'dbdoctor', 'diagnose', '--help'], help)).toBe(0);
    expect(help.stdout.join('')).toContain('--timeout <seconds>');
  });
});

describe('wait: flag parsing', () => {
  async function parseWait(args: string[], command: string[] = []): Promise<{ inputs: string[]; options: WaitOptions }> {
    let captured: { inputs: string[]; options: WaitOptions } | undefined;
    const wait = waitCommand(fakeIO(), command, async (inputs, options) => {
      captured = { inputs, options };
    }).exitOverride();
    await wait.parseAsync(args, { from: 'user' });
    if (!captured) throw new Error('the command did not run');
    return captured;
  }

  test('defaults: ready, 60 s, 500 ms doubling to 5 s, fail fast, 5 retries', async () => {
    const { options } = await parseWait(['postgresql://db/app']);
    expect(options).toMatchObject({
      until: 'ready',
      timeoutMs: 60_000,
      intervalMs: 500,
      maxIntervalMs: 5000,
      attemptTimeoutMs: 10_000,
      failFast: true,
      retries: 5,
      quiet: false,
      formatChosen: false,
      command: [],
    });
  });

  test.each([
    [['--until', 'accepting'], { until: 'accepting' }],
    [['--timeout', '300'], { timeoutMs: 300_000 }],
    [['--interval', '1s', '--max-interval', '30s'], { intervalMs: 1000, maxIntervalMs: 30_000 }],
    [['--interval', '2s', '--max-interval', '1s'], { intervalMs: 2000, maxIntervalMs: 2000 }],
    [['--no-fail-fast'], { failFast: false }],
    [['--retries', '3'], { retries: 3 }],
    [['-q'], { quiet: true }],
    [['--format', 'junit'], { format: 'junit', formatChosen: true }],
  ] as const)('%j', async (args, expected) => {
    const { options } = await parseWait([...args]);
    expect(options).toMatchObject(expected);
  });

  test('the command after "--" is kept apart from the targets', async () => {
    expect(await main(['node', 'dbdoctor', 'wait', '--until', 'bogus', 'postgresql://db/app', '--', 'echo', 'hi'], fakeIO())).toBe(3);
    const { inputs, options } = await parseWait(['postgresql://db/app'], ['echo', 'hi']);
    expect(inputs).toEqual(['postgresql://db/app']);
    expect(options.command).toEqual(['echo', 'hi']);
  });

  test('backoff doubles up to the maximum, with ±20 % jitter', () => {
    expect(nextInterval(500, { maxIntervalMs: 5000 }, () => 0)).toEqual({ sleepMs: 400, nextMs: 1000 });
    expect(nextInterval(500, { maxIntervalMs: 5000 }, () => 1)).toEqual({ sleepMs: 600, nextMs: 1000 });
    expect(nextInterval(4000, { maxIntervalMs: 5000 }, () => 0.5)).toEqual({ sleepMs: 4000, nextMs: 5000 });
  });

  test('--until picks the steps', () => {
    expect(selectionFor('accepting')).toEqual({ until: 'network' });
    expect(selectionFor('auth')).toEqual({ until: 'auth', skip: ['pool'] });
    expect(selectionFor('ready')).toEqual({ until: 'auth' });
  });
});

describe("wait's live progress line fits the terminal", () => {
  const long = `[3] 2.4 s postgresql://app@db.internal.example:5432/app: accepting/starting_up — ${'the database system is starting up; '.repeat(8)}next try in 250 ms`;

  test.each([80, 100, 40])('at %i columns every live line is at most columns − 1 wide, the cut marked', (columns) => {
    const written: string[] = [];
    const progress = progressWriter({ env: {}, stderrIsTTY: true, stderrColumns: columns, err: async (text) => void written.push(text) }, false);
    progress.line(long);
    progress.line('short');
    const [first, second] = written.map((text) => text.replace('\r\u001b[2K', ''));
    expect([...(first ?? '')].length).toBe(columns - 1);
    expect(first?.endsWith('…')).toBe(true);
    expect(second).toBe('short');
  });

  test('without a known width, $COLUMNS or 100; not on a terminal, whole lines', () => {
    const written: string[] = [];
    progressWriter({ env: { COLUMNS: '60' }, stderrIsTTY: true, err: async (text) => void written.push(text) }, false).line(long);
    progressWriter({ env: {}, stderrIsTTY: false, stderrColumns: 80, err: async (text) => void written.push(text) }, false).line(long);
    expect([...(written[0] ?? '')].length - '\r\u001b[2K'.length).toBe(59);
    expect(written[1]).toBe(`dbdoctor wait: ${long}\n`);
    expect(fitLine('ñandú', 5)).toBe('ñandú');
    expect(fitLine('ñandú!', 5)).toBe('ñand…');
  });
});

describe('--help fits 80 columns, with examples and the exit codes of each command', () => {
  const commands = ['', 'diagnose', 'wait', 'explain', 'runbook', 'schema', 'completion'];

  test.each(commands)('dbdoctor %s --help at 80 columns: no line over 80', async (name) => {
    const io = { ...fakeIO(), columns: 80 };
    expect(await main(['node', 'dbdoctor', ...(name ? [name] : []), '--help'], io)).toBe(0);
    const help = io.stdout.join('');
    const long = help.split('\n').filter((line) => [...line].length > 80);
    expect(long).toEqual([]);
    expect(help).toMatch(/\nExamples?\b/);
    expect(help).toContain('\nExit codes:\n');
  });

  test('each command lists its own exit codes', async () => {
    const helpOf = async (name: string): Promise<string> => {
      const io = { ...fakeIO(), columns: 80 };
      await main(['node', 'dbdoctor', name, '--help'], io);
      return io.stdout.join('').split('\nExit codes:\n')[1] ?? '';
    };
    const [diagnose, wait, explain] = await Promise.all([helpOf('diagnose'), helpOf('wait'), helpOf('explain')]);
    expect(diagnose).toMatch(/2 +unhealthy/);
    expect(diagnose).not.toMatch(/\b4\b|explain/);
    expect(wait).toMatch(/2 +gave up/);
    expect(wait).not.toMatch(/\b4\b|degraded/);
    expect(explain).toMatch(/4 +the text was not recognised/);
  });

  test('wrapped examples still run as one command: a line ending in " \\" continues the next', async () => {
    const io = { ...fakeIO(), columns: 80 };
    await main(['node', 'dbdoctor', 'diagnose', '--help'], io);
    const examples = io.stdout.join('').split('\nExamples:\n')[1]?.split('\n\n')[0] ?? '';
    expect(examples).toContain("dbdoctor diagnose --json \\\n    'mongodb://app@mongo:27017/app?authSource=admin'");
  });
});

describe('diagnose: the live progress line', () => {
  test.each([
    ['a terminal, human output', true, 'human', {}, true],
    ['a pipe', false, 'human', {}, false],
    ['--json', true, 'json', {}, false],
    ['junit', true, 'junit', {}, false],
    ['CI=true', true, 'human', { CI: 'true' }, false],
    ['CI=1', true, 'human', { CI: '1' }, false],
    ['CI=false', true, 'human', { CI: 'false' }, true],
    ['TERM=dumb', true, 'human', { TERM: 'dumb' }, false],
  ] as const)('%s', (_name, tty, format, env, shown) => {
    expect(wantsProgress({ stderrIsTTY: tty, env }, format)).toBe(shown);
  });
});
