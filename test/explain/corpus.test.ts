import { describe, expect, test } from 'vitest';
import { explainText } from '../../src/explain/match.js';
import type { ExplainReport } from '../../src/explain/schema.js';
import { networkRules } from '../../src/probes/common/explain.js';
import { postgresRules } from '../../src/probes/postgres/explain.js';
import { mongodbRules } from '../../src/probes/mongodb/explain.js';
import { cassandraRules } from '../../src/probes/cassandra/explain.js';
import { loadCorpus, type CorpusMessage } from './corpus.js';

/**
 * Every message of the corpus (real clients, real faults; see test/explain/capture) explained:
 * the fault's cause is the verdict or, when the words fit several causes, among the named
 * alternatives; every field read from the text is the one the client was given; and every rule
 * wins for at least one real message.
 */
const corpus = loadCorpus();
const RULES = [...postgresRules, ...mongodbRules, ...cassandraRules, ...networkRules];
const reports = new Map<string, ExplainReport>();
const explain = async (message: CorpusMessage): Promise<ExplainReport> => {
  const cached = reports.get(message.id);
  if (cached) return cached;
  const report = await explainText(message.text, { version: 'test' });
  reports.set(message.id, report);
  return report;
};
const named = (report: ExplainReport): string[] =>
  [report.verdict, ...report.alternatives].filter((entry) => entry !== null).map((entry) => `${entry.step}/${entry.cause}`);
const sameHost = (found: string, given: string): boolean => found === given || (given === 'localhost' && ['127.0.0.1', '::1'].includes(found));

describe('the explain corpus', () => {
  test('holds real messages for every engine', () => {
    expect(corpus.filter((message) => message.engine === 'postgres').length).toBeGreaterThan(200);
    expect(corpus.filter((message) => message.engine === 'mongodb').length).toBeGreaterThan(15);
    expect(corpus.filter((message) => message.engine === 'cassandra').length).toBeGreaterThan(20);
  });

  test.each(corpus.map((message) => [message.id, message] as const))('%s: names the fault', async (_id, message) => {
    const report = await explain(message);
    if (message.guesses) {
      // Words that cannot decide (reads-as: guesses …): no verdict, and the fault's cause among the labelled guesses.
      expect(report.status, message.text.slice(0, 300)).toBe('not_recognised');
      expect(report.verdict).toBeNull();
      expect(
        report.guesses.map((guess) => `${guess.step}/${guess.cause}`),
        `guesses of ${message.id}`,
      ).toContain(message.guesses);
      return;
    }
    expect(report.status, message.text.slice(0, 300)).toBe('recognised');
    const expected = message.readsAs ?? message.cause;
    expect(named(report), `verdict ${report.verdict?.step}/${report.verdict?.cause} by ${report.verdict?.rule}`).toContain(expected);
    if (!message.readsAs && report.verdict && `${report.verdict.step}/${report.verdict.cause}` !== expected) {
      // When the fault is only an alternative, the winning rule must say why the text cannot tell.
      expect(report.alternatives.map((alternative) => `${alternative.step}/${alternative.cause}`)).toContain(expected);
    }
  });

  test.each(corpus.map((message) => [message.id, message] as const))('%s: reads only true fields', async (_id, message) => {
    const report = await explain(message);
    for (const [name, value] of Object.entries(report.fields)) {
      const given = message.fields[name];
      if (given === undefined) continue;
      if (name === 'host') expect(sameHost(String(value), given), `host ${String(value)} vs ${given}`).toBe(true);
      else expect(String(value), name).toBe(given);
    }
  });
});

describe('every rule, against its real messages', () => {
  test.each(RULES.map((rule) => [rule.id, rule] as const))('%s', async (_id, rule) => {
    const won: CorpusMessage[] = [];
    const guessedBy: CorpusMessage[] = [];
    for (const message of corpus) {
      const report = await explain(message);
      if (report.verdict?.rule === rule.id) won.push(message);
      else if (!report.verdict && report.matches[0]?.rule === rule.id) guessedBy.push(message);
    }
    // Words that decide only inside a connection attempt (whileConnecting) give guesses for a real
    // message that shows none, and the corpus must say so (reads-as: guesses …). Such a rule is
    // held to its real messages either way: a verdict where one shows the attempt, guesses where
    // none does (Prisma's P1017, whose documented text never shows it).
    for (const message of guessedBy)
      expect(message.guesses, `${message.id}: ${rule.id} gave guesses; the corpus must say so (reads-as: guesses …)`).toBeDefined();
    if (rule.whileConnecting) expect(won.length + guessedBy.length, `no corpus message is explained by ${rule.id}, or given its guesses`).toBeGreaterThan(0);
    else expect(won.length, `no corpus message is explained by ${rule.id}`).toBeGreaterThan(0);
    for (const message of won) {
      const report = await explain(message);
      expect(report.verdict?.cause).toBe(rule.cause);
      // Seeds are quotes from incident reports (the client is in their header); the rest must be a rule's listed client.
      if (message.client !== 'seeds')
        expect(rule.clients.includes(message.client) || rule.clients.includes('any'), `${message.client} is not among ${rule.id}'s clients`).toBe(true);
      for (const field of rule.fields ?? []) if (message.fields[field] !== undefined) expect(report.fields[field], `${message.id}: ${field}`).toBeDefined();
    }
    for (const example of rule.examples) expect(rule.pattern.test(example), `example of ${rule.id}: ${example}`).toBe(true);
  });
});
