import { visible } from '../text/visible.js';

/**
 * Every secret dbdoctor learns (passwords from URLs, PGPASSWORD, .pgpass, .env) is registered
 * here, and every byte dbdoctor writes passes through `redact`. Renderers also mask passwords
 * structurally; this is the safety net that catches a secret echoed back inside an error message.
 */
export const MASK = '****';

/**
 * The literal safety net only replaces secrets of at least this length, and only as whole tokens
 * (not inside a longer word): replacing every "a" for a one-letter password, or the "postgres" in
 * "postgresql://", would garble the report. Such secrets are still masked wherever dbdoctor renders
 * a URL or a setting itself, which is where a password would otherwise appear.
 */
const MIN_LITERAL_LENGTH = 4;

/**
 * Nor does it replace a secret made of digits only (or a JSON literal): such a token cannot be
 * told from a port, a count or a timing, and replacing one would corrupt JSON numbers, metric
 * values and perfdata. Such passwords are masked structurally, like every password dbdoctor shows.
 */
const BARE_VALUE = /^(?:\d+(?:[.,]\d+)?|true|false|null)$/;

// scheme://user:password@ → scheme://user:****@ ; greedy up to the last "@" so that a password
// holding an unescaped "/" or "@" is masked whole.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s]*)@(?=[^\s@]*(?:\s|$))/gi;
// key=value conninfo: password=secret or password='a secret'
// The value stops at a quote, backslash or line end, so that masking text inside a JSON string
// never eats the string's closing quote (registered passwords are replaced whole before this).
const CONNINFO_PASSWORD = /\b(password[ \t]*=[ \t]*)('(?:[^'\\\n]|\\.)*'|'?[^\s"'\\]+)/gi;

export class Secrets {
  private readonly values = new Set<string>();
  private readonly publicValues = new Set<string>();
  /** One pattern for every secret, built when first needed after a change. */
  private pattern: RegExp | null | undefined;

  add(value: string | undefined): void {
    if (!value || value.length < MIN_LITERAL_LENGTH || this.values.has(value)) return;
    // The forms a secret takes in output: as is, URL-encoded, escaped inside a JSON string, and
    // with its control characters made visible (text/visible, as every non-JSON format shows it).
    for (const form of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), visible(value)]) this.values.add(form);
    this.pattern = undefined;
  }

  /**
   * A value that is shown on purpose: a user, database or host name, or a word of the report's own
   * vocabulary ("pass", "fail", a cause code). A password equal to one of them (user "postgres",
   * password "postgres"; password "pass") cannot be told apart from it in text, so the literal net
   * leaves it alone rather than masking every mention of the user or breaking the JSON contract.
   */
  addPublic(value: string | undefined): void {
    if (!value || this.publicValues.has(value)) return;
    this.publicValues.add(value);
    this.pattern = undefined;
  }

  /**
   * Forgets every secret. The CLI runs one command per process and never calls this; a process
   * that runs many commands in turn (the property tests) does, so that one run's secrets do not
   * pile up into the next run's pattern.
   */
  forget(): void {
    this.values.clear();
    this.publicValues.clear();
    this.pattern = undefined;
  }

  redact(text: string): string {
    // Known secrets first, then whatever is URL- or conninfo-shaped.
    const pattern = this.literalPattern();
    return maskUrlPasswords(pattern ? text.replace(pattern, MASK) : text);
  }

  /**
   * Every secret as a whole token, longest first (a secret that contains another is replaced
   * whole). "_" joins words (a password "timeout" leaves connect_timeout alone); a percent-escape
   * before it ("%3A" + secret, inside an encoded URL) is a boundary; a JSON key is left alone (a
   * password "host" leaves "host": alone).
   */
  private literalPattern(): RegExp | null {
    if (this.pattern !== undefined) return this.pattern;
    const masked = [...this.values].filter((value) => !this.publicValues.has(value) && !BARE_VALUE.test(value)).sort((a, b) => b.length - a.length);
    this.pattern = masked.length === 0 ? null : new RegExp(`(?:(?<![A-Za-z0-9_])|(?<=%[0-9A-Fa-f]{2}))(?:${masked.map(escapeRegExp).join('|')})(?![A-Za-z0-9_])(?!"\\s*:)`, 'g');
    return this.pattern;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Masks the password part of anything URL- or conninfo-shaped, known secret or not. */
export function maskUrlPasswords(text: string): string {
  return text
    .replace(URL_USERINFO, (_match, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(CONNINFO_PASSWORD, (_match, key: string) => `${key}${MASK}`);
}

/**
 * The passwords a connection string seems to carry, read loosely — for scrubbing error messages
 * about input that did not parse, where the parser cannot say which part was the password. The
 * userinfo password runs from the first ":" after "://" to the last "@" on the line (whatever the
 * user name holds — a parser may have failed on it); a conninfo password is its value,
 * quoted or not. Each is also offered without what a URL would end it at, since a parser that
 * failed may have cut it there.
 */
export function passwordsIn(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^:]*?:([^\n]*)@/gi)) {
    const whole = match[1] ?? '';
    found.add(whole);
    for (const part of whole.split(/[\s/?#@]/)) found.add(part);
  }
  // A lookahead, so that overlapping candidates are all found ("password=' password='x'").
  for (const match of text.matchAll(/(?=\bpassword\s*=\s*('((?:[^'\\]|\\.)*)'?|\S+))/gi)) {
    found.add(match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[1] ?? ''));
  }
  return [...found].filter((value) => value.length >= MIN_LITERAL_LENGTH);
}

/** Replaces each of `values` (and its URL-encoded form) in `text`, longest first. */
export function scrubLiterals(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    for (const form of new Set([value, encodeURIComponent(value), safeDecode(value)])) if (form.length >= MIN_LITERAL_LENGTH) out = out.split(form).join(MASK);
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The process-wide registry; the CLI's writers redact through it. */
export const secrets = new Secrets();

/** Environment variable names whose values are secrets. */
export function isSecretName(name: string): boolean {
  return /pass(word)?|secret|token|credential|api_?key|private_?key/i.test(name);
}
