import { CAUSES, type CauseCode, type WarnableCause } from './causes.js';
import type { KnownName } from '../host/names.js';
import type { PlatformInfo } from '../host/platform.js';
import type { Deadline } from './deadline.js';
import type { Evidence, Finding, Remediation } from './schema.js';
import type { StepId } from './steps.js';
import type { Thresholds } from './thresholds.js';

export { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.js';

/**
 * The contract between the engine and a probe. The engine knows nothing about any database:
 * a probe supplies one StepDefinition per tree step; the engine schedules them in tree order,
 * gives each a deadline, records its evidence, and turns the first failure into the verdict.
 */

/** What every target offers the engine, whatever its database. */
export interface DiagnosisTarget {
  readonly engine: string;
  /** The target as shown to people: secrets masked. */
  readonly display: string;
  /** Where each setting came from, e.g. { host: "url", password: "env PGPASSWORD" }. */
  readonly sources: Readonly<Record<string, string>>;
}

/** Where dbdoctor runs: the platform, and the host names this environment knows. */
export interface EnvironmentView {
  readonly platform: PlatformInfo;
  /** Names for "did you mean" (Kubernetes services, /etc/hosts, compose services, variables). */
  knownNames(): Promise<readonly KnownName[]>;
}

/**
 * A finding that does not come from a step's own checks but belongs beside one: e.g. settings in
 * the environment that contradict the target (config_mismatch). The walk adds it to that step's
 * `also`, whether the step ran or was skipped, so it is reported with any verdict.
 */
export interface Hint {
  readonly step: StepId;
  readonly finding: Finding;
}

/** Which steps to run: all by default; `until` stops after a step (wait --until), only/skip choose. */
export interface StepSelection {
  readonly only?: readonly StepId[];
  readonly skip?: readonly StepId[];
  readonly until?: StepId;
}

/**
 * Told when each step of a target starts and ends, for a live progress line; it only watches.
 * The walk calls it synchronously and ignores what it does.
 */
export interface StepObserver {
  stepStarted(target: string, step: StepId): void;
  stepFinished(target: string, step: StepId): void;
  /**
   * What the target's probe is waiting on now, when it can say ("the PostgreSQL handshake with
   * 127.0.0.1:6432", "PgBouncer's answer to a second client"); undefined once it is not. A step
   * may be waiting on something another step started (a connection they share).
   */
  waitingOn?(target: string, what: string | undefined): void;
}

/** What a probe is given for one run over one target. */
export interface RunContext {
  /** The deadline every step of this target must finish by. */
  readonly deadline: Deadline;
  readonly thresholds: Thresholds;
  /** The environment dbdoctor runs in (process.env plus .env), for probes that read it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly environment: EnvironmentView;
  readonly hints?: readonly Hint[];
  readonly steps?: StepSelection;
  readonly observer?: StepObserver;
}

/** A step's result: one finding, or several with the most important first. */
export type StepOutcome = Finding | readonly [Finding, ...Finding[]];

/** A step's findings as a list, and back: for a step that adds a finding to another's outcome. */
export function findingsOf(outcome: StepOutcome): Finding[] {
  return 'status' in outcome ? [outcome] : [...outcome];
}

export function outcomeOf(findings: readonly Finding[]): StepOutcome {
  const [first, ...rest] = findings;
  if (!first) throw new Error('a step returned no finding');
  return rest.length === 0 ? first : [first, ...rest];
}

/** A remedy turns what a step learned into copy-paste steps for one cause. */
export type Remedy = (...input: never[]) => Remediation[];

/** What a step's `run` receives from the engine, typed by the causes the step may produce. */
export interface StepIO<C extends CauseCode> {
  /** This step's deadline: the run's, possibly narrowed by the step's own limit. */
  readonly deadline: Deadline;
  /** Evidence recorded as the step goes; kept even when the deadline cuts the step off. */
  readonly evidence: Evidence;
  pass(summary: string, evidence?: Evidence): Finding;
  skip(reason: string, evidence?: Evidence): Finding;
  /** A finding for `cause`, with the status the catalogue gives it (warn or fail). */
  found(cause: C, summary: string, remediation: Remediation[], evidence?: Evidence): Finding;
  /**
   * A warning for a code the catalogue makes a failure, in the one case its `warnWhen` names
   * (a standby that nobody asked for a primary from): only such codes are accepted.
   */
  warn(cause: C & WarnableCause, summary: string, remediation: Remediation[], evidence?: Evidence): Finding;
}

export interface StepDefinition<Ctx> {
  readonly id: StepId;
  /** What dbdoctor checks at this step, in a sentence (docs, runbooks). */
  readonly checks: string;
  /** Every cause this step can produce: each has its remedy beside it. */
  readonly produces: readonly CauseCode[];
  /** The most this step may take, under the run's deadline. */
  readonly limitMs: number | undefined;
  /** How an operator checks the same by hand (for runbooks): psql, kubectl, … */
  readonly manual: readonly Remediation[];
  run(ctx: Ctx, io: StepIO<CauseCode>): Promise<StepOutcome>;
}

/** What a runbook needs of a step: everything but how it runs. */
export type StepDescription = Omit<StepDefinition<never>, 'run' | 'limitMs'>;

export interface StepSpec<Ctx, C extends CauseCode> {
  id: StepId;
  checks: string;
  limitMs?: number;
  /** One remedy per cause this step can produce, next to the code that decides it. */
  remedies: { readonly [K in C]: Remedy };
  /** How an operator checks the same by hand, for the generated runbook. */
  manual?: readonly Remediation[];
  run(ctx: Ctx, io: StepIO<C>): Promise<StepOutcome>;
}

/** Declares a step; its remedies' keys are the causes it may produce, checked at compile time. */
export function defineStep<Ctx, C extends CauseCode>(spec: StepSpec<Ctx, C>): StepDefinition<Ctx> {
  const produces = Object.keys(spec.remedies).filter((key): key is C => key in CAUSES);
  return {
    id: spec.id,
    checks: spec.checks,
    produces,
    limitMs: spec.limitMs,
    manual: spec.manual ?? [],
    run: (ctx, io) => spec.run(ctx, io),
  };
}

export interface Probe<T extends DiagnosisTarget, Ctx> {
  readonly engine: string;
  /** One definition per tree step this engine checks, in any order. */
  readonly steps: readonly StepDefinition<Ctx>[];
  /** Creates the per-target context: lazily gathered, memoized evidence the steps share. */
  open(target: T, run: RunContext): Ctx;
  /**
   * The shell command that runs a statement a remedy prints (language "sql") against this target's
   * server, as the role that may run it: the engine adds it to the remedy as `run`. Undefined when
   * the engine has no client for statements.
   */
  statementCommand?(target: T, statement: string, cause: CauseCode | null): string | undefined;
  /** Releases whatever the context holds; must settle before `deadline`. */
  close(ctx: Ctx, deadline: Deadline): Promise<void>;
}
