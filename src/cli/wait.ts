import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { Deadline } from '../engine/deadline.js';
import type { StepSelection } from '../engine/probe.js';
import type { TargetReport } from '../engine/schema.js';
import { EXIT_CODES } from '../engine/exit.js';
import { TEARDOWN_RESERVE_MS } from '../engine/budget.js';
import { formatMs } from '../text/duration.js';
import { colorWanted } from './diagnose.js';
import { parseCount, parseDuration, parseSeconds } from './duration.js';
import { safeOutput, type CliIO } from './io.js';
import { addRunFlags, runOptions, type PreparedRun, type RunFlags, type RunOptions } from './prepare.js';
import { FORMATS, widthFor, type Format } from './render.js';
import { bounded } from '../text/bound.js';
import { visible } from '../text/visible.js';

/**
 * `dbdoctor wait <target…> [-- command…]`: diagnose until every target is ready, with exponential
 * backoff and jitter, then exit 0 (or run the command). On timeout, or on a cause that waiting
 * cannot heal, exit 2 and print the last full diagnosis, so a failed init container's log says why.
 */
export const UNTIL = ['accepting', 'auth', 'ready'] as const;
export type Until = (typeof UNTIL)[number];

export interface WaitOptions extends RunOptions {
  readonly until: Until;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
  readonly attemptTimeoutMs: number;
  readonly failFast: boolean;
  /** How many times in a row a "retries" cause (dns_not_found…) may be seen before it is final. */
  readonly retries: number;
  readonly quiet: boolean;
  readonly format: Format;
  /** Whether a format was asked for: then the last diagnosis is printed on success too. */
  readonly formatChosen: boolean;
  readonly color: boolean;
  /** The command to run once ready (everything after "--"). */
  readonly command: readonly string[];
  /** When --timeout starts counting, on the `performance.now()` clock: 0 is this process's start. */
  readonly originMs: number;
}

export const WAIT_DEFAULTS = { timeoutSeconds: 60, intervalMs: 500, maxIntervalMs: 5000, attemptTimeoutMs: 10_000, retries: 5 } as const;

interface WaitFlags extends RunFlags {
  until: Until;
  timeout: number;
  interval: number;
  maxInterval: number;
  attemptTimeout: number;
  failFast: boolean;
  retries: number;
  quiet?: boolean;
  json?: boolean;
  format?: Format;
  color: boolean;
}

export function toWaitOptions(flags: WaitFlags, command: readonly string[], io: Pick<CliIO, 'env' | 'stdoutIsTTY'>): WaitOptions {
  return {
    ...runOptions(flags),
    until: flags.until,
    timeoutMs: flags.timeout * 1000,
    intervalMs: flags.interval,
    maxIntervalMs: Math.max(flags.interval, flags.maxInterval),
    attemptTimeoutMs: flags.attemptTimeout,
    failFast: flags.failFast,
    retries: flags.retries,
    quiet: flags.quiet === true,
    format: flags.json ? 'json' : (flags.format ?? 'human'),
    formatChosen: flags.json === true || flags.format !== undefined,
    color: colorWanted(flags.color, io),
    command,
    originMs: 0,
  };
}

const WAIT_HELP = `
Examples:
  dbdoctor wait --timeout 120 "$DATABASE_URL" -- npm start
  # as pg_isready, with the reason:
  dbdoctor wait --until accepting 'postgresql://app@db:5432/app'
  dbdoctor wait -t 300 -q 'mongodb://mongo:27017/app' && ./migrate

--timeout counts from the moment dbdoctor starts: wait gives up only when that
time has passed, or at once when waiting cannot heal the cause (a wrong
password; --no-fail-fast waits anyway).

Exit codes:
  0  ready (with a command after --: the command's own exit code)
  2  gave up (the last diagnosis is printed)
  3  bad input`;

export function waitCommand(io: CliIO, command: readonly string[], onRun: (inputs: string[], options: WaitOptions) => Promise<void>): Command {
  const wait = new Command('wait')
    .description('wait until every target is ready (an init container, a CI job), then exit 0 or run a command: dbdoctor wait <target> -- <command…>')
    .argument('[targets...]', 'URLs as for diagnose; none: everything the environment points at')
    .addOption(new Option('--until <step>', 'ready means: accepting (answers its protocol), auth (logs in), ready (logs in and runs a query)').choices(UNTIL).default('ready'))
    .addOption(new Option('-t, --timeout <seconds>', 'give up after this long').argParser(parseSeconds).default(WAIT_DEFAULTS.timeoutSeconds))
    .addOption(new Option('--interval <duration>', 'first wait between attempts (then doubling, with jitter)').argParser(parseDuration).default(WAIT_DEFAULTS.intervalMs, '500ms'))
    .addOption(new Option('--max-interval <duration>', 'longest wait between attempts').argParser(parseDuration).default(WAIT_DEFAULTS.maxIntervalMs, '5s'))
    .addOption(new Option('--attempt-timeout <duration>', 'deadline of each attempt').argParser(parseDuration).default(WAIT_DEFAULTS.attemptTimeoutMs, '10s'))
    .option('--no-fail-fast', 'keep waiting through causes that waiting cannot heal (a wrong password, another protocol…)')
    .addOption(new Option('--retries <count>', 'attempts in a row before a cause such as dns_not_found is taken as final').argParser(parseCount).default(WAIT_DEFAULTS.retries))
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--json', 'print the last diagnosis as JSON when giving up (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'format of the diagnosis printed when giving up').choices(FORMATS))
    .option('--no-color', 'no colours (also: NO_COLOR=1)');
  wait.addHelpText('after', WAIT_HELP);
  return addRunFlags(wait, { stepFlags: false }).action(async (inputs: string[], flags: WaitFlags) => onRun(inputs, toWaitOptions(flags, command, io)));
}

/** The steps each --until needs: stop after network, or after auth (without the pool's query). */
export function selectionFor(until: Until): StepSelection {
  switch (until) {
    case 'accepting':
      return { until: 'network' };
    case 'auth':
      return { until: 'auth', skip: ['pool'] };
    default:
      return { until: 'auth' };
  }
}

/** Exponential backoff with ±20 % jitter, so a fleet of init containers does not poll in step. */
export function nextInterval(previousMs: number, options: Pick<WaitOptions, 'maxIntervalMs'>, random: () => number = Math.random): { readonly sleepMs: number; readonly nextMs: number } {
  const jitter = 0.8 + random() * 0.4;
  return { sleepMs: Math.round(previousMs * jitter), nextMs: Math.min(previousMs * 2, options.maxIntervalMs) };
}

export async function runWait(inputs: readonly string[], options: WaitOptions, io: CliIO, version: string): Promise<number> {
  const started = performance.now();
  // --timeout is a promise to the caller (an init container, a CI step): it counts from the moment
  // the process started, and wait gives up only when it has passed, unless the cause cannot heal.
  const deadline = Deadline.after(options.originMs, options.timeoutMs, 'wait', { name: 'the --timeout' });
  const { prepareRun, diagnoseAll } = await import('./prepare.js');
  const prepared = readinessOnly(await prepareRun(inputs, options, io));
  const selection = selectionFor(options.until);
  const progress = progressWriter(io, options.quiet);
  const streaks = new Map<string, { cause: string; count: number }>();
  let pending: PreparedRun['targets'] = prepared.targets;
  let last: TargetReport[] = [];
  let interval = options.intervalMs;
  let slowestAttemptMs = 0;
  for (let attempt = 1; ; attempt += 1) {
    const attemptStarted = performance.now();
    // When --timeout ends before --attempt-timeout would, a deadline_exceeded from this attempt is
    // --timeout cutting it short (the walk keeps time back to close, so it comes a little before).
    const boundByTimeout = deadline.remainingMs() <= options.attemptTimeoutMs;
    const attemptDeadline = deadline.limit(options.attemptTimeoutMs, 'run', { name: 'the --attempt-timeout' });
    const reports = await diagnoseAll({ ...prepared, targets: pending }, attemptDeadline, selection);
    slowestAttemptMs = Math.max(slowestAttemptMs, performance.now() - attemptStarted);
    // An attempt that --timeout itself cut short says only that time ran out: the diagnosis printed
    // on giving up stays the last one that finished (a wrong password, a refused port).
    // An attempt that ran into the time kept for closing was cut short by --timeout, whatever cause
    // the cut produced (deadline_exceeded, or a no_response after a few milliseconds).
    const cutShort = boundByTimeout && deadline.remainingMs() < TEARDOWN_RESERVE_MS + LAST_MOMENT_MS;
    last = merge(last, reports, boundByTimeout || deadline.remainingMs() < LAST_MOMENT_MS, cutShort);
    const stillPending = pending.filter((_, index) => reports[index]?.status === 'unhealthy');
    // Times shown count as --timeout does: from this process's start.
    const elapsed = performance.now() - options.originMs;
    if (stillPending.length === 0) {
      progress.done(`ready after ${attempt} attempt${attempt > 1 ? 's' : ''} in ${formatMs(elapsed)}`);
      // With --format or --json, the final diagnosis is kept on success too (a CI artifact).
      if (options.formatChosen) await printLast(last, started, prepared, options, io, version);
      return options.command.length > 0 ? runCommand(options.command) : 0;
    }
    const { waitingFor } = await import('../engine/waiting.js');
    const final = reports.filter((report) => {
      if (report.status !== 'unhealthy') return false;
      const key = `${report.label ?? ''}|${report.target}`;
      const streak = streaks.get(key);
      const count = streak?.cause === report.verdict.cause ? streak.count + 1 : 1;
      streaks.set(key, { cause: report.verdict.cause, count });
      const kind = waitingFor(report.verdict.cause);
      return kind === 'permanent' || (kind === 'retries' && count >= options.retries);
    });
    // Server words and names from the settings: made visible, one line per attempt.
    const summary = visible(reports.filter((report) => report.status === 'unhealthy').map((report) => `${report.label ?? report.target}: ${report.verdict.step ?? 'none'}/${report.verdict.cause} — ${bounded(report.verdict.message, 500)}`).join('; '));
    if (options.failFast && final.length > 0) {
      progress.done(`giving up after ${attempt} attempt${attempt > 1 ? 's' : ''}: waiting will not heal ${final.map((report) => report.verdict.cause).join(', ')} (use --no-fail-fast to wait anyway)`);
      return printLast(last, started, prepared, options, io, version);
    }
    if (deadline.remainingMs() < LAST_MOMENT_MS) {
      progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}`);
      progress.done(gaveUp(attempt, options));
      return printLast(last, started, prepared, options, io, version);
    }
    // A server that answers "starting up" (or is replaying WAL) is seconds from ready: ask again
    // every second at most, as `until pg_isready; do sleep 1; done` does, rather than backing off
    // to --max-interval and returning up to that late. Each try is one refused login.
    const soon = reports.some((report) => report.status === 'unhealthy' && SOON_READY.has(report.verdict.cause));
    const { sleepMs, nextMs } = soon ? nextInterval(Math.min(interval, SOON_READY_MS), { maxIntervalMs: SOON_READY_MS }) : nextInterval(interval, options);
    // Never sleep past the last moment an attempt can start and still finish by the deadline: the
    // last attempt is kept for the end of --timeout, not given up a whole backoff interval early.
    const remainingMs = deadline.remainingMs();
    const reserveMs = lastAttemptMs(slowestAttemptMs);
    const refused = refusedEndpoints(reports);
    if (remainingMs <= reserveMs + MIN_PAUSE_MS) {
      // A port that answered (starting up, replaying WAL, shutting down, full) can be ready the
      // next moment, and only another real attempt can see it: keep asking, spaced as a port is
      // watched, until a login and a query no longer fit. An attempt the deadline cuts short
      // costs nothing: it ends at the deadline, and the diagnosis printed stays the last whole one.
      // (This attempt's time is no guide: the first one loads the drivers, and a loaded machine
      // makes any one slow, while a server that answers "starting up" answers at once.)
      const lastStartMs = remainingMs - LAST_ANSWER_MS;
      const answered = reports.every((report) => report.status !== 'unhealthy' || !UNANSWERED.has(report.verdict.cause));
      if (refused.length === 0 && answered && lastStartMs >= MIN_PAUSE_MS) {
        const pauseMs = Math.min(ANSWERED_SPACING_MS, lastStartMs);
        progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}; next try in ${formatMs(pauseMs)}`);
        await deadline.sleep(pauseMs);
        pending = stillPending;
        continue;
      }
      // Too little time for another whole attempt: watch a refused port to the end, and try once
      // more only if it opens; otherwise the deadline has come, and the last full diagnosis stands.
      progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}; watching until the deadline`);
      // The report is rendered while watching, so that it is out the moment the deadline comes.
      const rendered = renderLast(last, options.originMs + options.timeoutMs - started, prepared, options, version, widthFor(io));
      if (await sleepUntilListening(deadline, remainingMs, refused)) {
        pending = stillPending;
        continue;
      }
      progress.done(gaveUp(attempt, options));
      await io.out(await rendered);
      return EXIT_CODES.unhealthy;
    }
    const pauseMs = Math.max(MIN_PAUSE_MS, Math.min(sleepMs, remainingMs - reserveMs));
    progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}; next try in ${formatMs(pauseMs)}`);
    await sleepUntilListening(deadline, pauseMs, refused);
    interval = nextMs;
    pending = stillPending;
  }
}

/**
 * The give-up line, with the time counted as --timeout counts it (from the process's start, the
 * deadline's origin), so that it reads as the deadline kept, not as giving up early.
 */
function gaveUp(attempts: number, options: Pick<WaitOptions, 'originMs' | 'timeoutMs'>): string {
  // It gave up because the deadline came: never read as earlier than it (a timer may fire a little early).
  const elapsed = Math.max(performance.now() - options.originMs, options.timeoutMs);
  return `gave up at ${(elapsed / 1000).toFixed(2)} s: timed out after ${attempts} attempt${attempts > 1 ? 's' : ''} (--timeout ${formatMs(options.timeoutMs)} from start)`;
}

/**
 * Time kept free for the last attempt before the deadline: what the slowest attempt so far took,
 * with room, and at least a quarter second; an attempt that cannot finish in time is cut off by
 * its deadline anyway, so this only decides how close to the end the last one starts.
 */
function lastAttemptMs(slowestAttemptMs: number): number {
  return Math.max(250, slowestAttemptMs * 1.5);
}

/** Below this much time left, no attempt is started: the deadline has, in effect, passed. */
const LAST_MOMENT_MS = 20;
/** The shortest pause between attempts, so that quick failures near the deadline do not spin. */
const MIN_PAUSE_MS = 50;

/**
 * Readiness is about connecting: a session idle in a transaction for an hour makes a server
 * unhealthy to `diagnose`, but not unready. (Long-running and blocked queries are in the queries
 * step, which wait never runs.)
 */
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

function readinessOnly(prepared: PreparedRun): PreparedRun {
  return { ...prepared, targets: prepared.targets.map((planned) => ({ ...planned, thresholds: { ...planned.thresholds, idleInTransactionMs: TEN_YEARS_MS } })) };
}

/**
 * Causes of a server on its way up (or restarting), and how long to wait between attempts at most:
 * a quarter second, so that wait returns about that soon after the server is ready. Each try is
 * one connection the server refuses with "the database system is starting up".
 */
const SOON_READY = new Set(['starting_up', 'recovery', 'shutting_down']);
const SOON_READY_MS = 250;
/** Near the deadline, between attempts at a port that answers: as often as a refused port is watched. */
const ANSWERED_SPACING_MS = 150;
/** The least time kept for the last attempt at a port that answered: a login and a query. */
const LAST_ANSWER_MS = 100;

/**
 * Causes where nothing answered: an attempt takes as long as its deadline allows, so near the end
 * another one would only be cut short; the last whole diagnosis is kept and printed at the deadline.
 */
const UNANSWERED = new Set(['no_response', 'connect_timeout', 'deadline_exceeded', 'host_unreachable', 'dns_temporary']);

/** Causes that mean "nothing listens there yet": worth watching the port during the pause. */
const REFUSALS = new Set(['not_running', 'wrong_port', 'localhost_in_container', 'not_listening']);

/** Where the refused targets were refused, read from the network evidence in their verdicts. */
function refusedEndpoints(reports: readonly TargetReport[]): { address: string; port: number }[] {
  return reports.flatMap((report) => {
    if (report.status !== 'unhealthy' || !REFUSALS.has(report.verdict.cause)) return [];
    const endpoints = report.verdict.details.endpoints;
    if (!Array.isArray(endpoints)) return [];
    return endpoints.flatMap((endpoint: unknown) => {
      if (typeof endpoint !== 'object' || endpoint === null || !('port' in endpoint) || !('connects' in endpoint) || !Array.isArray(endpoint.connects)) return [];
      const port = Number(endpoint.port);
      return endpoint.connects.flatMap((attempt: unknown) =>
        typeof attempt === 'object' && attempt !== null && 'address' in attempt && typeof attempt.address === 'string' && !attempt.address.startsWith('/') ? [{ address: attempt.address, port }] : [],
      );
    });
  });
}

/**
 * The pause between attempts, cut short when a refused port starts listening: a TCP connect every
 * 150 ms costs the server nothing while it is down (the kernel refuses it), and brings the wait
 * from "up to one backoff interval late" to about 150 ms after the server opens its port.
 * Says whether a port opened.
 */
async function sleepUntilListening(deadline: Deadline, sleepMs: number, endpoints: readonly { address: string; port: number }[]): Promise<boolean> {
  if (endpoints.length === 0) {
    await deadline.sleep(sleepMs);
    return false;
  }
  const pause = deadline.limit(sleepMs, 'pause');
  const { connectTcp } = await import('../net/tcp.js');
  while (!pause.expired) {
    await pause.sleep(150);
    if (pause.expired) return false;
    for (const endpoint of endpoints) {
      const outcome = await connectTcp(endpoint.address, endpoint.port, pause.limit(500, 'watch'));
      if (outcome.outcome === 'connected') {
        outcome.socket.destroy();
        return true;
      }
    }
  }
  return false;
}

/** The latest report for each target, in the order the targets were given. */
function merge(previous: TargetReport[], latest: TargetReport[], cutByTimeout: boolean, cutShort = false): TargetReport[] {
  const key = (report: TargetReport): string => `${report.label ?? ''}|${report.target}`;
  const byKey = new Map(previous.map((report) => [key(report), report]));
  for (const report of latest) {
    if (byKey.has(key(report)) && ((cutByTimeout && report.verdict.cause === 'deadline_exceeded') || (cutShort && report.status === 'unhealthy'))) continue;
    byKey.set(key(report), report);
  }
  return [...byKey.values()];
}

async function printLast(last: TargetReport[], started: number, prepared: PreparedRun, options: WaitOptions, io: CliIO, version: string): Promise<number> {
  await io.out(await renderLast(last, performance.now() - started, prepared, options, version, widthFor(io)));
  return EXIT_CODES.unhealthy;
}

/** The last full diagnosis of every target, as --format asks. */
async function renderLast(last: TargetReport[], durationMs: number, prepared: PreparedRun, options: WaitOptions, version: string, width: number): Promise<string> {
  const [{ runReport }, { render }] = await Promise.all([import('../engine/run.js'), import('./render.js')]);
  const report = runReport(last, durationMs, version, prepared.environmentReport);
  return render(report, { format: options.format, verbose: false, color: options.color, width });
}

interface Progress {
  line(text: string): void;
  done(text: string): void;
}

/**
 * One line per attempt on stderr, or a single live line on a terminal; nothing with --quiet. The
 * live line is cut to the terminal's width less one column: a line that wraps leaves its first
 * rows behind, since "\r\e[2K" clears only the row the cursor is on.
 */
export function progressWriter(io: Pick<CliIO, 'err' | 'stderrIsTTY' | 'stderrColumns' | 'columns' | 'env'>, quiet: boolean): Progress {
  if (quiet) return { line: () => undefined, done: () => undefined };
  const live = io.stderrIsTTY;
  const width = (io.stderrColumns ?? widthFor(io)) - 1;
  return {
    line: (text) => void io.err(live ? `\r\u001b[2K${fitLine(text, width)}` : `dbdoctor wait: ${text}\n`),
    done: (text) => void io.err(live ? `\r\u001b[2K${text}\n` : `dbdoctor wait: ${text}\n`),
  };
}

/** The text cut to `width` columns, an ellipsis marking the cut. */
export function fitLine(text: string, width: number): string {
  const characters = [...text];
  return characters.length <= width ? text : `${characters.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Runs the command once ready, as wait-for-it does, passing signals on and exiting with its code. */
function runCommand(command: readonly string[]): Promise<number> {
  const [file, ...args] = command;
  return new Promise((resolve) => {
    const child = spawn(file ?? 'true', args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', (error) => {
      process.stderr.write(safeOutput(visible(`dbdoctor wait: cannot run ${file ?? ''}: ${error.message}`)) + '\n');
      resolve(127);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
