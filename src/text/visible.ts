/**
 * Untrusted text is data. dbdoctor prints text it did not write — server error messages, version
 * strings, names from URLs, environment and config files, pasted logs — and a terminal obeys the
 * control sequences in what it is given: OSC 52 writes the clipboard, others clear the screen,
 * retitle the window, hide or recolour text; bidi overrides reorder what is shown. So every such
 * character is shown as a visible escape instead (ESC as \x1b, U+202E as \u202e), never passed on.
 *
 * Two layers use this module: renderers make every untrusted string visible (`visible`), and the
 * CLI's writers pass every byte through `terminalSafe`, which lets through only dbdoctor's own
 * colours and progress-line codes (`OWN_SEQUENCES`) — a net for any text a renderer forgot.
 */

/**
 * What is never printed as is: C0 controls (tab and line feed aside), DEL, C1 controls (U+0080–
 * U+009F: 8-bit CSI, OSC and DCS on some terminals), Unicode format characters (Cf: bidi
 * embeddings, overrides and isolates, zero-width characters, the BOM, tag characters), the line
 * and paragraph separators, and every other character Unicode says a renderer may draw as nothing
 * (Default_Ignorable_Code_Point: Hangul fillers, variation selectors, the combining grapheme
 * joiner, Mongolian free variation selectors, Khmer inherent vowels, and the unassigned code points
 * reserved as invisible, U+2065, U+E0080…).
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
// eslint-disable-next-line no-control-regex
const INVISIBLE_ALL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
// eslint-disable-next-line no-control-regex
const INVISIBLE_OR_NEWLINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/** Whether `text` holds a character a terminal would not show as itself (line feed and tab included). */
export function hasInvisible(text: string): boolean {
  return INVISIBLE.test(text) || /[\n\t]/.test(text);
}

/** Whether a character (one code point) is one `visible` escapes. */
export function isInvisible(character: string): boolean {
  return INVISIBLE.test(character) || character === '\n' || character === '\t';
}

/** The visible escape of one code point: \n, \r, \t, \x1b for the first 256, \u202e beyond. */
export function escapeCodePoint(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (character === '\n') return '\\n';
  if (character === '\r') return '\\r';
  if (character === '\t') return '\\t';
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

export interface VisibleOptions {
  /** 'escape' (the default): a line break is shown as \n, so one value stays on one line. */
  readonly lines?: 'escape' | 'keep';
}

/**
 * `text` with every control, format and separator character shown as its escape. Backslashes are
 * left alone, so it is idempotent: already visible text comes back unchanged. Tabs are kept (they
 * move the cursor, nothing more).
 */
export function visible(text: string, options: VisibleOptions = {}): string {
  const pattern = options.lines === 'keep' ? INVISIBLE_ALL : INVISIBLE_OR_NEWLINE;
  return text.replace(pattern, (character) => (character === '\t' ? '\t' : escapeCodePoint(character)));
}

/** Every string inside a JSON-like value made visible (object keys too); numbers and the like kept. */
export function visibleDeep<T>(value: T, options: VisibleOptions = {}): T {
  return mapStrings(value, (text) => visible(text, options));
}

/** `value` with `map` applied to every string in it, keys included; the shape is unchanged. */
export function mapStrings<T>(value: T, map: (text: string) => string): T {
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return map(item);
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      return Object.fromEntries(Object.entries(item).map(([key, entry]) => [map(key), walk(entry)]));
    }
    return item;
  };
  return walk(value) as T;
}

/**
 * The terminal codes dbdoctor writes itself: kleur's colours (bold, dim, red, green, yellow, cyan
 * and their resets) and a progress line's "back to column 0, clear the line". Whoever adds another
 * code (a cursor movement, a new colour) adds it here, or the writers will show it escaped.
 */
const OWN_SGR_PARAMETERS = new Set(['0', '1', '2', '22', '31', '32', '33', '36', '39']);
// eslint-disable-next-line no-control-regex
const OWN_SEQUENCES = /\r?\u001b\[(?:2K|K|0K)|\u001b\[([0-9;]*)m/y;

/**
 * The output boundary: everything the CLI writes passes through here. dbdoctor's own colour and
 * line codes pass; every other control, format or separator character becomes a \uXXXX escape
 * (the one form that is also valid inside a JSON string, where it reads back as the very same
 * character: JSON.stringify leaves DEL, C1 and format characters raw). Line feeds and tabs pass.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(text)) return text;
  let out = '';
  let index = 0;
  while (index < text.length) {
    const character = String.fromCodePoint(text.codePointAt(index) ?? 0);
    if (character === '\u001b' || character === '\r') {
      OWN_SEQUENCES.lastIndex = index;
      const own = OWN_SEQUENCES.exec(text);
      if (own && (own[1] === undefined || own[1].split(';').every((parameter) => OWN_SGR_PARAMETERS.has(parameter === '' ? '0' : parameter)))) {
        out += own[0];
        index += own[0].length;
        continue;
      }
    }
    out += character !== '\n' && character !== '\t' && INVISIBLE.test(character) ? jsonEscape(character) : character;
    index += character.length;
  }
  return out;
}

/** \uXXXX, or a surrogate pair of them beyond the BMP: valid in JSON and JavaScript, readable elsewhere. */
function jsonEscape(character: string): string {
  let out = '';
  for (let unit = 0; unit < character.length; unit += 1) out += `\\u${character.charCodeAt(unit).toString(16).padStart(4, '0')}`;
  return out;
}
