import { ipFamily } from '../text/ip.js';
import { isInvisible } from '../text/visible.js';

/**
 * Is this something a client could connect to: a DNS name, an IPv4 or IPv6 literal, or (where the
 * engine has them) a Unix socket? A host such as `db$(touch /tmp/x);x` is none of these: no client
 * resolves it, and printed into a fix it would be shell syntax. It is bad input, said before any
 * network call. Only what no resolver would take is refused: underscores (docker compose service
 * names resolve through Docker's DNS), names in any script (getaddrinfo passes them on as UTF-8;
 * /etc/hosts may list them), a trailing dot, IPv6 zone ids (fe80::1%eth0) all pass.
 */
export interface HostRules {
  /** Unix socket paths ("/dir") allowed: PostgreSQL's socket directories, MongoDB's .sock files. */
  readonly socketPaths?: boolean;
  /** Linux abstract-namespace sockets ("@name", libpq 14+). */
  readonly abstractSockets?: boolean;
}

/** DNS limits (RFC 1035): 63 octets a label, 253 a name without its trailing dot. */
const LABEL_OCTETS = 63;
const NAME_OCTETS = 253;
/** A label's characters: letters and digits of any script, combining marks, "-" and "_". */
const LABEL = /^[\p{L}\p{M}\p{N}_-]+$/u;

/** Why `host` cannot be a host, in a few words; undefined when it can be. */
export function hostProblem(host: string, rules: HostRules = {}): string | undefined {
  if (host === '') return 'it is empty';
  if (host.includes('\u0000')) return 'it holds a NUL byte';
  if (host.startsWith('/')) return rules.socketPaths ? undefined : 'a socket path is not a host here';
  if (host.startsWith('@')) return rules.abstractSockets ? (host.length > 1 ? undefined : 'an abstract socket needs a name after "@"') : 'it starts with "@"';
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (ipFamily(bare) !== 0) return undefined;
  if (bare.includes(':')) return 'it is not a valid IPv6 address (a zone id is letters, digits, "-", "_" and ".")';
  if (bare.startsWith('-')) return 'it starts with "-"';
  const name = bare.endsWith('.') ? bare.slice(0, -1) : bare;
  if (name === '') return 'it is only a dot';
  if (Buffer.byteLength(name) > NAME_OCTETS) return `it is longer than ${NAME_OCTETS} bytes`;
  // A letter or a mark that is drawn as nothing (a Hangul filler, a variation selector) names a host that cannot be seen.
  const invisible = [...name].find(isInvisible);
  if (invisible !== undefined) return `it holds ${describeCharacter(invisible)}, which no host name has`;
  for (const label of name.split('.')) {
    if (label === '') return 'it has an empty label (two dots in a row, or a leading dot)';
    if (Buffer.byteLength(label) > LABEL_OCTETS) return `its label "${label.slice(0, 20)}…" is longer than ${LABEL_OCTETS} bytes`;
    if (!LABEL.test(label)) {
      const bad = [...label].find((character) => !LABEL.test(character)) ?? '?';
      return `it holds ${describeCharacter(bad)}, which no host name has`;
    }
  }
  return undefined;
}

/** One character as words: "a space", '"$"'. */
function describeCharacter(character: string): string {
  if (character === ' ') return 'a space';
  const code = character.codePointAt(0) ?? 0;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `a control character (\\x${code.toString(16).padStart(2, '0')})`;
  if (isInvisible(character) || /\p{Z}/u.test(character)) return `an invisible character (\\u${code.toString(16).padStart(4, '0')})`;
  return `"${character}"`;
}

/** Whether a name a server advertised (a replica-set member, a peer) is a host a command may name. */
export function isHostName(host: string): boolean {
  return hostProblem(host) === undefined;
}
