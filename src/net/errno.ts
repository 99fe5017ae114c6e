/**
 * The socket and resolver errors a client can meet before any database protocol is spoken, as
 * each platform spells them: the errno name (Linux, macOS and musl share the POSIX names; Windows
 * has WSA* names and its own numbers; Node.js prints libuv's negative numbers and its own
 * ENOTFOUND), the number (Linux's and Windows', which do not collide with anything a connection
 * error says; macOS's numbers mean other things on Linux, so macOS is read by its words), and the
 * message (glibc, musl, macOS and Windows wordings; gai_strerror for names). Data only: the
 * reader that turns a hit into a cause is src/probes/common/errno.ts.
 */
export type SocketFailure = 'refused' | 'timeout' | 'unreachable' | 'reset' | 'name_not_found' | 'name_temporary';

export interface ErrnoEntry {
  readonly failure: SocketFailure;
  /** The canonical name, first, then the other names it is printed under. */
  readonly names: readonly [string, ...string[]];
  /** Numbers as printed after "errno", "[Errno …]", "os error", "[WinError …]" (Linux, Windows, libuv's negatives). */
  readonly numbers: readonly number[];
  /** getaddrinfo's negative codes, read only in Python's "[Errno -2]" (Node.js prints -2 for ENOENT). */
  readonly gai?: readonly number[];
  /** strerror / gai_strerror / FormatMessage wordings, matched case-insensitively as phrases. */
  readonly messages: readonly string[];
}

export const ERRNO_TABLE: readonly ErrnoEntry[] = [
  {
    failure: 'refused',
    names: ['ECONNREFUSED', 'WSAECONNREFUSED', 'ERROR_CONNECTION_REFUSED'],
    numbers: [111, -111, 10061, 1225, -4078],
    messages: [
      'Connection refused',
      'No connection could be made because the target machine actively refused it',
      'The remote computer refused the network connection',
      'actively refused',
    ],
  },
  {
    failure: 'timeout',
    names: ['ETIMEDOUT', 'WSAETIMEDOUT', 'ERROR_SEM_TIMEOUT'],
    numbers: [110, -110, 10060, -4039, 121],
    messages: [
      'Connection timed out',
      'Operation timed out',
      'A connection attempt failed because the connected party did not properly respond after a period of time',
      'established connection failed because connected host has failed to respond',
      'The semaphore timeout period has expired',
    ],
  },
  {
    failure: 'unreachable',
    names: [
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EHOSTDOWN',
      'WSAEHOSTUNREACH',
      'WSAENETUNREACH',
      'WSAEHOSTDOWN',
      'ERROR_NETWORK_UNREACHABLE',
      'ERROR_HOST_UNREACHABLE',
    ],
    numbers: [113, -113, 101, -101, 112, 10065, 10051, 10064, -4065, -4062, 1231, 1232],
    messages: [
      'No route to host',
      'Host is unreachable',
      'Network is unreachable',
      'Network unreachable',
      'Host is down',
      'A socket operation was attempted to an unreachable host',
      'A socket operation was attempted to an unreachable network',
      'The network location cannot be reached',
      'The remote system is not reachable by the transport',
    ],
  },
  {
    failure: 'reset',
    names: ['ECONNRESET', 'WSAECONNRESET', 'ECONNABORTED', 'WSAECONNABORTED'],
    numbers: [104, -104, 10054, -4077, 103, 10053, -4079],
    messages: [
      'Connection reset by peer',
      'An existing connection was forcibly closed by the remote host',
      'Software caused connection abort',
      'An established connection was aborted by the software in your host machine',
    ],
  },
  {
    failure: 'name_not_found',
    names: ['ENOTFOUND', 'EAI_NONAME', 'WSAHOST_NOT_FOUND', 'EAI_NODATA', 'WSANO_DATA', 'HOST_NOT_FOUND'],
    numbers: [11001, 11004, -3008],
    gai: [-2, -5, 8],
    messages: [
      'Name or service not known',
      'Name does not resolve',
      'nodename nor servname provided, or not known',
      'No such host is known',
      'No address associated with hostname',
      'The requested name is valid, but no data of the requested type was found',
      'getaddrinfo failed',
      'no such host',
      'Unknown host',
      'could not resolve host',
    ],
  },
  {
    failure: 'name_temporary',
    names: ['EAI_AGAIN', 'WSATRY_AGAIN', 'ESERVFAIL', 'ETIMEOUT', 'EREFUSED'],
    numbers: [11002, -3001],
    gai: [-3],
    messages: ['Temporary failure in name resolution', 'This is usually a temporary error during hostname resolution', 'server misbehaving'],
  },
];

/**
 * A Unix socket file that is not there: a server that is not running, or one whose socket is in
 * another directory or for another port. The errno is ENOENT, whose words name any missing file,
 * so it is read only beside a socket path (src/probes/common/errno.ts); its message in every
 * language glibc ships is generated with the others.
 */
export const SOCKET_FILE_MISSING = { names: ['ENOENT'], messages: ['No such file or directory'] } as const;
