import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RunReportSchema, type RunReport, type TargetReport } from '../../src/engine/schema.js';

/** Runs the built CLI as a user would, in a clean environment, and captures everything. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'dbdoctor.js');

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
}

export interface RunOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** A command prefix, e.g. ["nsenter", "-t", pid, …] to run inside a namespace. */
  readonly prefix?: readonly string[];
  readonly killAfterMs?: number;
}

/** A HOME with nothing in it, so no ~/.pgpass or ~/.postgresql leaks in from the machine. */
export function emptyHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'dbdoctor-home-'));
  homes.push(home);
  return home;
}

/** The HOMEs made for a test file's runs: removed after the file (test/lab/after-each-file.ts); a suite left ~120 a run in /tmp. */
const homes: string[] = [];

export function removeHomes(): void {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function dbdoctor(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  // The HOME and working directory made here are removed when the run ends (a suite makes
  // thousands; a /tmp that large hides clusters from the search one level up of a data directory).
  const made: string[] = [];
  const fresh = (dir: string): string => (made.push(dir), dir);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: options.env?.HOME ?? fresh(emptyHome()),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    ...options.env,
  };
  // Entering a mount namespace (nsenter -m) resets the working directory to its root, so inside a
  // prefix we change to the wanted directory ourselves.
  const inside = options.prefix && options.cwd ? ['sh', '-c', 'cd "$0" && exec "$@"', options.cwd] : [];
  // As the shebang runs it: "--" ends node's options (Node 20 would read a --env-file of dbdoctor's own).
  const [command, ...argv] = [...(options.prefix ?? []), ...inside, process.execPath, '--', BIN, ...args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? process.execPath, argv, {
      env,
      cwd: options.cwd ?? fresh(mkdtempSync(join(tmpdir(), 'dbdoctor-cwd-'))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** Runs `diagnose --json` and returns the validated report with the run. */
export async function diagnoseJson(args: readonly string[], options: RunOptions = {}): Promise<Run & { report: RunReport; target: TargetReport }> {
  const result = await dbdoctor(['diagnose', '--json', ...args], options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new Error(`dbdoctor did not print JSON (exit ${result.code}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  const report = RunReportSchema.parse(parsed);
  const target = report.targets[0];
  if (!target) throw new Error('the report has no target');
  unannouncedCommands(report);
  await logVerdict(report, result.wallMs);
  keepReport(report);
  return { ...result, report, target };
}

/**
 * Every scenario's fixes, checked as a reader meets them: a text that ends in a colon announces a
 * command, and one must follow it (a fix that says "Make them match:" and stops is a defect).
 */
function unannouncedCommands(report: RunReport): void {
  for (const target of report.targets) {
    const findings = [target.verdict, ...target.steps.flatMap((step) => [step, ...(step.also ?? [])])];
    for (const finding of findings) {
      for (const fix of finding.remediation) {
        if (fix.text.trimEnd().endsWith(':') && !fix.command) throw new Error(`a fix announces a command and gives none: "${fix.text}"`);
      }
    }
  }
}

/** "step/cause" of a report's first target, the form assertions compare. */
export function verdictOf(report: RunReport): string {
  const verdict = report.targets[0]?.verdict;
  return `${verdict?.step ?? 'none'}/${verdict?.cause ?? '?'}`;
}

/**
 * DBDOCTOR_REPORT_DIR=<dir>: the first real report of each engine/step/cause a test produces is
 * kept there as JSON, the input `npm run goldens` turns into the golden human outputs.
 */
function keepReport(report: RunReport): void {
  const dir = process.env.DBDOCTOR_REPORT_DIR;
  const target = report.targets[0];
  if (!dir || !target) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${target.engine}-${target.verdict.step ?? 'none'}-${target.verdict.cause}.json`);
  if (!existsSync(file)) writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * DBDOCTOR_VERDICT_LOG=<file>: each diagnosis a test runs appends a JSON line (the test, the
 * verdict, the run's own duration and the process's wall time) — the figures behind the notes
 * and the README, measured on the real scenarios. Nothing is asserted on them.
 */
async function logVerdict(report: RunReport, wallMs: number): Promise<void> {
  const file = process.env.DBDOCTOR_VERDICT_LOG;
  if (!file) return;
  // vitest only inside its runner: the lab CLI and the benchmarks import this file too.
  const test = process.env.VITEST ? ((await import('vitest')).expect.getState().currentTestName ?? '?') : 'outside a test';
  appendFileSync(file, `${JSON.stringify({ test, verdict: verdictOf(report), durationMs: Math.round(report.durationMs), wallMs: Math.round(wallMs) })}\n`);
}
