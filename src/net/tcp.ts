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
  return attempt(() => connect({ path: path.startsWith('@') ? `\u0000${path.slice(1)}` : path }), deadline);
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
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

function ignore(): void {}
