import type { Fields, Reader, Reading } from '../../../engine/explainer.js';
import { TRANSLATIONS } from './catalogs.generated.js';
import { CATALOG_MESSAGES, type ArgKind, type CatalogMessage, type CatalogName } from './selection.js';

/**
 * Reads PostgreSQL's own messages in every language its catalogs ship (catalogs.generated.ts,
 * selected by selection.ts): each translation becomes a pattern in which the literal words are
 * matched as they are (whitespace and case aside) and each placeholder is a capture typed by what
 * it holds: %s / {0} as text, %d / %u as digits, %c as one character; the user, database, host
 * and port the message names come out as fields. A pattern is compiled only when its longest
 * literal word is in the text, so a paste costs a substring search per message.
 */
export interface CompiledMessage {
  readonly catalog: CatalogName;
  readonly message: CatalogMessage;
  readonly lang: string;
  readonly template: string;
  /** Lower-cased literal the text must contain before the pattern is tried. */
  readonly needle: string;
  pattern(): RegExp;
}

/** printf's conversions (with positional %2$s) as PostgreSQL and libpq use them, and MessageFormat's {0}. */
const PRINTF = /%(?:(\d+)\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L)?([sdiuxXcmfgp%])/g;
const MESSAGE_FORMAT = /\{(\d+)(?:,[^}]*)?\}/g;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Literal words: whitespace runs match any whitespace (messages get wrapped and re-indented). */
const literal = (text: string): string => escape(text.replace(/[\u00a0\u202f]/g, ' ')).replace(/\s+/g, '\\s+');

/**
 * A name a message starts with ("%s kann nicht …") is bounded: unbounded, the pattern would walk
 * the rest of the line from every offset of a long line before finding the message's words
 * (quadratic: minutes for a 200 KB paste). No name a server prints is longer.
 */
const LEADING_NAME = '[^\\n]{1,256}?';

function capture(kind: ArgKind | undefined, conversion: string, last: boolean, used: Set<string>, first = false): string {
  if (conversion === 'd' || conversion === 'i' || conversion === 'u' || conversion === 'x' || conversion === 'X') {
    if (kind === 'port' && !used.has('port')) {
      used.add('port');
      return '(?<port>\\d{1,5})';
    }
    return '-?[0-9a-fA-F]+';
  }
  if (conversion === 'c') return '\\S';
  if (kind === 'endpoint' && !used.has('host')) {
    used.add('host');
    used.add('port');
    return '\\[?(?<host>[^\\s:\\]]+|[0-9a-fA-F:]+)\\]?:(?<port>\\d{1,5})';
  }
  // At the end of a message, a name stops before a closing full stop or the end of the line.
  const body = last ? '[^\\n]*?(?=[.。]?[ \\t]*(?:\\n|$))' : first ? LEADING_NAME : '[^\\n]+?';
  if (kind === 'address' && !used.has('address')) {
    used.add('address');
    return '(?<address>[0-9a-fA-F.:]+)';
  }
  if (kind && kind !== 'endpoint' && !used.has(kind)) {
    used.add(kind);
    return `(?<${kind}>${body})`;
  }
  return body;
}

/** A catalog message's translation as a pattern source and its needle. */
/**
 * A message of several sentences is known by its first (pastes get cut, and clients re-wrap the
 * rest), when that sentence is long enough to stand alone; a final full stop is not required.
 */
function firstSentence(template: string): string {
  const text = template.trim().replace(/[.。]$/, '');
  const placeholder = /%[-+ #0-9.$hlzjtL]*[sdiuxXcm]|\{\d+\}/;
  for (const end of text.matchAll(/[.。!?](?=\s)|\n/g)) {
    const first = text.slice(0, end.index);
    // Cut only where nothing after the cut names anything: the fields must still come out.
    if (placeholder.test(text.slice(end.index))) continue;
    if (first.replace(new RegExp(placeholder.source, 'g'), ' ').trim().length >= 20) return first;
  }
  return text;
}

export function compileTemplate(template: string, catalog: CatalogName, args: readonly ArgKind[] = [], whole = false): { source: string; needle: string } {
  // A frame is read whole: the host and port it names come after its first line (libpq up to 13).
  const text = whole ? template.trim() : firstSentence(template);
  const placeholder = catalog === 'pgjdbc' ? MESSAGE_FORMAT : PRINTF;
  const parts: string[] = [];
  const literals: string[] = [];
  const used = new Set<string>();
  let last = 0;
  let ordinal = 0;
  const source = catalog === 'pgjdbc' ? text.replace(/''/g, "'") : text;
  const matches = [...source.matchAll(placeholder)];
  for (const [index, match] of matches.entries()) {
    const before = source.slice(last, match.index);
    last = match.index + match[0].length;
    if (catalog !== 'pgjdbc' && match[2] === '%') {
      parts.push(literal(before), '%');
      literals.push(before);
      continue;
    }
    parts.push(literal(before));
    literals.push(before);
    const position = catalog === 'pgjdbc' ? Number(match[1]) : match[1] ? Number(match[1]) - 1 : ordinal;
    ordinal++;
    const atEnd = index === matches.length - 1 && source.slice(last).trim() === '';
    parts.push(capture(args[position], catalog === 'pgjdbc' ? 's' : (match[2] ?? 's'), atEnd, used, parts.join('') === ''));
  }
  parts.push(literal(source.slice(last)));
  literals.push(source.slice(last));
  // The rarest-looking word: the longest, and of two as long the one outside ASCII (a CJK word over "SSL").
  const weight = (word: string): number => word.length * 2 + (word.split('').some((char) => char.charCodeAt(0) > 0x7f) ? 1 : 0);
  const needle = literals
    .flatMap((part) => part.replace(/[\u00a0\u202f]/g, ' ').split(/[\s"'«»“”„「」『』()]+/))
    .reduce((best, word) => (weight(word) > weight(best) ? word : best), '')
    .toLowerCase();
  return { source: parts.join(''), needle };
}

/** Messages with fewer letters than this (placeholders aside) say too little to be read on their own. */
const MIN_LETTERS = 6;
/** Letters, placeholders and spaces aside; a Han, kana or Hangul character says as much as a short word. */
const letters = (template: string): number => {
  let sum = 0;
  for (const char of template.replace(/%[-+ #0-9.$hlzjtL]*[sdiuxXcm%]|\{\d+\}|\s/g, '')) {
    const code = char.charCodeAt(0);
    sum += (code >= 0x3040 && code <= 0x30ff) || (code >= 0x3400 && code <= 0x9fff) || (code >= 0xac00 && code <= 0xd7af) ? 3 : 1;
  }
  return sum;
};

function compileAll(): CompiledMessage[] {
  const compiled: CompiledMessage[] = [];
  for (const catalog of Object.keys(CATALOG_MESSAGES) as CatalogName[]) {
    for (const message of CATALOG_MESSAGES[catalog]) {
      for (const [lang, texts] of Object.entries(TRANSLATIONS[catalog][message.key] ?? {})) {
        for (const [template] of texts) {
          const { source, needle } = compileTemplate(template, catalog, message.args, message.cause === null);
          // Too little to go on: a message whose words, placeholders aside, are fewer than a few letters.
          if (letters(template) < MIN_LETTERS || needle === '') continue;
          let pattern: RegExp | undefined;
          compiled.push({ catalog, message, lang, template, needle, pattern: () => (pattern ??= new RegExp(source, 'giu')) });
        }
      }
    }
  }
  return compiled;
}

let all: CompiledMessage[] | undefined;
export function catalogMessages(): readonly CompiledMessage[] {
  all ??= compileAll();
  return all;
}

function fieldsOf(groups: Record<string, string | undefined> | undefined): Fields {
  const fields: Fields = {};
  for (const name of ['host', 'port', 'user', 'database'] as const) {
    const value = groups?.[name]?.trim();
    if (value) fields[name] = value;
  }
  // A socket frame names the socket file: its directory is the host, the number at its end the port (as libpq's host=/dir port=N).
  const socket = fields.host ? /^(?<dir>\/.*)\/\.s\.PGSQL\.(?<port>\d{1,5})$/.exec(fields.host) : null;
  if (socket?.groups) return { ...fields, host: socket.groups.dir ?? fields.host, port: fields.port ?? socket.groups.port };
  return fields;
}

export interface CatalogHit {
  readonly compiled: CompiledMessage;
  readonly index: number;
  readonly end: number;
  readonly words: string;
  readonly fields: Fields;
  /** The address a host name resolved to, when the message names it (libpq: "db" (10.0.0.7)). */
  readonly address?: string;
}

/** Every occurrence of every catalog message in the text (frames included). */
export function findCatalogMessages(text: string, only?: (message: CompiledMessage) => boolean): CatalogHit[] {
  const lower = text.toLowerCase();
  const hits: CatalogHit[] = [];
  for (const compiled of catalogMessages()) {
    if ((only && !only(compiled)) || !lower.includes(compiled.needle)) continue;
    const pattern = compiled.pattern();
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text), count = 0; match && count < 500; match = pattern.exec(text), count++) {
      if (match[0].length === 0) pattern.lastIndex++;
      hits.push({
        compiled,
        index: match.index,
        end: match.index + match[0].length,
        words: match[0],
        fields: fieldsOf(match.groups),
        ...(match.groups?.address ? { address: match.groups.address } : {}),
      });
    }
  }
  return hits;
}

/**
 * Of two messages read at the same place, the longer: "canceling statement due to lock timeout"
 * in Italian starts with the whole of "… statement timeout" in Italian.
 */
function longestAt(hits: readonly CatalogHit[]): CatalogHit[] {
  return hits.filter(
    (hit) =>
      !hits.some(
        (other) =>
          other !== hit &&
          other.compiled.message.key !== hit.compiled.message.key &&
          other.index <= hit.index &&
          other.end >= hit.end &&
          other.end - other.index > hit.end - hit.index,
      ),
  );
}

export const catalogReader: Reader = {
  id: 'postgres-catalogs',
  read(text) {
    const readings: Reading[] = [];
    const hits = findCatalogMessages(text);
    for (const hit of longestAt(hits.filter((candidate) => candidate.compiled.message.cause !== null))) {
      const { message, catalog, lang } = hit.compiled;
      if (!message.cause) continue;
      readings.push({
        id: `catalog.${catalog}.${message.key}.${lang}`,
        basis: 'catalog',
        rank: message.rank,
        cause: message.cause,
        ...(message.also ? { also: message.also } : {}),
        index: hit.index,
        end: hit.end,
        words: hit.words,
        fields: hit.fields,
        ...(message.tentative ? { tentative: true as const } : {}),
        // Outside a connection attempt (libpq's frames: `attempts` below), an established session that broke.
        ...(message.unframedIsSession ? { whileConnecting: true as const } : {}),
        ...(message.undecided ? { undecided: message.undecided } : {}),
      });
    }
    return readings;
  },
  attempts(text) {
    return findCatalogMessages(text, (compiled) => compiled.message.cause === null).map((hit) => ({ index: hit.index, end: hit.end }));
  },
  fields(text) {
    const fields: Fields = {};
    for (const hit of findCatalogMessages(text, (compiled) => compiled.message.cause === null)) {
      for (const name of ['host', 'port', 'user', 'database'] as const)
        if (fields[name] === undefined && hit.fields[name] !== undefined) fields[name] = hit.fields[name];
    }
    return fields;
  },
};
