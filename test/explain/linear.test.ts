import { performance } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { explainText } from '../../src/explain/match.js';
import { GUESSES } from '../../src/explain/guesses.js';
import { LINE_PATTERNS, MAX_TOKEN, normalise } from '../../src/explain/normalise.js';
import { PASTED_SECRET_FORMS } from '../../src/explain/secrets.js';
import { CLIENT_HINTS, ENGINE_HINTS, ENGINE_NAMES, loadExplainer, loadNetworkExplainer } from '../../src/engines/registry.js';
import { adversarialPastes } from '../../bench/pastes.js';

/**
 * explain reads whatever an operator pastes, up to 256 KiB: one pattern that backtracks over a
 * long run of the characters it repeats (an unanchored `(?<host>[\w.-]+):(?<port>\d+): …` tried at
 * every offset of a 200 KB token) turns a paste into minutes. Every pattern explain runs is fed
 * strings built from repeated units — generic ones (the characters patterns repeat: word
 * characters, dots, colons, spaces, quotes, backslashes, digits) and pieces of the pattern's own
 * examples — at two sizes, n and 4n. Work that grows linearly takes about 4 times as long at 4n;
 * quadratic backtracking takes 16 times. The check is a ratio with a wide margin (and a floor,
 * so that microsecond timings are not compared), never a wall-clock budget.
 */
const N = 8 * 1024;
/** Below this at 4n (best of three), a pattern is not looked at further: quadratic work on 32 KiB takes far longer. */
const FLOOR_MS = 15;
/** Linear is 4×, quadratic 16×: anything above 8× is super-linear. */
const MAX_RATIO = 8;
/** Below this a whole explain on 64 KiB is fast enough whatever its growth. */
const PIPELINE_FLOOR_MS = 250;

const GENERIC_UNITS = [
  'a',
  '7',
  ' ',
  '\t',
  'a:',
  '1.',
  'a.',
  'a-',
  'ab1.c-d',
  'a ',
  ' :',
  '"',
  "'",
  '\\',
  '\\"',
  'a@',
  'a=',
  ':',
  '/',
  'a/',
  'a\n',
  '%',
  '(',
  '[',
  ']',
  'a,',
  'x1',
  '0x',
  'E',
  'at ',
  '1.1.1.1.',
  'a://b:c',
  '{"a":',
  '«',
  '\u00e9',
];

interface Named {
  readonly name: string;
  readonly pattern: RegExp;
  readonly examples?: readonly string[];
  /** Instead of the generic units (the catalogs' 1,500 messages: a few, to keep the test short). */
  readonly units?: readonly string[];
}

/** Units taken from a pattern's own examples: each word, each word with the separator after it, and each example's first half. */
function unitsOf(examples: readonly string[]): string[] {
  const units = new Set<string>();
  for (const example of examples) {
    for (const match of example.matchAll(/\S+\s?/g)) if (match[0].length <= 40) units.add(match[0]);
    units.add(example.slice(0, Math.ceil(example.length / 2)));
  }
  return [...units];
}

function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length));
}

/** The fastest of `runs` runs of the pattern's first match (which tries every start when nothing matches). */
function time(pattern: RegExp, text: string, runs: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    pattern.lastIndex = 0;
    const started = performance.now();
    pattern.exec(text);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * The first unit on which the pattern's work grows faster than linearly, or undefined. One run at
 * each size first; only a pattern slow at 4n is timed again (best of three) before it is judged.
 */
function superLinear(named: Named): string | undefined {
  const exact = new RegExp(named.pattern.source, named.pattern.flags.replace('g', ''));
  const caseless = new RegExp(named.pattern.source, `${exact.flags.replace('i', '')}i`);
  for (const unit of [...(named.units ?? GENERIC_UNITS), ...unitsOf(named.examples ?? [])]) {
    for (const pattern of [exact, caseless]) {
      const [small, large] = [fill(unit, N), fill(unit, 4 * N)];
      if (time(pattern, large, 1) < FLOOR_MS) continue;
      const [before, after] = [Math.max(time(pattern, small, 3), 0.05), time(pattern, large, 3)];
      if (after >= FLOOR_MS && after / before > MAX_RATIO)
        return `${JSON.stringify(unit.slice(0, 40))}: ${before.toFixed(1)} ms at ${N} characters, ${after.toFixed(1)} ms at ${4 * N}`;
    }
  }
  return undefined;
}

async function everyPattern(): Promise<Named[]> {
  const patterns: Named[] = [];
  const network = await loadNetworkExplainer();
  const explainers = await Promise.all(ENGINE_NAMES.map(loadExplainer));
  for (const explainer of [...explainers, { engine: 'network', ...network, connecting: undefined }]) {
    for (const rule of explainer.rules) patterns.push({ name: `rule ${rule.id}`, pattern: rule.pattern, examples: rule.examples });
    for (const [index, field] of explainer.fieldPatterns.entries())
      patterns.push({ name: `${explainer.engine} field pattern ${index} (${field.clients.join(', ')})`, pattern: field.pattern });
    if (explainer.connecting)
      patterns.push(
        { name: `${explainer.engine} connecting words`, pattern: explainer.connecting.words },
        { name: `${explainer.engine} connecting frame`, pattern: explainer.connecting.frame },
      );
    if (explainer.working) patterns.push({ name: `${explainer.engine} working`, pattern: explainer.working });
  }
  for (const [engine, pattern] of Object.entries(ENGINE_HINTS)) patterns.push({ name: `engine hint ${engine}`, pattern });
  for (const [client, pattern] of CLIENT_HINTS) patterns.push({ name: `client hint ${client}`, pattern });
  for (const [index, { pattern }] of GUESSES.entries()) patterns.push({ name: `guess ${index}`, pattern });
  for (const [index, pattern] of PASTED_SECRET_FORMS.entries()) patterns.push({ name: `pasted secret form ${index}`, pattern });
  for (const [name, pattern] of Object.entries(LINE_PATTERNS)) patterns.push({ name: `normalise ${name}`, pattern });
  return patterns;
}

describe('explain reads long pastes in linear time', () => {
  test('no pattern explain runs backtracks super-linearly on long runs of what it repeats', async () => {
    const patterns = await everyPattern();
    expect(patterns.length).toBeGreaterThan(100);
    const slow = patterns.flatMap((named) => {
      const detail = superLinear(named);
      return detail ? [`${named.name} /${named.pattern.source.slice(0, 120)}/: ${detail}`] : [];
    });
    expect(slow).toEqual([]);
  }, 300_000);

  // The whole pipeline (normalising, every rule, the code and catalog readers, hints): the
  // adversarial pastes of bench/pastes.ts at n and 4n, each ending in a real error.
  test('explain on adversarial pastes grows linearly and still reads the error at the end', async () => {
    await explainText('warm up: connection refused', { version: 'test' });
    const slow: string[] = [];
    const small = adversarialPastes(16 * 1024);
    for (const [index, paste] of adversarialPastes(64 * 1024).entries()) {
      const best = async (text: string): Promise<number> => {
        let fastest = Number.POSITIVE_INFINITY;
        for (let run = 0; run < 2; run++) {
          const started = performance.now();
          const report = await explainText(text, { version: 'test' });
          fastest = Math.min(fastest, performance.now() - started);
          expect(report.verdict?.cause, paste.name).toBe('auth_failed');
        }
        return fastest;
      };
      const large = await best(paste.text);
      const base = Math.max(await best(small[index]?.text ?? ''), 1);
      // Only a paste that is slow in itself counts: a ratio between a few milliseconds is the
      // collector's and the machine's noise (quadratic pastes took 5–120 s here before the fix).
      if (large > PIPELINE_FLOOR_MS && large / base > MAX_RATIO) slow.push(`${paste.name}: ${base.toFixed(0)} ms at 16 KiB, ${large.toFixed(0)} ms at 64 KiB`);
    }
    expect(slow).toEqual([]);
  }, 300_000);

  // A token longer than any name or message (a blob) keeps its two ends; the words around it are read whole.
  test("a blob on the error's own line is elided in its middle, and the error beside it still decides", async () => {
    const blob = 'QUJDRA=='.repeat(25_000);
    const normalised = normalise(`payload=${blob} psql: error: FATAL:  password authentication failed for user "app"`);
    expect(normalised.text.length).toBeLessThan(2 * MAX_TOKEN);
    expect(normalised.text).toContain(' … ');
    expect(normalised.text.startsWith('payload=QUJDRA==')).toBe(true);
    expect(normalised.text.endsWith('FATAL:  password authentication failed for user "app"')).toBe(true);
    const glued = await explainText(`${blob}FATAL:  password authentication failed for user "app"`, { version: 'test' });
    expect(glued.verdict?.cause).toBe('auth_failed');
    expect(glued.fields.user).toBe('app');
    const short = 'x'.repeat(MAX_TOKEN);
    expect(normalise(short).text).toBe(short);
  });
});
