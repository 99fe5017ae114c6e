import type { Socket } from 'node:net';
import type { Deadline } from '../engine/deadline.js';

/** Said by a reader that needs more bytes before it can answer. */
export const MORE = Symbol('more bytes');

/** What settles one request on a socket, each called at most once between them (the first wins). */
export interface Settle<T> {
  /** Every chunk, with all bytes received so far: an answer settles, MORE waits for more. */
  readonly data: (received: Buffer, chunk: Buffer) => T | typeof MORE;
  readonly close: (received: Buffer) => T;
  readonly error: (error: NodeJS.ErrnoException) => T;
  readonly expired: () => T;
}

/**
 * Writes one request and waits for what settles it: an answer read from the bytes so far, a
 * hang-up, a socket error or the deadline, whichever comes first. Every listener is removed again,
 * so that the socket can be handed on untouched (to TLS, to a driver, to the next request).
 */
export function exchangeOnce<T>(socket: Socket, request: Buffer, deadline: Deadline, settle: Settle<T>): Promise<T> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (result: T): void => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      deadline.signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const answer = settle.data(received, chunk);
      if (answer !== MORE) finish(answer);
    };
    const onClose = (): void => finish(settle.close(received));
    const onError = (error: NodeJS.ErrnoException): void => finish(settle.error(error));
    const onAbort = (): void => finish(settle.expired());
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    deadline.onExpired(onAbort);
    socket.write(request);
  });
}
