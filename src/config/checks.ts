import { hostProblem, type HostRules } from '../net/hostname.js';
import { bounded } from '../text/bound.js';
import { InputError } from './errors.js';

/**
 * Names that no client could use are bad input, said in one line before any network call: a host
 * that is not a DNS name, an IP address or (where the engine has them) a socket; a setting with a
 * NUL byte, which no protocol can carry (libpq, the MongoDB and Cassandra drivers send
 * NUL-terminated strings, and would cut the value there).
 */
export function checkHost(host: string, source: string, rules: HostRules & { readonly socketExample?: string } = {}): void {
  const problem = hostProblem(host, rules);
  if (problem === undefined) return;
  const sockets = rules.socketPaths ? `, or a Unix socket (${rules.socketExample ?? '/var/run/postgresql'})` : '';
  throw new InputError(
    `invalid host "${bounded(host, 120)}" (from ${source}): ${problem}`,
    `a host is a DNS name (db.example.com), an IPv4 or IPv6 address (10.0.0.5, [::1] in a URL)${sockets}; fix the host setting`,
  );
}

/** sun_path holds 108 bytes on Linux, the last one for the terminating NUL. */
const SOCKET_PATH_BYTES = 107;

/**
 * A socket path no socket address can hold is bad input: the kernel, or the runtime, would cut it
 * and connect somewhere else, or nowhere, and the refusal would be blamed on the server.
 */
export function checkSocketLength(host: string, socket: string, source: string, hint: string): void {
  if (Buffer.byteLength(socket) <= SOCKET_PATH_BYTES) return;
  throw new InputError(
    `invalid host "${bounded(host, 120)}" (from ${source}): the socket path ${bounded(socket, 160)} is longer than ${SOCKET_PATH_BYTES} bytes`,
    hint,
  );
}

/** Refuses a NUL byte in any of `settings`; a secret is named, never shown. */
export function checkNoNul(
  settings: Readonly<Record<string, string | undefined>>,
  sourceOf: (name: string) => string | undefined,
  secret: (name: string) => boolean = () => false,
): void {
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined || !value.includes('\u0000')) continue;
    const shown = secret(name) ? '' : ` "${bounded(value, 120)}"`;
    throw new InputError(
      `invalid ${name}${shown} (from ${sourceOf(name) ?? 'url'}): it holds a NUL byte, which no client can send`,
      `remove the NUL byte (%00 in a URL) from ${name}`,
    );
  }
}
