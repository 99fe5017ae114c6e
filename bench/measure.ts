import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * Runs whole processes and measures them: wall time from spawn to exit (performance.now), an
 * outer kill for runs that would hang, and peak RSS through GNU time (/usr/bin/time -v).
 */
export interface Command {
  /** argv; the first element is the program. */
  readonly argv: readonly string[];
  /** The whole environment of the child (nothing is inherited). */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the process (SIGKILL, whole group) after this long; default 30 s. */
  readonly killAfterMs?: number;
  /** A file the child reads as its standard input (a paste piped in); none by default. */
  readonly stdin?: string;
}

export interface Sample {
  readonly wallMs: number;
  readonly code: number;
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Stats {
  readonly runs: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p90: number;
  /** Runs that hit the outer kill. */
  readonly killed: number;
  /** Exit codes seen (a killed run counts as "killed"). */
  readonly codes: readonly string[];
  readonly samples: readonly Sample[];
}

/** A minimal environment: PATH, LANG, and what the caller adds. */
export function baseEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', ...extra };
}

export function runOnce(command: Command): Promise<Sample> {
  const [file, ...args] = command.argv;
  const killAfter = command.killAfterMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const input = command.stdin === undefined ? 'ignore' : openSync(command.stdin, 'r');
    const child = spawn(file ?? 'true', args, { env: command.env ?? baseEnv(), stdio: [input, 'pipe', 'pipe'], detached: true });
    if (typeof input === 'number') closeSync(input);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, killAfter);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // The verdict time is when the process exits; its output is complete when the pipes close
    // (a grandchild holding them must not stall the benchmark: at most 200 ms more).
    let wallMs = Number.NaN;
    let status = -1;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve({ wallMs, code: status, killed, stdout, stderr });
    };
    child.once('exit', (code, signal) => {
      wallMs = performance.now() - started;
      status = code ?? (signal ? 128 : -1);
      clearTimeout(timer);
      setTimeout(finish, 200).unref();
    });
    child.once('close', () => finish());
  });
}

export function summarise(samples: readonly Sample[]): Stats {
  const walls = samples.map((sample) => sample.wallMs).sort((a, b) => a - b);
  const at = (q: number): number => walls[Math.min(walls.length - 1, Math.max(0, Math.ceil(q * walls.length) - 1))] ?? Number.NaN;
  const median =
    walls.length % 2 === 1 ? (walls[(walls.length - 1) / 2] ?? Number.NaN) : ((walls[walls.length / 2 - 1] ?? 0) + (walls[walls.length / 2] ?? 0)) / 2;
  const codes = [...new Set(samples.map((sample) => (sample.killed ? 'killed' : String(sample.code))))];
  return {
    runs: samples.length,
    median,
    min: walls[0] ?? Number.NaN,
    max: walls[walls.length - 1] ?? Number.NaN,
    p90: at(0.9),
    killed: samples.filter((sample) => sample.killed).length,
    codes,
    samples,
  };
}

export interface MeasureOptions {
  readonly runs: number;
  /** Stop early (after at least one run) once this much time has gone into this measurement. */
  readonly budgetMs?: number;
  /** Unmeasured runs first (page cache, JIT of nothing: just the disk). */
  readonly warmup?: number;
}

/** Runs `command` up to `runs` times, one after another. */
export async function measure(command: Command, options: MeasureOptions): Promise<Stats> {
  for (let index = 0; index < (options.warmup ?? 0); index += 1) await runOnce(command);
  const samples: Sample[] = [];
  const started = performance.now();
  for (let index = 0; index < options.runs; index += 1) {
    samples.push(await runOnce(command));
    if (options.budgetMs !== undefined && performance.now() - started > options.budgetMs) break;
  }
  return summarise(samples);
}

/**
 * Runs several commands round-robin (run 1 of each, then run 2 of each, …), so that drift in the
 * machine's load affects all of them alike. Returns stats in the same order.
 */
export async function interleaved(commands: readonly Command[], options: MeasureOptions): Promise<Stats[]> {
  for (let index = 0; index < (options.warmup ?? 0); index += 1) for (const command of commands) await runOnce(command);
  const samples: Sample[][] = commands.map(() => []);
  for (let index = 0; index < options.runs; index += 1) {
    for (const [position, command] of commands.entries()) samples[position]?.push(await runOnce(command));
  }
  return samples.map(summarise);
}

export interface Resources {
  readonly wallMs: number;
  readonly maxRssKiB: number;
  readonly userS: number;
  readonly systemS: number;
  readonly code: number;
  readonly stdout: string;
}

/** One run under GNU time -v: peak RSS ("Maximum resident set size") and CPU time. */
export async function resources(command: Command): Promise<Resources> {
  const sample = await runOnce({ ...command, argv: ['/usr/bin/time', '-v', ...command.argv] });
  const field = (name: string): number => Number(new RegExp(`${name}[^:]*: ([\\d.]+)`).exec(sample.stderr)?.[1] ?? Number.NaN);
  const status = /Exit status: (\d+)/.exec(sample.stderr);
  return {
    wallMs: sample.wallMs,
    maxRssKiB: field('Maximum resident set size'),
    userS: field('User time'),
    systemS: field('System time'),
    code: status ? Number(status[1]) : sample.code,
    stdout: sample.stdout,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[(sorted.length - 1) / 2] ?? Number.NaN)
    : ((sorted[sorted.length / 2 - 1] ?? 0) + (sorted[sorted.length / 2] ?? 0)) / 2;
}

// ── formatting ───────────────────────────────────────────────────────────────

/** 12 ms, 1.23 s, 31.0 s */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

/** "median (min–max, n runs)"; killed runs reported as "≥ limit (killed)". */
export function describe(stats: Stats, killAfterMs = 30_000): string {
  if (stats.killed === stats.runs) return `≥${Math.round(killAfterMs / 1000)} s (killed, ${stats.runs} run${stats.runs === 1 ? '' : 's'})`;
  const spread = stats.runs > 1 ? ` (${ms(stats.min)}–${ms(stats.max)}, n=${stats.runs})` : ' (n=1)';
  const killed = stats.killed > 0 ? `, ${stats.killed} killed at ${Math.round(killAfterMs / 1000)} s` : '';
  return `${ms(stats.median)}${spread}${killed}`;
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
