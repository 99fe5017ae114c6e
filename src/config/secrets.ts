import { visible } from '../text/visible.js';

/**
 * Every secret dbdoctor learns (passwords from URLs, PGPASSWORD, .pgpass, .env, a pasted log) is
 * registered here. Secrets are masked where they are still values, never in serialized text:
 *
 *  - a report or explain document is redacted as a structure (`redactDocument`) before it is
 *    rendered in any format: every string value that is text (a server's message, a summary,
 *    evidence) has its secrets masked; JSON syntax, numbers and booleans are never touched, so
 *    the JSON stays valid and says the same, but for the masked values;
 *  - a command is built without secrets (URLs from their parts, with the password masked or left
 *    out), and is never rewritten afterwards: a rewritten command runs something else (a secret
 *    "''\''" inside a quoted word turns it into shell syntax). A command that would still show a
 *    secret is left out, its text saying why (`commandShowsSecret`);
 *  - values from untrusted text that commands are built from (explain's fields) are masked first;
 *  - free prose (an error message, wait's progress lines on stderr) passes `redact` on its way
 *    out, where rewriting cannot change what anything means.
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
 * Nor does it replace a secret made of digits only (or a JSON literal): in text such a token cannot
 * be told from a port, a count or a timing ("port 5432", "3 of 100 slots"). Such passwords are
 * masked where dbdoctor shows a URL or a setting, like every password it shows.
 */
const BARE_VALUE = /^(?:\d+(?:[.,]\d+)?|true|false|null)$/;

// scheme://user:password@ → scheme://user:****@ ; greedy up to the last "@" so that a password
// holding an unescaped "/" or "@" is masked whole.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s]*)@(?=[^\s@]*(?:\s|$))/gi;
// key=value conninfo: password=secret or password='a secret'. The value stops at a quote,
// backslash or line end (registered passwords are replaced whole before this).
const CONNINFO_PASSWORD = /\b(password[ \t]*=[ \t]*)('(?:[^'\\\n]|\\.)*'|'?[^\s"'\\]+)/gi;

/** What a command that would show a secret becomes: left out, never rewritten. */
export const COMMAND_LEFT_OUT = '(the command is left out: it would show a secret)';

export class Secrets {
  private readonly values = new Set<string>();
  private readonly publicValues = new Set<string>();
  /** One pattern for every secret, built when first needed after a change. */
  private pattern: RegExp | null | undefined;
  private commandRegExp: RegExp | null | undefined;

  add(value: string | undefined): void {
    if (!value || value.length < MIN_LITERAL_LENGTH || this.values.has(value)) return;
    // The forms a secret takes in output: as is, URL-encoded, escaped inside a JSON string, and
    // with its control characters made visible (text/visible, as every non-JSON format shows it).
    // A lone surrogate (half of a character, cut from a longer text) has no URL form: encodeURIComponent throws.
    const urlForm = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value) ? value : encodeURIComponent(value);
    for (const form of [value, urlForm, JSON.stringify(value).slice(1, -1), visible(value)]) this.values.add(form);
    this.pattern = undefined;
    this.commandRegExp = undefined;
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
    this.commandRegExp = undefined;
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
    this.commandRegExp = undefined;
  }

  /** Free text with every known secret, and anything URL- or conninfo-shaped, masked. */
  redact(text: string): string {
    // Known secrets first, then whatever is URL- or conninfo-shaped.
    return maskUrlPasswords(this.maskKnown(text));
  }

  /** Text with every registered secret masked (one pass, linear in the text: fit for a pasted log). */
  maskKnown(text: string): string {
    const pattern = this.literalPattern();
    return pattern ? text.replace(pattern, MASK) : text;
  }

  /**
   * Whether a command shows a secret (as a word of its own, or a part of a URL or a quoted word).
   * Commands are built without secrets; this is the check that keeps it so. A "-" joins words here
   * (a password "password" is not shown by 'new-password', a placeholder in dbdoctor's own SQL).
   */
  commandShowsSecret(command: string): boolean {
    const pattern = this.commandPattern();
    return pattern !== null && pattern.test(command);
  }

  /**
   * A report or explain document with every secret masked in its text, as a structure: strings are
   * masked where they are values, object keys too; numbers, booleans and nulls, and the document's
   * shape, are kept. A remedy's command is kept exactly as built, or left out when it would show a
   * secret (its text says so). `commandKeys`: top-level fields that are commands too (explain's
   * `confirm`, which becomes null).
   */
  redactDocument<T>(document: T, commandKeys: readonly string[] = []): T {
    const walk = (item: unknown, key: string | undefined, depth: number): unknown => {
      if (typeof item === 'string')
        return depth === 1 && key !== undefined && commandKeys.includes(key) ? (this.commandShowsSecret(item) ? null : item) : this.redact(item);
      if (Array.isArray(item)) return item.map((entry) => (key === 'remediation' && isRemedy(entry) ? this.redactRemedy(entry) : walk(entry, key, depth + 1)));
      if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
        const out: Record<string, unknown> = {};
        for (const [name, entry] of Object.entries(item)) {
          let masked = this.redact(name);
          // Two keys that differ only in a secret stay two keys.
          for (let count = 2; masked !== name && Object.prototype.hasOwnProperty.call(out, masked); count += 1) masked = `${this.redact(name)} (${count})`;
          out[masked] = walk(entry, name, depth + 1);
        }
        return out;
      }
      return item;
    };
    return walk(document, undefined, 0) as T;
  }

  private redactRemedy(fix: { readonly text: string; readonly command?: unknown; readonly language?: unknown }): unknown {
    const text = this.redact(fix.text);
    if (typeof fix.command !== 'string') return { ...fix, text };
    if (!this.commandShowsSecret(fix.command)) return { ...fix, text };
    const { command: _command, language: _language, ...rest } = fix;
    return { ...rest, text: `${text} ${COMMAND_LEFT_OUT}` };
  }

  /** The secrets the nets look for, longest first (a secret that contains another is replaced whole). */
  private searched(): string[] {
    return [...this.values]
      .filter((value) => !this.publicValues.has(value) && !BARE_VALUE.test(value) && !this.isOwnWord(value))
      .sort((a, b) => b.length - a.length);
  }

  /**
   * Where dbdoctor's own words are read from, when a secret is a plain word (see `isOwnWord`).
   * The CLI sets it (cli/vocabulary.ts); without it, no word is dbdoctor's own.
   */
  useOwnWords(load: () => ReadonlySet<string>): void {
    this.loadOwnWords = load;
    this.pattern = undefined;
    this.commandRegExp = undefined;
  }

  private loadOwnWords: (() => ReadonlySet<string>) | undefined;
  private ownWords: ReadonlySet<string> | undefined;

  /**
   * A password that is a plain word dbdoctor itself writes ("wrong", "connection", "password") is
   * not masked in text: masking it in dbdoctor's own sentence ("the password is ****") would tell
   * every reader what the password is, and hides nothing (the sentence is the same for every
   * password). It stays masked where dbdoctor shows it as a value: in URLs and settings, which are
   * masked by their structure. Loaded only when such a secret exists.
   */
  private isOwnWord(value: string): boolean {
    if (!/^[A-Za-z]+$/.test(value) || !this.loadOwnWords) return false;
    this.ownWords ??= this.loadOwnWords();
    return this.ownWords.has(value.toLowerCase());
  }

  /**
   * Every secret as a whole token. "_" joins words (a password "timeout" leaves connect_timeout
   * alone); a percent-escape before it ("%3A" + secret, inside an encoded URL) is a boundary.
   */
  private literalPattern(): RegExp | null {
    if (this.pattern !== undefined) return this.pattern;
    const masked = this.searched();
    this.pattern =
      masked.length === 0 ? null : new RegExp(`(?:(?<![A-Za-z0-9_])|(?<=%[0-9A-Fa-f]{2}))(?:${masked.map(escapeRegExp).join('|')})(?![A-Za-z0-9_])`, 'g');
    return this.pattern;
  }

  private commandPattern(): RegExp | null {
    if (this.commandRegExp !== undefined) return this.commandRegExp;
    const searched = this.searched();
    this.commandRegExp =
      searched.length === 0 ? null : new RegExp(`(?:(?<![A-Za-z0-9_-])|(?<=%[0-9A-Fa-f]{2}))(?:${searched.map(escapeRegExp).join('|')})(?![A-Za-z0-9_-])`);
    return this.commandRegExp;
  }
}

function isRemedy(value: unknown): value is { readonly text: string; readonly command?: unknown; readonly language?: unknown } {
  return value !== null && typeof value === 'object' && 'text' in value && typeof value.text === 'string';
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
