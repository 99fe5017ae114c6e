import { performance } from 'node:perf_hooks';
import { CAUSES, type CauseCode } from './causes.js';
import { TEARDOWN_RESERVE_MS } from './budget.js';
import { isDeadlineExceeded, type Deadline, type DeadlineExceeded } from './deadline.js';
import type { DiagnosisTarget, Hint, Probe, RunContext, StepDefinition, StepIO, StepOutcome, StepSelection } from './probe.js';
import type { Evidence, Finding, Remediation, StepReport, TargetReport, TargetStatus, Verdict } from './schema.js';
import { STEP_ORDER, type StepId } from './steps.js';
import { formatMs } from '../text/duration.js';
import { boundFinding, COMMAND_CHARS } from '../text/bound.js';

const SEVERITY_RANK = { fail: 3, warn: 2, pass: 1, skip: 0 } as const;

/** Walks the tree for one target: each step in order, stopping at the first failure. */
export async function diagnoseTarget<T extends DiagnosisTarget, Ctx>(probe: Probe<T, Ctx>, target: T, run: RunContext): Promise<TargetReport> {
  const started = performance.now();
  const stepsDeadline = run.deadline.reserving(TEARDOWN_RESERVE_MS);
  const ctx = probe.open(target, { ...run, deadline: stepsDeadline });
  const steps: StepReport[] = [];
  let failed: StepReport | undefined;
  try {
    for (const id of STEP_ORDER) {
      const definition = probe.steps.find((step) => step.id === id);
      const unselected = notSelected(id, run.steps);
      if (failed) {
        steps.push(skipped(id, `not checked: ${failed.id} failed (${failed.cause ?? 'unknown'})`));
      } else if (unselected) {
        steps.push(skipped(id, unselected));
      } else if (!definition) {
        steps.push(skipped(id, `not checked for ${probe.engine}`));
      } else {
        run.observer?.stepStarted(target.display, id);
        const report = await runStep(definition, ctx, stepsDeadline);
        run.observer?.stepFinished(target.display, id);
        steps.push(report);
        if (report.status === 'fail') failed = report;
      }
    }
  } finally {
    await closeQuietly(probe, ctx, run.deadline);
  }
  return summarise(
    target,
    probe.engine,
    runnable(withHints(steps, run.hints ?? []), (statement, cause) => probe.statementCommand?.(target, statement, cause)),
    performance.now() - started,
  );
}

async function closeQuietly<Ctx>(probe: Probe<DiagnosisTarget, Ctx>, ctx: Ctx, deadline: Deadline): Promise<void> {
  try {
    await deadline.race(probe.close(ctx, deadline));
  } catch {
    // Closing is best effort: the probe destroys what it holds when its deadline fires.
  }
}

async function runStep<Ctx>(definition: StepDefinition<Ctx>, ctx: Ctx, runDeadline: Deadline): Promise<StepReport> {
  const deadline = definition.limitMs === undefined ? runDeadline : runDeadline.limit(definition.limitMs, definition.id);
  const io = stepIO(deadline);
  const started = performance.now();
  let outcome: StepOutcome;
  try {
    outcome = await deadline.race(definition.run(ctx, io));
  } catch (error) {
    outcome = isDeadlineExceeded(error) ? cutOff(io.evidence, error) : crashed(io.evidence, error);
  }
  return toReport(definition.id, outcome, performance.now() - started);
}

function stepIO(deadline: Deadline): StepIO<CauseCode> {
  const evidence: Evidence = {};
  return {
    deadline,
    evidence,
    pass: (summary, more) => ({ status: 'pass', cause: null, summary, evidence: { ...evidence, ...more }, remediation: [] }),
    skip: (summary, more) => ({ status: 'skip', cause: null, summary, evidence: { ...evidence, ...more }, remediation: [] }),
    found: (cause, summary, remediation, more) => ({
      status: CAUSES[cause].severity,
      cause,
      summary,
      evidence: { ...evidence, ...more },
      remediation,
    }),
    warn: (cause, summary, remediation, more) => ({ status: 'warn', cause, summary, evidence: { ...evidence, ...more }, remediation }),
  };
}

// Remediation for the runner's own causes lives here, beside the code that decides them.
function cutOff(evidence: Evidence, exceeded: DeadlineExceeded): Finding {
  const { scope, budgetMs, source } = exceeded;
  if (exceeded.stopped) {
    return {
      status: 'fail',
      cause: 'deadline_exceeded',
      summary: `stopped by ${source.name} before an answer came`,
      evidence: { ...evidence, deadline: scope, stoppedBy: source.name },
      remediation: [
        {
          text: `The run was stopped by ${source.name} before this step had an answer, with time left; nothing is known of the server beyond what the steps before it found.`,
        },
      ],
    };
  }
  return {
    status: 'fail',
    cause: 'deadline_exceeded',
    // Named as the person who set the budget knows it, with the figure they set.
    summary: `still waiting when ${exceeded.describe(formatMs)} ran out`,
    evidence: { ...evidence, deadline: scope, budgetMs, budgetFrom: source.detail ? `${source.name} (${source.detail})` : source.name },
    remediation: [
      {
        text: `The server answered too slowly for the deadline. Allow more time than ${exceeded.describe(formatMs)} to see whether it answers at all; if it does, the server is overloaded (check CPU, I/O and lock waits on it).`,
      },
    ],
  };
}

function crashed(evidence: Evidence, error: unknown): Finding {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    status: 'warn',
    cause: 'check_error',
    summary: `the check itself failed: ${message}`,
    evidence: { ...evidence, error: message },
    remediation: [{ text: 'This is a limit of dbdoctor, not necessarily of the server. Run again with --verbose and report the evidence if it persists.' }],
  };
}

/**
 * A step's findings as reported: each bounded (text/bound), whatever a server sent, so no report
 * grows with what a peer chose to say; the most severe first.
 */
function toReport(id: StepId, outcome: StepOutcome, durationMs: number): StepReport {
  const findings: readonly Finding[] = ('status' in outcome ? [outcome] : [...outcome]).map((finding: Finding) => boundFinding(finding));
  const primary = mostSevere(findings);
  const also = findings.filter((finding) => finding !== primary && (finding.status === 'warn' || finding.status === 'fail'));
  return { id, ...primary, durationMs: Math.round(durationMs * 10) / 10, ...(also.length > 0 ? { also } : {}) };
}

function mostSevere(findings: readonly Finding[]): Finding {
  let best = findings[0];
  if (!best) throw new Error('a step returned no finding');
  for (const finding of findings) {
    if (SEVERITY_RANK[finding.status] > SEVERITY_RANK[best.status]) best = finding;
  }
  return best;
}

/** Why a step is left out by the run's selection, or undefined when it runs. */
function notSelected(id: StepId, selection: StepSelection | undefined): string | undefined {
  if (!selection) return undefined;
  const index = STEP_ORDER.indexOf(id);
  if (selection.until !== undefined && index > STEP_ORDER.indexOf(selection.until)) return `not checked: stopped after ${selection.until}`;
  if (selection.only && !selection.only.includes(id)) return `not checked: not in --only ${selection.only.join(',')}`;
  if (selection.skip?.includes(id)) return 'not checked: --skip';
  return undefined;
}

function withHints(steps: StepReport[], hints: readonly Hint[]): StepReport[] {
  return steps.map((step) => {
    const extra = hints.filter((hint) => hint.step === step.id).map((hint) => boundFinding(hint.finding));
    return extra.length > 0 ? { ...step, also: [...(step.also ?? []), ...extra] } : step;
  });
}

/**
 * Every statement a remedy prints gets the shell line that runs it against the same server
 * (`run`), so that what the operator copies runs as printed. A remedy that already says how it
 * runs (it has a `run` key, even an empty one: e.g. a statement meant for the database behind a
 * pooler, not for the pooler the diagnosis reached) is left as it is.
 */
function runnable(steps: StepReport[], command: (statement: string, cause: CauseCode | null) => string | undefined): StepReport[] {
  const withRun = (finding: Finding): Finding => ({
    ...finding,
    remediation: finding.remediation.map((fix) => {
      // A probe may mark a statement as having no run line ({ run: undefined }: e.g. the database behind
      // a pooler is unknown); the mark goes, so the report holds no undefined value (JSON drops it).
      if ('run' in fix && fix.run === undefined) {
        const { run: _none, ...rest } = fix;
        return rest;
      }
      if (fix.language !== 'sql' || fix.command === undefined || 'run' in fix) return fix;
      const run = command(fix.command, finding.cause);
      return run !== undefined && run.length <= COMMAND_CHARS ? { ...fix, run } : fix;
    }),
  });
  return steps.map((step) => ({ ...step, ...withRun(step), ...(step.also ? { also: step.also.map(withRun) } : {}) }));
}

function skipped(id: StepId, summary: string): StepReport {
  return { id, status: 'skip', cause: null, summary, evidence: {}, remediation: [], durationMs: 0 };
}

function summarise(target: DiagnosisTarget, engine: string, steps: StepReport[], durationMs: number): TargetReport {
  const findings = steps.flatMap((step) => [step, ...(step.also ?? [])].map((finding) => ({ step: step.id, finding })));
  const firstFail = findings.find(({ finding }) => finding.status === 'fail');
  const warnings = findings
    .filter((entry): entry is { step: StepId; finding: Finding & { cause: CauseCode } } => entry.finding.status === 'warn' && entry.finding.cause !== null)
    .map(({ step, finding }) => ({ step, cause: finding.cause, summary: finding.summary }));
  const decisive = firstFail ?? findings.find(({ finding }) => finding.status === 'warn' && finding.cause !== null);
  const status: TargetStatus = firstFail ? 'unhealthy' : warnings.length > 0 ? 'degraded' : 'healthy';
  return {
    target: target.display,
    engine,
    source: { ...target.sources },
    status,
    verdict: decisive ? verdictOf(decisive.step, decisive.finding) : healthyVerdict(steps),
    warnings,
    steps,
    durationMs: Math.round(durationMs),
  };
}

function verdictOf(step: StepId, finding: Finding): Verdict {
  return {
    step,
    cause: finding.cause ?? 'check_error',
    message: finding.summary,
    details: finding.evidence,
    remediation: finding.remediation,
  };
}

function healthyVerdict(steps: StepReport[]): Verdict {
  const passed = steps.filter((step) => step.status === 'pass').map((step) => step.id);
  return {
    step: null,
    cause: 'healthy',
    message: `all checks passed (${passed.join(', ')})`,
    details: {},
    remediation: [] satisfies Remediation[],
  };
}
