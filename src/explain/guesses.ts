import type { CauseCode } from '../engine/causes.js';

/**
 * For text no rule recognises: words that point towards a cause without saying it. A hit here is
 * never a verdict, only a guess shown as such ("the text mentions …"), most telling words first.
 */
export const GUESSES: readonly { readonly pattern: RegExp; readonly cause: CauseCode }[] = [
  { pattern: /\b(?:password|passwd|credentials?|authenticat\w*|unauthori[sz]ed|login failed)\b/i, cause: 'auth_failed' },
  { pattern: /\btoo many (?:connections|clients)\b|\bconnection limit\b|\bmax_connections\b|\bpool (?:is )?exhausted\b/i, cause: 'too_many_connections' },
  { pattern: /\b(?:resolve|resolving|resolution|DNS|host ?name|getaddrinfo|unknown host)\b/i, cause: 'dns_not_found' },
  { pattern: /\brefus\w*/i, cause: 'not_running' },
  { pattern: /\b(?:SSL|TLS|certificate|x509|handshake)\b/i, cause: 'tls_handshake_failed' },
  { pattern: /\b(?:timed? ?out|timeout|deadline exceeded)\b/i, cause: 'connect_timeout' },
  { pattern: /\b(?:closed|reset|broken pipe|EOF|terminated)\b/i, cause: 'no_response' },
  { pattern: /\bdoes not exist\b|\bnot found\b|\bunknown database\b/i, cause: 'database_missing' },
  { pattern: /\b(?:permission|denied|forbidden|not permitted)\b/i, cause: 'permission_denied' },
];
