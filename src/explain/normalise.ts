import type { StackFrame } from '../engine/explainer.js';

/**
 * What a pasted text looks like once the way it travelled is undone, so that rules match the
 * message rather than its wrapping: terminal colours, Windows line ends, HTML entities, JSON, PHP
 * and Python escaping (`\"`, `\n`, `\u00e9`, `\xc3\xa9`), UTF-8 read as Latin-1, log prefixes
 * (timestamps, levels, process ids, syslog, kubectl --prefix, docker compose, glog), structured
 * log lines (JSON, whose string values are the message) and stack frames (Java, JavaScript, Python,
 * Go, Ruby), which name code, not causes. Line breaks are kept (some rules read a line on its
 * own); `flatten` gives the same text with every line break and indentation run as one space, for
 * messages a terminal or a log collector wrapped.
 */

/**
 * How much of a paste is read: enough for any stack trace, bounded for a pasted log file. A longer
 * paste is read from its end (the newest lines: a log's last error is the one that matters), from
 * the first whole line within the bound, and the report says how much was left out.
 */
export const MAX_TEXT = 256 * 1024;

/**
 * The longest run of non-space characters read whole. No message, name or address is longer: a
 * longer token is a blob (base64, a minified payload, a hex dump, a line of digits) whose middle
 * says nothing, and which patterns would otherwise walk at every offset. Its first and last
 * KEPT_OF_TOKEN characters stay, with " … " between them (spaces, so that no pattern reads the
 * two ends as one word).
 */
export const MAX_TOKEN = 1024;
const KEPT_OF_TOKEN = 256;
const LONG_TOKEN = new RegExp(`(?<!\\S)\\S{${MAX_TOKEN + 1},}`, 'g');

function elided(line: string): string {
  return line.length <= MAX_TOKEN ? line : line.replace(LONG_TOKEN, (token) => `${token.slice(0, KEPT_OF_TOKEN)} … ${token.slice(-KEPT_OF_TOKEN)}`);
}

export interface NormalisedLine {
  readonly text: string;
  /** The line began with a log prefix (a timestamp, syslog header, …) or a shell prompt: it starts a log record. */
  readonly record: boolean;
  /** The line is part of the line before it (a structured log line's further values): it never starts an error record. */
  readonly continues?: true;
}

export interface Normalised {
  /** The lines joined with "\n": what rules are matched against. */
  readonly text: string;
  readonly lines: readonly NormalisedLine[];
  /** The stack frames taken out, with where each stood (StackFrame.index). */
  readonly frames: readonly StackFrame[];
  /** When the paste was longer than MAX_TEXT: how many characters it had, and how many of its last ones were read. */
  readonly truncated?: { readonly total: number; readonly read: number };
}

/** The newest part of a long paste: its last MAX_TEXT characters, from the first line that starts within them. */
function tail(raw: string): { text: string; truncated?: Normalised['truncated'] } {
  if (raw.length <= MAX_TEXT) return { text: raw };
  const cut = raw.slice(-MAX_TEXT);
  const firstLine = cut.indexOf('\n');
  const text = firstLine === -1 || firstLine === cut.length - 1 ? cut : cut.slice(firstLine + 1);
  return { text, truncated: { total: raw.length, read: text.length } };
}

/**
 * What a terminal would not show as text: escape sequences (colours, OSC window titles and
 * hyperlinks), a character a backspace took back, and other control characters. Line breaks and
 * tabs stay.
 */
function withoutControls(text: string): string {
  let clean = text
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;?<=>!]*[ -/]*[@-~]/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b[@-Z\\-_]?/g, '');
  // eslint-disable-next-line no-control-regex
  for (let pass = 0; pass < 64 && /[^\n\u0008]\u0008/.test(clean); pass++) clean = clean.replace(/[^\n\u0008]\u0008/g, '');
  // eslint-disable-next-line no-control-regex
  return clean.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/** Anything that still holds an escape a JSON, PHP or Python string would have. */
const ESCAPED = /\\["'nt]|\\u[0-9a-fA-F]{4}|\\x[89a-fA-F][0-9a-fA-F]/;

export function normalise(raw: string): Normalised {
  const { text: read, truncated } = tail(raw);
  let text = withoutControls(read.replace(/\r\n?/g, '\n'));
  text = text.replace(/[\u00a0\u2007\u202f]/g, ' ').replace(/[\u200b\u200e\u200f\ufeff]/g, '');
  text = undoMojibake(text).replace(/[\u0080-\u009f]/g, '');
  text = decodeEntities(text);
  const lines: NormalisedLine[] = [];
  const frames: { line: number; text: string }[] = [];
  // A structured log line is parsed as pasted (its escapes are JSON's); the rest is unescaped as a whole.
  const pastedLines = text.split('\n').map((line) => ({ line, json: jsonLine(line) }));
  const escaped = ESCAPED.test(
    pastedLines
      .filter(({ json }) => json === undefined)
      .map(({ line }) => line)
      .join('\n'),
  );
  let skipIndentedAfter = -1;
  for (const { line: pasted, json: parsed } of pastedLines) {
    if (parsed !== undefined) {
      const json = withoutControls(ESCAPED.test(parsed) ? unescape(parsed) : parsed);
      for (const [index, part] of json.split('\n').entries())
        lines.push({ text: elided(part), record: index === 0, ...(index > 0 ? { continues: true as const } : {}) });
      skipIndentedAfter = -1;
      continue;
    }
    // Escapes undone may spell control characters again (\u0007): they go too.
    for (const rawLine of (escaped ? withoutControls(unescape(unescape(pasted))) : pasted).split('\n')) {
      const prompt = SHELL_PROMPT.test(rawLine);
      if (prompt) {
        // What the user typed is not what a program said; the prompt starts a new record.
        lines.push({ text: '', record: true });
        skipIndentedAfter = -1;
        continue;
      }
      const stripped = stripPrefix(rawLine);
      const record = stripped.record;
      const rest = stripped.rest.replace(RUBY_LOCATION, '');
      const indent = /^\s*/.exec(rest)?.[0].length ?? 0;
      // A Python frame's source line (and its ^^^^ markers) is indented deeper than its "File" line.
      if (skipIndentedAfter >= 0 && indent > skipIndentedAfter && !record) continue;
      skipIndentedAfter = -1;
      if (STACK_FRAME.test(rest)) {
        if (/^\s*File "/.test(rest)) skipIndentedAfter = indent;
        frames.push({ line: lines.length, text: elided(rest.trim()) });
        continue;
      }
      lines.push({ text: elided(rest), record });
    }
  }
  const starts: number[] = [];
  let offset = 0;
  for (const line of lines) {
    starts.push(offset);
    offset += line.text.length + 1;
  }
  return {
    text: lines.map((line) => line.text).join('\n'),
    lines,
    frames: frames.map((frame) => ({ index: starts[frame.line] ?? Math.max(0, offset - 1), text: frame.text })),
    ...(truncated ? { truncated } : {}),
  };
}

/**
 * A shell prompt and the command typed after it: a terminal paste of several attempts is several
 * records. POSIX shells ("$ ", "user@host:~/app$ ", "root@db:~# ", a "(venv) " before), PowerShell
 * ("PS C:\\app> "), cmd ("C:\\app>"), Python's ">>> ", psql's "appdb=# ", cqlsh's "cqlsh:ks> ".
 */
const SHELL_PROMPT =
  /^\s*(?:\([\w.-]+\)\s+)?(?:\$|[\w.-]+@[\w.-]+(?::[^\s$#]*)?\s?[$#]|\[[\w.-]+@[\w.-]+[^\]]*\][$#]|PS [A-Za-z]:\\[^>]*>|[A-Za-z]:\\[^>\s]*>|>>>|[\w-]+=[#>]|cqlsh(?::[\w-]+)?>)\s+\S/;

/** A frame names code: a Java/JS "at …", .NET's "at Type.Method(args)" and its "--- End of … ---" lines, Python's File "…", line n, Go's file.go:n and goroutines, Ruby's "from …:n:in". */
const STACK_FRAME =
  /^\s+(?:at|bei) [\w.`<>|$+]+(?:\[[^\]]*\])?\([^()]*\)(?: in \S.*:(?:line|Zeile) \d+)?\s*$|^\s*--- (?:End of|Ende der) [^-]*---\s*$|^\s+at \S.*(?:\.(?:java|kt|scala|groovy|js|mjs|cjs|ts):\d+|Native Method|Unknown Source|<anonymous>|:\d+:\d+)\)?\]?(?:\s+~?\[[^\]]*\])?\s*$|^\s*File "[^"]+", line \d+|^\s*\.\.\. \d+ (?:more|common frames omitted)\s*$|^\s+\^+\s*$|^\s*(?:\/|[A-Za-z]:\\)[^\s:]+\.go:\d+(?: \+0x[0-9a-f]+)?\s*$|^goroutine \d+ \[[^\]]*\]:\s*$|^\s*from \S+:\d+:in `/;
/** Ruby prints the message after the first frame's location ("db.rb:83:in `connect': FATAL: …"): the location goes, the message stays. */
const RUBY_LOCATION = /^\s*\S+\.rb:\d+:in `[^']*': /;

/**
 * Log prefixes, tried in turn until none matches: kubectl's --prefix, docker compose's
 * "service  | ", timestamps (ISO 8601, with a zone or not, in brackets or not), a syslog header,
 * glog's "E0501 10:00:00.123456 1 file.go:12]", then process ids and a level word.
 */
const RECORD_PREFIXES: readonly RegExp[] = [
  /^\[pod\/[^\]\s]+\]\s*/,
  /^[\w.-]+(?:[-_]\d+)?\s+\|\s?/,
  /^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}|\s?[A-Z]{2,5}\b)?\]?:?\s*/,
  /^\s*\[?\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s*/,
  /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ [\w./-]+(?:\[\d+\])?:\s*/,
  /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [\w./-]+:\d+\]\s*/,
  /^\s*\[?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s+/,
];
/** After the prefix: a process id, a logger before its level, the level, a bracketed thread, logback's "%logger - " (o.p.Driver - ). */
const AFTER_PREFIX: readonly RegExp[] = [
  /^\[\d+\](?:[-:]\d+)?:?\s*/,
  /^[\w./-]+\s+(?=\[?(?:ERROR|ERR|WARN(?:ING)?|INFO|DEBUG|TRACE|CRITICAL|SEVERE|FATAL|error|warn(?:ing)?|info)\b)/,
  /^\[?(?:ERROR|ERR|WARN(?:ING)?|INFO|DEBUG|TRACE|CRITICAL|CRIT|SEVERE|error|warn(?:ing)?|info|debug)\]?:?\s+/,
  /^\[[\w .:/-]{1,60}\]\s+/,
  /^[\w$]+(?:\.[\w$]+)+\s+-\s+/,
];

function stripPrefix(line: string): { rest: string; record: boolean } {
  let rest = line;
  let record = false;
  for (let pass = 0; pass < 4; pass++) {
    const prefix = RECORD_PREFIXES.find((pattern) => pattern.test(rest));
    if (!prefix) break;
    rest = rest.replace(prefix, '');
    record = true;
  }
  if (record) for (const pattern of AFTER_PREFIX) rest = rest.replace(pattern, '');
  return { rest, record };
}

/** A structured log line: its string values, the message ones first, one per line. */
function jsonLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}') || trimmed.length < 8) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  const values: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      if (value.length > 2 && !/^\d{4}-\d{2}-\d{2}T/.test(value)) values.push(value);
    } else if (value && typeof value === 'object' && depth < 6) {
      for (const inner of Object.values(value)) walk(inner, depth + 1);
    }
  };
  walk(parsed, 0);
  return values.length > 0 ? values.join('\n') : undefined;
}

const ENTITIES: Readonly<Record<string, string>> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&', nbsp: ' ', laquo: '«', raquo: '»' };

function decodeEntities(text: string): string {
  if (!/&(?:#\d{2,5}|#x[0-9a-fA-F]{2,4}|[a-z]{2,6});/.test(text)) return text;
  return text.replace(/&(#\d{2,5}|#x[0-9a-fA-F]{2,4}|[a-z]{2,6});/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return ENTITIES[name] ?? whole;
  });
}

/** One level of JSON / PHP / Python string escaping; runs of \xNN that spell UTF-8 become their characters. */
function unescape(text: string): string {
  return text
    .replace(/(?:\\x[0-9a-fA-F]{2})+/g, (run) => {
      const bytes = Buffer.from(
        run
          .split('\\x')
          .slice(1)
          .map((hex) => Number.parseInt(hex, 16)),
      );
      const decoded = bytes.toString('utf8');
      // eslint-disable-next-line no-control-regex
      return decoded.includes('\ufffd') || /[\u0000-\u001f]/.test(decoded) ? run : decoded;
    })
    .replace(/\\u([0-9a-fA-F]{4})/g, (_whole, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\\r\\n|\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\(["'/])/g, '$1')
    .replace(/\\\\/g, '\\');
}

/** UTF-8 shown as Latin-1 ("autentificaciÃ³n"): read back as UTF-8 when that gives clean text. */
function undoMojibake(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u00c2-\u00f4][\u0080-\u00bf]/.test(text) || /[^\u0000-\u00ff]/.test(text)) return text;
  const decoded = Buffer.from(text, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? text : decoded;
}

/**
 * The text with every line break (and the indentation after it) as one space, and where each
 * character came from, so a match in the flat text points back into the lines.
 */
export function flatten(text: string): { readonly text: string; readonly origin: (index: number) => number } {
  const origins: number[] = [];
  let flat = '';
  const pattern = /[ \t]*\n\s*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index ?? 0;
    for (let index = last; index < start; index++) origins.push(index);
    flat += `${text.slice(last, start)} `;
    origins.push(start);
    last = start + match[0].length;
  }
  for (let index = last; index < text.length; index++) origins.push(index);
  flat += text.slice(last);
  return { text: flat, origin: (index) => origins[Math.min(index, origins.length - 1)] ?? 0 };
}

/** The patterns normalise runs on every line, by name: test/explain/linear.test.ts holds each to linear time on long lines. */
export const LINE_PATTERNS: Readonly<Record<string, RegExp>> = {
  ESCAPED,
  SHELL_PROMPT,
  STACK_FRAME,
  RUBY_LOCATION,
  LONG_TOKEN,
  ...Object.fromEntries(RECORD_PREFIXES.map((pattern, index) => [`RECORD_PREFIXES[${index}]`, pattern])),
  ...Object.fromEntries(AFTER_PREFIX.map((pattern, index) => [`AFTER_PREFIX[${index}]`, pattern])),
};
