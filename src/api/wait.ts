import { performance } from 'node:perf_hooks';
import type { Deadline } from '../engine/deadline.js';
import type { StepSelection } from '../engine/probe.js';
import type { RunReport, TargetReport } from '../engine/schema.js';
import { TEARDOWN_RESERVE_MS } from '../engine/budget.js';
import { bounded } from '../text/bound.js';
import { formatMs } from '../text/duration.js';
import { visible } from '../text/visible.js';
import type { PreparedRun } from './run.js';

/** What "ready" means: answers its protocol, logs in, or logs in and runs a query. */
export const UNTIL = ['accepting', 'auth', 'ready'] as const;
export type Until = (typeof UNTIL)[number];

export const WAIT_DEFAULTS = { timeoutSeconds: 60, intervalMs: 500, maxIntervalMs: 5000, attemptTimeoutMs: 10_000, retries: 5 } as const;

/** How the loop waits: the CLI's flags, or the API's options, in the same words. */
export interface WaitLoopOptions {
  readonly until: Until;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
  readonly attemptTimeoutMs: number;
  readonly failFast: boolean;
  /** How many times in a row a "retries" cause (dns_not_found…) may be seen before it is final. */
  readonly retries: number;
  /** When the timeout starts counting, on the `performance.now()` clock (the CLI: 0, this process's start). */
  readonly originMs: number;
  /** Ends the wait at once (the API's AbortSignal); the deadline is tied to it too. */
  readonly signal?: AbortSignal;
  /** How the give-up line names the timeout and where it counts from: the CLI's "--timeout … from start" unless said. */
  readonly timeoutSaid?: { readonly name: string; readonly from: string };
}

/** What the loop says while it waits: one line per attempt, and the line it ends with. */
export interface WaitProgress {
  line(text: string): void;
  done(text: string): void;
  /** The report that will be the answer unless a refused port opens before the deadline. */
  lastReport?(report: RunReport): void;
}

/**
 * How a wait ended, with the last whole diagnosis of every target:
 *   ready        every target is ready
 *   not_healing  a cause that waiting cannot heal (a wrong password), with fail-fast
 *   timed_out    the deadline came first
 *   aborted      the caller's AbortSignal fired
 */
export interface WaitOutcome {
  readonly outcome: 'ready' | 'not_healing' | 'timed_out' | 'aborted';
  readonly attempts: number;
  readonly report: RunReport;
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
export function nextInterval(
  previousMs: number,
  options: Pick<WaitLoopOptions, 'maxIntervalMs'>,
  random: () => number = Math.random,
): { readonly sleepMs: number; readonly nextMs: number } {
  const jitter = 0.8 + random() * 0.4;
  return { sleepMs: Math.round(previousMs * jitter), nextMs: Math.min(previousMs * 2, options.maxIntervalMs) };
}

/**
 * Diagnoses until every target is ready, with exponential backoff and jitter, under `deadline` (the
 * CLI's --timeout, counted from the process's start; the API's timeoutMs, from the call). Gives up
 * when the deadline comes, or on a cause that waiting cannot heal; says which, with the last whole
 * diagnosis of every target. `dbdoctor wait` and the API's `waitFor` are this one loop.
 */
export async function waitUntilReady(
  prepared: PreparedRun,
  options: WaitLoopOptions,
  deadline: Deadline,
  version: string,
  progress: WaitProgress,
): Promise<WaitOutcome> {
  const started = performance.now();
  const { diagnoseAll } = await import('./run.js');
  const { runReport } = await import('../engine/run.js');
  const reportOf = (targets: TargetReport[], durationMs: number): RunReport => runReport(targets, durationMs, version, prepared.environmentReport);
  prepared = readinessOnly(prepared);
  const selection = selectionFor(options.until);
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
    // Aborted (the API's AbortSignal): the attempt ended at once and closed what it opened.
    if (options.signal?.aborted)
      return { outcome: 'aborted', attempts: attempt, report: reportOf(last.length > 0 ? last : reports, performance.now() - started) };
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
      return { outcome: 'ready', attempts: attempt, report: reportOf(last, performance.now() - started) };
    }
    const { waitingFor, answerOf } = await import('../engine/causes.js');
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
    const summary = visible(
      reports
        .filter((report) => report.status === 'unhealthy')
        .map((report) => `${report.label ?? report.target}: ${report.verdict.step ?? 'none'}/${report.verdict.cause} — ${bounded(report.verdict.message, 500)}`)
        .join('; '),
    );
    if (options.failFast && final.length > 0) {
      progress.done(
        `giving up after ${attempt} attempt${attempt > 1 ? 's' : ''}: waiting will not heal ${final.map((report) => report.verdict.cause).join(', ')} (use --no-fail-fast to wait anyway)`,
      );
      return { outcome: 'not_healing', attempts: attempt, report: reportOf(last, performance.now() - started) };
    }
    if (deadline.remainingMs() < LAST_MOMENT_MS) {
      progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}`);
      progress.done(gaveUp(attempt, options));
      return { outcome: 'timed_out', attempts: attempt, report: reportOf(last, performance.now() - started) };
    }
    // A server that answers "starting up" (or is replaying WAL) is seconds from ready: ask again
    // every second at most, as `until pg_isready; do sleep 1; done` does, rather than backing off
    // to --max-interval and returning up to that late. Each try is one refused login.
    const soon = reports.some((report) => report.status === 'unhealthy' && answerOf(report.verdict.cause) === 'starting');
    const { sleepMs, nextMs } = soon ? nextInterval(Math.min(interval, SOON_READY_MS), { maxIntervalMs: SOON_READY_MS }) : nextInterval(interval, options);
    // Where nothing listens yet, the pause is cut short when the port opens (the probes watch it).
    const { watchRefusedPorts } = await import('../engines/registry.js');
    const refused = await watchRefusedPorts(
      reports.filter((report) => report.status === 'unhealthy' && answerOf(report.verdict.cause) === 'refused').map((report) => report.verdict.details),
    );
    // Never sleep past the last moment an attempt can start and still finish by the deadline: the
    // last attempt is kept for the end of --timeout, not given up a whole backoff interval early.
    const remainingMs = deadline.remainingMs();
    const reserveMs = lastAttemptMs(slowestAttemptMs);
    if (remainingMs <= reserveMs + MIN_PAUSE_MS) {
      // A port that answered (starting up, replaying WAL, shutting down, full) can be ready the
      // next moment, and only another real attempt can see it: keep asking, spaced as a port is
      // watched, until a login and a query no longer fit. An attempt the deadline cuts short
      // costs nothing: it ends at the deadline, and the diagnosis printed stays the last whole one.
      // (This attempt's time is no guide: the first one loads the drivers, and a loaded machine
      // makes any one slow, while a server that answers "starting up" answers at once.)
      const lastStartMs = remainingMs - LAST_ANSWER_MS;
      const answered = reports.every((report) => report.status !== 'unhealthy' || answerOf(report.verdict.cause) !== 'silent');
      if (refused.watched === 0 && answered && lastStartMs >= MIN_PAUSE_MS) {
        const pauseMs = Math.min(ANSWERED_SPACING_MS, lastStartMs);
        progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}; next try in ${formatMs(pauseMs)}`);
        await deadline.sleep(pauseMs);
        if (options.signal?.aborted) return { outcome: 'aborted', attempts: attempt, report: reportOf(last, performance.now() - started) };
        pending = stillPending;
        continue;
      }
      // Too little time for another whole attempt: watch a refused port to the end, and try once
      // more only if it opens; otherwise the deadline has come, and the last full diagnosis stands.
      progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}; watching until the deadline`);
      // The report is handed over before watching, so that the CLI can render it while it waits
      // and print it the moment the deadline comes.
      const report = reportOf(last, options.originMs + options.timeoutMs - started);
      progress.lastReport?.(report);
      if (await refused.pause(deadline, remainingMs)) {
        pending = stillPending;
        continue;
      }
      if (options.signal?.aborted) return { outcome: 'aborted', attempts: attempt, report };
      progress.done(gaveUp(attempt, options));
      return { outcome: 'timed_out', attempts: attempt, report };
    }
    const pauseMs = Math.max(MIN_PAUSE_MS, Math.min(sleepMs, remainingMs - reserveMs));
    progress.line(`[${attempt}] ${formatMs(elapsed)} ${summary}; next try in ${formatMs(pauseMs)}`);
    await refused.pause(deadline, pauseMs);
    if (options.signal?.aborted) return { outcome: 'aborted', attempts: attempt, report: reportOf(last, performance.now() - started) };
    interval = nextMs;
    pending = stillPending;
  }
}

/**
 * The give-up line, with the time counted as --timeout counts it (from the process's start, the
 * deadline's origin), so that it reads as the deadline kept, not as giving up early.
 */
function gaveUp(attempts: number, options: Pick<WaitLoopOptions, 'originMs' | 'timeoutMs' | 'timeoutSaid'>): string {
  // It gave up because the deadline came: never read as earlier than it (a timer may fire a little early).
  const elapsed = Math.max(performance.now() - options.originMs, options.timeoutMs);
  const said = options.timeoutSaid ?? { name: '--timeout', from: 'start' };
  return `gave up at ${(elapsed / 1000).toFixed(2)} s: timed out after ${attempts} attempt${attempts > 1 ? 's' : ''} (${said.name} ${formatMs(options.timeoutMs)} from ${said.from})`;
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
  return {
    ...prepared,
    targets: prepared.targets.map((planned) => ({ ...planned, thresholds: { ...planned.thresholds, idleInTransactionMs: TEN_YEARS_MS } })),
  };
}

/**
 * A server on its way up (the record's answer `starting`): ask again a quarter second apart at
 * most, so that wait returns about that soon after the server is ready. Each try is one
 * connection the server refuses with "the database system is starting up".
 */
const SOON_READY_MS = 250;
/** Near the deadline, between attempts at a port that answers: as often as a refused port is watched. */
const ANSWERED_SPACING_MS = 150;
/** The least time kept for the last attempt at a port that answered: a login and a query. */
const LAST_ANSWER_MS = 100;

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
