import kleur from 'kleur';
import { displayable } from '../report/display.js';
import { remediationLines } from '../report/human.js';
import { hostPort } from '../text/address.js';
import type { CauseRef, ExplainReport } from './schema.js';

/**
 * `dbdoctor explain` for a person: the verdict in one line, what it means, what else the words
 * fit, what the text names, the fix, and the command that confirms it against the server. Text no
 * rule knows gets "not recognised" and guesses that say they are guesses.
 */
export function renderExplainHuman(untrusted: ExplainReport, options: { readonly verbose: boolean; readonly color: boolean }): string {
  // Every line is built from the report and returned as one text, written once by the CLI: the one
  // place where what came from the pasted text (the words, the fields) can be made safe to show.
  kleur.enabled = options.color;
  // The pasted text, and every field read from it, is untrusted: shown with its control characters visible.
  const report = displayable(untrusted);
  const lines: string[] = [];
  const source = [report.engine, report.client].filter(Boolean).join(' · ');
  const ref = (entry: CauseRef): string => `${entry.step ?? 'any'}/${entry.cause}`;
  if (report.verdict) {
    const { verdict } = report;
    const mark = verdict.severity === 'warn' ? kleur.yellow('! RECOGNISED') : kleur.red('✖ RECOGNISED');
    lines.push(`${mark}  ${kleur.bold(`${verdict.step ?? 'any'}/${verdict.cause}`)} — ${verdict.title}${source ? kleur.dim(`  (${source})`) : ''}`);
    lines.push(`  the text says: ${verdict.matched.replace(/\s+/g, ' ').slice(0, 200)}`, '', kleur.bold('  What it means'), `  ${verdict.meaning}`);
    if (report.alternatives.length > 0) {
      lines.push('', kleur.bold('  Also possible (the text alone cannot tell them apart)'));
      for (const alternative of report.alternatives) lines.push(`  · ${ref(alternative)} — ${alternative.why}`);
    }
  } else if (report.working) {
    lines.push(`${kleur.yellow('? NOT RECOGNISED')}  the newest lines show a working connection${source ? kleur.dim(`  (${source})`) : ''}`);
    lines.push(`  line ${report.working.line} says: ${report.working.words}`, '  The errors before it (listed below) are history: the connection worked after them.');
  } else {
    const why = report.matches.length > 0 ? 'the text does not decide between causes' : 'no rule knows this message';
    lines.push(`${kleur.yellow('? NOT RECOGNISED')}  ${why}${source ? kleur.dim(`  (${source})`) : ''}`);
    if (report.guesses.length > 0) {
      lines.push('', kleur.bold('  Closest guesses (not a diagnosis)'));
      for (const guess of report.guesses) lines.push(`  · ${ref(guess)} — ${guess.why}`);
    }
  }
  if (report.hosts && report.hosts.length > 1) {
    lines.push('', kleur.bold(`  Each host the text lists (${report.hosts.length})`));
    for (const host of report.hosts) lines.push(`  · ${host.port !== undefined ? hostPort(host.host, host.port) : host.host} — ${host.cause ? `${host.step ?? 'any'}/${host.cause}` : 'not recognised'}${host.matched ? kleur.dim(`  (${host.matched.replace(/\s+/g, ' ').slice(0, 120)})`) : ''}`);
  }
  if (report.diagnoses && (report.diagnoses.length > 1 || report.working)) {
    lines.push('', kleur.bold(report.working ? '  Errors in the text before it, each once, newest last' : '  Different errors in the text, each once, newest last (the verdict is the newest)'));
    for (const diagnosis of report.diagnoses) lines.push(`  · ${diagnosis.step ?? 'any'}/${diagnosis.cause} — ${diagnosis.title}${kleur.dim(`  (${diagnosis.occurrences}×, last at line ${diagnosis.lastLine})`)}`);
  }
  const fields = Object.entries(report.fields).map(([name, value]) => `${name} ${String(value)}`);
  if (fields.length > 0) lines.push('', `  ${kleur.dim('named in the text:')} ${fields.join(' · ')}`);
  if (report.remediation.length > 0) lines.push('', kleur.bold('  What to do'), ...remediationLines(report.remediation));
  if (report.confirm) lines.push('', kleur.bold(report.verdict ? '  Confirm it against the server' : '  Diagnose it against the server'), `       ${kleur.cyan(report.confirm)}`);
  if (report.truncated) lines.push('', kleur.dim(`  The paste has ${report.truncated.total} characters: only its last ${report.truncated.read} (its newest lines) were read.`));
  if (options.verbose) {
    lines.push('', kleur.dim(`  rules matched: ${report.matches.map((match) => `${match.rule} (${match.rank}: ${match.cause})`).join(', ') || 'none'}`));
  }
  return `${lines.join('\n')}\n`;
}
