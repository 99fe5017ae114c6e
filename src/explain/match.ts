import { performance } from 'node:perf_hooks';
import { maskUrlPasswords } from '../config/secrets.js';
import { CAUSES, stepOfCause, type CauseCode, type CauseMeta } from '../engine/causes.js';
import {
  FIELD_NAMES,
  RANKS,
  type EngineExplainer,
  type HostSplitter,
  type ExplainRule,
  type FieldPattern,
  type Fields,
  type HostPart,
  type Reader,
  type Reading,
  type StackFrame,
} from '../engine/explainer.js';
import type { Remediation } from '../engine/schema.js';
import { CLIENT_HINTS, ENGINE_HINTS, ENGINE_NAMES, loadExplainer, loadNetworkExplainer, type EngineName, type NetworkExplainer } from '../engines/registry.js';
import { shellQuote, unprintable } from '../text/shell.js';
import { COMMAND_CHARS, printableFix } from '../text/bound.js';
import { GUESSES } from './guesses.js';
import { flatten, normalise } from './normalise.js';
import { EXPLAIN_SCHEMA_VERSION, type CauseRef, type Diagnosis, type ExplainReport, type Finding, type HostFinding } from './schema.js';

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
  /**
   * Masks the secrets in a value read from the text (the CLI's: the passwords the paste carries,
   * registered first). Every value a command is built from passes it before anything is built:
   * a command is never rewritten afterwards.
   */
  readonly mask?: (value: string) => string;
  /**
   * Where the text's hosts are, when the caller knows better than any pattern: an error object's
   * per-host structure (explain/objects.ts). Tried before the engines' own splitters.
   */
  readonly hostSplitters?: readonly HostSplitter[];
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
  attempts?(text: string): readonly Range[];
}

export function enginesHinted(text: string): EngineName[] {
  return ENGINE_NAMES.filter((engine) => wordIn(ENGINE_HINTS[engine], text) !== undefined);
}

export function clientOf(text: string): string | undefined {
  return CLIENT_HINTS.find(([, pattern]) => wordIn(pattern, text) !== undefined)?.[0];
}

/**
 * A hint (or a guess's word) counts where it stands in text, not in junk: random bytes spell
 * "CQL" or "dns" now and then, but the characters around them are not words.
 */
function wordIn(pattern: RegExp, text: string): string | undefined {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  let tried = 0;
  for (const match of text.matchAll(global)) {
    if (readable(text.slice(Math.max(0, match.index - 40), match.index + match[0].length + 40))) return match[0];
    if (++tried >= 50) return undefined;
  }
  return undefined;
}

/** Mostly letters, digits, punctuation and spaces: at most one character in ten is anything else (a control character, a replacement character). */
function readable(text: string): boolean {
  let other = 0;
  for (const char of text) if (char === '\ufffd' || !/[\p{L}\p{N}\p{P}\p{S}\p{Zs}\t\n]/u.test(char)) other++;
  return other * 10 <= text.length;
}

export async function explainText(raw: string, options: ExplainOptions): Promise<ExplainReport> {
  const started = performance.now();
  const normalised = normalise(raw);
  const { text } = normalised;
  // Hints read the text as pasted (stack frames name the client's modules), as far as it is read.
  const pasted = normalised.truncated ? raw.slice(-normalised.truncated.read) : raw;
  const hinted = options.engine ? [options.engine] : enginesHinted(pasted);
  const [explainers, network] = await Promise.all([Promise.all((hinted.length > 0 ? hinted : ENGINE_NAMES).map(loadExplainer)), loadNetworkExplainer()]);
  const sources = await sourcesOf(explainers, network);
  const flat = flatten(text);
  const records = recordsOf(
    normalised.lines.map((line) => line.record),
    text,
  );
  const read = sources.flatMap((source, order) => source.read(text, flat).map((reading): Ranked => ({ ...reading, order, engines: source.engines })));
  const readings = covered(
    inSession(read, {
      text,
      records,
      frames: normalised.frames,
      attempts: sources.flatMap((source) => source.attempts?.(text) ?? []),
      signs: explainers.flatMap((explainer) => (explainer.connecting ? [explainer.connecting] : [])),
    }),
  );
  readings.sort(byDecisiveness);

  // A paste of several errors: each error record (a line and its continuation lines) is judged on
  // its own when that tells more different errors apart than the log prefixes alone do.
  const splitters = [...(options.hostSplitters ?? []), ...explainers.flatMap((explainer) => explainer.hostSplitters ?? [])];
  const judge = (ranges: readonly Range[]): Judged[] => ranges.map((record) => judgeRecord(record, readings, text, explainers, splitters));
  const engineOf = (reading: Ranked | undefined): EngineName | undefined =>
    options.engine ??
    (hinted.length === 1 ? hinted[0] : reading && reading.engines.length === 1 && isEngineName(reading.engines[0]) ? reading.engines[0] : undefined);
  const patternsOf = (best: Ranked | undefined): readonly FieldPattern[] => {
    const own = explainers.find((candidate) => candidate.engine === engineOf(best));
    return [...(own?.fieldPatterns ?? explainers.flatMap((candidate) => candidate.fieldPatterns)), ...network.fieldPatterns];
  };
  // Secrets the paste carries are masked in every value a command is built from, before it is built.
  const mask = options.mask ?? ((value: string) => value);
  const fieldsOfRecord = (entry: Judged): Fields => {
    const hostFields: Fields = entry.host ? { host: entry.host.host, ...(entry.host.port ? { port: entry.host.port } : {}) } : {};
    return maskedFields(
      extractFields(
        text.slice(entry.focus.start, entry.focus.end),
        [...(entry.best ? [entry.best] : []), ...entry.readings],
        patternsOf(entry.best),
        sources,
        hostFields,
      ),
      mask,
    );
  };
  const keyOf = (entry: Judged): FindingKey => ({ cause: entry.best?.cause, fields: fieldsOfRecord(entry) });
  const distinctKeys = (entries: readonly Judged[]): number =>
    grouped(
      entries.filter((entry) => entry.best),
      keyOf,
    ).length;
  let judged = judge(records);
  const segments = errorRecordsOf(
    normalised.lines,
    text,
    (before, line) => hostPartsOf(`${before}\n${line}`, splitters).length > Math.max(1, hostPartsOf(before, splitters).length),
  );
  if (segments.length > 1) {
    const split = judge(segments);
    if (distinctKeys(split) > Math.max(1, distinctKeys(judged))) judged = split;
  }
  const recognised = judged.filter((entry) => entry.best !== undefined);
  // The newest record that says something decides; earlier distinct diagnoses are listed.
  const newest = recognised.at(-1);
  const chosen =
    newest ??
    judged.find((entry) => entry.readings.length > 0) ??
    judged[0] ??
    judgeRecord({ start: 0, end: text.length }, readings, text, explainers, splitters);
  // A log stream whose later records show a working connection: the errors before are history.
  const working = newest ? workingAfter(newest, judged, text, [...explainers.map((explainer) => explainer.working), network.working]) : undefined;
  const best = working ? undefined : chosen.best;
  const engine = engineOf(best);
  const explainer = explainers.find((candidate) => candidate.engine === engine);
  const recordText = text.slice(chosen.start, chosen.end);
  const fields = working ? {} : fieldsOfRecord(chosen);
  const diagnoses = distinctDiagnoses(recognised, text);
  const findings = working
    ? []
    : findingsOf(text, recognised, keyOf, (entry) => {
        // A finding's engine: the one its own record names, when the paste names several.
        const own = hinted.length > 1 ? enginesHinted(text.slice(entry.start, entry.end)) : [];
        const ownEngine = options.engine ?? (own.length === 1 ? own[0] : engineOf(entry.best));
        const ownExplainer = explainers.find((candidate) => candidate.engine === ownEngine);
        return {
          ...describe(entry, text, fieldsOfRecord(entry), ownEngine ?? null, ownExplainer, network, mask),
          client: clientOf(text.slice(entry.start, entry.end)) ?? null,
        };
      });
  const base = {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    tool: { name: 'dbdoctor' as const, version: options.version },
    command: 'explain' as const,
    engine: engine ?? null,
    client: clientOf(pasted) ?? null,
    fields: reportFields(fields),
    matches: working ? [] : dedupe(chosen.readings).map((reading) => ({ rule: reading.id, cause: reading.cause, rank: reading.rank, basis: reading.basis })),
    ...(!working && chosen.hosts.length > 1 ? { hosts: [...chosen.hosts] } : {}),
    ...(diagnoses.length > 1 || (working && diagnoses.length > 0) ? { diagnoses } : {}),
    ...(findings.length > 0 ? { findings } : {}),
    ...(working ? { working } : {}),
    ...(normalised.truncated ? { truncated: normalised.truncated } : {}),
  };
  if (!best) {
    // Not a connection error at all: the server rejected a statement on a connection that worked.
    const statement = working ? undefined : statementOf(recordText, engine ? explainers.filter((candidate) => candidate.engine === engine) : explainers);
    if (statement)
      return {
        ...base,
        status: 'not_recognised',
        verdict: null,
        alternatives: [],
        guesses: [],
        statement,
        remediation: [],
        confirm: null,
        durationMs: performance.now() - started,
      };
    const guesses = working ? [] : chosen.conflict.length > 0 ? conflictGuesses(chosen.conflict) : guess(recordText);
    return {
      ...base,
      status: 'not_recognised',
      verdict: null,
      alternatives: [],
      guesses,
      remediation: [],
      confirm: engine && explainer ? confirmCommand(explainer, fields) : null,
      durationMs: performance.now() - started,
    };
  }
  // The newest finding is the chosen record's: its own engine's words when the paste names several.
  const described = findings.at(-1) ?? describe(chosen, text, fields, engine ?? null, explainer, network, mask);
  return {
    ...base,
    status: 'recognised',
    fields: described.fields,
    verdict: described.verdict,
    alternatives: described.alternatives,
    guesses: [],
    remediation: described.remediation,
    confirm: described.confirm,
    durationMs: performance.now() - started,
  };
}

/** The first engine (of those the text points at) that reads a rejected statement in it. */
function statementOf(text: string, explainers: readonly EngineExplainer[]): ExplainReport['statement'] {
  for (const explainer of explainers) {
    const found = explainer.statementRejected?.(text);
    if (found && isEngineName(explainer.engine))
      return { engine: explainer.engine, code: found.code, meaning: found.meaning, words: maskUrlPasswords(found.words) };
  }
  return undefined;
}

function reportFields(fields: Fields): Finding['fields'] {
  return {
    ...(fields.host ? { host: fields.host } : {}),
    ...(fields.port ? { port: Number(fields.port) } : {}),
    ...(fields.user ? { user: fields.user } : {}),
    ...(fields.database ? { database: fields.database } : {}),
  };
}

/** One record's verdict, its names (from its own text only), its fix and the command that confirms it. */
function describe(
  entry: Judged,
  text: string,
  fields: Fields,
  engine: EngineName | null,
  explainer: EngineExplainer | undefined,
  network: NetworkExplainer,
  mask: (value: string) => string,
): Omit<Finding, 'occurrences' | 'lastLine'> {
  const best = entry.best as Ranked;
  const matched = mask(maskUrlPasswords(entry.host ? excerpt(text, entry.focus) : linesOf(text, best.index, best.end)));
  const meta = CAUSES[best.cause];
  const explained = { cause: best.cause, rule: { id: best.id, rank: best.rank }, fields, matched, text: mask(text.slice(entry.start, entry.end)) };
  return {
    engine,
    verdict: {
      step: stepOfCause(best.cause) ?? null,
      cause: best.cause,
      severity: meta.severity === 'warn' ? 'warn' : 'fail',
      title: meta.title,
      meaning: explainer?.meaning?.(explained) ?? meta.meaning,
      rule: best.id,
      rank: best.rank,
      matched,
      basis: best.basis,
    },
    fields: reportFields(fields),
    alternatives: alternativesOf(best, entry.readings),
    remediation: remediationOf(best.cause, explainer, network, explained),
    confirm: explainer ? confirmCommand(explainer, fields) : 'dbdoctor diagnose "$DATABASE_URL"',
  };
}

interface FindingKey {
  readonly cause: CauseCode | undefined;
  readonly fields: Fields;
}

/** The same error said again: the same cause, and no name that differs (a repeat may name less). */
function sameError(a: FindingKey, b: FindingKey): boolean {
  return a.cause === b.cause && FIELD_NAMES.every((name) => a.fields[name] === undefined || b.fields[name] === undefined || a.fields[name] === b.fields[name]);
}

/** Records grouped by error, ordered by each error's newest record. */
function grouped(entries: readonly Judged[], keyOf: (entry: Judged) => FindingKey): { entry: Judged; key: FindingKey; count: number }[] {
  const groups: { entry: Judged; key: FindingKey; count: number }[] = [];
  for (const entry of entries) {
    const key = keyOf(entry);
    const at = groups.findIndex((group) => sameError(group.key, key));
    const seen = at === -1 ? undefined : groups.splice(at, 1)[0];
    groups.push({ entry, key: seen ? { cause: key.cause, fields: { ...seen.key.fields, ...key.fields } } : key, count: (seen?.count ?? 0) + 1 });
  }
  return groups;
}

/** Each distinct error once (the same cause with the same names), ordered by its newest occurrence, with how often it was said. */
function findingsOf(
  text: string,
  recognised: readonly Judged[],
  keyOf: (entry: Judged) => FindingKey,
  describeEntry: (entry: Judged) => Omit<Finding, 'occurrences' | 'lastLine'>,
): Finding[] {
  return grouped(recognised, keyOf).map(({ entry, count }) => ({ ...describeEntry(entry), occurrences: count, lastLine: lineOf(text, entry.best as Ranked) }));
}

// ── words that decide only while connecting ───────────────────────────────────

/**
 * The causes a session that broke shows in the socket's words (a reset, a closed or silent peer, a
 * read that timed out): their records say so (`symptom`).
 */
function breaksSessions(cause: CauseCode): boolean {
  const record: CauseMeta = CAUSES[cause];
  return record.symptom === 'connecting-or-session';
}

const SESSION_UNDECIDED =
  'the text shows no connection attempt (no "connection to server … failed", no connect call in the stack), so these words fit a session that broke after it was established as well as a handshake that failed';

interface SessionContext {
  readonly text: string;
  readonly records: readonly Range[];
  readonly frames: readonly StackFrame[];
  /** Where readers found a connection attempt (libpq's frames, in any language). */
  readonly attempts: readonly Range[];
  readonly signs: readonly NonNullable<EngineExplainer['connecting']>[];
}

/**
 * Words that decide only inside a connection attempt (whileConnecting) are guesses when the text
 * shows none; and where they say a session broke, the socket's words in the same record (a reset,
 * a timeout, an EOF) say how it broke, not why a connection failed: guesses too.
 */
function inSession(readings: readonly Ranked[], context: SessionContext): Ranked[] {
  const broken = new Set<Range>();
  const recordOf = (reading: Ranked): Range =>
    context.records.find((range) => reading.index >= range.start && reading.index < range.end) ?? { start: 0, end: context.text.length };
  const judged = readings.map((reading) => {
    if (reading.session) broken.add(recordOf(reading));
    if (!reading.whileConnecting || reading.tentative) return reading;
    const record = recordOf(reading);
    if (connecting(reading, record, context)) return reading;
    broken.add(record);
    return { ...reading, tentative: true as const, undecided: reading.undecided ?? SESSION_UNDECIDED };
  });
  if (broken.size === 0) return judged;
  return judged.map((reading) => {
    if (reading.tentative || (reading.rank !== 'errno' && reading.rank !== 'symptom') || !breaksSessions(reading.cause)) return reading;
    const record = [...broken].find((range) => reading.index >= range.start && reading.index < range.end);
    if (!record || connecting(reading, record, context)) return reading;
    return {
      ...reading,
      tentative: true as const,
      undecided: 'the same text says an established session broke, so these words say how it broke, not why a connection could not be made',
    };
  });
}

/** Does the text show, around this reading, that a connection was being made? */
function connecting(reading: Ranked, record: Range, context: SessionContext): boolean {
  const { text } = context;
  // Words before it: on its line or the three before (a frame, "The connection attempt failed."), within its record.
  let from = reading.index;
  for (let lines = 0; lines < 4 && from > record.start; lines++) from = text.lastIndexOf('\n', from - 2) + 1;
  from = Math.max(from, record.start);
  if (context.attempts.some((attempt) => attempt.start >= from && attempt.start <= reading.index)) return true;
  const before = text.slice(from, reading.index);
  if (context.signs.some((signs) => new RegExp(signs.words.source, signs.words.flags.replace('g', '')).test(before))) return true;
  // Frames: Python's innermost (the last "File" before the message); any other frame of the record (Java prints the innermost first, after the message).
  const frames = context.frames.filter((frame) => frame.index >= record.start && frame.index <= record.end);
  const python = frames.filter((frame) => frame.text.startsWith('File "') && frame.index <= reading.index).at(-1);
  const others = frames.filter((frame) => !frame.text.startsWith('File "'));
  return [...(python ? [python] : []), ...others].some((frame) => context.signs.some((signs) => signs.frame.test(frame.text)));
}

/** Words that show a connection works, in a record after the newest error: that error is history. */
function workingAfter(
  newest: Range,
  records: readonly Range[],
  text: string,
  patterns: readonly (RegExp | undefined)[],
): { words: string; line: number } | undefined {
  for (const record of records.filter((range) => range.start >= newest.end)) {
    const part = text.slice(record.start, record.end);
    for (const pattern of patterns) {
      const found = pattern ? new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(part) : null;
      if (found) return { words: found[0], line: text.slice(0, record.start + found.index).split('\n').length };
    }
  }
  return undefined;
}

/**
 * What a tentative catalog message frames is tentative too: libpq's "could not receive data from
 * server: Connection reset by peer" on an established session says how it broke, not why a
 * connection could not be made.
 */
function covered(readings: readonly Ranked[]): Ranked[] {
  const frames = readings.filter((reading) => reading.tentative && reading.basis === 'catalog');
  if (frames.length === 0) return [...readings];
  return readings.map((reading) => {
    const frame =
      reading.rank === 'errno' && !reading.tentative ? frames.find((candidate) => candidate.index <= reading.index && candidate.end >= reading.end) : undefined;
    return frame ? { ...reading, tentative: true as const, ...(frame.undecided ? { undecided: frame.undecided } : {}) } : reading;
  });
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
    ...(rule.whileConnecting ? { whileConnecting: true as const } : {}),
    ...(rule.undecided ? { undecided: rule.undecided } : {}),
  });
  return {
    engines: rule.engines,
    read(text, flat) {
      const found: Reading[] = [];
      for (const match of matchAll(globalPattern(rule), text)) found.push(reading(match, match.index, match.index + match[0].length));
      if (found.length > 0) return found;
      // A message a terminal or a log collector wrapped over several lines.
      for (const match of matchAll(globalPattern(rule), flat.text))
        found.push(reading(match, flat.origin(match.index), flat.origin(match.index + Math.max(match[0].length - 1, 0)) + 1));
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
    ...(reader.attempts ? { attempts: (text: string) => (reader.attempts?.(text) ?? []).map((attempt) => ({ start: attempt.index, end: attempt.end })) } : {}),
    read(text, flat) {
      const found = [...reader.read(text)];
      if (found.length > 0) return found;
      return reader
        .read(flat.text)
        .map((reading) => ({ ...reading, index: flat.origin(reading.index), end: flat.origin(Math.max(reading.end - 1, reading.index)) + 1 }));
    },
  };
}

function fieldsOf(groups: Record<string, string | undefined> | undefined): Fields {
  const fields: Fields = {};
  for (const name of FIELD_NAMES) {
    const value = groups?.[name]?.trim();
    if (value) fields[name] = value.replace(/^\[(.*)\]$/, '$1');
  }
  // A name that runs over a line break or holds a control character is not one the client printed.
  return plausible(fields);
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

/**
 * A paste's error records: a record starts at a log prefix, a shell prompt, or a line that starts
 * at the margin; the lines that continue it stay in it (indented lines, "Caused by:", libpq's "Is
 * the server running…" and its one line per host, DETAIL/HINT, Python's chained exceptions, a
 * structured log line's further values).
 */
function errorRecordsOf(
  lines: readonly { readonly text: string; readonly record: boolean; readonly continues?: true }[],
  text: string,
  listsHosts: (before: string, line: string) => boolean,
): Range[] {
  const ranges: Range[] = [];
  let offset = 0;
  let start = 0;
  let chained = false;
  for (const line of lines) {
    // One client report's next host (libpq's line per address, in any language) continues it.
    const head =
      line.record ||
      (!line.continues &&
        !chained &&
        !CONTINUES.test(line.text) &&
        !(offset > start && !PROGRAM.test(line.text) && listsHosts(text.slice(start, offset - 1), line.text)));
    if (head && offset > start && text.slice(start, offset).trim() !== '') {
      ranges.push({ start, end: offset });
      start = offset;
    }
    if (line.text.trim() !== '') chained = CHAINED.test(line.text) || /:\s*$/.test(line.text);
    offset += line.text.length + 1;
  }
  ranges.push({ start, end: text.length });
  return ranges;
}

/** A line that continues the error before it. */
const CONTINUES =
  /^(?:\s|$|Caused by\b|Suppressed:|\[cause\]|Is the server running|(?:DETAIL|HINT|CONTEXT|LINE \d+|STATEMENT|QUERY|WHERE|TIP|DETALLE|PISTA|DÉTAIL|ASTUCE):|The above exception|During handling of the above|\(Background on this error|connection to server (?:at|on)\b|could not connect to server\b|[\^}\])])/;
/** A program's name before its message ("psql: error:", "pg_dump:"): a new report, not a report's next host. */
const PROGRAM = /^[\w.-]+:\s/;
/** A line after which the next exception (or a message a terminal wrapped after its colon) belongs to the same report. */
const CHAINED = /^(?:The above exception was the direct cause|During handling of the above exception|Caused by:?\s*$)/;

/** The 1-based line of a record's deciding words in the normalised text. */
function lineOf(text: string, best: Ranked): number {
  return text.slice(0, best.index).split('\n').length;
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

const within =
  (range: Range) =>
  (reading: Ranked): boolean =>
    reading.index >= range.start && reading.index < range.end;

function judgeRecord(record: Range, all: readonly Ranked[], text: string, explainers: readonly EngineExplainer[], splitters: readonly HostSplitter[]): Judged {
  const readings = said(all.filter(within(record)), text);
  const parts = hostPartsOf(text.slice(record.start, record.end), splitters).map((part) => ({
    ...part,
    start: part.start + record.start,
    end: part.end + record.start,
  }));
  const hosts: HostFinding[] = parts.map((part) => {
    const best = decide(readings.filter(within(part))).best;
    const port = part.port !== undefined && /^\d{1,5}$/.test(part.port) ? { port: Number(part.port) } : {};
    return best
      ? {
          host: part.host,
          ...port,
          step: stepOfCause(best.cause) ?? null,
          cause: best.cause,
          rule: best.id,
          rank: best.rank,
          matched: maskUrlPasswords(excerpt(text, part)),
        }
      : { host: part.host, ...port, step: null, cause: null, rule: null, rank: null, matched: null };
  });
  if (parts.length > 1) {
    // Each host's reading stands for itself: the verdict is the most specific host's, and what the
    // other hosts say is listed beside it, not counted as a contradiction.
    const perHost = parts
      .map((part) => decide(readings.filter(within(part))).best)
      .filter((reading): reading is Ranked => reading !== undefined)
      .sort(byDecisiveness);
    const outside = readings.filter((reading) => !parts.some((part) => within(part)(reading)));
    const { best, conflict } = decide([...(perHost[0] ? [perHost[0]] : []), ...outside].sort(byDecisiveness));
    const chosen = best && perHost[0] && byDecisiveness(perHost[0], best) <= 0 ? perHost[0] : best;
    const hostOf = chosen ? parts.find((part) => within(part)(chosen)) : undefined;
    const local = hostOf ? readings.filter(within(hostOf)) : readings;
    return {
      ...record,
      focus: hostOf ?? record,
      ...(hostOf ? { host: { host: hostOf.host.replace(/ \(.*\)$/, ''), ...(hostOf.port ? { port: hostOf.port } : {}) } } : {}),
      readings: local,
      best: chosen,
      conflict: chosen ? [] : conflict,
      hosts,
    };
  }
  const { best, conflict } = decide(readings);
  return { ...record, focus: record, readings, best, conflict, hosts };
}

/**
 * An error the user mentions in their own sentence ("I fixed the earlier "password authentication
 * failed" problem, but now …") is not what the program said: when the text says anything else, the
 * words in prose quotes are left out. Alone, they are all there is, and are read.
 */
function said(readings: Ranked[], text: string): Ranked[] {
  const spoken = readings.filter((reading) => !quotedInProse(reading, text));
  return spoken.length > 0 && spoken.length < readings.length ? spoken : readings;
}

/** Three words of prose, no colon, then an opening quote; the words read inside it; its closing quote, then a space or punctuation. */
const PROSE_BEFORE = /(?:^|\s)[\p{Ll}\p{Lu}][\p{Ll}'’]*(?:\s+\p{Ll}[\p{Ll}'’]*){2,}\s+(["“'‘`«])[^"“”'‘’`«»:\n]*$/u;
const CLOSING: Readonly<Record<string, string>> = { '"': '"', '“': '”', "'": "'", '‘': '’', '`': '`', '«': '»' };

function quotedInProse(reading: Ranked, text: string): boolean {
  const lineStart = text.lastIndexOf('\n', reading.index - 1) + 1;
  const before = PROSE_BEFORE.exec(text.slice(lineStart, reading.index));
  if (!before || before[0].includes(':')) return false;
  const close = CLOSING[before[1] ?? ''] ?? '"';
  const lineEnd = text.indexOf('\n', reading.end);
  const after = text.slice(reading.end, lineEnd === -1 ? undefined : lineEnd);
  const at = after.indexOf(close);
  return at !== -1 && !/[\n"“”«»]/.test(after.slice(0, at)) && /^(?:\s|[.,;:!?)]|$)/.test(after.slice(at + 1));
}

function hostPartsOf(text: string, splitters: readonly HostSplitter[]): HostPart[] {
  for (const splitter of splitters) {
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
  if (best.tentative) return { best: undefined, conflict: readings.filter((reading) => reading.tentative) };
  const veto = readings.find((reading) => reading.tentative && reading.basis === 'words' && reading.rank === best.rank && reading.cause === best.cause);
  if (veto) return { best: undefined, conflict: [veto] };
  const top = readings.filter((reading) => reading.rank === best.rank);
  const allows = (a: Ranked, b: Ranked): boolean =>
    a.cause === b.cause ||
    (a.also ?? []).some((alternative) => alternative.cause === b.cause) ||
    (b.also ?? []).some((alternative) => alternative.cause === a.cause);
  // Only the server's own evidence can contradict itself: a SQLSTATE or a MongoDB code against the server's words.
  const against =
    best.rank !== 'server'
      ? []
      : top.filter(
          (reading) => (reading.basis === 'code' || best.basis === 'code') && reading.basis !== best.basis && !reading.tentative && !allows(best, reading),
        );
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
  return text
    .slice(part.start, part.end)
    .replace(/\s+/g, ' ')
    .replace(/^[\s,{(]+|[\s,})]+$/g, '')
    .slice(0, 300);
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
    if (other.rank === best.rank) add(other.cause, `the text also says "${maskUrlPasswords(other.words).slice(0, 120)}"`);
  }
  return refs;
}

/** The verdict's own fields first, then what the other readings of the same record name, the field patterns, and the readers' frames. */
function extractFields(text: string, readings: readonly Ranked[], patterns: readonly FieldPattern[], sources: readonly Source[], first: Fields): Fields {
  const fields: Fields = { ...first };
  const take = (found: Fields): void => {
    for (const name of FIELD_NAMES) if (fields[name] === undefined && found[name] !== undefined) fields[name] = found[name];
  };
  for (const reading of readings) take(plausible(reading.fields ?? {}));
  for (const { pattern } of patterns) take(fieldsOf(new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(text)?.groups));
  for (const source of sources) if (source.fields) take(plausible(source.fields(text)));
  return fields;
}

/**
 * Only names a client could have printed go into the commands explain prints: a host that is a
 * name, an address or a socket directory; a port from 1 to 65535; a user or database without
 * control characters. Anything else read from a paste is left out (the command keeps its
 * placeholder).
 */
function plausible(found: Fields): Fields {
  const fields: Fields = {};
  for (const name of FIELD_NAMES) {
    const value = found[name];
    // eslint-disable-next-line no-control-regex
    if (value === undefined || value === '' || /[\u0000-\u001f\u007f]/.test(value)) continue;
    if (name === 'host' && !/^(?:[\p{L}\p{N}_.-]+|[0-9a-fA-F:.]+(?:%[\w.-]+)?|\/[\p{L}\p{N}_./@+-]*)$/u.test(value)) continue;
    if (name === 'port' && !(/^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535)) continue;
    fields[name] = value;
  }
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
function remediationOf(
  cause: CauseCode,
  explainer: EngineExplainer | undefined,
  network: NetworkExplainer,
  explained: Parameters<EngineExplainer['remediation']>[0],
): Remediation[] {
  return fixesOf(cause, explainer, network, explained).map(printableFix);
}

function fixesOf(
  cause: CauseCode,
  explainer: EngineExplainer | undefined,
  network: NetworkExplainer,
  explained: Parameters<EngineExplainer['remediation']>[0],
): Remediation[] {
  const own = explainer?.remediation(explained) ?? network.remediation(explained);
  if (own) return own;
  return [{ text: `Run the command below against the server: it checks the whole tree and names the fix for ${cause}.` }];
}

/** The diagnose command for what the text names: null when it cannot be printed as it runs (text/shell: unprintable). */
function confirmCommand(explainer: EngineExplainer, fields: Fields): string | null {
  const command = `dbdoctor diagnose ${shellQuote(explainer.url(fields))}`;
  return unprintable(command, COMMAND_CHARS) === undefined ? command : null;
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
    // Each reading that does not decide, most decisive first: its cause, then the causes its words also fit.
    for (const reading of conflict) {
      const words = `the text says "${maskUrlPasswords(reading.words).slice(0, 120)}" (${reading.id})`;
      add(
        reading.cause,
        reading.undecided
          ? `${words}, and ${reading.undecided}: a guess, not a diagnosis`
          : `${words}, which does not tell which cause: a guess, not a diagnosis`,
      );
      for (const alternative of reading.also ?? []) add(alternative.cause, `${alternative.why}: a guess, not a diagnosis`);
    }
    return refs.slice(0, 6);
  }
  for (const reading of conflict)
    add(
      reading.cause,
      `the text says "${maskUrlPasswords(reading.words).slice(0, 120)}" (${reading.id}), which other evidence in it contradicts: a guess, not a diagnosis`,
    );
  return refs.slice(0, 3);
}

/** For text no rule recognises: causes whose vocabulary it uses, said to be guesses. */
function guess(text: string): CauseRef[] {
  const refs: CauseRef[] = [];
  for (const { pattern, cause } of GUESSES) {
    const word = wordIn(pattern, text);
    if (word && !refs.some((ref) => ref.cause === cause)) {
      refs.push({ step: stepOfCause(cause) ?? null, cause, why: `the text mentions "${word}", but no rule knows its wording: a guess, not a diagnosis` });
    }
  }
  return refs.slice(0, 3);
}
