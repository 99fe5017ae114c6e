import { CAUSES, type CauseCode } from '../../../engine/causes.js';
import { findingsOf, outcomeOf, type Remedy, type StepDefinition, type StepIO, type StepOutcome } from '../../../engine/probe.js';
import type { Evidence } from '../../../engine/schema.js';
import type { PgContext } from '../context.js';

/**
 * How the pooler checks hook into PostgreSQL's steps without changing them: each extension runs
 * first, decides the pooler's own causes, and otherwise calls the PostgreSQL step (`base`) and
 * adds what the pooler showed to its findings. Its remedies sit beside it, as a step's do, and
 * its causes join the step's `produces`, so the catalogue sees them.
 */
export interface StepExtension<C extends CauseCode> {
  /** What the extension adds to the step's check, in a sentence. */
  readonly checks: string;
  readonly remedies: { readonly [K in C]: Remedy };
  run(ctx: PgContext, io: StepIO<C>, base: () => Promise<StepOutcome>): Promise<StepOutcome>;
}

export function poolerAware<C extends CauseCode>(base: StepDefinition<PgContext>, extension: StepExtension<C>): StepDefinition<PgContext> {
  const own = Object.keys(extension.remedies).filter((key): key is C => key in CAUSES);
  return {
    ...base,
    checks: `${base.checks} ${extension.checks}`,
    produces: [...new Set([...base.produces, ...own])],
    run: (ctx, io) => extension.run(ctx, io, () => base.run(ctx, io)),
  };
}

/** The base step's findings with the pooler's evidence added, and its pass summary reworded. */
export function withPooler(outcome: StepOutcome, pooler: Evidence, passSummary?: (summary: string) => string): StepOutcome {
  return outcomeOf(
    findingsOf(outcome).map((finding) => ({
      ...finding,
      summary: finding.status === 'pass' && passSummary ? passSummary(finding.summary) : finding.summary,
      evidence: { ...finding.evidence, pooler },
    })),
  );
}

export { findingsOf, outcomeOf };
