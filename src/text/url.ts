import { ipFamily } from './ip.js';
import { shellWord } from './shell.js';

/**
 * Connection URLs dbdoctor prints (postgresql://, cassandra://, …) are built from parts: each part
 * percent-encoded, so that a value cannot end the part it sits in or become syntax of the URL, nor
 * of a shell (the whole URL is then one shell word wherever a command holds it).
 */

/**
 * A URL component: everything but unreserved characters (RFC 3986: A–Z a–z 0–9 - . _ ~)
 * percent-encoded as UTF-8. Stricter than encodeURIComponent, which leaves ! ' ( ) * bare.
 */
export function urlPart(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A host in a URL's authority: an IPv6 address in brackets (its zone's "%" as %25, RFC 6874), any
 * other host percent-encoded as a part. Socket directories do not belong here: they go in ?host=.
 */
export function urlHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (ipFamily(bare) === 6) return `[${bare.replace(/%/g, '%25')}]`;
  return urlPart(host);
}

/**
 * A value in a URL's query (?host=/var/run/postgresql): percent-encoded as a part, but with "/",
 * ":", "@" and "," left as they are, which a query may hold and which read better in a path or
 * a host list.
 */
export function urlQueryValue(value: string): string {
  return urlPart(value).replace(/%(2F|3A|40|2C)/g, (_match, code: string) => String.fromCharCode(Number.parseInt(code, 16)));
}

/**
 * A URL printed on a line of its own, for the application's settings (a .env file, a manifest, a
 * secret): as it is when it holds only characters a URL is made of and no shell reads specially
 * beyond "?", "&" and "[ ]" — quotes would become part of the value in most of those places —
 * and as one quoted shell word otherwise (a part the user wrote unencoded, with "$" or a space).
 * Built from percent-encoded parts, dbdoctor's own URLs are always the first kind.
 */
export function urlLine(url: string): string {
  return /^[A-Za-z0-9._~%:/@?&=,+[\]-]+$/.test(url) ? url : shellWord(url);
}
