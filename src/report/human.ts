import kleur from 'kleur';
import {
  SessionEvidenceSchema,
  type EnvironmentReport,
  type Evidence,
  type Remediation,
  type RunReport,
  type SessionEvidence,
  type StepReport,
  type StepStatus,
  type TargetReport,
  type TargetStatus,
} from '../engine/schema.js';
import { formatMs } from '../text/duration.js';
import { displayable, jsonBlock } from './display.js';
import { displayWidth, wrapCommand, wrapText } from './wrap.js';

/**
 * The report for a person at 3 a.m.: the verdict first, in one line; the evidence that decides it
 * (the sessions, when sessions are the problem); one line per step, saying each thing once; then
 * the fix as numbered commands that run as printed. Every line fits `width` (see wrap.ts).
 * `verbose` adds every step's evidence. Nothing here decides anything.
 */
export interface HumanOptions {
  readonly verbose: boolean;
  readonly color: boolean;
  /** Columns to fit: the terminal's, else $COLUMNS, else 100. */
  readonly width?: number;
}

export const DEFAULT_WIDTH = 100;

const STATUS_MARK: Record<StepStatus, string> = { pass: '✔', warn: '!', fail: '✖', skip: '–' };
const HEADLINE: Record<TargetStatus, string> = { healthy: 'HEALTHY', degraded: 'DEGRADED', unhealthy: 'UNHEALTHY' };
const COMMAND_INDENT = '       ';
/** Holds words together while wrapping; turned back into spaces before printing. */
const NBSP = '\u00a0';
/** At most this many sessions are listed; the rest are counted (all are in --json). */
const MAX_SESSIONS = 5;

export function renderHuman(untrusted: RunReport, options: HumanOptions): string {
  kleur.enabled = options.color;
  const report = displayable(untrusted);
  const width = Math.max(40, options.width ?? DEFAULT_WIDTH);
  const numbered = report.targets.length > 1;
  // Several targets: the summary comes first, so that the answer is on line 1, and again last,
  // where the eye lands after scrolling; a healthy target is one line (its steps are for -v),
  // and the ones that need attention follow in full.
  const blocks = report.targets.map((target, index) =>
    numbered && target.status === 'healthy' && !options.verbose
      ? headlineLines(target, index + 1, sameAs(report.targets, index), width)
      : renderTarget(target, { ...options, width }, numbered ? index + 1 : undefined, sameAs(report.targets, index)),
  );
  if (numbered) {
    const summary = overall(report, width);
    blocks.unshift(summary);
    blocks.push(summary);
  }
  const environment = renderEnvironment(report.environment, options.verbose, width);
  if (environment) blocks.push(environment);
  return `${blocks.join('\n\n')}\n`;
}

/**
 * The number of an earlier target shown with the same text (they differ in what is masked: the
 * password), so that the headline can say so rather than print the same line twice.
 */
function sameAs(targets: readonly TargetReport[], index: number): number | undefined {
  const earlier = targets.findIndex((other, otherIndex) => otherIndex < index && other.target === targets[index]?.target);
  return earlier === -1 ? undefined : earlier + 1;
}

/** "✖ 3 of 4 unhealthy: #2 auth_failed, #3 dns_not_found, #4 wrong_port · 226 ms" */
function overall(report: RunReport, width: number): string {
  const count = report.targets.length;
  const of = (status: TargetStatus): string[] =>
    report.targets.flatMap((target, index) => (target.status === status ? [`#${index + 1} ${target.verdict.cause}`] : []));
  const unhealthy = of('unhealthy');
  const degraded = of('degraded');
  const parts = [
    ...(unhealthy.length > 0 ? [`${unhealthy.length} of ${count} unhealthy: ${unhealthy.join(', ')}`] : []),
    ...(degraded.length > 0 ? [`${degraded.length} of ${count} degraded: ${degraded.join(', ')}`] : []),
  ];
  const text = parts.length > 0 ? parts.join('; ') : `all ${count} healthy`;
  const line = `${statusMark(report.status)} ${text} · ${formatMs(report.durationMs)}`;
  return wrapText(line, width, '', '  ')
    .map((part, index) => (index === 0 ? paint(report.status, part) : part))
    .join('\n');
}

/** Where dbdoctor ran: said when it matters (not a plain host), and in full with --verbose. */
function renderEnvironment(environment: EnvironmentReport | undefined, verbose: boolean, width: number): string | undefined {
  if (!environment || (!verbose && environment.platform === 'host')) return undefined;
  const where = `${environment.platform}${environment.kubernetesNamespace ? ` (namespace ${environment.kubernetesNamespace})` : ''}${environment.chosen === 'flag' ? ', chosen with --platform' : ''}`;
  // Markers seen but not counted (e.g. a /.dockerenv on a VM) are for --verbose only.
  const signals = environment.signals.filter((signal) => verbose || !signal.includes('not counted'));
  const lines = wrapText(`running on: ${where}${signals.length > 0 ? ` — ${signals.join('; ')}` : ''}`, width, '  ', '    ');
  if (verbose && environment.configuration.length > 0) {
    lines.push('  database settings in the environment:');
    for (const variable of environment.configuration)
      lines.push(...wrapText(`${variable.name}=${variable.value}  (${variable.source})`, width, '    ', '      '));
  }
  return lines.map((line) => kleur.dim(line)).join('\n');
}

/** "✔ HEALTHY  #1 orders  postgresql://app@db:5432/orders": the whole report of a healthy one among several. */
/**
 * "✔ HEALTHY  #1 orders  postgresql://app@db:5432/orders", and the URL's own line when it does not
 * fit after the verdict word: that line comes after the verdict (the answer stays on line 2), and
 * holds the URL whole, which is copied as one word.
 */
function headline(target: TargetReport, number: number | undefined, twin?: number, width = DEFAULT_WIDTH): { readonly first: string; readonly url?: string } {
  // Two targets may differ only in a masked password: the number and label tell them apart.
  const name = [number !== undefined ? `#${number}` : undefined, target.label].filter(Boolean).join(' ');
  const head = `${statusMark(target.status)} ${HEADLINE[target.status]}  ${name ? `${name}  ` : ''}`;
  const same = twin !== undefined ? kleur.dim(`  (same as #${twin} but for the masked password)`) : '';
  const first = `${paint(target.status, `${statusMark(target.status)} ${HEADLINE[target.status]}`)}  ${name ? `${kleur.bold(name)}  ` : ''}`;
  if ([...head].length + [...target.target].length > width) return { first: `${first.trimEnd()}${same}`, url: `  ${kleur.bold(target.target)}` };
  return { first: `${first}${kleur.bold(target.target)}${same}` };
}

/** A healthy target among several: its headline (and the URL's own line when it does not fit). */
function headlineLines(target: TargetReport, number: number | undefined, twin: number | undefined, width: number): string {
  const { first, url } = headline(target, number, twin, width);
  return url ? `${first}\n${url}` : first;
}

function renderTarget(target: TargetReport, options: HumanOptions & { readonly width: number }, number: number | undefined, twin?: number): string {
  const { width } = options;
  const { verdict } = target;
  const lines: string[] = [];
  const top = headline(target, number, twin, width);
  lines.push(top.first);
  if (verdict.step !== null) {
    const head = `${verdict.step}: ${verdict.cause}`;
    // The cause and the first word of its message stay on one line, however long that word is.
    const glued = `${head} — ${verdict.message}`.replace(
      /^(\S+) (\S+) — (\S*)/,
      (_, step: string, cause: string, word: string) => `${step}${NBSP}${cause}${NBSP}—${NBSP}${word}`,
    );
    const wrapped = wrapText(glued, width, '  ', '    ').map((line) => line.replaceAll(NBSP, ' '));
    lines.push(...wrapped.map((line, index) => (index === 0 ? line.replace(head, kleur.bold(head)) : line)));
  }
  if (top.url) lines.push(top.url);
  const sessions = sessionsOf(verdict.details);
  if (sessions.length > 0) lines.push('', ...sessionLines(sessions, width));
  lines.push('');
  const idWidth = Math.max(...target.steps.map((step) => step.id.length));
  lines.push(...stepLines(target.steps, verdict, idWidth, width, options.verbose));
  const fixes = remediationFor(target);
  if (fixes.length > 0) lines.push('', kleur.bold('  What to do'), ...remediationLines(fixes, width));
  // A warning already on its step's line (the step's own finding or one of its `also`) is not said again here.
  const onStepLines = (warning: TargetReport['warnings'][number]): boolean =>
    target.steps.some(
      (step) =>
        step.id === warning.step && [step, ...(step.also ?? [])].some((finding) => finding.cause === warning.cause && finding.summary === warning.summary),
    );
  const otherWarnings = target.warnings.filter((warning) => !(warning.step === verdict.step && warning.cause === verdict.cause) && !onStepLines(warning));
  if (otherWarnings.length > 0) {
    lines.push('', kleur.bold('  Also'));
    for (const warning of otherWarnings)
      lines.push(...wrapText(`${kleur.yellow('!')} ${warning.step}: ${warning.cause} — ${warning.summary}`, width, '  ', '    '));
  }
  lines.push(
    '',
    ...wrapText(`settings: ${describeSources(target.source)}`, width, '  ', '    ').map((line) => kleur.dim(line)),
    kleur.dim(`  ${target.engine} · diagnosed in ${formatMs(target.durationMs)}`),
  );
  return lines.join('\n');
}

/**
 * One line per step. The verdict's own step shows just its cause (its message is the second line
 * of the report); steps skipped for the same reason say it once, beside a bracket that joins them.
 */
function stepLines(steps: readonly StepReport[], verdict: TargetReport['verdict'], idWidth: number, width: number, verbose: boolean): string[] {
  const lines: string[] = [];
  const column = `  x ${' '.repeat(idWidth)}  `;
  for (let index = 0; index < steps.length; index += 1) {
    const step = steps[index];
    if (!step) continue;
    const mark = (bracket = ''): string => paintStep(step.status, `${STATUS_MARK[step.status]} ${step.id.padEnd(idWidth)}`) + bracket;
    let run = 1;
    while (step.status === 'skip' && !verbose && steps[index + run]?.status === 'skip' && steps[index + run]?.summary === step.summary) run += 1;
    if (run > 1) {
      const group = steps.slice(index, index + run);
      const reason = skipReason(step.summary);
      group.forEach((member, at) => {
        const bracket = at === 0 ? ' ┐' : at === run - 1 ? ' ┘' : ' │';
        const text = at === 0 ? ` ${reason}` : '';
        lines.push(`  ${paintStep('skip', `${STATUS_MARK.skip} ${member.id.padEnd(idWidth)}${bracket}`)}${kleur.dim(text)}`);
      });
      index += run - 1;
      continue;
    }
    const isVerdict = step.id === verdict.step && step.cause === verdict.cause;
    const body = isVerdict ? `${step.cause ?? ''} (see above)` : `${step.cause && step.status !== 'pass' ? `${step.cause}: ` : ''}${step.summary}`;
    const wrapped = wrapText(body, width, column, ' '.repeat(displayWidth(column)));
    lines.push(
      ...wrapped.map((line, at) =>
        at === 0 ? `  ${mark()}  ${paintBody(step.status, line.slice(displayWidth(column)), isVerdict)}` : step.status === 'skip' ? kleur.dim(line) : line,
      ),
    );
    for (const extra of step.also ?? []) {
      const extraText = `${STATUS_MARK[extra.status]} ${extra.cause ?? ''} ${extra.summary}`;
      lines.push(
        ...wrapText(extraText, width, ' '.repeat(displayWidth(column)), ' '.repeat(displayWidth(column) + 2)).map((line) => paintStep(extra.status, line)),
      );
    }
    if (verbose && Object.keys(step.evidence).length > 0) lines.push(indent(renderEvidence(step.evidence), 6 + idWidth));
  }
  return lines;
}

/** "not checked: process failed (wrong_port)" says its cause twice on the page: once is enough. */
function skipReason(summary: string): string {
  return summary.replace(/^not checked: (\w+) failed \(\w+\)$/, 'not checked after $1 failed');
}

function paintBody(status: StepStatus, text: string, isVerdict: boolean): string {
  if (status === 'skip') return kleur.dim(text);
  if (isVerdict) return text.replace(/^(\S+)/, (cause) => paintStep(status, cause)).replace('(see above)', kleur.dim('(see above)'));
  return text;
}

/** Numbered fixes, each command indented under its text (also used by `dbdoctor explain`). */
export function remediationLines(fixes: readonly Remediation[], width: number = DEFAULT_WIDTH): string[] {
  return fixes.flatMap((fix, index) => {
    const label = `  ${index + 1}. `;
    // A statement is shown as the shell line that runs it against the same server, when there is one.
    const [command, language] = fix.run !== undefined ? [fix.run, 'shell' as const] : [fix.command, fix.language];
    return [...wrapText(fix.text, width, label), ...(command ? wrapCommand(command, width, COMMAND_INDENT, language).map((line) => kleur.cyan(line)) : [])];
  });
}

/** The verdict's fix first; for a degraded target, each warning's fix in turn. */
function remediationFor(target: TargetReport): Remediation[] {
  if (target.status === 'healthy') return [];
  const seen = new Set<string>();
  const fixes: Remediation[] = [];
  const ordered = [
    target.verdict.remediation,
    ...target.steps.flatMap((step) => [step, ...(step.also ?? [])].filter((finding) => finding.status === 'warn').map((finding) => finding.remediation)),
  ];
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

/** The sessions a verdict is about (queries: waiting, blocking, long-running; pool: idle in a transaction). */
function sessionsOf(details: Evidence): SessionEvidence[] {
  // Evidence is left raw by displayable (it is shown as JSON): these fields are shown as text.
  const parsed = SessionEvidenceSchema.array().safeParse(details.sessions);
  return parsed.success ? displayable(parsed.data) : [];
}

/**
 * Each session in two lines: what it is (role, pid, who, for how long), then what it runs, cut to
 * the line: the operator reads this before typing pg_terminate_backend.
 */
function sessionLines(sessions: readonly SessionEvidence[], width: number): string[] {
  const kindWidth = Math.max(...sessions.slice(0, MAX_SESSIONS).map((session) => session.role.length));
  const lines: string[] = [];
  for (const session of sessions.slice(0, MAX_SESSIONS)) {
    const who = session.user && session.application ? `${session.user} (${session.application})` : (session.user ?? session.application);
    const facts = [`pid ${session.pid}`, who, session.state, session.detail].filter(Boolean).join(' · ');
    const lead = `  ${session.role.padEnd(kindWidth)}  `;
    lines.push(
      ...wrapText(facts, width, lead, ' '.repeat(displayWidth(lead))).map((line, index) =>
        index === 0 ? line.replace(session.role, kleur.bold(session.role)) : line,
      ),
    );
    if (session.query) lines.push(kleur.dim(truncate(`${' '.repeat(displayWidth(lead))}${session.query.replace(/\s+/g, ' ').trim()}`, width)));
  }
  if (sessions.length > MAX_SESSIONS) lines.push(kleur.dim(`  … and ${sessions.length - MAX_SESSIONS} more (all of them with --json or -v)`));
  return lines;
}

function truncate(text: string, width: number): string {
  return displayWidth(text) <= width ? text : `${[...text].slice(0, width - 1).join('')}…`;
}

/** "user, password, host, port, database from the URL; sslmode default (prefer)": one phrase per source. */
export function describeSources(source: Record<string, string>): string {
  const groups = new Map<string, string[]>();
  for (const [key, from] of Object.entries(source)) groups.set(from, [...(groups.get(from) ?? []), key]);
  if (groups.size === 0) return 'defaults';
  return [...groups.entries()]
    .map(([from, keys]) => (from.startsWith('default') ? `${keys.join(', ')} ${from}` : `${keys.join(', ')} from ${sourceName(from)}`))
    .join('; ');
}

function sourceName(from: string): string {
  return from === 'url' ? 'the URL' : from.replace(/^env /, '$');
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
