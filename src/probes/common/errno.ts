import type { CauseCode } from '../../engine/causes.js';
import type { Alternative, Reader, Reading } from '../../engine/explainer.js';
import { ERRNO_TABLE, SOCKET_FILE_MISSING, type ErrnoEntry, type SocketFailure } from '../../net/errno.js';
import { ERRNO_TRANSLATIONS, SOCKET_MISSING_TRANSLATIONS } from './errno-catalog.generated.js';

/**
 * `dbdoctor explain`'s errno layer: a socket or resolver error in any platform's spelling (name,
 * number or message; net/errno.ts) means the same cause as the network step's classify
 * (net/classify.ts) gives it. A refusal or a timeout inside a name lookup ("lookup db on
 * 10.0.0.10:53: read udp …: connection refused", "querySrv ECONNREFUSED") is the resolver's, not
 * the database's.
 */
export const refusedAlso: readonly Alternative[] = [
  { cause: 'wrong_port', why: 'a server may be listening on another port' },
  {
    cause: 'not_listening',
    why: 'a server may run there but listen only on other addresses (PostgreSQL listen_addresses, MongoDB bindIp, Cassandra rpc_address)',
  },
  { cause: 'localhost_in_container', why: 'if the client runs in a container and the host is localhost, localhost is the container itself' },
  { cause: 'firewall_rejected', why: 'a firewall rule that answers with a TCP reset looks the same to the client' },
];

export const timeoutAlso: readonly Alternative[] = [
  { cause: 'no_response', why: 'a server (or proxy) that accepted the connection and never answered gives the same message' },
  { cause: 'dns_temporary', why: 'a resolver that never answers uses up the same timeout in some clients' },
];

const MEANING: Readonly<Record<SocketFailure, { readonly cause: CauseCode; readonly also?: readonly Alternative[] }>> = {
  refused: { cause: 'not_running', also: refusedAlso },
  timeout: { cause: 'connect_timeout', also: timeoutAlso },
  unreachable: { cause: 'host_unreachable' },
  reset: {
    cause: 'connection_reset',
    also: [{ cause: 'no_response', why: 'a server that crashed or a proxy that gave up closes the connection the same way' }],
  },
  name_not_found: { cause: 'dns_not_found' },
  name_temporary: { cause: 'dns_temporary' },
};

const BY_NAME = new Map<string, ErrnoEntry>(ERRNO_TABLE.flatMap((entry) => entry.names.map((name) => [name, entry] as const)));
const BY_NUMBER = new Map<number, ErrnoEntry>(ERRNO_TABLE.flatMap((entry) => entry.numbers.map((number) => [number, entry] as const)));
const BY_GAI = new Map<number, ErrnoEntry>(ERRNO_TABLE.flatMap((entry) => (entry.gai ?? []).map((number) => [number, entry] as const)));
/** Long enough to be read on its own: six letters, a Han, kana or Hangul character counting as three ("拒绝连接", zh_CN's "Connection refused"). */
function sayable(text: string): boolean {
  let weight = 0;
  for (const char of text) weight += /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/u.test(char) ? 3 : 1;
  return weight >= 6;
}

/** A message in English and, from glibc's own catalogs, in every language it ships (a translated libpq prints them after its own words), as it is searched. */
const spellings = (message: string, translations: Readonly<Record<string, Readonly<Record<string, string>>>>): string[] =>
  [message, ...Object.values(translations[message] ?? {}).filter(sayable)].map((text) => text.toLowerCase().replace(/\s+/g, ' '));

const BY_MESSAGE = new Map<string, ErrnoEntry>(
  ERRNO_TABLE.flatMap((entry) => entry.messages.flatMap((message) => spellings(message, ERRNO_TRANSLATIONS).map((text) => [text, entry] as const))).sort(
    ([a], [b]) => b.length - a.length,
  ),
);

/** A missing socket file (ENOENT, SOCKET_FILE_MISSING), in every language: read only beside a socket path. */
const SOCKET_MISSING = SOCKET_FILE_MISSING.messages.flatMap((message) => spellings(message, SOCKET_MISSING_TRANSLATIONS));
const SOCKET_PATH = /\.s\.PGSQL\.\d+|[\w.-]+\.sock\b/;
const socketMissingAlso: readonly Alternative[] = [
  { cause: 'wrong_port', why: 'a server may be running with its socket for another port (the number at the end of the file name)' },
  { cause: 'not_listening', why: 'or with its socket in another directory (PostgreSQL: unix_socket_directories)' },
];

/** c-ares and getaddrinfo codes after a DNS query: every one is about the name, never the database. */
const DNS_QUERY = /\b(?:query(?:Srv|Txt|A|Aaaa|Any|Cname|Mx|Ns|Ptr)|getaddrinfo|getHostByName|lookup)\s+(E[A-Z_]+)\b/gi;
const DNS_NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA', 'NXDOMAIN']);
const NAMES = new RegExp(`\\b(${[...BY_NAME.keys()].filter((name) => !['ETIMEOUT', 'EREFUSED', 'ESERVFAIL'].includes(name)).join('|')})\\b`, 'g');
const NUMBERS =
  /(?:\[Errno |\berrno[:=]?\s*|\(os error |\[WinError |\(0x[0-9A-Fa-f]{8}\/|SocketException \(|\bsocket error\s*#?\s*|\berror code[:=]?\s*|\bWSA error\s*)(-?\d{1,5})\b/gi;
/** Messages are found by substring (hundreds of them, in every language), then checked to stand as words. */
const WORD_CHAR = /[\p{L}\p{N}_-]/u;
function* messagesIn(text: string): Generator<{ index: number; words: string; entry: ErrnoEntry }> {
  const lower = text.toLowerCase().replace(/\s/g, ' ');
  const found: { index: number; words: string; entry: ErrnoEntry }[] = [];
  for (const [message, entry] of BY_MESSAGE) {
    for (let index = lower.indexOf(message); index !== -1; index = lower.indexOf(message, index + message.length)) {
      if (WORD_CHAR.test(lower.charAt(index - 1)) || WORD_CHAR.test(lower.charAt(index + message.length))) continue;
      // A shorter message inside a longer one found at the same place ("Connection refused" in "… the remote computer refused …") is not read twice.
      if (found.some((other) => other.index <= index && other.index + other.words.length >= index + message.length)) continue;
      found.push({ index, words: text.slice(index, index + message.length), entry });
    }
  }
  yield* found.sort((a, b) => a.index - b.index);
}
/** The resolver's own failure: Go's "lookup db on 10.0.0.10:53: …", a DNS query's code. */
const RESOLVER_CONTEXT = /lookup \S+ on \S+:[^\n]*$|\b(?:querySrv|queryTxt|getaddrinfo|resolv\w*)[^\n]{0,40}$/i;

function reading(entry: ErrnoEntry, failure: SocketFailure, index: number, words: string, basis: Reading['basis']): Reading {
  const meaning = MEANING[failure];
  return {
    id: `errno.${failure === entry.failure ? entry.names[0] : `${entry.names[0]}.resolver`}`,
    basis,
    rank: 'errno',
    cause: meaning.cause,
    ...(meaning.also ? { also: meaning.also } : {}),
    index,
    end: index + words.length,
    words,
  };
}

/** A refusal or timeout that happened to the name lookup: the resolver could not answer. */
function failureAt(entry: ErrnoEntry, text: string, index: number): SocketFailure {
  if (entry.failure !== 'refused' && entry.failure !== 'timeout') return entry.failure;
  const before = text.slice(Math.max(0, text.lastIndexOf('\n', index - 1) + 1), index);
  return RESOLVER_CONTEXT.test(before) ? 'name_temporary' : entry.failure;
}

/** ENOENT (its name or its message in any language) where the text names a socket file nearby: no server made that socket. */
function socketMissing(text: string): Reading[] {
  const lower = text.toLowerCase().replace(/\s/g, ' ');
  const found: Reading[] = [];
  const near = (index: number, length: number): boolean => SOCKET_PATH.test(text.slice(Math.max(0, index - 300), index + length + 300));
  const push = (index: number, words: string, basis: Reading['basis']): void => {
    if (near(index, words.length))
      found.push({ id: 'errno.ENOENT.socket', basis, rank: 'errno', cause: 'not_running', also: socketMissingAlso, index, end: index + words.length, words });
  };
  for (const message of SOCKET_MISSING) {
    for (let index = lower.indexOf(message); index !== -1; index = lower.indexOf(message, index + message.length)) {
      if (WORD_CHAR.test(lower.charAt(index - 1)) || WORD_CHAR.test(lower.charAt(index + message.length))) continue;
      push(index, text.slice(index, index + message.length), 'words');
    }
  }
  for (const match of text.matchAll(/\bENOENT\b/g)) push(match.index, match[0], 'code');
  return found;
}

export const errnoReader: Reader = {
  id: 'errno',
  read(text) {
    const found: Reading[] = [];
    const taken = new Set<number>();
    for (const match of text.matchAll(DNS_QUERY)) {
      const code = (match[1] ?? '').toUpperCase();
      const entry = BY_NAME.get(code) ?? (DNS_NOT_FOUND_CODES.has(code) ? BY_NAME.get('ENOTFOUND') : undefined);
      const index = match.index + match[0].length - code.length;
      taken.add(index);
      const failure: SocketFailure = DNS_NOT_FOUND_CODES.has(code) ? 'name_not_found' : 'name_temporary';
      found.push(reading(entry ?? (BY_NAME.get('EAI_AGAIN') as ErrnoEntry), failure, index, code, 'code'));
    }
    for (const match of text.matchAll(NAMES)) {
      const entry = BY_NAME.get(match[1] ?? '');
      if (!entry || taken.has(match.index)) continue;
      found.push(reading(entry, failureAt(entry, text, match.index), match.index, match[0], 'code'));
    }
    for (const match of text.matchAll(NUMBERS)) {
      const number = Number(match[1]);
      const entry = (match[0].startsWith('[Errno') ? BY_GAI.get(number) : undefined) ?? BY_NUMBER.get(number);
      if (entry) found.push(reading(entry, failureAt(entry, text, match.index), match.index, match[0], 'code'));
    }
    for (const { index, words, entry } of messagesIn(text)) found.push(reading(entry, failureAt(entry, text, index), index, words, 'words'));
    found.push(...socketMissing(text));
    return found;
  },
};
