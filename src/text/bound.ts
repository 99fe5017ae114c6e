import { unprintable } from './shell.js';

/**
 * What a server sends is kept as evidence and shown, and a hostile or broken server can send
 * megabytes where a version string belongs. Every server-supplied string is cut to a length fit
 * for a report where it is read (`bounded`), and every finding once more before it is reported
 * (`boundFinding`), so that no output grows with what a peer chose to send.
 */

/** A server's message, detail or hint: PostgreSQL's own stay far below this. */
export const MESSAGE_CHARS = 1000;
/** A name or a short value: a version, a data centre, a replica-set member, a setting. */
export const NAME_CHARS = 256;
/** Any string in a finding's evidence, as a last net. */
export const EVIDENCE_CHARS = 4000;
/** A finding's summary or a remedy's text. */
export const SUMMARY_CHARS = 4000;
/** Items kept of any list in evidence. */
export const LIST_ITEMS = 200;
/** Keys kept of any object in evidence (a server's parameters, a console's settings). */
export const OBJECT_KEYS = 200;
/** A command longer than this is not printed: cutting one would change what it does. */
export const COMMAND_CHARS = 8000;

/** `text` cut to at most `max` characters (never inside a surrogate pair), saying how much was left out. */
export function bounded(text: string, max: number = NAME_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}… [${text.length - end} more characters]`;
}

/** Strings, lists and objects inside a JSON-like value, each bounded; the shape is kept. */
export function boundedDeep<T>(value: T, chars: number = EVIDENCE_CHARS): T {
  const walk = (item: unknown, depth: number): unknown => {
    if (typeof item === 'string') return bounded(item, chars);
    if (depth > 12) return '[nested too deeply]';
    if (Array.isArray(item)) {
      const kept = item.slice(0, LIST_ITEMS).map((entry) => walk(entry, depth + 1));
      return item.length > LIST_ITEMS ? [...kept, `… [${item.length - LIST_ITEMS} more items]`] : kept;
    }
    if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      const entries = Object.entries(item);
      const kept = entries.slice(0, OBJECT_KEYS).map(([key, entry]) => [bounded(key, NAME_CHARS), walk(entry, depth + 1)]);
      if (entries.length > OBJECT_KEYS) kept.push(['…', `${entries.length - OBJECT_KEYS} more keys`]);
      return Object.fromEntries(kept);
    }
    return item;
  };
  return walk(value, 0) as T;
}

interface Fix {
  readonly text: string;
  readonly command?: string | undefined;
  readonly language?: 'shell' | 'sql' | 'powershell' | undefined;
}

interface BoundableFinding {
  readonly summary: string;
  readonly evidence: Record<string, unknown>;
  readonly remediation: readonly Fix[];
}

/**
 * The last net, applied to every finding the engine reports: summary, evidence and remedy texts
 * bounded. A command is never cut (half a quoted word would run something else), nor shown other
 * than as it runs: one that cannot be printed (text/shell: unprintable — too long, or holding a
 * value no quoting writes the same way in every shell) is left out, and its text says why.
 */
export function boundFinding<F extends BoundableFinding>(finding: F): F {
  return {
    ...finding,
    summary: bounded(finding.summary, SUMMARY_CHARS),
    evidence: boundedDeep(finding.evidence),
    remediation: finding.remediation.map(printableFix),
  };
}

/** A remedy as printed: its text bounded, its command kept whole or left out with the reason. */
export function printableFix(fix: Fix): Fix {
  const why = fix.command === undefined ? undefined : unprintable(fix.command, COMMAND_CHARS);
  if (why === undefined) return { ...fix, text: bounded(fix.text, SUMMARY_CHARS) };
  const { command: _command, language: _language, ...rest } = fix;
  return { ...rest, text: `${bounded(fix.text, SUMMARY_CHARS)} (the command is left out: ${why})` };
}
