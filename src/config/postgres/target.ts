import { existsSync } from 'node:fs';
import { ipFamily } from '../../text/ip.js';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { checkHost, checkNoNul, checkSocketLength } from '../checks.js';
import type { Environment } from '../environment.js';
import { InputError } from '../errors.js';
import { MASK, secrets } from '../secrets.js';
import { isKeywordValueString, parseKeywordValue, parsePostgresUri, type ConnOptions } from './conninfo.js';
import { lookupPassfile, type PassfileStatus } from './pgpass.js';
import { abstractSocketSupport } from '../../net/tcp.js';
import { bounded } from '../../text/bound.js';
import { urlHost, urlQueryValue } from '../../text/url.js';
import { visible } from '../../text/visible.js';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export const SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const;
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

export const PostgresEndpointSchema = z.object({
  /** A host name, an IP address, a socket directory ("/…") or an abstract socket ("@…"). */
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /**
   * libpq's hostaddr: the numeric address connected to, with no name lookup. The host then only
   * names the server (TLS verify-full, the password file); with no host, it is the hostaddr.
   */
  hostaddr: z.string().optional(),
});
export type PostgresEndpoint = z.infer<typeof PostgresEndpointSchema>;

export const PassfileSummarySchema = z.object({
  state: z.enum(['matched', 'no-match', 'missing', 'ignored-permissions', 'not-a-file', 'unreadable', 'not-consulted']),
  path: z.string(),
  line: z.number().optional(),
  mode: z.string().optional(),
});

export const PostgresTargetSchema = z.object({
  engine: z.literal('postgres'),
  display: z.string(),
  sources: z.record(z.string(), z.string()),
  endpoints: z.array(PostgresEndpointSchema).min(1),
  user: z.string().min(1),
  database: z.string().min(1),
  /** Never rendered: reports show sources.password instead. */
  password: z.string().optional(),
  passfile: PassfileSummarySchema,
  sslmode: z.enum(SSL_MODES),
  sslrootcert: z.string().optional(),
  sslcert: z.string().optional(),
  sslkey: z.string().optional(),
  sslMinProtocolVersion: z.enum(TLS_VERSIONS).optional(),
  sslMaxProtocolVersion: z.enum(TLS_VERSIONS).optional(),
  /** libpq connect_timeout, per host; undefined means "no limit of its own". */
  connectTimeoutMs: z.number().int().positive().optional(),
  targetSessionAttrs: z.enum(SESSION_ATTRS),
  /** URL query keywords libpq does not know; reported so a typo does not pass silently. */
  ignoredParams: z.array(z.string()),
  /**
   * The other libpq keywords the connection string gave (application_name, options,
   * keepalives, sslcrl, …), in its order, so that a URL the report prints connects as the user's
   * does. Never the password or sslpassword; not the keywords modelled above (host, port, sslmode, …).
   */
  otherParams: z.array(z.tuple([z.string(), z.string()])).optional(),
});
export type PostgresTarget = z.infer<typeof PostgresTargetSchema>;

/** Where a connection string came from: the command line, or an environment variable. */
export interface ConnStringInput {
  readonly text: string;
  /** "url" for the command line, else e.g. "env DATABASE_URL" or "./.env DATABASE_URL". */
  readonly source: string;
}

/**
 * A Unix socket rather than a TCP host: a socket directory ("/var/run/postgresql") or, since
 * libpq 14, an abstract socket ("@name", Linux: no file, the kernel's name space).
 */
export function isSocketHost(host: string): boolean {
  return host.startsWith('/') || host.startsWith('@');
}

/** The socket a server listens on for `host` and `port`, named as libpq names it: "<dir>/.s.PGSQL.<port>", "@name/.s.PGSQL.<port>". */
export function socketPathOf(host: string, port: number): string {
  return `${host.replace(/\/+$/, '')}/.s.PGSQL.${port}`;
}

/** Socket directories libpq builds use by default: Debian's, then the upstream default. */
const DEFAULT_SOCKET_DIRS = ['/var/run/postgresql', '/tmp'];

const ENV_KEYWORDS = {
  PGHOST: 'host',
  PGHOSTADDR: 'hostaddr',
  PGPORT: 'port',
  PGDATABASE: 'dbname',
  PGUSER: 'user',
  PGPASSWORD: 'password',
  PGPASSFILE: 'passfile',
  PGSSLMODE: 'sslmode',
  PGSSLROOTCERT: 'sslrootcert',
  PGSSLCERT: 'sslcert',
  PGSSLKEY: 'sslkey',
  PGCONNECT_TIMEOUT: 'connect_timeout',
  PGAPPNAME: 'application_name',
  PGTARGETSESSIONATTRS: 'target_session_attrs',
  PGSSLMINPROTOCOLVERSION: 'ssl_min_protocol_version',
  PGSSLMAXPROTOCOLVERSION: 'ssl_max_protocol_version',
} as const satisfies Record<string, string>;

/**
 * Resolves a PostgreSQL target as libpq would: keywords from the connection string, then the PG*
 * environment for whatever the string leaves out, then libpq's defaults; the password from the
 * string, then PGPASSWORD, then the password file. Every setting records its source.
 */
export async function resolvePostgresTarget(input: ConnStringInput | undefined, env: Environment): Promise<PostgresTarget> {
  const parsed = input ? parseConnString(input.text) : { options: {}, ignored: [] };
  const options: ConnOptions = {};
  const sources: Record<string, string> = {};
  for (const [variable, keyword] of Object.entries(ENV_KEYWORDS)) {
    const value = env.get(variable);
    if (value !== undefined && value !== '') {
      options[keyword] = value;
      sources[keyword] = env.sourceOf(variable) ?? `env ${variable}`;
    }
  }
  for (const [keyword, value] of Object.entries(parsed.options)) {
    // An empty value overrides the environment and then means "the default", as in libpq
    // ("postgresql://@db/app?user=" connects as the operating-system user).
    if (value === '') {
      delete options[keyword];
      delete sources[keyword];
      continue;
    }
    options[keyword] = value;
    sources[keyword] = input?.source ?? 'url';
  }
  if (options.password !== undefined) secrets.add(options.password);
  checkNoNul(
    options,
    (keyword) => sources[keyword],
    (keyword) => keyword === 'password' || keyword === 'sslpassword',
  );

  const endpoints = resolveEndpoints(options, sources);
  for (const endpoint of endpoints) checkEndpoint(endpoint, sources.host ?? 'url');
  const user = options.user ?? osUser();
  if (!options.user) sources.user = 'default (the operating-system user, as libpq does)';
  const database = options.dbname ?? user;
  if (!options.dbname) sources.dbname = 'default (same as the user name, as libpq does)';

  const first = endpoints[0];
  if (!first) throw new InputError('no host to connect to', 'give a host in the URL or set PGHOST');
  for (const shown of [user, database, ...endpoints.flatMap((endpoint) => [endpoint.host, endpoint.hostaddr])]) secrets.addPublic(shown);
  const passfilePath = options.passfile ?? join(env.get('HOME') || homedir(), '.pgpass');
  let password = options.password;
  let passfile: PassfileStatus | { state: 'not-consulted'; path: string } = { state: 'not-consulted', path: passfilePath };
  if (password === undefined) {
    passfile = await lookupPassfile(passfilePath, { host: first.host, port: first.port, database, user });
    if (passfile.state === 'matched') {
      password = passfile.password;
      secrets.add(password);
      sources.password = `${passfilePath} line ${passfile.line}`;
    }
  }

  const sslmode = pick(options.sslmode ?? 'prefer', SSL_MODES, 'sslmode', sources.sslmode);
  if (!options.sslmode) sources.sslmode = 'default (prefer)';
  const targetSessionAttrs = pick(options.target_session_attrs ?? 'any', SESSION_ATTRS, 'target_session_attrs', sources.target_session_attrs);

  const target: PostgresTarget = {
    engine: 'postgres',
    display: '',
    sources: renameSources(sources),
    endpoints,
    user,
    database,
    ...(password !== undefined ? { password } : {}),
    passfile: summarisePassfile(passfile),
    sslmode,
    ...(options.sslrootcert ? { sslrootcert: options.sslrootcert } : {}),
    ...(options.sslcert ? { sslcert: options.sslcert } : {}),
    ...(options.sslkey ? { sslkey: options.sslkey } : {}),
    ...(options.ssl_min_protocol_version
      ? { sslMinProtocolVersion: pick(options.ssl_min_protocol_version, TLS_VERSIONS, 'ssl_min_protocol_version', sources.ssl_min_protocol_version) }
      : {}),
    ...(options.ssl_max_protocol_version
      ? { sslMaxProtocolVersion: pick(options.ssl_max_protocol_version, TLS_VERSIONS, 'ssl_max_protocol_version', sources.ssl_max_protocol_version) }
      : {}),
    ...connectTimeout(options.connect_timeout, sources.connect_timeout),
    targetSessionAttrs,
    ignoredParams: [...parsed.ignored],
    otherParams: Object.entries(parsed.options).filter(([keyword, value]) => value !== '' && !MODELLED_KEYWORDS.has(keyword)),
  };
  return PostgresTargetSchema.parse({ ...target, display: displayOf(target) });
}

function parseConnString(text: string): { options: ConnOptions; ignored: readonly string[] } {
  if (isKeywordValueString(text)) return parseKeywordValue(text);
  return parsePostgresUri(text);
}

function resolveEndpoints(options: ConnOptions, sources: Record<string, string>): PostgresEndpoint[] {
  const hostList = (options.host ?? '').split(',').map((host) => host.trim());
  const addresses = options.hostaddr ? hostaddrs(options.hostaddr, options.host ? hostList.length : undefined, sources) : undefined;
  if (addresses && !options.host) {
    // Only hostaddr: each address is the host too, as libpq shows it (an empty one: the default socket).
    hostList.splice(0, hostList.length, ...addresses);
    sources.host = sources.hostaddr ?? 'url';
  } else if (!options.host) {
    const socketDir = DEFAULT_SOCKET_DIRS.find((dir) => existsSync(dir)) ?? DEFAULT_SOCKET_DIRS[0] ?? '/tmp';
    hostList.splice(0, hostList.length, socketDir);
    sources.host = `default (the socket directory ${socketDir}, as libpq does)`;
  }
  // An empty host in a list means "the default socket directory" to libpq.
  const hosts = hostList.map((host) => (host === '' ? (DEFAULT_SOCKET_DIRS.find((dir) => existsSync(dir)) ?? '/tmp') : host));
  const portList = (options.port ?? '').split(',').map((port) => port.trim());
  if (!options.port) sources.port = 'default (5432)';
  if (portList.length !== 1 && portList.length !== hosts.length) {
    throw new InputError(
      `could not match ${portList.length} port numbers to ${hosts.length} hosts (${sources.port ?? 'url'})`,
      'give one port for all hosts, or one port per host: postgresql://h1:5432,h2:5433/db',
    );
  }
  return hosts.map((host, index) => {
    const hostaddr = addresses?.[index];
    return { host, port: parsePort(portList.length === 1 ? portList[0] : portList[index], sources.port), ...(hostaddr ? { hostaddr } : {}) };
  });
}

/**
 * hostaddr, as libpq reads it: a list of numeric addresses, one per host when hosts are given (an
 * empty one: look that host up). libpq refuses a name here ("could not parse network address"):
 * it connects to the address as written, so anything else is bad input, never a lookup.
 */
function hostaddrs(text: string, hostCount: number | undefined, sources: Record<string, string>): string[] {
  const source = sources.hostaddr ?? 'url';
  const list = text.split(',').map((address) => address.trim());
  if (hostCount !== undefined && list.length !== hostCount) {
    throw new InputError(
      `could not match ${hostCount} host names to ${list.length} hostaddr values (from ${source}): give one hostaddr per host, or leave one empty to look that host up`,
    );
  }
  for (const address of list) {
    if (address !== '' && ipFamily(address) === 0) {
      throw new InputError(
        `invalid hostaddr "${bounded(visible(address), 120)}" (from ${source}): libpq takes a numeric IPv4 or IPv6 address there (10.0.0.5, ::1), never a name; put a name in host`,
      );
    }
  }
  return list;
}

/**
 * A host libpq could connect to: a DNS name, an IP address, a socket directory, or (libpq 14+) an
 * abstract socket "@name". A socket's full path (directory + "/.s.PGSQL.<port>") must fit in a
 * sockaddr_un, as libpq checks too ("Unix-domain socket path … is too long").
 */
function checkEndpoint(endpoint: PostgresEndpoint, source: string): void {
  checkHost(endpoint.host, source, { socketPaths: true, abstractSockets: true, socketExample: '/var/run/postgresql' });
  if (endpoint.host.startsWith('@') && !endpoint.hostaddr) {
    const support = abstractSocketSupport();
    if (support.state === 'unsupported') {
      throw new InputError(
        `cannot reach the abstract socket "${endpoint.host}" (from ${source}): ${support.reason}`,
        'connect over TCP or through a socket directory (unix_socket_directories), or run dbdoctor with a newer Node.js',
      );
    }
  }
  if (isSocketHost(endpoint.host))
    checkSocketLength(
      endpoint.host,
      socketPathOf(endpoint.host, endpoint.port),
      source,
      'use a shorter socket directory (unix_socket_directories on the server)',
    );
}

function parsePort(text: string | undefined, source: string | undefined): number {
  if (text === undefined || text === '') return 5432;
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InputError(`invalid port "${text}" (from ${source ?? 'url'})`, 'a port is a whole number from 1 to 65535, e.g. 5432');
  }
  return port;
}

function pick<T extends string>(value: string, allowed: readonly T[], keyword: string, source: string | undefined): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) {
    throw new InputError(`invalid ${keyword} "${value}" (from ${source ?? 'url'})`, `use one of: ${allowed.join(', ')}`);
  }
  return found;
}

function connectTimeout(text: string | undefined, source: string | undefined): { connectTimeoutMs?: number } {
  if (text === undefined || text.trim() === '') return {};
  const seconds = Number(text);
  if (!Number.isFinite(seconds)) {
    throw new InputError(`invalid connect_timeout "${text}" (from ${source ?? 'url'})`, 'connect_timeout is a number of seconds, e.g. connect_timeout=5');
  }
  if (seconds <= 0) return {};
  // libpq: "the minimum allowed timeout is 2 seconds, so a value of 1 is interpreted as 2"
  return { connectTimeoutMs: Math.max(2, Math.trunc(seconds)) * 1000 };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** Reports use libpq keyword names people recognise; "dbname" reads better as "database". */
function renameSources(sources: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(sources)) out[key === 'dbname' ? 'database' : key] = value;
  return out;
}

function summarisePassfile(status: PassfileStatus | { state: 'not-consulted'; path: string }): z.infer<typeof PassfileSummarySchema> {
  switch (status.state) {
    case 'matched':
      return { state: status.state, path: status.path, line: status.line };
    case 'ignored-permissions':
      return { state: status.state, path: status.path, mode: status.mode };
    default:
      return { state: status.state, path: status.path };
  }
}

/** Keywords a target models in fields of its own (or, for secrets, never repeats): not in otherParams. */
const MODELLED_KEYWORDS: ReadonlySet<string> = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslpassword',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'target_session_attrs',
  'connect_timeout',
]);

/** A canonical libpq URI for people to read: password masked, socket directories as ?host=. */
export function displayOf(target: Omit<PostgresTarget, 'display'>): string {
  const user = encodeURIComponent(target.user) + (target.password !== undefined ? `:${MASK}` : '');
  const tcp = target.endpoints.filter((endpoint) => !isSocketHost(endpoint.host));
  const params: string[] = [];
  let authority = '';
  if (tcp.length === target.endpoints.length) {
    authority = target.endpoints.map(({ host, port }) => `${urlHost(host)}:${port}`).join(',');
  } else {
    params.push(`host=${target.endpoints.map((endpoint) => urlQueryValue(endpoint.host)).join(',')}`);
    params.push(`port=${target.endpoints.map((endpoint) => endpoint.port).join(',')}`);
  }
  // Defaults are left out, unless a setting gave them: the header shows what the user asked for.
  const given = (keyword: string): boolean => target.sources[keyword] !== undefined && !target.sources[keyword]?.startsWith('default');
  if (target.sslmode !== 'prefer' || given('sslmode')) params.push(`sslmode=${target.sslmode}`);
  for (const [keyword, value] of [
    ['sslrootcert', target.sslrootcert],
    ['sslcert', target.sslcert],
    ['sslkey', target.sslkey],
  ] as const)
    if (value) params.push(`${keyword}=${urlQueryValue(value)}`);
  if (target.targetSessionAttrs !== 'any' || given('target_session_attrs')) params.push(`target_session_attrs=${target.targetSessionAttrs}`);
  if (target.connectTimeoutMs !== undefined) params.push(`connect_timeout=${target.connectTimeoutMs / 1000}`);
  if (target.endpoints.some((endpoint) => endpoint.hostaddr))
    params.push(`hostaddr=${target.endpoints.map((endpoint) => urlQueryValue(endpoint.hostaddr ?? '')).join(',')}`);
  for (const [keyword, value] of target.otherParams ?? []) params.push(`${keyword}=${urlQueryValue(value)}`);
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  return `postgresql://${user}@${authority}/${encodeURIComponent(target.database)}${query}`;
}
