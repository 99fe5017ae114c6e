/**
 * Adds messages to the public corpus: `npx tsx test/explain/public/add.ts new.jsonl`.
 *
 * Each input line is one JSON object {src, engine, client, os?, lang?, label, also?, guesses?,
 * why, text}; JSON because a JSON string holds a pasted message byte for byte (tabs, quotes,
 * backslashes) where hand-written YAML would not. The script gives each message the next free id
 * of its engine, puts it in the split its thread hashes to (splitOf), refuses a text already in
 * the corpus, and rewrites the YAML files with the text as a block scalar, checking that every
 * text reads back unchanged.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ENGINES, EntrySchema, ID_PREFIX, loadPublicCorpus, splitOf, SPLITS, writeCorpusFiles, type Engine, type Entry, type Split } from './corpus.js';

const InputSchema = EntrySchema.omit({ id: true, source: true }).extend({ src: z.string().url() }).strict();

function main(): void {
  const inputs = process.argv.slice(2);
  if (inputs.length === 0) throw new Error('usage: tsx test/explain/public/add.ts <new.jsonl>…');
  const existing = loadPublicCorpus();
  const texts = new Set(existing.map((entry) => entry.text));
  const nextNumber = new Map<Engine, number>();
  for (const engine of ENGINES) {
    const numbers = existing.filter((entry) => entry.engine === engine).map((entry) => Number(entry.id.split('-')[1]));
    nextNumber.set(engine, Math.max(0, ...numbers) + 1);
  }
  const files = new Map<string, Entry[]>();
  for (const split of SPLITS) {
    for (const engine of ENGINES)
      files.set(
        `${split}/${engine}`,
        existing.filter((entry) => entry.split === split && entry.engine === engine).map(({ split: _s, file: _f, ...entry }) => entry),
      );
  }
  let added = 0;
  for (const input of inputs) {
    readFileSync(input, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .forEach((line, index) => {
        const parsed = InputSchema.safeParse(JSON.parse(line));
        if (!parsed.success)
          throw new Error(`${input}:${index + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
        const { src, ...rest } = parsed.data;
        if (texts.has(rest.text)) throw new Error(`${input}:${index + 1}: this text is already in the corpus`);
        texts.add(rest.text);
        const number = nextNumber.get(rest.engine) ?? 1;
        nextNumber.set(rest.engine, number + 1);
        const entry: Entry = { id: `${ID_PREFIX[rest.engine]}-${String(number).padStart(3, '0')}`, source: src, ...rest };
        const split: Split = splitOf(src);
        files.get(`${split}/${rest.engine}`)?.push(EntrySchema.parse(entry));
        added += 1;
      });
  }
  writeCorpusFiles(files);
  process.stdout.write(`added ${added} messages\n`);
}

main();
