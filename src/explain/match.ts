import { performance } from 'node:perf_hooks';
import { maskUrlPasswords } from '../config/secrets.js';
import { CAUSES, stepOfCause, type CauseCode } from '../engine/causes.js';
import { FIELD_NAMES, RANKS, type EngineExplainer, type ExplainRule, type FieldPattern, type Fields, type HostPart, type Rank, type Reader, type Reading } from '../engine/explainer.js';
import type { Remediation } from '../engine/schema.js';
import { CLIENT_HINTS, ENGINE_HINTS, ENGINE_NAMES, loadExplainer, loadNetworkExplainer, type EngineName, type NetworkExplainer } from '../probes/registry.js';
import { shellQuote } from '../text/shell.js';
import { GUESSES } from './guesses.js';
import { flatten, normalise } from './normalise.js';
import { EXPLAIN_SCHEMA_VERSION, type CauseRef, type Diagnosis, type ExplainReport, type HostFinding } from './schema.js';

/**
 * Reads a pasted error message, stack trace or log stream. The text is normalised first (escapes,
 * log prefixes, stack frames: normalise.ts); then every source of the engines it points at reads
 * it: their rules (the words), their code readers (SQLSTATE, MongoDB codes, Cassandra error codes,
 * errno in every platform's spelling) and their catalog readers (the servers' and clients' own
 * messages in every language they ship). The most decisive reading is the verdict: server, then
 * client, then errno, then symptom; table order within a rank (an engine's rules, its catalogs,
 * its codes, then the network's). The causes the same words also fit are named beside it, and a
 * code that contradicts the words is no verdict at all: "not recognised", with both as guesses.
 *
 * A text that lists several hosts gets one finding per host (the verdict is the most specific);
 * a log stream with several different errors gets each distinct diagnosis once, newest last.
 */
export interface ExplainOptions {
  /** --engine: the engine, when the text does not say. */
  readonly engine?: EngineName;
  readonly version: string;
}

/** A reading with its place in the tables (lower first within a rank) and the engines its source serves. */
interface Ranked extends Reading {
  readonly order: number;
  readonly engines: readonly string[];
}

interface Source {
  readonly engines: readonly string[];
  read(text: string, flat: ReturnType<typeof flatten>): Reading[];
  fields?(text: string): Fields;
}

export function enginesHinted(text: string): EngineName[] {
  return ENGINE_NAMES.filter((engine) => ENGINE_HINTS[engine].test(text));
}

export function clientOf(text: string): string | undefined {
  return CLIENT_HINTS.find(([, pattern]) => pattern.test(text))?.[0];
}

export async function explainText(raw: string, options: ExplainOptions): Promise<ExplainReport> {
  const started = performance.now();
  const normalised = normalise(raw);
  const { text } = normalised;
  // Hints read the text as pasted: stack frames name the client's modules.
  const hinted = options.engine ? [options.engine] : enginesHinted(raw);
  const [explainers, network] = await Promise.all([Promise.all((hinted.length > 0 ? hinted : ENGINE_NAMES).map(loadExplainer)), loadNetworkExplainer()]);
  const sources = await sourcesOf(explainers, network);
  const flat = flatten(text);
  const readings = covered(sources.flatMap((source, order) => source.read(text, flat).map((reading): Ranked => ({ ...reading, order, engines: source.engines }))));
  readings.sort(byDecisiveness);

  const records = recordsOf(normalised.lines.map((line) => line.record), text);
  const judged = records.map((record) => judgeRecord(record, readings, text, explainers));
  const recognised = judged.filter((entry) => entry.best !== undefined);
  // The newest record that says something decides; earlier distinct diagnoses are listed.
  const chosen = recognised.at(-1) ?? judged.find((entry) => entry.readings.length > 0) ?? judged[0] ?? judgeRecord({ start: 0, end: text.length }, readings, text, explainers);
  const { best } = chosen;
  const engine = options.engine ?? (hinted.length === 1 ? hinted[0] : best && best.engines.length === 1 && isEngineName(best.engines[0]) ? best.engines[0] : undefined);
  const explainer = explainers.find((candidate) => candidate.engine === engine);
  const recordText = text.slice(chosen.start, chosen.end);
  const focusText = text.slice(chosen.focus.start, chosen.focus.end);
  const hostFields: Fields = chosen.host ? { host: chosen.host.host, ...(chosen.host.port ? { port: chosen.host.port } : {}) } : {};
  const fields = extractFields(focusText, [...(best ? [best] : []), ...chosen.readings], [...(explainer?.fieldPatterns ?? explainers.flatMap((candidate) => candidate.fieldPatterns)), ...network.fieldPatterns], sources, hostFields);
  const base = {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    tool: { name: 'dbdoctor' as const, version: options.version },
    command: 'explain' as const,
    engine: engine ?? null,
    client: clientOf(raw) ?? null,
    fields: { ...(fields.host ? { host: fields.host } : {}), ...(fields.port ? { port: Number(fields.port) } : {}), ...(fields.user ? { user: fields.user } : {}), ...(fields.database ? { database: fields.database } : {}) },
    matches: dedupe(chosen.readings).map((reading) => ({ rule: reading.id, cause: reading.cause, rank: reading.rank, basis: reading.basis })),
    ...(chosen.hosts.length > 1 ? { hosts: [...chosen.hosts] } : {}),
    ...(distinctDiagnoses(recognised, text).length > 1 ? { diagnoses: distinctDiagnoses(recognised, text) } : {}),
  };
  if (!best) {
    const guesses = chosen.conflict.length > 0 ? conflictGuesses(chosen.conflict) : guess(recordText);
    return { ...base, status: 'not_recognised', verdict: null, alternatives: [], guesses, remediation: [], confirm: engine && explainer ? confirmCommand(explainer, fields) : null, durationMs: performance.now() - started };
  }
  const matched = maskUrlPasswords(chosen.host ? excerpt(text, chosen.focus) : linesOf(text, best.index, best.end));
  const meta = CAUSES[best.cause];
  return {
    ...base,
    status: 'recognised',
    verdict: {
      step: stepOfCause(best.cause) ?? null,
      cause: best.cause,
      severity: meta.severity === 'warn' ? 'warn' : 'fail',
      title: meta.title,
      meaning: meta.meaning,
      rule: best.id,
      rank: best.rank,
      matched,
      basis: best.basis,
    },
    alternatives: alternativesOf(best, chosen.readings),
    guesses: [],
    remediation: remediationOf(best.cause, explainer, network, { cause: best.cause, rule: { id: best.id, rank: best.rank }, fields, matched, text: recordText }),
    confirm: explainer ? confirmCommand(explainer, fields) : 'dbdoctor diagnose <your connection URL>',
    durationMs: performance.now() - started,
  };
}

/**
 * What a tentative catalog message frames is tentative too: libpq's "could not receive data from
 * server: Connection reset by peer" on an established session says how it broke, not why a
 * connection could not be made.
 */
function covered(readings: readonly Ranked[]): Ranked[] {
  const frames = readings.filter((reading) => reading.tentative && reading.basis === 'catalog');
  if (frames.length === 0) return [...readings];
  return readings.map((reading) => (reading.rank === 'errno' && !reading.tentative && frames.some((frame) => frame.index <= reading.index && frame.end >= reading.end) ? { ...reading, tentative: true as const } : reading));
}

function isEngineName(name: string | undefined): name is EngineName {
  return name !== undefined && (ENGINE_NAMES as readonly string[]).includes(name);
}

/** Every source, in table order: each engine's rules, its readers (catalogs, codes), then the network's. */
async function sourcesOf(explainers: readonly EngineExplainer[], network: NetworkExplainer): Promise<Source[]> {
  const engines = explainers.map((explainer) => explainer.engine);
  const sources: Source[] = [];
  for (const explainer of explainers) {
    sources.push(...explainer.rules.map((rule) => ruleSource(rule)));
    for (const reader of (await explainer.readers?.()) ?? []) sources.push(readerSource(reader, [explainer.engine]));
  }
  sources.push(...network.rules.filter((rule) => rule.engines.some((engine) => engines.includes(engine))).map((rule) => ruleSource(rule)));
  for (const reader of await network.readers()) sources.push(readerSource(reader, engines));
  return sources;
}

const compiled = new Map<RegExp, RegExp>();

/** The rule's pattern as matched: every occurrence, case-insensitive unless the rule says otherwise. */
function globalPattern(rule: ExplainRule): RegExp {
  let pattern = compiled.get(rule.pattern);
  if (!pattern) {
    const flags = new Set(rule.pattern.flags.split(''));
    flags.add('g');
    if (!rule.caseSensitive) flags.add('i');
    pattern = new RegExp(rule.pattern.source, [...flags].join(''));
    compiled.set(rule.pattern, pattern);
  }
  pattern.lastIndex = 0;
  return pattern;
}

/** How many occurrences of one rule are read in a long log: enough to place the newest. */
const MAX_OCCURRENCES = 2000;

function ruleSource(rule: ExplainRule): Source {
  const reading = (match: RegExpExecArray, index: number, end: number): Reading => ({
    id: rule.id,
    basis: 'words',
    rank: rule.rank,
    cause: rule.cause,
    ...(rule.also ? { also: rule.also } : {}),
    index,
    end,
    words: match[0],
    fields: fieldsOf(match.groups),
    ...(rule.tentative ? { tentative: true as const } : {}),
  });
  return {
    engines: rule.engines,
    read(text, flat) {
      const found: Reading[] = [];
      for (const match of matchAll(globalPattern(rule), text)) found.push(reading(match, match.index, match.index + match[0].length));
      if (found.length > 0) return found;
      // A message a terminal or a log collector wrapped over several lines.
      for (const match of matchAll(globalPattern(rule), flat.text)) found.push(reading(match, flat.origin(match.index), flat.origin(match.index + Math.max(match[0].length - 1, 0)) + 1));
      return found;
    },
  };
}

function* matchAll(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  pattern.lastIndex = 0;
  for (let count = 0; count < MAX_OCCURRENCES; count++) {
    const match = pattern.exec(text);
    if (!match) return;
    if (match[0].length === 0) pattern.lastIndex++;
    yield match;
  }
}

function readerSource(reader: Reader, engines: readonly string[]): Source {
  return {
    engines,
    ...(reader.fields ? { fields: (text: string) => reader.fields?.(text) ?? {} } : {}),
    read(text, flat) {
      const found = [...reader.read(text)];
      if (found.length > 0) return found;
      return reader.read(flat.text).map((reading) => ({ ...reading, index: flat.origin(reading.index), end: flat.origin(Math.max(reading.end - 1, reading.index)) + 1 }));
    },
  };
}

function fieldsOf(groups: Record<string, string | undefined> | undefined): Fields {
  const fields: Fields = {};
  for (const name of FIELD_NAMES) {
    const value = groups?.[name]?.trim();
    if (value && (name !== 'port' || /^\d{1,5}$/.test(value))) fields[name] = value.replace(/^\[(.*)\]$/, '$1');
  }
  return fields;
}

function byDecisiveness(a: Ranked, b: Ranked): number {
  return RANKS.indexOf(a.rank) - RANKS.indexOf(b.rank) || a.order - b.order || a.index - b.index;
}

// ── records (a log stream) and hosts (a multi-host error) ─────────────────────

interface Range {
  readonly start: number;
  readonly end: number;
}

/** A log stream's records: each starts at a line with a log prefix. Anything else is one record. */
function recordsOf(recordStarts: readonly boolean[], text: string): Range[] {
  if (recordStarts.filter(Boolean).length < 2) return [{ start: 0, end: text.length }];
  const ranges: Range[] = [];
  let offset = 0;
  let start = 0;
  for (const [index, line] of text.split('\n').entries()) {
    if (recordStarts[index] && offset > start) {
      ranges.push({ start, end: offset });
      start = offset;
    }
    offset += line.length + 1;
  }
  ranges.push({ start, end: text.length });
  return ranges;
}

interface Judged extends Range {
  /** The text the verdict was read from: the record, or the verdict's host's part of it. */
  readonly focus: Range;
  /** The verdict's host, when the text lists several. */
  readonly host?: { readonly host: string; readonly port?: string };
  readonly readings: readonly Ranked[];
  readonly best: Ranked | undefined;
  /** Readings whose causes contradict each other (a code against the words): no verdict. */
  readonly conflict: readonly Ranked[];
  readonly hosts: readonly HostFinding[];
}

const within = (range: Range) => (reading: Ranked): boolean => reading.index >= range.start && reading.index < range.end;

function judgeRecord(record: Range, all: readonly Ranked[], text: string, explainers: readonly EngineExplainer[]): Judged {
  const readings = all.filter(within(record));
  const parts = hostPartsOf(text.slice(record.start, record.end), explainers).map((part) => ({ ...part, start: part.start + record.start, end: part.end + record.start }));
  const hosts: HostFinding[] = parts.map((part) => {
    const best = decide(readings.filter(within(part))).best;
    const port = part.port !== undefined && /^\d{1,5}$/.test(part.port) ? { port: Number(part.port) } : {};
    return best
      ? { host: part.host, ...port, step: stepOfCause(best.cause) ?? null, cause: best.cause, rule: best.id, rank: best.rank, matched: maskUrlPasswords(excerpt(text, part)) }
      : { host: part.host, ...port, step: null, cause: null, rule: null, rank: null, matched: null };
  });
  if (parts.length > 1) {
    // Each host's reading stands for itself: the verdict is the most specific host's, and what the
    // other hosts say is listed beside it, not counted as a contradiction.
    const perHost = parts.map((part) => decide(readings.filter(within(part))).best).filter((reading): reading is Ranked => reading !== undefined).sort(byDecisiveness);
    const outside = readings.filter((reading) => !parts.some((part) => within(part)(reading)));
    const { best, conflict } = decide([...(perHost[0] ? [perHost[0]] : []), ...outside].sort(byDecisiveness));
    const chosen = best && perHost[0] && byDecisiveness(perHost[0], best) <= 0 ? perHost[0] : best;
    const hostOf = chosen ? parts.find((part) => within(part)(chosen)) : undefined;
    const local = hostOf ? readings.filter(within(hostOf)) : readings;
    return { ...record, focus: hostOf ?? record, ...(hostOf ? { host: { host: hostOf.host.replace(/ \(.*\)$/, ''), ...(hostOf.port ? { port: hostOf.port } : {}) } } : {}), readings: local, best: chosen, conflict: chosen ? [] : conflict, hosts };
  }
  const { best, conflict } = decide(readings);
  return { ...record, focus: record, readings, best, conflict, hosts };
}

function hostPartsOf(text: string, explainers: readonly EngineExplainer[]): HostPart[] {
  for (const splitter of explainers.flatMap((explainer) => explainer.hostSplitters ?? [])) {
    const parts = splitter.split(text);
    if (parts.length > 1) return [...parts];
  }
  return [];
}

/**
 * The most decisive reading, unless the most decisive readings contradict each other: a code that
 * names one cause and words (or another code) that name another, neither allowing the other.
 */
function decide(readings: readonly Ranked[]): { best: Ranked | undefined; conflict: Ranked[] } {
  const best = readings[0];
  if (!best) return { best: undefined, conflict: [] };
  // Known words that do not decide: their cause and its alternatives are guesses. Words known not
  // to decide also overrule the same cause read elsewhere at the same rank (a node-postgres
  // "Connection terminated unexpectedly" that Node.js reports as an established client's error).
  if (best.tentative) return { best: undefined, conflict: [best] };
  const veto = readings.find((reading) => reading.tentative && reading.basis === 'words' && reading.rank === best.rank && reading.cause === best.cause);
  if (veto) return { best: undefined, conflict: [veto] };
  const top = readings.filter((reading) => reading.rank === best.rank);
  const allows = (a: Ranked, b: Ranked): boolean => a.cause === b.cause || (a.also ?? []).some((alternative) => alternative.cause === b.cause) || (b.also ?? []).some((alternative) => alternative.cause === a.cause);
  // Only the server's own evidence can contradict itself: a SQLSTATE or a MongoDB code against the server's words.
  const against = best.rank !== 'server' ? [] : top.filter((reading) => (reading.basis === 'code' || best.basis === 'code') && reading.basis !== best.basis && !reading.tentative && !allows(best, reading));
  if (against.length > 0) return { best: undefined, conflict: [best, ...against] };
  return { best, conflict: [] };
}

function dedupe(readings: readonly Ranked[]): Ranked[] {
  const seen = new Set<string>();
  return readings.filter((reading) => {
    const key = `${reading.id}\u0000${reading.cause}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Each distinct diagnosis of a log stream once, ordered by its newest occurrence. */
function distinctDiagnoses(recognised: readonly Judged[], text: string): Diagnosis[] {
  const byKey = new Map<string, { best: Ranked; count: number; last: Range }>();
  for (const record of recognised) {
    if (!record.best) continue;
    const key = record.best.cause;
    const seen = byKey.get(key);
    byKey.delete(key);
    byKey.set(key, { best: record.best, count: (seen?.count ?? 0) + 1, last: record });
  }
  return [...byKey.values()].map(({ best, count }) => ({
    step: stepOfCause(best.cause) ?? null,
    cause: best.cause,
    title: CAUSES[best.cause].title,
    rule: best.id,
    rank: best.rank,
    matched: maskUrlPasswords(linesOf(text, best.index, best.end)),
    occurrences: count,
    lastLine: text.slice(0, best.index).split('\n').length,
  }));
}

/** A host's part of a one-line host list, as shown beside its finding. */
function excerpt(text: string, part: Range): string {
  return text.slice(part.start, part.end).replace(/\s+/g, ' ').replace(/^[\s,{(]+|[\s,})]+$/g, '').slice(0, 300);
}

/** The whole lines a match sits on (a short match like "[Errno -3]" reads better in its sentence). */
function linesOf(text: string, index: number, end: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const stop = text.indexOf('\n', Math.max(end - 1, index));
  return text
    .slice(start, stop === -1 ? undefined : stop)
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .slice(0, 400);
}

/** The winner's own "also", then other causes matched at the same rank: the text says both. */
function alternativesOf(best: Ranked, readings: readonly Ranked[]): CauseRef[] {
  const refs: CauseRef[] = [];
  const seen = new Set<CauseCode>([best.cause]);
  const add = (cause: CauseCode, why: string): void => {
    if (seen.has(cause)) return;
    seen.add(cause);
    refs.push({ step: stepOfCause(cause) ?? null, cause, why });
  };
  for (const alternative of best.also ?? []) add(alternative.cause, alternative.why);
  for (const other of readings) {
    // A code with several causes that allows the verdict's (28000 beside "role … does not exist") adds nothing.
    if (other.basis === 'code' && (other.also ?? []).some((alternative) => alternative.cause === best.cause)) continue;
    if (other.rank === best.rank) add(other.cause, `the text also says "${maskUrlPasswords(other.words).slice(0, 120)}" (rule ${other.id})`);
  }
  return refs;
}

/** The verdict's own fields first, then what the other readings of the same record name, the field patterns, and the readers' frames. */
function extractFields(text: string, readings: readonly Ranked[], patterns: readonly FieldPattern[], sources: readonly Source[], first: Fields): Fields {
  const fields: Fields = { ...first };
  const take = (found: Fields): void => {
    for (const name of FIELD_NAMES) if (fields[name] === undefined && found[name] !== undefined) fields[name] = found[name];
  };
  for (const reading of readings) take(reading.fields ?? {});
  for (const { pattern } of patterns) take(fieldsOf(new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(text)?.groups));
  for (const source of sources) if (source.fields) take(source.fields(text));
  return fields;
}

function remediationOf(cause: CauseCode, explainer: EngineExplainer | undefined, network: NetworkExplainer, explained: Parameters<EngineExplainer['remediation']>[0]): Remediation[] {
  const own = explainer?.remediation(explained) ?? network.remediation(explained);
  if (own) return own;
  return [{ text: `Run the command below against the server: it checks the whole tree and names the fix for ${cause}.` }];
}

function confirmCommand(explainer: EngineExplainer, fields: Fields): string {
  return `dbdoctor diagnose ${shellQuote(explainer.url(fields))}`;
}

/**
 * Evidence that does not decide: words known to fit several causes (each named, with why), or
 * readings that contradict each other (each side named). Guesses, never a verdict.
 */
function conflictGuesses(conflict: readonly Ranked[]): CauseRef[] {
  const refs: CauseRef[] = [];
  const add = (cause: CauseCode, why: string): void => {
    if (!refs.some((ref) => ref.cause === cause)) refs.push({ step: stepOfCause(cause) ?? null, cause, why });
  };
  const [first] = conflict;
  if (first?.tentative) {
    const said = `the text says "${maskUrlPasswords(first.words).slice(0, 120)}" (${first.id}), which does not tell`;
    add(first.cause, `${said} which cause: a guess, not a diagnosis`);
    for (const alternative of first.also ?? []) add(alternative.cause, `${alternative.why}: a guess, not a diagnosis`);
    return refs.slice(0, 5);
  }
  for (const reading of conflict) add(reading.cause, `the text says "${maskUrlPasswords(reading.words).slice(0, 120)}" (${reading.id}), which other evidence in it contradicts: a guess, not a diagnosis`);
  return refs.slice(0, 3);
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
