import { readFile } from 'node:fs/promises';
import { InputError } from './errors.js';

/**
 * A .env file as docker compose and the dotenv packages read it: KEY=VALUE lines, `export `
 * prefixes, # comments, single quotes (literal), double quotes (with \n escapes), and unquoted
 * values with trailing comments. Values in the real environment win over the file (as compose does).
 */
export interface DotEnv {
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
}

export function parseDotEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1] ?? '';
    let raw = match[2] ?? '';
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may span lines until its closing quote.
      let body = raw.slice(1);
      while (!hasClosingQuote(body, quote) && index + 1 < lines.length) {
        index += 1;
        body += `\n${lines[index] ?? ''}`;
      }
      const end = closingQuoteIndex(body, quote);
      raw = end >= 0 ? body.slice(0, end) : body;
      values[key] = quote === '"' ? unescapeDoubleQuoted(raw) : raw;
    } else {
      values[key] = raw.replace(/\s+#.*$/, '').trim();
    }
  }
  return values;
}

/** One pass, so that "\\\\n" is a backslash and an "n", not a backslash and a newline. */
function unescapeDoubleQuoted(raw: string): string {
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
  return raw.replace(/\\([nrt"\\])/g, (_match, letter: string) => escapes[letter] ?? letter);
}

function closingQuoteIndex(body: string, quote: string): number {
  for (let i = 0; i < body.length; i += 1) {
    if (body[i] === '\\' && quote === '"') {
      i += 1;
    } else if (body[i] === quote) {
      return i;
    }
  }
  return -1;
}

function hasClosingQuote(body: string, quote: string): boolean {
  return closingQuoteIndex(body, quote) >= 0;
}

/**
 * Loads `path`. When `required` is false (the default ./.env), a missing file is simply no file;
 * when the user named the file with --env-file, a missing file is an input error.
 */
export async function loadDotEnv(path: string, required: boolean): Promise<DotEnv | undefined> {
  try {
    return { path, values: parseDotEnv(await readFile(path, 'utf8')) };
  } catch (error) {
    if (!required && isMissing(error)) return undefined;
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new InputError(`cannot read env file ${path} (${reason})`, 'check the path given to --env-file, or pass --no-env-file');
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}
