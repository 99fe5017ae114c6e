import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BIN, dbdoctor, emptyHome } from '../lab/dbdoctor.js';
import { pythonSilentServer, type Listener } from '../lab/listeners.js';

/**
 * The live progress line, checked under a real pseudo-terminal (util-linux's script, which gives
 * the command a terminal and copies everything it writes to ours): shown once a step has waited
 * about 300 ms, erased before the report, and never in --json, in CI, or into a pipe.
 */
const CLEAR = '\r\u001b[2K';

function underTerminal(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome(), LANG: 'C.UTF-8', NO_COLOR: '1', TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

describe('the progress line on a terminal', () => {
  let silent: Listener;
  beforeAll(async () => {
    silent = await pythonSilentServer();
  });
  afterAll(async () => silent?.stop());
  const url = (): string => `postgresql://app@127.0.0.1:${silent.port}/app`;

  test('a step that waits: the line names it, what it waits on, and the time against --timeout, then is erased before the report', async () => {
    const { code, output } = await underTerminal(['--timeout', '3', url()]);
    expect(code).toBe(2);
    const lines = output.split(CLEAR).filter((line) => / waiting /.test(line));
    expect(lines.length).toBeGreaterThan(3);
    // The step and the times first, then what it waits on; the rest is cut to the terminal's width
    // (80 columns here). The handshake is the accepting step's wait, not the process step's: the
    // process step's question was answered by the TCP connection.
    expect(lines[0]).toMatch(/^\S accepting: waiting [\d.]+ (ms|s) · [\d.]+ (ms|s) of --timeout 3 s · for the PostgreSQL h/);
    for (const line of lines) expect(line.trimEnd().split(/\r?\n/)[0]?.length ?? 0).toBeLessThanOrEqual(80);
    const report = output.indexOf('UNHEALTHY');
    expect(report).toBeGreaterThan(0);
    // Erased before the report: the last thing before it is the clearing sequence, not a progress line.
    expect(output.lastIndexOf(CLEAR, report)).toBeGreaterThan(output.lastIndexOf(' waiting ', report));
    expect(output.slice(report)).not.toContain(' waiting ');
  });

  test('Ctrl-C while the line is up: the line is erased before the process ends', async () => {
    const command = [process.execPath, BIN, '--timeout', '8', url()].map((word) => `'${word}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome(), LANG: 'C.UTF-8', NO_COLOR: '1', TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const closed = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/ waiting /.test(output)) resolve();
      });
    });
    // ^C on the terminal: its line discipline sends SIGINT to the foreground process.
    child.stdin.write('\u0003');
    await closed;
    const lastLine = output.lastIndexOf(' waiting ');
    expect(lastLine).toBeGreaterThan(0);
    expect(output.lastIndexOf(CLEAR)).toBeGreaterThan(lastLine);
    expect(output.slice(output.lastIndexOf(CLEAR) + CLEAR.length)).not.toContain(' waiting ');
    expect(output).not.toContain('UNHEALTHY');
  });

  test('--json on a terminal: no progress line', async () => {
    const { code, output } = await underTerminal(['--json', '--timeout', '2', url()]);
    expect(code).toBe(2);
    expect(output).not.toContain(CLEAR);
  });

  test('CI set: no progress line', async () => {
    const { output } = await underTerminal(['--timeout', '2', url()], { CI: 'true' });
    expect(output).not.toContain(CLEAR);
    expect(output).toContain('UNHEALTHY');
  });

  test('stderr into a pipe: nothing on it', async () => {
    const { code, stderr } = await dbdoctor(['--timeout', '2', url()]);
    expect(code).toBe(2);
    expect(stderr).toBe('');
  });
});
