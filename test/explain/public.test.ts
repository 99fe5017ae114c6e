import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CAUSES, type CauseCode } from '../../src/engine/causes.js';
import { CLIENT_FAMILIES, ENGINES, isSpecialLabel, loadPublicCorpus, renderEntries, splitOf, SPLITS, threadOf, type LoadedEntry } from './public/corpus.js';
import { judge } from './public/score.js';

/**
 * The public corpus's integrity (test/explain/public/README.md): what the data must be for its
 * scores to mean anything. No score thresholds here: the corpus measures explain, it does not
 * hold it to a number.
 */
const corpus = loadPublicCorpus();

/** A label is a cause the catalogue has, at a step where the catalogue lets that cause appear. */
function isCatalogueRef(ref: string): boolean {
  const [step, cause] = ref.split('/');
  const entry = CAUSES[cause as CauseCode] as { steps: readonly string[] | 'any' | 'none' } | undefined;
  if (!entry || step === undefined) return false;
  if (entry.steps === 'any') return true;
  return entry.steps !== 'none' && entry.steps.includes(step);
}

describe('the public corpus', () => {
  test('holds at least 300 messages from at least 300 threads, for every engine in both splits', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(new Set(corpus.map((entry) => threadOf(entry.source))).size).toBeGreaterThanOrEqual(300);
    for (const split of SPLITS) {
      for (const engine of ENGINES)
        expect(corpus.filter((entry) => entry.split === split && entry.engine === engine).length, `${split}/${engine}`).toBeGreaterThan(0);
    }
  });

  test('ids and texts are unique', () => {
    const ids = corpus.map((entry) => entry.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    const texts = corpus.map((entry) => entry.text);
    expect(corpus.filter((entry, index) => texts.indexOf(entry.text) !== index).map((entry) => entry.id)).toEqual([]);
  });

  test.each(corpus.map((entry) => [entry.id, entry] as const))('%s: has a source, a known client and a label from the catalogue', (_id, entry: LoadedEntry) => {
    expect(entry.source).toMatch(/^https:\/\//);
    expect(Object.keys(CLIENT_FAMILIES), `client ${entry.client} has no family in corpus.ts`).toContain(entry.client);
    expect(entry.why.trim()).not.toBe('');
    if (isSpecialLabel(entry.label)) {
      expect(entry.also, 'a special label takes guesses, not also').toBeUndefined();
    } else {
      expect(isCatalogueRef(entry.label), `${entry.label} is not a step/cause of src/engine/causes.ts`).toBe(true);
      expect(entry.guesses, 'a cause label takes also, not guesses').toBeUndefined();
      expect(entry.also ?? []).not.toContain(entry.label);
    }
    for (const ref of [...(entry.also ?? []), ...(entry.guesses ?? [])])
      expect(isCatalogueRef(ref), `${ref} is not a step/cause of src/engine/causes.ts`).toBe(true);
  });

  test.each(corpus.map((entry) => [entry.id, entry] as const))(
    '%s: sits in the split its thread hashes to, in its engine’s file',
    (_id, entry: LoadedEntry) => {
      expect(basename(dirname(entry.file))).toBe(entry.split);
      expect(entry.split).toBe(splitOf(entry.source));
      expect(basename(entry.file)).toBe(`${entry.engine}.yaml`);
    },
  );

  test('a thread never straddles the splits', () => {
    const splitOfThread = new Map<string, string>();
    for (const entry of corpus) {
      const seen = splitOfThread.get(threadOf(entry.source));
      if (seen !== undefined) expect(entry.split, entry.id).toBe(seen);
      splitOfThread.set(threadOf(entry.source), entry.split);
    }
  });

  test('no text carries a password in a connection string', () => {
    const withPassword = corpus.filter((entry) => /[a-z+]+:\/\/[^\s/:@]+:(?!\*{4}@)[^\s@/]+@/i.test(entry.text));
    expect(withPassword.map((entry) => entry.id)).toEqual([]);
  });

  test('every file is in the form add.ts writes (texts as literal blocks, reading back unchanged)', () => {
    const files = new Map<string, LoadedEntry[]>();
    for (const entry of corpus) files.set(entry.file, [...(files.get(entry.file) ?? []), entry]);
    for (const [file, entries] of files) {
      expect(readFileSync(file, 'utf8'), file).toBe(renderEntries(entries.map(({ split: _split, file: _file, ...entry }) => entry)));
    }
  });
});

describe('scoring', () => {
  const entry = (label: string, also?: string[]): LoadedEntry => ({
    id: 'pg-999',
    source: 'https://example.org/t/1',
    engine: 'postgres',
    client: 'psql',
    label,
    ...(also ? { also } : {}),
    why: 'test',
    text: 'x',
    split: 'tune',
    file: 'x',
  });

  test.each([
    ['auth/auth_failed', undefined, 'auth/auth_failed', 'right'],
    ['auth/role_missing', ['auth/auth_failed'], 'auth/auth_failed', 'right'],
    ['auth/auth_failed', undefined, 'auth/hba_rejected', 'wrong'],
    ['auth/auth_failed', undefined, null, 'missed'],
    ['not_recognised', undefined, null, 'right'],
    ['not_recognised', undefined, 'accepting/connection_reset', 'wrong'],
    ['not_connection_error', undefined, null, 'right'],
    ['no_cause_in_catalogue', undefined, 'queries/long_running', 'wrong'],
  ] as const)('label %s (also %j), verdict %s: %s', (label, also, verdict, outcome) => {
    expect(judge(entry(label, also ? [...also] : undefined), verdict)).toBe(outcome);
  });
});
