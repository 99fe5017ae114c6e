import { CAUSES, type CauseMeta, type Waiting } from '../engine/causes.js';
import { exitForSeverity } from '../engine/exit.js';

/**
 * Documentation generated from the code: the README's cause table comes from the catalogue's
 * records, so the two cannot drift apart (scripts/docs.ts writes it; the catalogue test checks
 * it). Each row carries the record's anchor (`README.md#cause-…`), the exit code its verdict
 * gives, and what `wait` does about it.
 */
export function causesTable(): string {
  const rows = Object.values(CAUSES).map((meta: CauseMeta) => {
    const steps = meta.steps === 'none' ? '—' : meta.steps === 'any' ? 'any' : meta.steps.join(', ');
    const status = `${meta.severity} (exit ${meta.exit})${meta.warnWhen ? `; warn (exit ${exitForSeverity('warn')}) when ${meta.warnWhen}` : ''}`;
    return `| \`${meta.code}\` | <a id="${meta.anchor}"></a>${steps} | ${status} | ${meta.severity === 'fail' ? WAITING_WORDS[meta.waiting] : 'ready'} | ${meta.meaning.replace(/\|/g, '\\|')} |`;
  });
  return ['| code | step | status | wait | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** What `dbdoctor wait` does about a failure, in the README's words (a warning or a pass is ready). */
const WAITING_WORDS = { heals: 'waits', permanent: 'gives up', retries: 'gives up after --retries' } as const satisfies Record<Waiting, string>;

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceBetween(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

export interface LabRow {
  readonly name: string;
  readonly title: string;
  readonly verdicts: readonly string[];
}

/** The README's lab table, from the scenarios the tests run. */
export function labTable(rows: readonly LabRow[]): string {
  return [
    '| scenario | what it builds | dbdoctor says |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| \`${row.name}\` | ${row.title.replace(/\|/g, '\\|')} | ${row.verdicts.map((verdict) => `\`${verdict}\``).join(', then ')} |`),
  ].join('\n');
}
