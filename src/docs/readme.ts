import { CAUSES } from '../engine/causes.js';

/**
 * Documentation generated from the code: the README's cause table comes from the catalogue, so
 * the two cannot drift apart (scripts/docs.mjs writes it; the catalogue test checks it).
 */
export function causesTable(): string {
  const rows = Object.entries(CAUSES).map(([code, meta]) => {
    const steps = meta.steps === 'none' ? '—' : meta.steps === 'any' ? 'any' : meta.steps.join(', ');
    const status = 'warnWhen' in meta ? `${meta.severity}; warn when ${meta.warnWhen}` : meta.severity;
    return `| \`${code}\` | ${steps} | ${status} | ${meta.meaning.replace(/\|/g, '\\|')} |`;
  });
  return ['| code | step | status | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

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
