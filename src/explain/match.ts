import { performance } from 'node:perf_hooks';
import { maskUrlPasswords } from '../config/secrets.js';
import { CAUSES, stepOfCause, type CauseCode } from '../engine/causes.js';
import type { Remediation } from '../engine/schema.js';
import { networkFieldPatterns, networkRules, remediationInWords } from '../probes/common/explain.js';
import { shellQuote } from '../probes/postgres/commands.js';
import { clientOf, enginesHinted, loadExplainer } from './engines.js';
import { GUESSES } from './guesses.js';
import { ENGINES, FIELD_NAMES, RANKS, type Engine, type EngineExplainer, type ExplainRule, type FieldPattern, type Fields } from './rule.js';
import { EXPLAIN_SCHEMA_VERSION, type CauseRef, type ExplainReport } from './schema.js';
import { sh, unprintable } from '../text/shell.js';
import { COMMAND_CHARS, printableFix } from '../text/bound.js';
import { urlHost } from '../text/url.js';

/**
 * Reads a pasted error message or stack trace: every rule of the engines the text points at is
 * tried; the most decisive match (server words, then the client's, then errno, then symptoms;
 * table order within a rank) is the verdict, and the causes the same words also fit are named
 * beside it. No match is "not recognised", with guesses that say they are guesses.
 */
export interface ExplainOptions {
  /** --engine: the engine, when the text does not say. */
  readonly engine?: Engine;
  readonly version: string;
  /**
   * Masks the secrets in a value read from the text (the CLI's: the passwords the paste carries,
   * registered first). Every value a command is built from passes it before anything is built:
   * a command is never rewritten afterwards.
   */
  readonly mask?: (value: string) => string;
}

interface Match {
  readonly rule: ExplainRule;
  readonly match: RegExpExecArray;
}

/** How much of a paste is read: enough for any stack trace, bounded for a pasted log file. */
const MAX_TEXT = 256 * 1024;

export function normalise(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.slice(0, MAX_TEXT).replace(/\r\n?/g, '\n').replace(/\u001b\[[0-9;]*m/g, '');
}

export async function explainText(raw: string, options: ExplainOptions): Promise<ExplainReport> {
  const started = performance.now();
  const text = normalise(raw);
  const hinted = options.engine ? [options.engine] : enginesHinted(text);
  const explainers = await Promise.all((hinted.length > 0 ? hinted : ENGINES).map(loadExplainer));
  const engines = new Set(explainers.map((explainer) => explainer.engine));
  const rules = [...explainers.flatMap((explainer) => explainer.rules), ...networkRules.filter((rule) => rule.engines.some((engine) => engines.has(engine)))];
  const matches = rankMatches(rules, text);
  const best = matches[0];
  const engine = options.engine ?? (hinted.length === 1 ? hinted[0] : best && best.rule.engines.length === 1 ? best.rule.engines[0] : undefined);
  const explainer = explainers.find((candidate) => candidate.engine === engine);
  const mask = options.mask ?? ((value: string) => value);
  const fields = maskedFields(extractFields(text, best?.match, [...(explainer?.fieldPatterns ?? explainers.flatMap((candidate) => candidate.fieldPatterns)), ...networkFieldPatterns]), mask);
  const base = {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    tool: { name: 'dbdoctor' as const, version: options.version },
    command: 'explain' as const,
    engine: engine ?? null,
    client: clientOf(text) ?? null,
    fields: { ...(fields.host ? { host: fields.host } : {}), ...(fields.port ? { port: Number(fields.port) } : {}), ...(fields.user ? { user: fields.user } : {}), ...(fields.database ? { database: fields.database } : {}) },
    matches: matches.map(({ rule }) => ({ rule: rule.id, cause: rule.cause, rank: rule.rank })),
  };
  if (!best) {
    return { ...base, status: 'not_recognised', verdict: null, alternatives: [], guesses: guess(text), remediation: [], confirm: engine && explainer ? confirmCommand(explainer, fields) : null, durationMs: performance.now() - started };
  }
  const { rule } = best;
  const matched = mask(maskUrlPasswords(lineOf(text, best.match)));
  const meta = CAUSES[rule.cause];
  return {
    ...base,
    status: 'recognised',
    verdict: {
      step: stepOfCause(rule.cause) ?? null,
      cause: rule.cause,
      severity: meta.severity === 'warn' ? 'warn' : 'fail',
      title: meta.title,
      meaning: meta.meaning,
      rule: rule.id,
      rank: rule.rank,
      matched,
    },
    alternatives: alternativesOf(best, matches),
    guesses: [],
    remediation: remediationOf(rule.cause, explainer, { cause: rule.cause, rule, fields, matched, text: mask(text) }),
    confirm: explainer ? confirmCommand(explainer, fields) : 'dbdoctor diagnose <your connection URL>',
    durationMs: performance.now() - started,
  };
}

/** The whole line a match sits on (a short match like "[Errno -3]" reads better in its sentence). */
function lineOf(text: string, match: RegExpExecArray): string {
  const start = text.lastIndexOf('\n', match.index) + 1;
  const end = text.indexOf('\n', match.index + match[0].length);
  return text.slice(start, end === -1 ? undefined : end).trim().slice(0, 400);
}

function rankMatches(rules: readonly ExplainRule[], text: string): Match[] {
  const found: Match[] = [];
  for (const rule of rules) {
    const match = rule.pattern.exec(text);
    if (match) found.push({ rule, match });
  }
  // Stable sort: within a rank, the order of the tables (engine rules before network rules) decides.
  return found.sort((a, b) => RANKS.indexOf(a.rule.rank) - RANKS.indexOf(b.rule.rank));
}

/** The winner's own "also", then other causes matched at the same rank: the text says both. */
function alternativesOf(best: Match, matches: readonly Match[]): CauseRef[] {
  const refs: CauseRef[] = [];
  const seen = new Set<CauseCode>([best.rule.cause]);
  const add = (cause: CauseCode, why: string): void => {
    if (seen.has(cause)) return;
    seen.add(cause);
    refs.push({ step: stepOfCause(cause) ?? null, cause, why });
  };
  for (const alternative of best.rule.also ?? []) add(alternative.cause, alternative.why);
  for (const other of matches) {
    if (other.rule.rank === best.rule.rank) add(other.rule.cause, `the text also says "${maskUrlPasswords(other.match[0]).slice(0, 120)}" (rule ${other.rule.id})`);
  }
  return refs;
}

function extractFields(text: string, best: RegExpExecArray | undefined, patterns: readonly FieldPattern[]): Fields {
  const fields: Fields = {};
  const take = (groups: Record<string, string | undefined> | undefined): void => {
    for (const name of FIELD_NAMES) {
      const value = groups?.[name]?.trim();
      if (fields[name] === undefined && value && (name !== 'port' || /^\d{1,5}$/.test(value))) fields[name] = value.replace(/^\[(.*)\]$/, '$1');
    }
  };
  take(best?.groups);
  for (const { pattern } of patterns) take(pattern.exec(text)?.groups);
  return fields;
}

/** The fields with their secrets masked; a port that no longer reads as one is dropped. */
function maskedFields(fields: Fields, mask: (value: string) => string): Fields {
  const out: Fields = {};
  for (const name of FIELD_NAMES) {
    const value = fields[name];
    if (value === undefined) continue;
    const masked = mask(value);
    if (name !== 'port' || masked === value) out[name] = masked;
  }
  return out;
}

/** The fixes for the cause, each command as printed or left out with the reason (as every finding's: text/bound). */
function remediationOf(cause: CauseCode, explainer: EngineExplainer | undefined, explained: Parameters<EngineExplainer['remediation']>[0]): Remediation[] {
  return fixesOf(cause, explainer, explained).map(printableFix);
}

function fixesOf(cause: CauseCode, explainer: EngineExplainer | undefined, explained: Parameters<EngineExplainer['remediation']>[0]): Remediation[] {
  const own = explainer?.remediation(explained);
  if (own) return own;
  // The engine is not known: the shared fixes, in words that fit any database.
  const generic = remediationInWords(explained, { name: 'the database server', unit: '<database-service>', readyCheck: (host, port) => sh`nc -vz -w 3 ${host} ${port}`, urlVariable: 'DATABASE_URL', urlFor: (host, port) => `<scheme>://${urlHost(host)}:${port}` }, 0, "the client's TLS settings");
  return generic ?? [{ text: `Run the command below against the server: it checks the whole tree and names the fix for ${cause}.` }];
}

/** The diagnose command for what the text names: null when it cannot be printed as it runs (text/shell: unprintable). */
function confirmCommand(explainer: EngineExplainer, fields: Fields): string | null {
  const command = `dbdoctor diagnose ${shellQuote(explainer.url(fields))}`;
  return unprintable(command, COMMAND_CHARS) === undefined ? command : null;
}

/** For text no rule recognises: causes whose vocabulary it uses, said to be guesses. */
function guess(text: string): CauseRef[] {
  const refs: CauseRef[] = [];
  for (const { pattern, cause } of GUESSES) {
    const word = pattern.exec(text)?.[0];
    if (word && !refs.some((ref) => ref.cause === cause)) {
      refs.push({ step: stepOfCause(cause) ?? null, cause, why: `the text mentions "${word}", but no rule knows its wording: a guess, not a diagnosis` });
    }
  }
  return refs.slice(0, 3);
}
