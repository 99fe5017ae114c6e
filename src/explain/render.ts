import kleur from 'kleur';
import { displayable } from '../report/display.js';
import type { Remediation } from '../engine/schema.js';
import { ENGINES } from '../engines/registry.js';
import { hostPort } from '../text/address.js';
import { wrapCommand, wrapText as wrap } from '../report/wrap.js';
import type { CauseRef, ExplainReport, Finding } from './schema.js';

/**
 * `dbdoctor explain` for a person: the fault in one line, what it means, what else the words fit,
 * what the text names, the fix, and the command that confirms it against the server; a paste of
 * several different errors gets one such block per error, newest last. Text nothing recognises gets
 * "not recognised" and guesses that say they are guesses. Every line is wrapped to the terminal's
 * width with a hanging indent; commands break only where the shell still reads them the same.
 */
export interface RenderOptions {
  readonly verbose: boolean;
  readonly color: boolean;
  /** Columns to wrap at (the terminal's, $COLUMNS, or 100). */
  readonly width?: number;
}

export function renderExplainHuman(untrusted: ExplainReport, options: RenderOptions): string {
  // Every line is built from the report and returned as one text, written once by the CLI: the one
  // place where what came from the pasted text (the words, the fields) can be made safe to show.
  kleur.enabled = options.color;
  // The pasted text, and every field read from it, is untrusted: shown with its control characters visible.
  const report = displayable(untrusted);
  const width = options.width ?? 100;
  const lines: string[] = [];
  const para = (text: string, first = '  ', hanging = first): void => void lines.push(...wrap(text, width, first, hanging));
  const source = sourceOf(report.engine, report.client);
  const ref = (entry: CauseRef): string => `${entry.step ?? 'any'}/${entry.cause} — ${plainWhy(entry.why)}`;
  const findings = !report.working && report.findings && report.findings.length > 1 ? report.findings : undefined;
  if (findings) {
    para(`${kleur.red('✖')} Different errors in the text, each once, newest last (${findings.length}): each with its own names and fix`, '', '  ');
    for (const [index, finding] of findings.entries()) {
      lines.push('');
      renderFinding(finding, `${index + 1}. `, sourceOf(finding.engine, finding.client ?? null), lines, para, ref, width);
    }
  } else if (report.verdict) {
    const finding: Finding = {
      engine: report.engine,
      verdict: report.verdict,
      fields: report.fields,
      alternatives: report.alternatives,
      remediation: report.remediation,
      confirm: report.confirm,
      occurrences: report.findings?.at(-1)?.occurrences ?? 1,
      lastLine: 1,
    };
    renderFinding(finding, '', source, lines, para, ref, width);
  } else if (report.statement) {
    const { statement } = report;
    para(
      `${kleur.yellow('? NOT RECOGNISED as a connection error: not a connection problem.')} The connection worked; the server rejected the statement${source ? kleur.dim(` (${source})`) : ''}`,
      '',
      '  ',
    );
    para(statement.words, `  ${kleur.dim('the text says:')} `, '    ');
    lines.push('', kleur.bold('  What it means'));
    para(`${statement.code} ${statement.meaning}.`);
    para(
      "Nothing is wrong with reaching the database: look at the statement (and the data it was given) in the application, not at the server's address, credentials or limits.",
    );
  } else if (report.working) {
    para(`${kleur.yellow('? NOT RECOGNISED')}  the newest lines show a working connection${source ? kleur.dim(`  (${source})`) : ''}`, '', '  ');
    para(`line ${report.working.line} says: ${report.working.words}`, '  ', '    ');
    para('The errors before it (listed below) are history: the connection worked after them.');
  } else {
    const why = report.matches.length > 0 ? 'the text does not decide between causes' : 'dbdoctor does not know this message';
    para(`${kleur.yellow('? NOT RECOGNISED')}  ${why}${source ? kleur.dim(`  (${source})`) : ''}`, '', '  ');
    if (report.guesses.length > 0) {
      lines.push('', kleur.bold('  Closest guesses (not a diagnosis)'));
      for (const guess of report.guesses) para(ref(guess), '  · ', '    ');
    }
  }
  if (!findings && report.hosts && report.hosts.length > 1) {
    lines.push('', kleur.bold(`  Each host the text lists (${report.hosts.length})`));
    for (const host of report.hosts) {
      para(
        `${host.port !== undefined ? hostPort(host.host, host.port) : host.host} — ${host.cause ? `${host.step ?? 'any'}/${host.cause}` : 'not recognised'}${host.matched ? kleur.dim(`  (${host.matched.replace(/\s+/g, ' ').slice(0, 120)})`) : ''}`,
        '  · ',
        '    ',
      );
    }
  }
  if (!findings && report.diagnoses && (report.diagnoses.length > 1 || report.working)) {
    lines.push(
      '',
      kleur.bold(
        report.working
          ? '  Errors in the text before it, each once, newest last'
          : '  Different errors in the text, each once, newest last (the verdict is the newest)',
      ),
    );
    for (const diagnosis of report.diagnoses)
      para(
        `${diagnosis.step ?? 'any'}/${diagnosis.cause} — ${diagnosis.title}${kleur.dim(`  (${diagnosis.occurrences}×, last at line ${diagnosis.lastLine})`)}`,
        '  · ',
        '    ',
      );
  }
  if (!findings && !report.verdict) {
    const fields = fieldWords(report.fields);
    if (fields) para(`${kleur.dim('named in the text:')} ${fields}`, '  ', '    ');
    if (report.confirm) lines.push('', kleur.bold('  Diagnose it against the server'), ...commandLines(report.confirm, width, 'shell'));
  }
  if (report.truncated)
    para(kleur.dim(`The paste has ${report.truncated.total} characters: only its last ${report.truncated.read} (its newest lines) were read.`));
  if (options.verbose) {
    lines.push('');
    para(kleur.dim(`rules matched: ${report.matches.map((match) => `${match.rule} (${match.rank}: ${match.cause})`).join(', ') || 'none'}`));
  }
  return `${lines.join('\n')}\n`;
}

/** One error: the fault and where the words came from, the words, what it means, what else it may be, its names, its fix. */
function renderFinding(
  finding: Finding,
  number: string,
  source: string,
  lines: string[],
  para: (text: string, first?: string, hanging?: string) => void,
  ref: (entry: CauseRef) => string,
  width: number,
): void {
  const { verdict } = finding;
  const mark = verdict.severity === 'warn' ? kleur.yellow('!') : kleur.red('✖');
  const count = finding.occurrences > 1 ? kleur.dim(`  · said ${finding.occurrences}×`) : '';
  para(
    `${number}${mark} ${kleur.bold(`${verdict.step ?? 'any'}/${verdict.cause}`)} — ${verdict.title}${source ? kleur.dim(` (${source})`) : ''}${count}`,
    '',
    ' '.repeat(number.length + 2),
  );
  para(verdict.matched.replace(/\s+/g, ' '), `  ${kleur.dim('the text says:')} `, '    ');
  lines.push('', kleur.bold('  What it means'));
  para(verdict.meaning);
  if (finding.alternatives.length > 0) {
    lines.push('', kleur.bold('  Also possible (the text alone cannot tell them apart)'));
    for (const alternative of finding.alternatives) para(ref(alternative), '  · ', '    ');
  }
  const fields = fieldWords(finding.fields);
  if (fields) {
    lines.push('');
    para(`${kleur.dim('named in the text:')} ${fields}`, '  ', '    ');
  }
  if (finding.remediation.length > 0) {
    lines.push('', kleur.bold('  What to do'));
    fixLines(finding.remediation, lines, para, width);
  }
  if (finding.confirm) lines.push('', kleur.bold('  Confirm it against the server'), ...commandLines(finding.confirm, width, 'shell'));
}

/** Numbered fixes, the text wrapped under its number, each command broken only where it still runs the same. */
function fixLines(fixes: readonly Remediation[], lines: string[], para: (text: string, first?: string, hanging?: string) => void, width: number): void {
  for (const [index, fix] of fixes.entries()) {
    para(fix.text, `  ${index + 1}. `, '     ');
    if (fix.command) lines.push(...commandLines(fix.command, width, fix.language));
  }
}

/** A command as diagnose's report prints it (report/wrap: a shell line continues with " \\", SQL breaks inside its quotes). */
function commandLines(command: string, width: number, language: Remediation['language']): string[] {
  return wrapCommand(command, width, '       ', language).map((line) => kleur.cyan(line));
}

function fieldWords(fields: Finding['fields']): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(' · ');
}

/** "(PostgreSQL, via psql)": the system and the client the words came from. */
function sourceOf(engine: string | null, client: string | null): string {
  const name = engine ? ((ENGINES as Readonly<Record<string, string>>)[engine] ?? engine) : undefined;
  return [name, client ? `via ${client}` : undefined].filter(Boolean).join(', ');
}

/** A reason in the system's words: not the tool's table entries. */
function plainWhy(why: string): string {
  return why.replace(/, but no rule knows its wording/, ', in a wording dbdoctor does not know').replace(/ \((?:rule )?[a-z]+(?:\.[\w-]+)+\)/g, '');
}
