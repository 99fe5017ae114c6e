import { InputError } from '../errors.js';
import { MASK, maskUrlPasswords } from '../secrets.js';

/**
 * libpq's two connection-string forms, parsed to libpq keywords (host, port, dbname, user,
 * password, sslmode, …) exactly as libpq names them:
 *   postgresql://[user[:password]@][host][:port][,host[:port]…][/dbname][?keyword=value&…]
 *   host=/var/run/postgresql port=5432 dbname=app user='my user'
 * We parse by hand rather than with WHATWG URL because libpq URIs allow several hosts, bracketed
 * IPv6 and percent-encoded socket paths, none of which `new URL` accepts.
 */
export type ConnOptions = Record<string, string>;

export interface ParsedConnString {
  readonly options: ConnOptions;
  /** Query keywords libpq does not know (ORM extras such as `schema=`); reported, not fatal. */
  readonly ignored: readonly string[];
}

export const LIBPQ_KEYWORDS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'channel_binding',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslmode',
  'sslnegotiation',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslcertmode',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'requirepeer',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'service',
  'target_session_attrs',
  'load_balance_hosts',
  'require_auth',
]);

/** A keyword/value string has at least one `keyword=` and no scheme. */
export function isKeywordValueString(text: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim()) && /^\s*[a-z_]+\s*=/i.test(text);
}

export function parsePostgresUri(input: string): ParsedConnString {
  const text = input.trim();
  const shown = maskUrlPasswords(text);
  const schemeEnd = text.indexOf('://');
  let rest = text.slice(schemeEnd + 3);

  const hashAt = rest.indexOf('#');
  if (hashAt >= 0) rest = rest.slice(0, hashAt);
  const queryAt = rest.indexOf('?');
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : '';
  if (queryAt >= 0) rest = rest.slice(0, queryAt);

  const slashAt = rest.indexOf('/');
  const authority = slashAt >= 0 ? rest.slice(0, slashAt) : rest;
  const path = slashAt >= 0 ? rest.slice(slashAt + 1) : '';
  const options: ConnOptions = {};
  const atAt = authority.lastIndexOf('@');
  if (authority.indexOf('@') !== atAt) throw rawAtSign(text, authority, atAt);
  const hostPart = atAt >= 0 ? authority.slice(atAt + 1) : authority;
  if (atAt >= 0) {
    const userinfo = authority.slice(0, atAt);
    const colon = userinfo.indexOf(':');
    const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'user name', shown);
    if (user) options.user = user;
    if (colon >= 0) options.password = decode(userinfo.slice(colon + 1), 'password', shown);
  } else if (path.includes('@')) {
    throw new InputError(
      `cannot parse ${shown}: an "@" appears after the first "/"`,
      'a password containing "/", "?" or "#" must be percent-encoded (/ → %2F, ? → %3F, # → %23)',
    );
  }

  const hosts: string[] = [];
  const ports: string[] = [];
  if (hostPart !== '') {
    for (const spec of hostPart.split(',')) {
      const { host, port } = splitHostPort(spec, shown);
      hosts.push(host);
      ports.push(port);
    }
    if (hosts.some((host) => host !== '')) options.host = hosts.join(',');
    if (ports.some((port) => port !== '')) options.port = ports.join(',');
  }
  if (path !== '') options.dbname = decode(path, 'database name', shown);

  const ignored: string[] = [];
  if (query !== '') {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq < 0) {
        throw new InputError(`cannot parse ${shown}: query parameter "${pair}" has no "="`, 'write query parameters as keyword=value, e.g. ?sslmode=require');
      }
      const key = decode(pair.slice(0, eq), 'query keyword', shown);
      const value = decode(pair.slice(eq + 1), `value of ${key}`, shown);
      // JDBC-style ssl=true, which several drivers accept, means sslmode=require.
      if (key === 'ssl' && (value === 'true' || value === '1')) {
        options.sslmode ??= 'require';
      } else if (LIBPQ_KEYWORDS.has(key)) {
        options[key] = value;
      } else {
        ignored.push(key);
      }
    }
  }
  return { options, ignored };
}

/**
 * A raw "@" in the user name or password splits the clients in two: libpq reads the user info up
 * to the first "@" (psql, psycopg 2 and 3, Ruby's pg, PHP's pdo_pgsql, anything on libpq), so the
 * rest of the password becomes part of the host name and the connection fails ("could not
 * translate host name"); parsers of the WHATWG or RFC 3986 kind read up to the last one
 * (node-postgres, asyncpg, pgx, SQLAlchemy) and log in. Diagnosing either reading would be right
 * for only some of the applications that share the URL; the encoding is what to fix.
 */
function rawAtSign(text: string, authority: string, lastAt: number): InputError {
  const userinfo = authority.slice(0, lastAt);
  const colon = userinfo.indexOf(':');
  const where = colon >= 0 && userinfo.indexOf('@') > colon ? 'password' : 'user name';
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const masked = `${text.slice(0, text.indexOf('://') + 3)}${where === 'password' ? `${user}:${MASK}` : MASK}@${text.slice(text.indexOf('://') + 3 + lastAt + 1)}`;
  return new InputError(
    `cannot parse ${maskUrlPasswords(masked)}: the ${where} holds a raw "@", and PostgreSQL clients disagree on where it ends`,
    `libpq and what is built on it (psql, psycopg, Ruby's pg, PHP's pdo_pgsql) stop at the first "@" and fail with "could not translate host name"; node-postgres, asyncpg and pgx stop at the last one and log in. Write each "@" in the ${where} as %40 (a@b → a%40b), so that every client reads the same`,
  );
}

function splitHostPort(spec: string, shown: string): { host: string; port: string } {
  let host = spec;
  let port = '';
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close < 0) throw new InputError(`cannot parse ${shown}: unclosed "[" in an IPv6 host`, 'write IPv6 hosts in brackets, e.g. postgresql://[::1]:5432/db');
    host = spec.slice(1, close);
    const after = spec.slice(close + 1);
    if (after.startsWith(':')) port = after.slice(1);
    else if (after !== '')
      throw new InputError(`cannot parse ${shown}: unexpected "${after}" after an IPv6 host`, 'write IPv6 hosts in brackets, e.g. postgresql://[::1]:5432/db');
  } else {
    const colon = spec.lastIndexOf(':');
    if (colon >= 0) {
      host = spec.slice(0, colon);
      port = spec.slice(colon + 1);
    }
  }
  return { host: decode(host, 'host', shown), port: decode(port, 'port', shown) };
}

function decode(text: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InputError(`cannot parse ${shown}: the ${what} has a malformed percent-escape`, 'a literal "%" must be written %25');
  }
}

/** keyword=value pairs, values optionally single-quoted with \' and \\ escapes (libpq rules). */
export function parseKeywordValue(input: string): ParsedConnString {
  const options: ConnOptions = {};
  const ignored: string[] = [];
  let i = 0;
  const text = input;
  const shown = maskUrlPasswords(input);
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] ?? '')) i += 1;
    if (i >= text.length) break;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i] ?? '')) i += 1;
    const key = text.slice(keyStart, i);
    while (i < text.length && /\s/.test(text[i] ?? '')) i += 1;
    if (key === '' || text[i] !== '=') {
      throw new InputError(
        `cannot parse connection string ${shown}: expected keyword=value near "${text.slice(keyStart, keyStart + 12)}"`,
        'write it as host=… port=… dbname=… user=…, or use a postgresql:// URL',
      );
    }
    i += 1;
    const valueStart = i;
    while (i < text.length && /\s/.test(text[i] ?? '')) i += 1;
    // libpq skips blanks after "=", so "user= password=x" makes the user "password=x": almost
    // always an empty value that was meant, and a password that would be shown as a user name.
    const swallowed = /^([A-Za-z0-9_]+)\s*=/.exec(text.slice(i))?.[1];
    if (i > valueStart && swallowed !== undefined && LIBPQ_KEYWORDS.has(swallowed)) {
      throw new InputError(
        `cannot parse connection string ${shown}: ${key} has no value, so libpq would read "${swallowed}=…" as its value`,
        `write an empty value as ${key}='' or leave ${key} out`,
      );
    }
    let value = '';
    if (text[i] === "'") {
      i += 1;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] ?? '';
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1] ?? '';
          i += 2;
        } else if (ch === "'") {
          i += 1;
          closed = true;
          break;
        } else {
          value += ch;
          i += 1;
        }
      }
      if (!closed)
        throw new InputError(
          `cannot parse connection string ${shown}: unterminated quoted value for ${key}`,
          "close the value with a single quote, e.g. password='a b'",
        );
    } else {
      while (i < text.length && !/\s/.test(text[i] ?? '')) {
        if (text[i] === '\\' && i + 1 < text.length) i += 1;
        value += text[i] ?? '';
        i += 1;
      }
    }
    if (key !== 'password' && /\bpassword\s*=/i.test(value)) {
      throw new InputError(
        `cannot parse connection string ${shown}: the value of ${key} holds "password=…", a quoting mistake`,
        `quote values with spaces or backslashes: ${key}='…' password='…'`,
      );
    }
    if (LIBPQ_KEYWORDS.has(key)) options[key] = value;
    else ignored.push(key);
  }
  return { options, ignored };
}
