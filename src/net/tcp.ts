import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../engine/deadline.js';

/**
 * One connection attempt to one address (or one Unix socket), with its outcome told apart the
 * way an operator needs it: refused (nothing listens), timeout (no answer at all: a black hole),
 * unreachable (no route), reset, a missing socket file, a socket we may not open.
 */
export type ConnectOutcome =
  | { readonly outcome: 'connected'; readonly socket: Socket; readonly durationMs: number }
  | {
      readonly outcome: 'refused' | 'timeout' | 'unreachable' | 'reset' | 'missing' | 'denied' | 'error';
      readonly code: string;
      readonly message: string;
      readonly durationMs: number;
    };

export type ConnectFailure = Exclude<ConnectOutcome, { outcome: 'connected' }>;

const OUTCOME_BY_CODE: Record<string, ConnectFailure['outcome']> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ECONNRESET: 'reset',
  ENOENT: 'missing',
  ENOTDIR: 'missing',
  EACCES: 'denied',
  EPERM: 'denied',
};

export function connectTcp(address: string, port: number, deadline: Deadline): Promise<ConnectOutcome> {
  return attempt(() => connect({ host: address, port, noDelay: true, autoSelectFamily: false }), deadline);
}

/**
 * Connects to a Unix socket: a path ("/run/postgresql/.s.PGSQL.5432"), or a Linux abstract socket
 * written as libpq writes it, "@name/.s.PGSQL.5432" (no file: the kernel's name starts with a NUL).
 */
export function connectUnix(path: string, deadline: Deadline): Promise<ConnectOutcome> {
  if (path.startsWith('@')) {
    const support = abstractSocketSupport();
    if (support.state === 'unsupported') return Promise.resolve({ outcome: 'error', code: 'EABSTRACTSOCKET', message: support.reason, durationMs: 0 });
  }
  return attempt(() => connect({ path: path.startsWith('@') ? `\u0000${path.slice(1)}` : path }), deadline);
}

export type AbstractSocketSupport = { readonly state: 'supported' } | { readonly state: 'unsupported'; readonly reason: string };

/**
 * Can this runtime reach a Linux abstract socket that another program (PostgreSQL) bound? The
 * kernel matches an abstract name byte for byte over the address length given. libuv before 1.48
 * (Node 20 ships 1.46) gives the whole sun_path, so "\0name" becomes "\0name\0\0…" (108 bytes; ss
 * and /proc show "@name@@@@…") and every connect to a server's "@name" is refused. Refusing to try
 * is better than reporting a refusal that is not the server's.
 */
export function abstractSocketSupport(platform: NodeJS.Platform = process.platform, uv: string = process.versions.uv ?? '0'): AbstractSocketSupport {
  if (platform !== 'linux') return { state: 'unsupported', reason: `abstract sockets ("@name") exist only on Linux, not on ${platform}` };
  const [major = 0, minor = 0] = uv.split('.').map(Number);
  if (major > 1 || (major === 1 && minor >= 48)) return { state: 'supported' };
  return {
    state: 'unsupported',
    reason: `Node.js ${process.version} (libuv ${uv}) pads an abstract socket's name to 108 bytes and so cannot reach one another program listens on; Node.js 22 or later can`,
  };
}

function attempt(open: () => Socket, deadline: Deadline): Promise<ConnectOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    if (deadline.expired) {
      resolve({ outcome: 'timeout', code: 'ETIMEOUT', message: 'no time left to connect', durationMs: 0 });
      return;
    }
    const socket = open();
    // A stray error after we hand the socket over must never crash the process; whoever owns
    // the socket next attaches its own listeners and still sees every error.
    socket.on('error', ignore);
    const onAbort = (): void => {
      socket.destroy();
      finish({ outcome: 'timeout', code: 'ETIMEOUT', message: `no answer within ${deadline.budgetMs} ms`, durationMs: elapsed() });
    };
    const finish = (result: ConnectOutcome): void => {
      deadline.signal.removeEventListener('abort', onAbort);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      resolve(result);
    };
    const onConnect = (): void => finish({ outcome: 'connected', socket, durationMs: elapsed() });
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.destroy();
      const code = error.code ?? 'EUNKNOWN';
      finish({ outcome: OUTCOME_BY_CODE[code] ?? 'error', code, message: error.message, durationMs: elapsed() });
    };
    deadline.onExpired(onAbort);
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

function ignore(): void {}
