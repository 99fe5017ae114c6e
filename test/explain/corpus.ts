import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lab/dbdoctor.js';

/** One message of the explain corpus: a real client's output for a real fault, with provenance. */
export interface CorpusMessage {
  /** engine/client/fault, e.g. "postgres/psycopg2/pg-wrong-password". */
  readonly id: string;
  readonly engine: string;
  readonly client: string;
  /** step/cause: what the fault is (as `dbdoctor diagnose` names it). */
  readonly cause: string;
  /**
   * step/cause the words themselves support, when the client hides the fault (e.g. an empty
   * password that the server answers as a wrong one): explain can only say what the text says.
   */
  readonly readsAs: string | undefined;
  /**
   * "reads-as: guesses <step/cause>": the words cannot decide (a connection closed with no sign of
   * a connection attempt: a handshake that failed and a session that broke later read the same), so
   * explain must say "not recognised" and name this cause among its guesses.
   */
  readonly guesses: string | undefined;
  readonly fields: Readonly<Record<string, string>>;
  readonly header: Readonly<Record<string, string>>;
  readonly text: string;
}

/** The reads-as header: a step/cause the words support, or "guesses <step/cause>" for words that do not decide. */
function readsAsOf(header: string | undefined): { readsAs: string | undefined; guesses: string | undefined } {
  const [first, second] = (header ?? '').split(' ');
  if (first === 'guesses') return { readsAs: undefined, guesses: second };
  return { readsAs: first || undefined, guesses: undefined };
}

export const CORPUS_DIR = join(ROOT, 'test', 'explain', 'corpus');

export function loadCorpus(): CorpusMessage[] {
  const messages: CorpusMessage[] = [];
  for (const engine of readdirSync(CORPUS_DIR, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    for (const client of readdirSync(join(CORPUS_DIR, engine.name))) {
      for (const file of readdirSync(join(CORPUS_DIR, engine.name, client)).filter((name) => name.endsWith('.txt'))) {
        const raw = readFileSync(join(CORPUS_DIR, engine.name, client, file), 'utf8');
        const split = raw.indexOf('\n----\n');
        const header = Object.fromEntries(
          raw
            .slice(0, split)
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
        );
        const fields = Object.fromEntries(
          (header.fields ?? '')
            .split(' ')
            .filter(Boolean)
            .map((pair) => pair.split('=') as [string, string]),
        );
        messages.push({
          id: `${engine.name}/${client}/${file.replace(/\.txt$/, '')}`,
          engine: engine.name,
          client,
          cause: header.cause ?? '',
          ...readsAsOf(header['reads-as']),
          fields,
          header,
          text: raw.slice(split + '\n----\n'.length),
        });
      }
    }
  }
  return messages;
}
