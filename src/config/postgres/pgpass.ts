import { readFile, stat } from 'node:fs/promises';

/**
 * The password file, read the way libpq reads it: `hostname:port:database:username:password`,
 * `*` matching anything, `\:` and `\\` escaped, first matching line wins. libpq ignores the file
 * (with only a warning on stderr that applications usually swallow) when group or others may read
 * it: we report that, because "my .pgpass is ignored" is a classic cause of password_missing.
 */
export type PassfileStatus =
  | { readonly state: 'matched'; readonly path: string; readonly line: number; readonly password: string }
  | { readonly state: 'no-match'; readonly path: string }
  | { readonly state: 'missing'; readonly path: string }
  | { readonly state: 'ignored-permissions'; readonly path: string; readonly mode: string }
  | { readonly state: 'not-a-file'; readonly path: string }
  | { readonly state: 'unreadable'; readonly path: string; readonly code: string };

export interface PassfileQuery {
  /** A TCP host name, or a socket directory (which libpq matches as "localhost"). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

export function parsePassfileLine(line: string): string[] | undefined {
  if (line.trim() === '' || line.startsWith('#')) return undefined;
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i] ?? '';
    if (ch === '\\' && i + 1 < line.length) {
      current += line[i + 1] ?? '';
      i += 1;
    } else if (ch === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  fields.push(current);
  return fields.length === 5 ? fields : undefined;
}

export function findInPassfile(text: string, query: PassfileQuery): { line: number; password: string } | undefined {
  // libpq looks a socket (a directory, or an abstract "@name") up as "localhost".
  const host = query.host.startsWith('/') || query.host.startsWith('@') ? 'localhost' : query.host;
  const wanted = [host, String(query.port), query.database, query.user];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const fields = parsePassfileLine(lines[index] ?? '');
    if (!fields) continue;
    const matches = wanted.every((value, i) => fields[i] === '*' || fields[i] === value);
    if (matches) return { line: index + 1, password: fields[4] ?? '' };
  }
  return undefined;
}

export async function lookupPassfile(path: string, query: PassfileQuery): Promise<PassfileStatus> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = errorCode(error);
    return code === 'ENOENT' || code === 'ENOTDIR' ? { state: 'missing', path } : { state: 'unreadable', path, code };
  }
  if (!info.isFile()) return { state: 'not-a-file', path };
  // libpq: "password file has group or world access; permissions should be u=rw (0600) or less"
  if ((info.mode & 0o077) !== 0) return { state: 'ignored-permissions', path, mode: (info.mode & 0o777).toString(8).padStart(4, '0') };
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { state: 'unreadable', path, code: errorCode(error) };
  }
  const found = findInPassfile(text, query);
  return found ? { state: 'matched', path, line: found.line, password: found.password } : { state: 'no-match', path };
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'EUNKNOWN';
}
