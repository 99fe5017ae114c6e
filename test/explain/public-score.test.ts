import { describe, expect, test } from 'vitest';
import { explainText } from '../../src/explain/match.js';
import { loadPublicCorpus, type Split } from './public/corpus.js';
import { scoreEntries, type Explainer } from './public/score.js';

/**
 * The public corpus (messages users pasted in public threads; test/explain/public) as a floor
 * under explain: the figures it reached when this work ended (README, "How well it does"), so a
 * change that loses ground fails. Only counts are asserted, never a message's text: the held-out
 * half is scored, not read.
 */
const fromSource: Explainer = async (text) => ({ document: await explainText(text, { version: 'test' }) });

async function score(split: Split): Promise<{ right: number; wrong: number; total: number }> {
  const results = await scoreEntries(loadPublicCorpus([split]), fromSource, 4);
  return {
    right: results.filter((result) => result.outcome === 'right').length,
    wrong: results.filter((result) => result.outcome === 'wrong').length,
    total: results.length,
  };
}

describe('explain on the public corpus keeps its ground', () => {
  // 202 of 208 right and none wrong: the five 25006 messages the corpus labels accepting/standby, and
  // a Cassandra request timeout on a session, are "not recognised" by design (README, "Choices").
  test('tune half: at least 97 % right, none wrong', async () => {
    const { right, wrong, total } = await score('tune');
    expect(right / total).toBeGreaterThanOrEqual(0.97);
    expect(wrong).toBe(0);
  });

  // Scored once, at the end of the second round: 190 of 205 right, 5 wrong (91.2 %, 9 wrong before it).
  test('held-out half: at least 92.5 % right, at most 5 wrong', async () => {
    const { right, wrong, total } = await score('heldout');
    expect(right / total).toBeGreaterThanOrEqual(0.925);
    expect(wrong).toBeLessThanOrEqual(5);
  });
});
