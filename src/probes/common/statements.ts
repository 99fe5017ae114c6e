import type { StatementFamily, StatementRejected } from '../../engine/explainer.js';
import { lineAt } from '../../text/lines.js';

/** The first of an engine's statement families the text says, in its own words (the line it is on). */
export function firstStatementFamily(families: readonly StatementFamily[], text: string): StatementRejected | undefined {
  for (const family of families) {
    const found = family.pattern.exec(text);
    if (found) return { code: family.code, meaning: family.meaning, words: lineAt(text, found.index), index: found.index };
  }
  return undefined;
}
