/**
 * dbdoctor as a library: `diagnose`, `waitFor` and `explain`, with the same answers the CLI prints
 * with `--json` (the same documents, schemas and `schemaVersion`), and `DbdoctorError`.
 *
 * Importing this module does nothing: it reads no environment variable, detects no terminal or
 * colour, prints nothing and loads no database driver. Each call loads what it needs (a
 * PostgreSQL target loads the PostgreSQL driver, nothing else), and reads `process.env` only when
 * no `env` option is given.
 *
 * @packageDocumentation
 */
import { performance } from 'node:perf_hooks';
import type { CauseCode } from '../engine/causes.js';
import type { Deadline } from '../engine/deadline.js';
import type { RunReport, TargetReport as TargetReportDocument } from '../engine/schema.js';
import type { StepId } from '../engine/steps.js';
import type { Thresholds } from '../engine/thresholds.js';
import type { ExplainReport } from '../explain/schema.js';
import type { Platform } from '../host/platform.js';
import type { EngineName } from '../engines/registry.js';
import { DbdoctorError, type DbdoctorErrorReason } from './errors.js';
import type { PreparedRun, TargetEntry, TargetInput } from './run.js';
import type { Until } from './wait.js';

export { DbdoctorError, type DbdoctorErrorReason };
export type { CauseCode, EngineName, Platform, StepId, Thresholds, Until };

/** The report of a run: what `dbdoctor diagnose --json` prints (schema version 1, `schema/report.schema.json`). */
export type Report = RunReport;
/** One target's part of a {@link Report}: its status, its verdict with evidence and remediation, and every step. */
export type TargetReport = TargetReportDocument;
/** What `dbdoctor explain --json` prints: the cause, what it means, the fix, and, for several errors or hosts, each one (`findings`, `hosts`). */
export type Explanation = ExplainReport;

/**
 * A target: a URL (`postgresql://`, `mongodb://`, `mongodb+srv://`, `cassandra://`), a libpq
 * conninfo string (`host=/var/run/postgresql dbname=orders`), or an object with the URL and what a
 * config file would say beside it (a label, its own timeout, thresholds, steps).
 */
export type Target = TargetInput;
export type { TargetEntry };

/** What `diagnose` and `waitFor` both take. */
export interface RunOptions {
  /**
   * The variables targets and settings are read from (DATABASE_URL, PGHOST, PGPASSWORD, …), and
   * the targets found when none is given. Default: `process.env`, read when the call is made.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A .env file to read as well (its values under `env`'s). Default: none (the CLI reads ./.env). */
  readonly envFile?: string;
  /** A config file naming targets (YAML or JSON, as `--config`); its targets come before `targets`. */
  readonly configFile?: string;
  /** Tailor the remediation to this platform instead of the one detected. */
  readonly platform?: Platform;
  /** Where relative paths and compose files are looked for. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Thresholds that turn measurements into findings, in milliseconds (`nearLimitPercent` in percent). */
  readonly thresholds?: Partial<Thresholds>;
  /**
   * Ends the call at once: every step's deadline is cut (its connections are closed as the step
   * ends), and the promise rejects with a {@link DbdoctorError} whose reason is `aborted`.
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link diagnose}. */
export interface DiagnoseOptions extends RunOptions {
  /** Deadline for the whole run, in milliseconds. Default: 10 000 (as `dbdoctor diagnose`). */
  readonly timeoutMs?: number;
  /** Run only these steps (as `--only`). */
  readonly only?: readonly StepId[];
  /** Skip these steps (as `--skip`). */
  readonly skip?: readonly StepId[];
}

/** Options of {@link waitFor}; the defaults are `dbdoctor wait`'s. */
export interface WaitForOptions extends RunOptions {
  /** Give up after this long, in milliseconds. Default: 60 000. */
  readonly timeoutMs?: number;
  /** Ready means: `accepting` (answers its protocol), `auth` (logs in), `ready` (logs in and runs a query). Default: `ready`. */
  readonly until?: Until;
  /** First wait between attempts (then doubling, with jitter), in milliseconds. Default: 500. */
  readonly intervalMs?: number;
  /** Longest wait between attempts, in milliseconds. Default: 5 000. */
  readonly maxIntervalMs?: number;
  /** Deadline of each attempt, in milliseconds. Default: 10 000. */
  readonly attemptTimeoutMs?: number;
  /** Give up at once on a cause that waiting cannot heal (a wrong password, another protocol). Default: true. */
  readonly failFast?: boolean;
  /** Attempts in a row before a cause such as `dns_not_found` is taken as final. Default: 5. */
  readonly retries?: number;
  /** Called with each progress line `dbdoctor wait` prints (secrets masked). */
  readonly onProgress?: (line: string) => void;
}

/** Options of {@link explain}. */
export interface ExplainOptions {
  /** The database engine, when the input does not say (as `--engine`). */
  readonly engine?: EngineName;
}

const DIAGNOSE_TIMEOUT_MS = 10_000;

/**
 * Diagnoses each target (or, with none, everything the environment points at) and resolves with
 * the report `dbdoctor diagnose --json` prints: an unhealthy database is an answer, not an error.
 * Rejects with a {@link DbdoctorError}: `bad_input` (a URL that cannot be used, no target found),
 * or `aborted`.
 *
 * @example
 * const report = await diagnose('postgresql://app@db:5432/orders', { timeoutMs: 5000 });
 * if (report.status !== 'healthy') console.error(report.targets[0]?.verdict.message);
 */
export async function diagnose(targets?: Target | readonly Target[], options: DiagnoseOptions = {}): Promise<Report> {
  const started = performance.now();
  checkCall(targets, options, { steps: true });
  return guarded(options.signal, async () => {
    const { Deadline } = await import('../engine/deadline.js');
    const deadline = bound(
      Deadline.within(positive(options.timeoutMs, 'timeoutMs') ?? DIAGNOSE_TIMEOUT_MS, 'run', { name: 'the timeoutMs option' }),
      options.signal,
    );
    const steps =
      options.only || options.skip ? { ...(options.only ? { only: [...options.only] } : {}), ...(options.skip ? { skip: [...options.skip] } : {}) } : undefined;
    const prepared = await prepare(targets, options, steps);
    const { diagnoseRun } = await import('./diagnose.js');
    const report = await diagnoseRun(prepared, { deadline, version: await version(), started });
    const document = await published(report);
    if (options.signal?.aborted) throw new DbdoctorError('aborted', 'dbdoctor: the diagnosis was aborted', { report: document, cause: options.signal.reason });
    return document;
  });
}

/**
 * Diagnoses the targets until every one is ready, as `dbdoctor wait` does (backoff with jitter,
 * the port watched while it is refused), and resolves with the last report. Rejects with a
 * {@link DbdoctorError} carrying that last report: `timed_out` when `timeoutMs` passed first,
 * `not_healing` on a cause that waiting cannot heal (a wrong password), `aborted`, or `bad_input`.
 *
 * @example
 * // vitest globalSetup: fail with the diagnosis, not a 30-second driver timeout
 * export default async () => { await waitFor(process.env.DATABASE_URL, { timeoutMs: 60_000 }); };
 */
export async function waitFor(targets?: Target | readonly Target[], options: WaitForOptions = {}): Promise<Report> {
  const started = performance.now();
  checkCall(targets, options, { until: true });
  return guarded(options.signal, async () => {
    const [{ Deadline }, { waitUntilReady, WAIT_DEFAULTS }, { secrets }] = await Promise.all([
      import('../engine/deadline.js'),
      import('./wait.js'),
      import('../config/secrets.js'),
    ]);
    const timeoutMs = positive(options.timeoutMs, 'timeoutMs') ?? WAIT_DEFAULTS.timeoutSeconds * 1000;
    const deadline = bound(Deadline.within(timeoutMs, 'wait', { name: 'the timeoutMs option' }), options.signal);
    const prepared = await prepare(targets, options, undefined);
    const intervalMs = positive(options.intervalMs, 'intervalMs') ?? WAIT_DEFAULTS.intervalMs;
    const say = (line: string): void => options.onProgress?.(secrets.redact(line));
    const { outcome, attempts, report } = await waitUntilReady(
      prepared,
      {
        until: options.until ?? 'ready',
        timeoutMs,
        intervalMs,
        maxIntervalMs: Math.max(intervalMs, positive(options.maxIntervalMs, 'maxIntervalMs') ?? WAIT_DEFAULTS.maxIntervalMs),
        attemptTimeoutMs: positive(options.attemptTimeoutMs, 'attemptTimeoutMs') ?? WAIT_DEFAULTS.attemptTimeoutMs,
        failFast: options.failFast ?? true,
        retries: positive(options.retries, 'retries') ?? WAIT_DEFAULTS.retries,
        originMs: started,
        timeoutSaid: { name: 'timeoutMs', from: 'the call' },
        ...(options.signal ? { signal: options.signal } : {}),
      },
      deadline,
      await version(),
      { line: say, done: say },
    );
    const document = await published(report);
    if (outcome === 'ready') return document;
    throw new DbdoctorError(outcome, `dbdoctor: ${notReady(outcome, attempts, document)}`, {
      report: document,
      ...(outcome === 'aborted' ? { cause: options.signal?.reason } : {}),
    });
  });
}

/**
 * Explains an error: a pasted text (a message, a stack trace, a log stream), or an error object
 * as a driver threw it — node-postgres, the MongoDB driver, cassandra-driver, or any `Error` with
 * `code`, `errno`, `cause` or `errors`. An object is read by its structure first (SQLSTATE, errno,
 * each host's own error, the server's code and codeName), its messages last; a driver need not
 * be installed for its errors to be read. Several hosts' errors give one entry per host in
 * `hosts` and `findings`; the `verdict` is the most specific of them.
 *
 * Resolves with what `dbdoctor explain --json` prints; an error it does not recognise is an
 * answer too (`status: 'not_recognised'`, `verdict: null`). Offline: it connects to nothing. It
 * is asynchronous because its tables (every client's messages, in every language they ship) are
 * loaded on the first call, never on import.
 *
 * @example
 * try { await pool.query('select 1'); }
 * catch (err) { console.error((await explain(err)).verdict?.title ?? err); }
 */
export async function explain(input: unknown, options: ExplainOptions = {}): Promise<Explanation> {
  checkCall(undefined, options);
  await checkEngine(options);
  return guarded(undefined, async () => {
    const [{ registerVocabulary }, { ExplainReportSchema }] = await Promise.all([import('./vocabulary.js'), import('../explain/schema.js')]);
    registerVocabulary();
    const run = { version: await version(), ...(options.engine ? { engine: options.engine } : {}) };
    if (typeof input === 'string') {
      if (input.trim() === '')
        throw new DbdoctorError('bad_input', 'dbdoctor: no error text to explain (the input is empty)', {
          hint: 'pass the error message, or the error object itself',
        });
      return ExplainReportSchema.parse(await (await import('./explain.js')).explainTextRun(input, run));
    }
    const { isErrorLike } = await import('../explain/objects.js');
    if (!isErrorLike(input))
      throw new DbdoctorError('bad_input', `dbdoctor: cannot explain a ${input === null ? 'null' : typeof input}: explain reads a text or an error object`, {
        hint: 'pass the error a driver threw, or its message',
      });
    return ExplainReportSchema.parse(await (await import('./explain.js')).explainErrorRun(input, run));
  });
}

/**
 * The engine option, checked against the registry's engines: loaded on the first call, never on
 * import (importing the package loads this file and errors.js only), before anything runs.
 */
async function checkEngine(options: ExplainOptions | undefined): Promise<void> {
  const engine = (options as Record<string, unknown> | undefined)?.engine;
  if (engine === undefined) return;
  const { ENGINE_NAMES } = await import('../engines/registry.js');
  if (!(ENGINE_NAMES as readonly unknown[]).includes(engine))
    throw new DbdoctorError('bad_input', `dbdoctor: engine must be one of ${ENGINE_NAMES.join(', ')}, not ${describe(engine)}`);
}

// ── shared by the calls ───────────────────────────────────────────────────────

/** Runs a call: bad input becomes a DbdoctorError (never a stack of dbdoctor's internals); an abort before the start rejects at once. */
async function guarded<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new DbdoctorError('aborted', 'dbdoctor: aborted before it started', { cause: signal.reason });
  try {
    return await call();
  } catch (error) {
    const { InputError } = await import('../config/errors.js');
    if (error instanceof InputError) throw new DbdoctorError('bad_input', `dbdoctor: ${error.message}`, error.hint ? { hint: error.hint } : {});
    throw error;
  }
}

/** The run's deadline, ended early by the caller's signal. */
function bound(deadline: Deadline, signal: AbortSignal | undefined): Deadline {
  return signal ? deadline.until(signal, deadline.scope, { name: "the caller's AbortSignal" }) : deadline;
}

async function prepare(
  targets: Target | readonly Target[] | undefined,
  options: RunOptions,
  steps: { only?: StepId[]; skip?: StepId[] } | undefined,
): Promise<PreparedRun> {
  const [{ prepareRun }, { registerVocabulary }, { DEFAULT_THRESHOLDS }] = await Promise.all([
    import('./run.js'),
    import('./vocabulary.js'),
    import('../engine/thresholds.js'),
  ]);
  registerVocabulary();
  const list: readonly Target[] = targets === undefined ? [] : typeof targets === 'string' || !isList(targets) ? [targets] : targets;
  return prepareRun(
    list,
    {
      envFile: options.envFile ? { path: options.envFile, required: true } : undefined,
      platform: options.platform,
      configFile: options.configFile,
      thresholds: { ...DEFAULT_THRESHOLDS, ...options.thresholds },
      steps,
    },
    { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd() },
  );
}

function isList(targets: Target | readonly Target[]): targets is readonly Target[] {
  return Array.isArray(targets);
}

/** A report as the CLI prints it with --json: every secret masked, validated against the schema. */
async function published(report: RunReport): Promise<Report> {
  const [{ secrets }, { RunReportSchema }] = await Promise.all([import('../config/secrets.js'), import('../engine/schema.js')]);
  return RunReportSchema.parse(secrets.redactDocument(report));
}

/**
 * The values the options take, spelled here so that checking a call loads nothing (importing the
 * package loads this file and errors.js only); the compiler keeps each list equal to its type.
 * The engines are the registry's own list, checked by checkEngine on the first call.
 */
const PLATFORM_NAMES = ['kubernetes', 'compose', 'container', 'systemd', 'host', 'macos', 'windows'] as const satisfies readonly Platform[];
const STEP_NAMES = ['process', 'accepting', 'network', 'pool', 'auth', 'queries'] as const satisfies readonly StepId[];
const UNTIL_LEVELS = ['accepting', 'auth', 'ready'] as const satisfies readonly Until[];
type Exhaustive<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : never;
const LISTS_COMPLETE: [
  Exhaustive<Platform, (typeof PLATFORM_NAMES)[number]>,
  Exhaustive<StepId, (typeof STEP_NAMES)[number]>,
  Exhaustive<Until, (typeof UNTIL_LEVELS)[number]>,
] = [true, true, true];
void LISTS_COMPLETE;

/** The longest time a timer can wait (2^31 − 1 ms, ~24.8 days): Node fires a longer one at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const unit = name === 'retries' ? 'attempts' : name.endsWith('Percent') ? 'percent' : 'milliseconds';
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new DbdoctorError('bad_input', `dbdoctor: ${name} must be a positive number of ${unit}, not ${describe(value)}`);
  if (unit === 'milliseconds' && value > LONGEST_TIMER_MS)
    throw new DbdoctorError('bad_input', `dbdoctor: ${name} must be at most ${LONGEST_TIMER_MS} ms (about 24 days), not ${value}`);
  return value;
}

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : typeof value === 'string'
          ? JSON.stringify(value.slice(0, 40))
          : String(value);
}

/**
 * The call's arguments, checked as the CLI checks its flags: anything else is `bad_input`, one
 * sentence, before anything runs (a wrong value must never reach a timer, a listener or a schema).
 */
function checkCall(targets: unknown, options: unknown, allowed: { readonly steps?: boolean; readonly until?: boolean } = {}): void {
  const bad = (message: string, hint?: string): never => {
    throw new DbdoctorError('bad_input', `dbdoctor: ${message}`, hint ? { hint } : {});
  };
  const isTarget = (value: unknown): boolean => typeof value === 'string' || (value !== null && typeof value === 'object' && !Array.isArray(value));
  if (targets !== undefined && !(isTarget(targets) || (Array.isArray(targets) && targets.every(isTarget))))
    bad(`targets must be a URL, a connection string, a target object or a list of them, not ${describe(targets)}`);
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad(`options must be an object, not ${describe(options)}`);
  const given = options as Record<string, unknown>;
  const signal = given.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    bad(`signal must be an AbortSignal, not ${describe(signal)}`, 'pass controller.signal (new AbortController()), or AbortSignal.timeout(ms)');
  if (given.platform !== undefined && !(PLATFORM_NAMES as readonly unknown[]).includes(given.platform))
    bad(`platform must be one of ${PLATFORM_NAMES.join(', ')}, not ${describe(given.platform)}`);
  if (allowed.until && given.until !== undefined && !(UNTIL_LEVELS as readonly unknown[]).includes(given.until))
    bad(`until must be one of ${UNTIL_LEVELS.join(', ')}, not ${describe(given.until)}`);
  for (const key of allowed.steps ? (['only', 'skip'] as const) : []) {
    const list = given[key];
    if (list !== undefined && !(Array.isArray(list) && list.every((step) => (STEP_NAMES as readonly unknown[]).includes(step))))
      bad(`${key} must be a list of steps (${STEP_NAMES.join(', ')}), not ${describe(list)}`);
  }
  const thresholds = given.thresholds;
  if (thresholds !== undefined) {
    if (thresholds === null || typeof thresholds !== 'object' || Array.isArray(thresholds)) bad(`thresholds must be an object, not ${describe(thresholds)}`);
    for (const [name, value] of Object.entries(thresholds as Record<string, unknown>)) positive(value as number, `thresholds.${name}`);
  }
}

async function version(): Promise<string> {
  return (await import('../engine/tool.js')).toolVersion();
}

/** One line for a wait that ended unready: how, and each unready target's verdict. */
function notReady(outcome: Exclude<DbdoctorErrorReason, 'bad_input'>, attempts: number, report: Report): string {
  const how =
    outcome === 'timed_out'
      ? `not ready: timed out after ${attempts} attempt${attempts === 1 ? '' : 's'}`
      : outcome === 'not_healing'
        ? 'not ready: waiting will not heal it'
        : 'the wait was aborted';
  const causes = report.targets
    .filter((target) => target.status === 'unhealthy')
    .map((target) => `${target.label ?? target.target}: ${target.verdict.cause} — ${target.verdict.message}`);
  return [how, ...causes].join('; ').replace(/[\r\n]+/g, ' ');
}
