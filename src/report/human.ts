import kleur from 'kleur';
import type { EnvironmentReport, Evidence, Remediation, RunReport, StepReport, StepStatus, TargetReport, TargetStatus } from '../engine/schema.js';
import { formatMs } from '../text/duration.js';
import { displayable, jsonBlock } from './display.js';

/**
 * The report for a person at 3 a.m.: the verdict first, in one line; then one line per step;
 * then the fix as numbered, copy-pasteable commands. `verbose` adds every step's evidence.
 * Nothing here decides anything: it only lays out what the engine concluded.
 */
export interface HumanOptions {
  readonly verbose: boolean;
  readonly color: boolean;
}

const STATUS_MARK: Record<StepStatus, string> = { pass: '✔', warn: '!', fail: '✖', skip: '–' };
const HEADLINE: Record<TargetStatus, string> = { healthy: 'HEALTHY', degraded: 'DEGRADED', unhealthy: 'UNHEALTHY' };

export function renderHuman(untrusted: RunReport, options: HumanOptions): string {
  kleur.enabled = options.color;
  const report = displayable(untrusted);
  const blocks = report.targets.map((target) => renderTarget(target, options));
  if (report.targets.length > 1) blocks.push(`${paint(report.status, HEADLINE[report.status])} overall: ${report.targets.length} targets in ${formatMs(report.durationMs)}`);
  const environment = renderEnvironment(report.environment, options.verbose);
  if (environment) blocks.push(environment);
  return `${blocks.join('\n\n')}\n`;
}

/** Where dbdoctor ran: said when it matters (not a plain host), and in full with --verbose. */
function renderEnvironment(environment: EnvironmentReport | undefined, verbose: boolean): string | undefined {
  if (!environment || (!verbose && environment.platform === 'host')) return undefined;
  const where = `${environment.platform}${environment.kubernetesNamespace ? ` (namespace ${environment.kubernetesNamespace})` : ''}${environment.chosen === 'flag' ? ', chosen with --platform' : ''}`;
  // Markers seen but not counted (e.g. a /.dockerenv on a VM) are for --verbose only.
  const signals = environment.signals.filter((signal) => verbose || !signal.includes('not counted'));
  const lines = [kleur.dim(`  running on: ${where}${signals.length > 0 ? ` — ${signals.join('; ')}` : ''}`)];
  if (verbose && environment.configuration.length > 0) {
    lines.push(kleur.dim('  database settings in the environment:'));
    for (const variable of environment.configuration) lines.push(kleur.dim(`    ${variable.name}=${variable.value}  (${variable.source})`));
  }
  return lines.join('\n');
}

function renderTarget(target: TargetReport, options: HumanOptions): string {
  const lines: string[] = [];
  const { verdict } = target;
  const headline = `${paint(target.status, `${statusMark(target.status)} ${HEADLINE[target.status]}`)}  ${kleur.bold(target.target)}`;
  lines.push(headline);
  if (verdict.step === null) {
    lines.push(`  ${verdict.message}`);
  } else {
    lines.push(`  ${kleur.bold(`${verdict.step}: ${verdict.cause}`)} — ${verdict.message}`);
  }
  lines.push('');
  const width = Math.max(...target.steps.map((step) => step.id.length));
  for (const step of target.steps) {
    lines.push(renderStep(step, width, step.id === verdict.step && step.cause === verdict.cause));
    for (const extra of step.also ?? []) lines.push(`  ${' '.repeat(width + 2)}  ${paintStep(extra.status, `${STATUS_MARK[extra.status]} ${extra.cause ?? ''}`)} ${extra.summary}`);
    if (options.verbose && Object.keys(step.evidence).length > 0) lines.push(indent(renderEvidence(step.evidence), 6 + width));
  }
  const fixes = remediationFor(target);
  if (fixes.length > 0) {
    lines.push('', kleur.bold('  What to do'), ...remediationLines(fixes));
  }
  const otherWarnings = target.warnings.filter((warning) => !(warning.step === verdict.step && warning.cause === verdict.cause));
  if (otherWarnings.length > 0) {
    lines.push('', kleur.bold('  Also'));
    for (const warning of otherWarnings) lines.push(`  ${kleur.yellow('!')} ${warning.step}: ${warning.cause} — ${warning.summary}`);
  }
  lines.push('', kleur.dim(`  settings: ${describeSources(target.source)}`), kleur.dim(`  ${target.engine} · diagnosed in ${formatMs(target.durationMs)}`));
  return lines.join('\n');
}

/** Numbered fixes, each command indented under its text (also used by `dbdoctor explain`). */
export function remediationLines(untrusted: readonly Remediation[]): string[] {
  const fixes = displayable(untrusted);
  return fixes.flatMap((fix, index) => [`  ${index + 1}. ${fix.text}`, ...(fix.command ? fix.command.split('\n').map((line) => `       ${kleur.cyan(line)}`) : [])]);
}

/** The verdict's own step shows just its cause: its message is already the second line. */
function renderStep(step: StepReport, width: number, isVerdict: boolean): string {
  const mark = paintStep(step.status, `${STATUS_MARK[step.status]} ${step.id.padEnd(width)}`);
  const time = step.durationMs >= 1 ? kleur.dim(`  ${formatMs(step.durationMs)}`) : '';
  if (isVerdict) return `  ${mark}  ${paintStep(step.status, step.cause ?? '')} ${kleur.dim('(see above)')}${time}`;
  const cause = step.cause && step.status !== 'pass' ? `${paintStep(step.status, step.cause)}: ` : '';
  return `  ${mark}  ${cause}${step.status === 'skip' ? kleur.dim(step.summary) : step.summary}${time}`;
}

/** The verdict's fix first; for a degraded target, each warning's fix in turn. */
function remediationFor(target: TargetReport): Remediation[] {
  if (target.status !== 'healthy') {
    const seen = new Set<string>();
    const fixes: Remediation[] = [];
    const ordered = [target.verdict.remediation, ...target.steps.flatMap((step) => [step, ...(step.also ?? [])].filter((finding) => finding.status === 'warn').map((finding) => finding.remediation))];
    for (const list of ordered) {
      for (const fix of list) {
        const key = `${fix.text}|${fix.command ?? ''}`;
        if (!seen.has(key)) {
          seen.add(key);
          fixes.push(fix);
        }
      }
    }
    return fixes;
  }
  return [];
}

function describeSources(source: Record<string, string>): string {
  const entries = Object.entries(source);
  if (entries.length === 0) return 'defaults';
  return entries.map(([key, from]) => `${key} ← ${from}`).join(', ');
}

function renderEvidence(evidence: Evidence): string {
  return jsonBlock(evidence);
}

function indent(text: string, by: number): string {
  const pad = ' '.repeat(by);
  return text
    .split('\n')
    .map((line) => kleur.dim(`${pad}${line}`))
    .join('\n');
}

function statusMark(status: TargetStatus): string {
  return status === 'healthy' ? '✔' : status === 'degraded' ? '!' : '✖';
}

function paint(status: TargetStatus, text: string): string {
  return status === 'healthy' ? kleur.green().bold(text) : status === 'degraded' ? kleur.yellow().bold(text) : kleur.red().bold(text);
}

function paintStep(status: StepStatus, text: string): string {
  switch (status) {
    case 'pass':
      return kleur.green(text);
    case 'warn':
      return kleur.yellow(text);
    case 'fail':
      return kleur.red(text);
    default:
      return kleur.dim(text);
  }
}
