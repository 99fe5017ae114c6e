import { z } from 'zod';
import type { Environment } from '../environment.js';
import { InputError } from '../errors.js';
import { MASK, maskUrlPasswords, secrets } from '../secrets.js';
import { checkHost, checkNoNul } from '../checks.js';
import { urlHost, urlPart } from '../../text/url.js';

/**
 * A Cassandra target: contact points, the local data centre, credentials, keyspace.
 *
 *   cassandra://user:password@host1:9042,host2:9042/keyspace?dc=datacenter1&consistency=LOCAL_QUORUM
 *
 * then the environment for whatever the URL leaves out. Applications spell the same setting in
 * different ways (seed 002: the deployment set CASSANDRA_CONTACT_POINTS, the code read
 * CASSANDRA_HOSTS), so every pair of spellings is checked and a one-sided pair is reported.
 */
export const DEFAULT_CQL_PORT = 9042;

export const CONSISTENCY_LEVELS = ['ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_QUORUM', 'EACH_QUORUM', 'LOCAL_ONE'] as const;
export type ConsistencyName = (typeof CONSISTENCY_LEVELS)[number];

export const CassandraEndpointSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});
export type CassandraEndpoint = z.infer<typeof CassandraEndpointSchema>;

export const CassandraTargetSchema = z.object({
  engine: z.literal('cassandra'),
  display: z.string(),
  sources: z.record(z.string(), z.string()),
  contactPoints: z.array(CassandraEndpointSchema).min(1),
  localDc: z.string().optional(),
  username: z.string().optional(),
  /** Never rendered: reports show sources.password instead. */
  password: z.string().optional(),
  keyspace: z.string().optional(),
  consistency: z.enum(CONSISTENCY_LEVELS),
  /** A pinned native-protocol version (the driver's maxVersion); undefined: negotiate. */
  protocolVersion: z.number().int().min(1).max(6).optional(),
  tls: z.boolean(),
  /** What the environment says about spellings: "found CASSANDRA_HOSTS, but not CASSANDRA_CONTACT_POINTS". */
  environmentNotes: z.array(z.string()),
  ignoredParams: z.array(z.string()),
});
export type CassandraTarget = z.infer<typeof CassandraTargetSchema>;

/** Settings that applications spell two ways: the first spelling wins when both are set. */
export const SPELLINGS = {
  hosts: ['CASSANDRA_CONTACT_POINTS', 'CASSANDRA_HOSTS'],
  localDc: ['CASSANDRA_LOCAL_DC', 'CASSANDRA_DC'],
} as const;

const SINGLE_VARIABLES = {
  port: 'CASSANDRA_PORT',
  username: 'CASSANDRA_USERNAME',
  password: 'CASSANDRA_PASSWORD',
  keyspace: 'CASSANDRA_KEYSPACE',
} as const;

const DC_PARAMS = ['dc', 'localDataCenter', 'local_dc', 'localDc'];
const KNOWN_PARAMS = new Set([...DC_PARAMS, 'consistency', 'protocolVersion', 'ssl', 'tls']);

interface UrlParts {
  hosts?: string;
  username?: string;
  password?: string;
  keyspace?: string;
  params: Map<string, string>;
}

export function parseCassandraUri(text: string): UrlParts {
  const match = /^cassandra:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(text.trim());
  if (!match) {
    throw new InputError(
      `cannot read the Cassandra URL ${maskUrlPasswords(text)}`,
      'write it as cassandra://user:password@host1:9042,host2:9042/keyspace?dc=datacenter1',
    );
  }
  const [, userinfo, hosts, keyspace, query] = match;
  const parts: UrlParts = { params: new Map() };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    parts.username = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, text);
    if (colon >= 0) {
      parts.password = decode(userinfo.slice(colon + 1), text);
      secrets.add(parts.password);
    }
  }
  if (hosts) parts.hosts = decode(hosts, text);
  if (keyspace) parts.keyspace = decode(keyspace, text);
  for (const pair of (query ?? '').split('&').filter((entry) => entry !== '')) {
    const equals = pair.indexOf('=');
    if (equals < 0) throw new InputError(`the URL parameter "${pair}" has no "="`, 'write parameters as name=value, e.g. ?dc=datacenter1');
    parts.params.set(decode(pair.slice(0, equals), text), decode(pair.slice(equals + 1), text));
  }
  return parts;
}

function decode(part: string, whole: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InputError(`a malformed %-escape in ${maskUrlPasswords(whole)}`, 'percent-encode special characters in the password, e.g. @ as %40');
  }
}

/** "h1,h2:9043,[::1]:9042" → endpoints, with `port` for those that name none. */
export function parseContactPoints(list: string, port: number, source: string): CassandraEndpoint[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
      if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ? parsePort(bracketed[2], source) : port };
      const parts = entry.split(':');
      // A bare IPv6 address has several colons and no port.
      if (parts.length === 2) return { host: parts[0] ?? '', port: parsePort(parts[1] ?? '', source) };
      return { host: entry, port };
    });
}

export function parsePort(text: string, source: string): number {
  const port = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InputError(`invalid port "${text}" (from ${source})`, 'a port is a whole number from 1 to 65535, e.g. 9042');
  }
  return port;
}

/**
 * For each pair of spellings: one set and not the other is worth saying (code that reads the
 * other spelling gets its default, often localhost); both set to different values too.
 */
export function spellingNotes(env: Environment): string[] {
  const notes: string[] = [];
  for (const [first, second] of Object.values(SPELLINGS)) {
    const a = env.get(first);
    const b = env.get(second);
    if (a && !b) notes.push(`found ${first}, but not ${second}`);
    else if (b && !a) notes.push(`found ${second}, but not ${first}`);
    else if (a && b && a !== b) notes.push(`${first}=${a} and ${second}=${b} differ; dbdoctor used ${first}`);
  }
  return notes;
}

function fromEnv(env: Environment, names: readonly string[]): { value: string; source: string } | undefined {
  for (const name of names) {
    const value = env.get(name);
    if (value !== undefined && value.trim() !== '') return { value: value.trim(), source: env.sourceOf(name) ?? `env ${name}` };
  }
  return undefined;
}

/** The URL first, then the environment, then the drivers' defaults (localhost:9042). */
export function resolveCassandraTarget(input: { text: string; source: string } | undefined, env: Environment): CassandraTarget {
  const url = input ? parseCassandraUri(input.text) : { params: new Map<string, string>() };
  const from = input?.source ?? 'url';
  const sources: Record<string, string> = {};
  const pick = (key: string, fromUrl: string | undefined, names: readonly string[]): string | undefined => {
    if (fromUrl !== undefined && fromUrl !== '') {
      sources[key] = from;
      return fromUrl;
    }
    const found = fromEnv(env, names);
    if (found) sources[key] = found.source;
    return found?.value;
  };

  const portText = pick('port', undefined, [SINGLE_VARIABLES.port]);
  const defaultPort = portText ? parsePort(portText, sources.port ?? 'env') : DEFAULT_CQL_PORT;
  const hostList = pick('host', url.hosts, SPELLINGS.hosts);
  let contactPoints = hostList ? parseContactPoints(hostList, defaultPort, sources.host ?? from) : [];
  if (contactPoints.length === 0) {
    contactPoints = [{ host: 'localhost', port: defaultPort }];
    sources.host = 'default (localhost, as the drivers do)';
  }
  if (!portText) sources.port = hostList?.includes(':') ? (sources.host ?? from) : `default (${DEFAULT_CQL_PORT})`;

  const dcParam = DC_PARAMS.map((name) => url.params.get(name)).find((value) => value !== undefined);
  const localDc = pick('localDc', dcParam, SPELLINGS.localDc);
  const username = pick('username', url.username, [SINGLE_VARIABLES.username]);
  const password = pick('password', url.password, [SINGLE_VARIABLES.password]);
  secrets.add(password);
  const keyspace = pick('keyspace', url.keyspace, [SINGLE_VARIABLES.keyspace]);

  const consistencyText = (url.params.get('consistency') ?? 'LOCAL_ONE').toUpperCase();
  const consistency = CONSISTENCY_LEVELS.find((level) => level === consistencyText);
  if (!consistency) throw new InputError(`invalid consistency "${consistencyText}" (from ${from})`, `use one of: ${CONSISTENCY_LEVELS.join(', ')}`);
  const protocolText = url.params.get('protocolVersion');
  const protocolVersion = protocolText === undefined ? undefined : Number(protocolText);
  if (protocolVersion !== undefined && !(Number.isInteger(protocolVersion) && protocolVersion >= 1 && protocolVersion <= 6)) {
    throw new InputError(
      `invalid protocolVersion "${protocolText ?? ''}" (from ${from})`,
      'the CQL native protocol versions are 1 to 6, e.g. protocolVersion=4',
    );
  }
  const tls = ['true', '1', 'require'].includes((url.params.get('ssl') ?? url.params.get('tls') ?? '').toLowerCase());

  checkNoNul(
    { username, password, keyspace, localDc },
    (name) => sources[name],
    (name) => name === 'password',
  );
  for (const point of contactPoints) checkHost(point.host, sources.host ?? from);
  for (const shown of [username, keyspace, localDc, ...contactPoints.map((point) => point.host)]) secrets.addPublic(shown);
  const target: CassandraTarget = {
    engine: 'cassandra',
    display: '',
    sources,
    contactPoints,
    ...(localDc ? { localDc } : {}),
    ...(username ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(keyspace ? { keyspace } : {}),
    consistency,
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
    tls,
    environmentNotes: spellingNotes(env),
    ignoredParams: [...url.params.keys()].filter((name) => !KNOWN_PARAMS.has(name)),
  };
  return CassandraTargetSchema.parse({ ...target, display: displayOf(target) });
}

/** The target as a URL for people to read: password masked. */
export function displayOf(target: Omit<CassandraTarget, 'display'>): string {
  const user = target.username !== undefined ? `${urlPart(target.username)}${target.password !== undefined ? `:${MASK}` : ''}@` : '';
  const hosts = target.contactPoints.map(({ host, port }) => `${urlHost(host)}:${port}`).join(',');
  const params = [
    ...(target.localDc ? [`dc=${urlPart(target.localDc)}`] : []),
    ...(target.consistency !== 'LOCAL_ONE' ? [`consistency=${target.consistency}`] : []),
    ...(target.protocolVersion !== undefined ? [`protocolVersion=${target.protocolVersion}`] : []),
    ...(target.tls ? ['ssl=true'] : []),
  ];
  return `cassandra://${user}${hosts}/${target.keyspace ? urlPart(target.keyspace) : ''}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}
