import type { CauseCode } from '../../engine/causes.js';
import type { Alternative, Rank, Reader, Reading } from '../../engine/explainer.js';

/**
 * Fixed sentences of clients whose message catalogs dbdoctor cannot read (an old libpq's
 * back-branch message, a driver that does not translate): each matched as written, whitespace and
 * case aside, and said with its source so it can be checked against the client's code.
 */
export interface Phrase {
  readonly text: string;
  readonly cause: CauseCode;
  readonly rank: Rank;
  readonly also?: readonly Alternative[];
  /** Which client prints it, and where. */
  readonly source: string;
  /** Known words that do not decide (ExplainRule.tentative). */
  readonly tentative?: true;
  /** Why they do not decide, said with the guesses (ExplainRule.undecided). */
  readonly undecided?: string;
  /** The words say an established session broke (Reading.session). */
  readonly session?: true;
  /** The words decide only inside a connection attempt (ExplainRule.whileConnecting). */
  readonly whileConnecting?: true;
}

const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');

export function phraseReader(id: string, phrases: readonly Phrase[]): Reader {
  const compiled = phrases.map((phrase, index) => ({ phrase, index, pattern: new RegExp(literal(phrase.text), 'gi') }));
  return {
    id,
    read(text) {
      const found: Reading[] = [];
      for (const { phrase, index, pattern } of compiled) {
        for (const match of text.matchAll(pattern)) {
          found.push({
            id: `${id}.${index}`,
            basis: 'words',
            rank: phrase.rank,
            cause: phrase.cause,
            ...(phrase.also ? { also: phrase.also } : {}),
            ...(phrase.tentative ? { tentative: true as const } : {}),
            ...(phrase.undecided ? { undecided: phrase.undecided } : {}),
            ...(phrase.session ? { session: true as const } : {}),
            ...(phrase.whileConnecting ? { whileConnecting: true as const } : {}),
            index: match.index,
            end: match.index + match[0].length,
            words: match[0],
          });
        }
      }
      return found;
    },
  };
}
