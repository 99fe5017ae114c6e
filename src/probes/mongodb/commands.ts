import { ConnectionString } from 'mongodb-connection-string-url';
import type { MongoTarget } from '../../config/mongodb/target.js';
import { isHostName } from '../../net/hostname.js';
import { jsString } from '../../text/js.js';
import { sh } from '../../text/shell.js';
import { urlHost, urlPart } from '../../text/url.js';
import { isSocketPath } from './evidence.js';

/**
 * Building blocks for copy-paste remediation. Commands never carry a password: mongosh asks for
 * it when the URL names a user, and a `ping` needs no login at all. The URL is one shell word; a
 * script for --eval is one shell word too, and every value inside it a JavaScript string
 * (`jsString`), so a name a server sent stays a string in mongosh.
 */
export { jsString };

/** A seed as a connection string writes it: host:port, an IPv6 address in brackets, a socket path percent-encoded. */
export function hostPort(host: string, port: number): string {
  return isSocketPath(host) ? urlPart(host) : `${urlHost(host)}:${port}`;
}

export interface UrlChange {
  /** Seeds, each already written as a URL host (`hostPort`). */
  readonly hosts?: readonly string[];
  /** Drop the user too (for commands that need no login). */
  readonly anonymous?: boolean;
  readonly set?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

/** The target's connection string, password removed, with a change applied. */
export function urlWith(target: MongoTarget, change: UrlChange = {}): string {
  const url = new ConnectionString(target.uri);
  url.password = '';
  if (change.anonymous) url.username = '';
  if (change.hosts) {
    if (url.isSRV) return `mongodb://${change.hosts.join(',')}${url.pathname}${queryOf(url, change)}`;
    url.hosts = [...change.hosts];
  }
  for (const name of [...target.ignoredParams, ...(change.remove ?? [])]) url.searchParams.delete(name);
  for (const [name, value] of Object.entries(change.set ?? {})) url.searchParams.set(name, value);
  return url.toString();
}

function queryOf(url: ConnectionString, change: UrlChange): string {
  const params = new URLSearchParams(url.searchParams);
  for (const name of change.remove ?? []) params.delete(name);
  for (const [name, value] of Object.entries(change.set ?? {})) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A `ping` that needs no login: the readiness check for scripts and init containers. */
export function mongoshPing(target: MongoTarget, hosts?: readonly string[]): string {
  return sh`mongosh ${urlWith(target, { anonymous: true, ...(hosts ? { hosts } : {}) })} --quiet --eval ${'db.runCommand({ ping: 1 }).ok'}`;
}

/** mongosh as the diagnosed user (it prompts for the password), running `script` (its values `jsString`s). */
export function mongoshAsUser(target: MongoTarget, script: string, change: UrlChange = {}): string {
  return sh`mongosh ${urlWith(target, change)} --quiet --eval ${script}`;
}

/** mongosh as an administrator, for fixes that need one. */
export function mongoshAsAdmin(target: MongoTarget, script: string): string {
  const url = new ConnectionString(urlWith(target, { anonymous: true, remove: ['authSource', 'authMechanism'] }));
  url.username = 'admin';
  url.searchParams.set('authSource', 'admin');
  return sh`mongosh ${url.toString()} --quiet --eval ${script}`;
}

/**
 * A "host:port" a server advertised (hello's primary, a member's name), as a seed for a printed
 * URL — or undefined when it is not a host and port any client could use: what a server says is
 * data, and only a real address becomes part of a command.
 */
export function advertisedSeed(address: string): string | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(address);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3] ?? 27017);
  if (host === undefined || !isHostName(host) || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return hostPort(host, port);
}
