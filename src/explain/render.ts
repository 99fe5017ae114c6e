import kleur from 'kleur';
import { displayable } from '../report/display.js';
import { remediationLines } from '../report/human.js';
import type { CauseRef, ExplainReport } from './schema.js';

/**
 * `dbdoctor explain` for a person: the verdict in one line, what it means, what else the words
 * fit, what the text names, the fix, and the command that confirms it against the server. Text no
 * rule knows gets "not recognised" and guesses that say they are guesses.
 */
export function renderExplainHuman(untrusted: ExplainReport, options: { readonly verbose: boolean; readonly color: boolean }): string {
  kleur.enabled = options.color;
  // The pasted text, and every field read from it, is untrusted: shown with its control characters visible.
  const report = displayable(untrusted);
  const lines: string[] = [];
  const source = [report.engine, report.client].filter(Boolean).join(' · ');
  const ref = (entry: CauseRef): string => `${entry.step ?? 'any'}/${entry.cause}`;
  if (report.verdict) {
    const { verdict } = report;
    // The header names the fault (its code and what it is), as a diagnosis does; the step it
    // belongs to is in --json and -v.
    const mark = verdict.severity === 'warn' ? kleur.yellow('!') : kleur.red('✖');
    lines.push(`${mark} ${kleur.bold(verdict.cause)} — ${verdict.title}${source ? kleur.dim(`  (${source})`) : ''}`);
    lines.push(`  the text says: ${verdict.matched.replace(/\s+/g, ' ').slice(0, 200)}`, '', kleur.bold('  What it means'), `  ${verdict.meaning}`);
    if (report.alternatives.length > 0) {
      lines.push('', kleur.bold('  Also possible (the text alone cannot tell them apart)'));
      for (const alternative of report.alternatives) lines.push(`  · ${ref(alternative)} — ${alternative.why}`);
    }
  } else if (report.queryError) {
    const { queryError } = report;
    lines.push(`${kleur.green('✔ not a connection problem')} — the connection worked; this is an error in the query or the schema${source ? kleur.dim(`  (${source})`) : ''}`);
    lines.push(`  the text says: ${queryError.said.replace(/\s+/g, ' ').slice(0, 200)}`, '', kleur.bold('  What it means'), `  ${queryError.kind}${queryError.code ? ` (SQLSTATE ${queryError.code})` : ''}: the server received the statement and rejected it. Fix the statement, the schema it expects (a migration not applied, the wrong database or search_path), or the data; the database connection itself is fine.`);
  } else {
    lines.push(`${kleur.yellow('? NOT RECOGNISED')}  dbdoctor does not know this message${source ? kleur.dim(`  (${source})`) : ''}`);
    if (report.guesses.length > 0) {
      lines.push('', kleur.bold('  Closest guesses (not a diagnosis)'));
      for (const guess of report.guesses) lines.push(`  · ${ref(guess)} — ${guess.why}`);
    }
  }
  const fields = Object.entries(report.fields).map(([name, value]) => `${name} ${String(value)}`);
  if (fields.length > 0) lines.push('', `  ${kleur.dim('named in the text:')} ${fields.join(' · ')}`);
  if (report.remediation.length > 0) lines.push('', kleur.bold('  What to do'), ...remediationLines(report.remediation));
  if (report.confirm) lines.push('', kleur.bold(report.verdict ? '  Confirm it against the server' : '  Diagnose it against the server'), `       ${kleur.cyan(report.confirm)}`);
  if (options.verbose) {
    lines.push('', kleur.dim(`  rules matched: ${report.matches.map((match) => `${match.rule} (${match.rank}: ${match.cause})`).join(', ') || 'none'}`));
  }
  return `${lines.join('\n')}\n`;
}
