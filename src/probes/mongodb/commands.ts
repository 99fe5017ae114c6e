import { ConnectionString } from 'mongodb-connection-string-url';
import type { MongoTarget } from '../../config/mongodb/target.js';

/**
 * Building blocks for copy-paste remediation. Commands never carry a password: mongosh asks for
 * it when the URL names a user, and a `ping` needs no login at all.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface UrlChange {
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
  return `mongosh ${shellQuote(urlWith(target, { anonymous: true, ...(hosts ? { hosts } : {}) }))} --quiet --eval 'db.runCommand({ ping: 1 }).ok'`;
}

/** mongosh as the diagnosed user (it prompts for the password), running `script`. */
export function mongoshAsUser(target: MongoTarget, script: string, change: UrlChange = {}): string {
  return `mongosh ${shellQuote(urlWith(target, change))} --quiet --eval ${shellQuote(script)}`;
}

/** mongosh as an administrator, for fixes that need one. */
export function mongoshAsAdmin(target: MongoTarget, script: string): string {
  const url = new ConnectionString(urlWith(target, { anonymous: true, remove: ['authSource', 'authMechanism'] }));
  url.username = 'admin';
  url.searchParams.set('authSource', 'admin');
  return `mongosh ${shellQuote(url.toString())} --quiet --eval ${shellQuote(script)}`;
}
