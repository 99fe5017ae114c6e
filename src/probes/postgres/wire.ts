import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../../engine/deadline.js';
import { exchangeOnce } from '../../net/exchange.js';

/**
 * The one piece of the PostgreSQL protocol we speak ourselves: the SSLRequest. Doing it by hand
 * lets us see exactly what answered ('S', 'N', an HTTP banner, nothing at all) on the same single
 * connection, instead of inferring it from a driver's error string.
 */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export type SslReply =
  | { readonly reply: 'S' | 'N'; readonly durationMs: number }
  /** Something that is not a one-byte answer: the bytes say what answered. */
  | { readonly reply: 'other'; readonly bytes: Buffer; readonly durationMs: number }
  | { readonly reply: 'closed' | 'none'; readonly durationMs: number }
  | { readonly reply: 'error'; readonly code: string; readonly message: string; readonly durationMs: number };

export function requestSsl(socket: Socket, deadline: Deadline): Promise<SslReply> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  // No pause() on the way out: after 'S' the TLS layer takes over the socket's handle, after
  // 'N' the driver attaches its listeners before the server has anything more to say.
  return exchangeOnce<SslReply>(socket, SSL_REQUEST, deadline, {
    data: (received) => {
      const first = String.fromCharCode(received[0] ?? 0);
      // A real server answers exactly one byte and then waits for us. Anything longer is some
      // other protocol that happens to start with "S" or "N" ("SSH-2.0-…").
      if (received.length === 1 && (first === 'S' || first === 'N')) return { reply: first, durationMs: elapsed() };
      return { reply: 'other', bytes: received, durationMs: elapsed() };
    },
    close: (received) => (received.length > 0 ? { reply: 'other', bytes: received, durationMs: elapsed() } : { reply: 'closed', durationMs: elapsed() }),
    error: (error) => ({ reply: 'error', code: error.code ?? 'EUNKNOWN', message: error.message, durationMs: elapsed() }),
    expired: () => ({ reply: 'none', durationMs: elapsed() }),
  });
}

/**
 * Watches what a server sends back after the startup message, so that "the driver timed out"
 * can become "nothing came back" or "an HTTP server answered".
 */
export class WireObserver {
  private chunks: Buffer[] = [];
  private size = 0;
  firstByteMs: number | undefined;
  closedByPeer = false;
  private readonly started = performance.now();

  constructor(stream: Socket) {
    stream.prependListener('data', (chunk: Buffer) => {
      this.firstByteMs ??= Math.round((performance.now() - this.started) * 10) / 10;
      if (this.size < 256) {
        this.chunks.push(chunk);
        this.size += chunk.length;
      }
    });
    stream.once('end', () => {
      this.closedByPeer = true;
    });
  }

  get bytesSeen(): number {
    return this.size;
  }

  firstBytes(): Buffer {
    return Buffer.concat(this.chunks).subarray(0, 256);
  }
}
