import { z } from 'zod';
import { checkHost, checkNoNul, checkSocketLength } from '../checks.js';
import { InputError } from '../errors.js';
import { MASK, maskUrlPasswords, secrets } from '../secrets.js';
import type { ConnectionString } from 'mongodb-connection-string-url';
import { bounded } from '../../text/bound.js';
import { visible } from '../../text/visible.js';

/**
 * A MongoDB target, parsed by the official driver itself: `mongodb-connection-string-url` (the
 * driver's URL parser) for the parts as written, and the driver's own option parsing
 * (`new MongoClient(uri).options`, which opens nothing) for what they mean, defaults included.
 * dbdoctor hand-rolls none of it.
 */
export const MONGODB_URL_VARIABLES = ['MONGODB_URI', 'MONGO_URL', 'MONGO_URI'] as const;

export const MongoHostSchema = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
export type MongoHost = z.infer<typeof MongoHostSchema>;

export const MongoTargetSchema = z.object({
  engine: z.literal('mongodb'),
  display: z.string(),
  sources: z.record(z.string(), z.string()),
  /** The connection string as given, password included: handed to the driver, never rendered. */
  uri: z.string(),
  /** mongodb+srv://: the hosts come from DNS (SRV), some options from a TXT record. */
  srv: z.boolean(),
  /** The seed list; for +srv, the one name whose SRV record lists the hosts. */
  hosts: z.array(MongoHostSchema).min(1),
  srvServiceName: z.string(),
  user: z.string().optional(),
  /** Never rendered: reports show sources.password instead. */
  password: z.string().optional(),
  /** The database in the URL path (the driver's default: "test"). */
  database: z.string(),
  /** Where the user is defined (authSource): explicit, or the driver's default. */
  authSource: z.string(),
  authMechanism: z.string().optional(),
  replicaSet: z.string().optional(),
  directConnection: z.boolean().optional(),
  loadBalanced: z.boolean(),
  readPreference: z.string(),
  tls: z.boolean(),
  tlsAllowInvalidCertificates: z.boolean(),
  tlsAllowInvalidHostnames: z.boolean(),
  tlsCAFile: z.string().optional(),
  tlsCertificateKeyFile: z.string().optional(),
  /** The driver's own pool settings, when the URL sets them. */
  maxPoolSize: z.number().int().nonnegative().optional(),
  waitQueueTimeoutMS: z.number().int().nonnegative().optional(),
  /** Options the driver does not know (it would refuse them); reported, left out of the diagnosis. */
  ignoredParams: z.array(z.string()),
});
export type MongoTarget = z.infer<typeof MongoTargetSchema>;

/** Option values that are secrets in their own right (besides the password). */
const SECRET_OPTIONS = ['tlsCertificateKeyFilePassword', 'authMechanismProperties', 'proxyPassword'];

type Driver = typeof import('mongodb');

/** Resolves a mongodb:// or mongodb+srv:// URL; `source` says where it came from ("url", "env MONGODB_URI"). */
export async function resolveMongoTarget(input: { readonly text: string; readonly source: string }): Promise<MongoTarget> {
  const [{ ConnectionString: Parser }, driver] = await Promise.all([import('mongodb-connection-string-url'), import('mongodb')]);
  const text = input.text.trim();
  const shown = maskUrlPasswords(text);
  // The driver splits user info from hosts at the first "@" it likes, and a password holding a
  // raw "@" turns the rest of it into a host name: "app:p@ss@db" would be diagnosed as a host
  // "ss" that does not resolve. The user's mistake is the encoding: say so.
  const authority = /^mongodb(?:\+srv)?:\/\/([^/?#]*)/i.exec(text)?.[1] ?? '';
  if ((authority.match(/@/g) ?? []).length > 1) {
    throw new InputError(
      `invalid MongoDB connection string ${shown} (from ${input.source}): the user name or password holds an unescaped "@"`,
      'percent-encode it as %40 in the URL (and ":" as %3A, "/" as %2F); the driver would read what follows it as the host',
    );
  }
  let written: ConnectionString;
  let display: string;
  try {
    written = new Parser(text);
    // The masked copy is parsed again from its text, which the parser can refuse where it let the
    // original pass (an unescaped "@" or "#" in the password): the driver would refuse it too.
    display = displayOf(written);
  } catch (error) {
    throw new InputError(
      `invalid MongoDB connection string ${shown} (from ${input.source}): ${errorText(error)}`,
      'the form is mongodb://user:password@host:27017,host2:27017/database?option=value or mongodb+srv://user:password@cluster.example.com/database',
    );
  }
  if (written.password) {
    secrets.add(written.password);
    secrets.add(safeDecode(written.password));
  }
  for (const name of SECRET_OPTIONS) secrets.add(written.searchParams.get(name) ?? undefined);

  const ignoredParams: string[] = [];
  const options = parseWithDriver(driver, text, ignoredParams, shown, input.source);
  const params = written.searchParams;
  const explicit = (name: string): boolean => params.has(name);
  const source = input.source;
  const sources: Record<string, string> = { hosts: written.isSRV ? `${source} (SRV record of the host)` : source };

  const credentials = options.credentials;
  const user = credentials?.username || undefined;
  const password = credentials && credentials.password !== '' ? credentials.password : undefined;
  if (user !== undefined) sources.user = source;
  if (password !== undefined) {
    sources.password = source;
    secrets.add(password);
  }
  checkDatabaseName(text, input.source);
  const database = written.pathname.replace(/^\//, '') ? safeDecode(written.pathname.replace(/^\//, '')) : 'test';
  sources.database = written.pathname.replace(/^\//, '') ? source : 'default (test, as the driver does)';
  const authSource =
    credentials?.source ?? (explicit('authSource') ? (params.get('authSource') ?? 'admin') : written.pathname.replace(/^\//, '') ? database : 'admin');
  sources.authSource = explicit('authSource')
    ? source
    : written.isSRV
      ? 'default (the database in the URL, else admin), unless the TXT record sets it'
      : `default (${written.pathname.replace(/^\//, '') ? 'the database in the URL' : 'admin'}, as the driver does)`;
  for (const name of ['replicaSet', 'authMechanism', 'directConnection', 'tls', 'readPreference', 'maxPoolSize', 'waitQueueTimeoutMS']) {
    if (explicit(name) || (name === 'tls' && explicit('ssl'))) sources[name] = source;
  }
  if (!explicit('tls') && !explicit('ssl')) sources.tls = written.isSRV ? 'default (on, for mongodb+srv)' : 'default (off)';

  const hosts = written.isSRV ? [{ host: written.hosts[0] ?? '', port: 27017 }] : options.hosts.map((address) => hostOf(address.toString(), shown, source));
  // A seed is a DNS name, an IP address or a socket file; a +srv host only a DNS name the SRV record hangs from.
  for (const entry of hosts) {
    checkHost(entry.host, source, written.isSRV ? {} : { socketPaths: true, socketExample: '/tmp/mongodb-27017.sock' });
    if (entry.host.startsWith('/'))
      checkSocketLength(entry.host, entry.host, source, 'use a shorter socket path (net.unixDomainSocket.pathPrefix on the server)');
  }
  checkNoNul({ user, database, authSource: credentials?.source, replicaSet: options.replicaSet }, () => source);
  for (const shownName of [user, database, ...hosts.map((entry) => entry.host)]) secrets.addPublic(shownName);
  const mechanism = credentials?.mechanism && credentials.mechanism !== 'DEFAULT' ? credentials.mechanism : undefined;

  const target: MongoTarget = {
    engine: 'mongodb',
    display,
    sources,
    uri: text,
    srv: written.isSRV,
    hosts,
    srvServiceName: options.srvServiceName ?? 'mongodb',
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    database,
    authSource,
    ...(mechanism ? { authMechanism: mechanism } : {}),
    ...(options.replicaSet ? { replicaSet: options.replicaSet } : {}),
    ...(explicit('directConnection') ? { directConnection: options.directConnection } : {}),
    loadBalanced: options.loadBalanced === true,
    readPreference: options.readPreference.mode,
    tls: options.tls === true,
    tlsAllowInvalidCertificates: allowsInvalidCertificates(options),
    tlsAllowInvalidHostnames: allowsInvalidHostnames(options),
    ...(options.tlsCAFile ? { tlsCAFile: options.tlsCAFile } : {}),
    ...(options.tlsCertificateKeyFile ? { tlsCertificateKeyFile: options.tlsCertificateKeyFile } : {}),
    ...(explicit('maxPoolSize') ? { maxPoolSize: options.maxPoolSize } : {}),
    ...(explicit('waitQueueTimeoutMS') ? { waitQueueTimeoutMS: options.waitQueueTimeoutMS } : {}),
    ignoredParams,
  };
  return MongoTargetSchema.parse(target);
}

/**
 * What the driver will accept, from its parsed options. It keeps the URL's tlsAllowInvalidCertificates
 * and tlsAllowInvalidHostnames as Node's TLS options (mongodb 6: `rejectUnauthorized: false`, and a
 * `checkServerIdentity` that checks nothing), not under their own names: reading the names alone
 * took both for false and failed TLS the driver accepts (found by a fresh-eyes tester).
 */
type TlsLeniency = {
  readonly tlsAllowInvalidCertificates?: unknown;
  readonly tlsAllowInvalidHostnames?: unknown;
  readonly tlsInsecure?: unknown;
  readonly rejectUnauthorized?: unknown;
  readonly checkServerIdentity?: unknown;
};

function allowsInvalidCertificates(options: TlsLeniency): boolean {
  return options.tlsAllowInvalidCertificates === true || options.tlsInsecure === true || options.rejectUnauthorized === false;
}

function allowsInvalidHostnames(options: TlsLeniency): boolean {
  return options.tlsAllowInvalidHostnames === true || options.tlsInsecure === true || typeof options.checkServerIdentity === 'function';
}

/**
 * The driver's option parsing, which throws on what it would refuse at connect time. Options it
 * does not know (another driver's, an ORM's) are set aside and reported instead, as dbdoctor does
 * for libpq: the application's own driver may know them.
 */
function parseWithDriver(driver: Driver, text: string, ignored: string[], shown: string, source: string): Driver['MongoClient']['prototype']['options'] {
  let uri = text;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      return new driver.MongoClient(uri).options;
    } catch (error) {
      const unknown = unsupportedOptions(errorText(error));
      if (unknown.length === 0 || !(error instanceof driver.MongoParseError)) {
        throw new InputError(
          `invalid MongoDB connection string ${shown} (from ${source}): ${maskUrlPasswords(errorText(error))}`,
          hintFor(errorText(error), text),
        );
      }
      uri = withoutOptions(uri, unknown);
      ignored.push(...unknown);
    }
  }
  throw new InputError(`invalid MongoDB connection string ${shown} (from ${source})`, 'remove the options the MongoDB driver does not know');
}

/** "option foobar is not supported" / "options a, b are not supported" → ["foobar"] / ["a", "b"]. */
export function unsupportedOptions(message: string): string[] {
  const match = /options? (.+?) (?:is|are) not supported/.exec(message);
  return match?.[1] ? match[1].split(/,\s*/).filter((name) => name !== '') : [];
}

/** The same URI without the named options (matched case-insensitively, as the driver does). */
export function withoutOptions(uri: string, names: readonly string[]): string {
  const [base, query = ''] = splitQuery(uri);
  const lower = new Set(names.map((name) => name.toLowerCase()));
  const kept = query.split('&').filter((pair) => pair !== '' && !lower.has((pair.split('=')[0] ?? '').toLowerCase()));
  return kept.length > 0 ? `${base}?${kept.join('&')}` : base;
}

function splitQuery(uri: string): [string, string] {
  const index = uri.indexOf('?');
  return index < 0 ? [uri, ''] : [uri.slice(0, index), uri.slice(index + 1)];
}

function hintFor(message: string, text: string): string {
  // The driver cannot read a zone id in an IPv6 address ([fe80::1%25eth0]): "Unable to parse … with URL".
  if (/\[[^\]]*%25[^\]]*\]/.test(text))
    return 'the MongoDB driver cannot read an IPv6 address with a zone id (%25eth0): use a global or unique-local address, or a host name that resolves to it';
  if (/directConnection/i.test(message)) return 'directConnection=true takes exactly one host; list several hosts without it (or with replicaSet=…)';
  if (/Unable to parse .* with URL|port/i.test(message)) return 'a port is a whole number from 1 to 65535, e.g. 27017';
  if (/srv/i.test(message)) return 'mongodb+srv:// takes one host name and no port: mongodb+srv://user:password@cluster.example.com/database';
  return 'see https://www.mongodb.com/docs/manual/reference/connection-string/ for the options and their values';
}

function hostOf(address: string, shown: string, source: string): MongoHost {
  // A Unix socket (mongodb://%2Ftmp%2Fmongodb-27017.sock): the driver gives its path, no port.
  if (address.startsWith('/')) return { host: address, port: Number(/-(\d+)\.sock$/.exec(address)?.[1] ?? 27017) };
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  const port = Number(match?.[2] ?? 27017);
  // A blank host ("mongodb:// @ /") passes the driver's parser and fails only at lookup time.
  if (!match?.[1]?.trim() || /\s/.test(match[1]) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InputError(`invalid host "${address}" in ${shown} (from ${source})`, 'a host is name:port, e.g. mongo-0.example.com:27017');
  }
  return { host: match[1], port };
}

/**
 * The database as written in the URL's path. The driver refuses a name holding "." when the
 * application opens it ("Database names cannot contain the character '.'"), and the URL parser
 * drops "." and ".." (or %2E, %2E%2E) as path segments before the driver sees them, leaving the
 * default "test": either way the database the user wrote is not the one anything would use.
 */
function checkDatabaseName(text: string, source: string): void {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/i.exec(text)?.[1];
  if (path === undefined || path === '') return;
  const name = safeDecode(path);
  if (!name.includes('.')) return;
  throw new InputError(
    `invalid database "${bounded(visible(name), 120)}" (from ${source}): a MongoDB database name cannot hold "." (the driver refuses it; "." or ".." alone is dropped from the URL, leaving "test"); write the database's real name`,
  );
}

/** The connection string as people should see it: the password (and secret options) masked. */
function displayOf(written: ConnectionString): string {
  const copy = written.clone();
  if (copy.password) copy.password = MASK;
  for (const name of SECRET_OPTIONS) if (copy.searchParams.has(name)) copy.searchParams.set(name, MASK);
  return copy.toString();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
