/**
 * Scores `dbdoctor explain` on the public corpus:
 *
 *   npm run build && npx tsx test/explain/public/score.ts [--split tune|heldout|all]
 *       [--dbdoctor bin/dbdoctor.js] [--mode cli|in-process] [--jobs N]
 *       [--list wrong|missed|all] [--json | --side-by-side]
 *
 * --mode cli (the reference) sends each message to the built CLI exactly as a user would
 * (`explain --json`, the text on stdin), so the score measures the shipped command whatever the
 * matcher looks like inside. --mode in-process (the default when the build has it) imports
 * explainText from the same build's dist/explain/match.js and calls it directly: the same
 * verdicts, some 30 times faster; when the module is gone (a refactor), cli mode is used.
 * Outcomes:
 *   right   a cause label, and the verdict is it (or one of `also`); a special label
 *           (not_recognised, not_connection_error, no_cause_in_catalogue), and no verdict;
 *   wrong   any verdict that is not right (for a special label: any verdict at all);
 *   missed  a cause label, and no verdict ("not recognised");
 *   error   the CLI failed or printed no explain document.
 * The script reports; it sets no threshold (tests do).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { familyOf, isSpecialLabel, loadPublicCorpus, PUBLIC_DIR, SPLITS, type LoadedEntry, type Split } from './corpus.js';

export type Outcome = 'right' | 'wrong' | 'missed' | 'error';

export interface Scored {
  readonly entry: LoadedEntry;
  readonly outcome: Outcome;
  /** step/cause of the verdict, or null when explain recognised nothing. */
  readonly got: string | null;
  readonly detail: string;
}

/** Only what scoring needs from the explain document; unknown fields and statuses pass. */
const ExplainAnswerSchema = z.object({
  status: z.string(),
  verdict: z.object({ step: z.string().nullable(), cause: z.string() }).nullable(),
});

export function judge(entry: LoadedEntry, verdict: string | null): Outcome {
  if (isSpecialLabel(entry.label)) return verdict === null ? 'right' : 'wrong';
  if (verdict === null) return 'missed';
  return verdict === entry.label || (entry.also ?? []).includes(verdict) ? 'right' : 'wrong';
}

function runExplain(bin: string, text: string, home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, 'explain', '--json'], {
      // A clean environment: explain works offline and must not pick anything up from this shell.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(text);
  });
}

/**
 * One message in, the explain document (or why there is none) out. A test that holds explain to a
 * score can pass its own: async (text) => ({ document: await explainText(text, { version: "test" }) }).
 */
export type Explainer = (text: string) => Promise<{ document: unknown } | { failure: string }>;

export function cliExplainer(bin: string): Explainer {
  const home = mkdtempSync(join(tmpdir(), 'dbdoctor-score-'));
  return async (text) => {
    const run = await runExplain(bin, text, home);
    try {
      return { document: JSON.parse(run.stdout) as unknown };
    } catch {
      return { failure: `exit ${run.code}: ${(run.stderr || run.stdout).trim().slice(0, 200)}` };
    }
  };
}

/** explainText from the build next to the CLI, or null when that build has no such module. */
export async function inProcessExplainer(bin: string): Promise<Explainer | null> {
  const module = resolve(dirname(bin), '..', 'dist', 'explain', 'match.js');
  try {
    const { explainText } = (await import(pathToFileURL(module).href)) as { explainText?: (text: string, options: { version: string }) => Promise<unknown> };
    if (typeof explainText !== 'function') return null;
    return async (text) => {
      try {
        return { document: await explainText(text, { version: 'score' }) };
      } catch (error) {
        return { failure: `explainText threw: ${String(error).slice(0, 200)}` };
      }
    };
  } catch {
    return null;
  }
}

export async function scoreEntries(entries: readonly LoadedEntry[], explain: Explainer, jobs: number): Promise<Scored[]> {
  const results: Scored[] = new Array(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const index = next++;
      const entry = entries[index] as LoadedEntry;
      const answer = await explain(entry.text);
      const parsed = 'document' in answer ? ExplainAnswerSchema.safeParse(answer.document) : null;
      if (!parsed?.success) {
        results[index] = { entry, outcome: 'error', got: null, detail: 'failure' in answer ? answer.failure : 'no explain document' };
        continue;
      }
      const { verdict, status } = parsed.data;
      const got = verdict ? `${verdict.step ?? 'any'}/${verdict.cause}` : null;
      results[index] = { entry, outcome: judge(entry, got), got, detail: status };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return results;
}

interface Tally {
  n: number;
  right: number;
  wrong: number;
  missed: number;
  error: number;
}

function tally(results: readonly Scored[]): Tally {
  const t: Tally = { n: results.length, right: 0, wrong: 0, missed: 0, error: 0 };
  for (const result of results) t[result.outcome] += 1;
  return t;
}

const percent = (part: number, whole: number): string => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)} %`);

function table(title: string, groups: ReadonlyMap<string, Scored[]>): string {
  const lines = [`| ${title} | messages | right | wrong | not recognised | error | right % |`, '|---|---:|---:|---:|---:|---:|---:|'];
  for (const [name, results] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const t = tally(results);
    lines.push(`| ${name} | ${t.n} | ${t.right} | ${t.wrong} | ${t.missed} | ${t.error} | ${percent(t.right, t.n)} |`);
  }
  return lines.join('\n');
}

function groupBy(results: readonly Scored[], key: (result: Scored) => string | null): Map<string, Scored[]> {
  const groups = new Map<string, Scored[]>();
  for (const result of results) {
    const name = key(result);
    if (name === null) continue;
    groups.set(name, [...(groups.get(name) ?? []), result]);
  }
  return groups;
}

/** The report for one split (or all): overall, then per engine, label kind, client family, client, language. */
export function report(name: string, results: readonly Scored[]): string {
  const labelKind = (result: Scored): string => (isSpecialLabel(result.entry.label) ? result.entry.label : 'a cause (step/cause)');
  return [
    `### ${name}`,
    '',
    table('all', new Map([['all', [...results]]])),
    '',
    table(
      'engine',
      groupBy(results, (result) => result.entry.engine),
    ),
    '',
    table('label', groupBy(results, labelKind)),
    '',
    table(
      'client family',
      groupBy(results, (result) => familyOf(result.entry.client)),
    ),
    '',
    table(
      'client',
      groupBy(results, (result) => result.entry.client),
    ),
    '',
    table(
      'translated message (lang)',
      groupBy(results, (result) => result.entry.lang ?? null),
    ),
    '',
  ].join('\n');
}

/** Both splits in one table per grouping: the held-out columns are the figures that count. */
export function sideBySide(results: readonly Scored[]): string {
  const cell = (group: readonly Scored[]): string => {
    const t = tally(group);
    return `${t.n} | ${t.right} | ${t.wrong} | ${t.missed + t.error} | ${percent(t.right, t.n)}`;
  };
  const section = (title: string, key: (result: Scored) => string | null): string => {
    const groups = groupBy(results, key);
    const lines = [
      `| ${title} | tune n | right | wrong | not rec. | right % | held-out n | right | wrong | not rec. | right % |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const [name, group] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(
        `| ${name} | ${cell(group.filter((result) => result.entry.split === 'tune'))} | ${cell(group.filter((result) => result.entry.split === 'heldout'))} |`,
      );
    }
    return lines.join('\n');
  };
  const labelKind = (result: Scored): string => (isSpecialLabel(result.entry.label) ? result.entry.label : 'a cause (step/cause)');
  return [
    section('all', () => 'all'),
    section('engine', (result) => result.entry.engine),
    section('label', labelKind),
    section('client family', (result) => familyOf(result.entry.client)),
    section('client', (result) => result.entry.client),
    section('translated message (lang)', (result) => result.entry.lang ?? null),
  ].join('\n\n');
}

function listing(results: readonly Scored[], which: string): string {
  const wanted = (outcome: Outcome): boolean => (which === 'all' ? outcome !== 'right' : outcome === which || (which === 'wrong' && outcome === 'error'));
  return results
    .filter((result) => wanted(result.outcome))
    .map(
      (result) =>
        `${result.outcome.padEnd(6)} ${result.entry.id.padEnd(9)} ${result.entry.split.padEnd(7)} label ${result.entry.label}${result.entry.also ? ` (also ${result.entry.also.join(', ')})` : ''}, got ${result.got ?? `nothing (${result.detail})`}\n       ${result.entry.text.split('\n')[0]?.slice(0, 140)}`,
    )
    .join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const splitArg = option('--split') ?? 'all';
  if (splitArg !== 'all' && !(SPLITS as readonly string[]).includes(splitArg)) throw new Error(`--split: tune, heldout or all, not ${splitArg}`);
  const splits: readonly Split[] = splitArg === 'all' ? SPLITS : [splitArg as Split];
  const bin = resolve(option('--dbdoctor') ?? join(PUBLIC_DIR, '..', '..', '..', 'bin', 'dbdoctor.js'));
  const jobs = Number(option('--jobs') ?? Math.max(2, availableParallelism()));
  const list = option('--list');
  const mode = option('--mode') ?? 'in-process';
  if (mode !== 'cli' && mode !== 'in-process') throw new Error(`--mode: cli or in-process, not ${mode}`);

  const inProcess = mode === 'in-process' ? await inProcessExplainer(bin) : null;
  const used = inProcess ? 'in-process' : 'cli';
  const entries = loadPublicCorpus(splits);
  const started = Date.now();
  const results = await scoreEntries(entries, inProcess ?? cliExplainer(bin), jobs);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);

  if (args.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify(
        results.map((result) => ({
          id: result.entry.id,
          split: result.entry.split,
          engine: result.entry.engine,
          client: result.entry.client,
          label: result.entry.label,
          also: result.entry.also ?? [],
          got: result.got,
          outcome: result.outcome,
        })),
        null,
        2,
      )}\n`,
    );
    return;
  }
  if (args.includes('--side-by-side')) {
    process.stdout.write(`${sideBySide(results)}\n\n_${entries.length} messages scored with ${bin} (${used}) in ${seconds} s._\n`);
    if (list) process.stdout.write(`\n${listing(results, list)}\n`);
    return;
  }
  const sections = splits.map((split) =>
    report(
      split === 'tune' ? 'tune split' : 'held-out split',
      results.filter((result) => result.entry.split === split),
    ),
  );
  if (splits.length > 1) sections.push(report('both splits', results));
  process.stdout.write(`${sections.join('\n')}\n_${entries.length} messages scored with ${bin} (${used}) in ${seconds} s._\n`);
  if (list) process.stdout.write(`\n${listing(results, list)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(PUBLIC_DIR, 'score.ts')) await main();
