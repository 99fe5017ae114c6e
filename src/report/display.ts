import { terminalSafe, visible } from '../text/visible.js';

/**
 * Every report is full of text dbdoctor did not write: server messages, names from URLs and
 * environment files, paths from /proc. Before a renderer lays anything out, every string in the
 * report is made visible (text/visible): a control sequence or a bidi override shows as its escape
 * and cannot act on the terminal, and a line break cannot start a line that looks like dbdoctor's.
 * A generic walk, so that a field added to the report later is covered without anyone thinking of it.
 *
 *  - `command`: a remedy's command keeps its line breaks (a YAML snippet is several lines); its
 *    values were quoted when it was built, so it holds no other control character.
 *  - `evidence` and `details`: shown only as JSON (`jsonBlock`), whose own escaping applies.
 */
const KEEP_LINES = new Set(['command']);
const JSON_ONLY = new Set(['evidence', 'details']);

export function displayable<T>(value: T): T {
  const walk = (item: unknown, key: string | undefined): unknown => {
    if (typeof item === 'string') return visible(item, { lines: key !== undefined && KEEP_LINES.has(key) ? 'keep' : 'escape' });
    if (Array.isArray(item)) return item.map((entry) => walk(entry, key));
    if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      return Object.fromEntries(Object.entries(item).map(([name, entry]) => [visible(name), JSON_ONLY.has(name) ? entry : walk(entry, name)]));
    }
    return item;
  };
  return walk(value, undefined) as T;
}

/**
 * A JSON value for people to read (--verbose evidence, the markdown incident note): JSON escapes
 * control characters itself; the ones it leaves raw (DEL, C1, bidi and other format characters)
 * become \uXXXX escapes, which are JSON too.
 */
export function jsonBlock(value: unknown): string {
  return terminalSafe(JSON.stringify(value, null, 2));
}
