import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Hostile peers on loopback, for faults no database server shows: a port that accepts and says
 * nothing, one that hangs up at once, an HTTP server, a speak-first banner (SSH), a TLS-only
 * endpoint. Each records how many connections it saw.
 */
export interface Peer {
  readonly port: number;
  /** How many connections the peer has accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

function listen(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** Serves `onConnection` on a free loopback port, counting connections; close() ends them all. */
export async function peer(server: Server, onConnection: (socket: Socket) => void): Promise<Peer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    onConnection(socket);
  });
  const port = await listen(server, sockets);
  return {
    port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts every connection and never sends a byte. */
export function silentPeer(): Promise<Peer> {
  return peer(createServer(), () => undefined);
}

/** Accepts and closes at once, like a proxy with nothing healthy behind it. */
export function hangUpPeer(): Promise<Peer> {
  return peer(createServer(), (socket) => socket.end());
}

/** Sends a banner as soon as a client connects, as SSH and MySQL do. */
export function bannerPeer(banner: string): Promise<Peer> {
  return peer(createServer(), (socket) => socket.write(banner));
}

/** A plain HTTP server. */
export function httpPeer(): Promise<Peer> {
  const server = createHttpServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('hello\n');
  });
  return peer(server, () => undefined);
}

/**
 * An HTTP server that writes its own status line and headers, byte for byte (Node's HTTP server
 * refuses control characters in them; a hostile one does not): answers whatever arrives first.
 */
export function rawHttpPeer(status: string, headers: readonly (readonly [string, string])[], body = 'hello\n'): Promise<Peer> {
  const response = Buffer.from(
    `HTTP/1.1 ${status}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'utf8',
  );
  return peer(createServer(), (socket) => socket.once('data', () => socket.end(response)));
}

/** A TLS-only endpoint (expects a ClientHello first, as a TLS-terminating proxy does). */
export function tlsOnlyPeer(certFile: string, keyFile: string): Promise<Peer> {
  const server = createTlsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (socket) => socket.end('hello\n'));
  server.on('tlsClientError', () => undefined);
  return peer(server, () => undefined);
}

/** Accepts, reads the first bytes, then resets the connection (RST), as a killing proxy does. */
export function resetPeer(): Promise<Peer> {
  return peer(createServer(), (socket) => socket.once('data', () => socket.resetAndDestroy()));
}

/** Answers one byte every `everyMs`, forever: a drip of something that is not a database. */
export function dripPeer(everyMs = 400): Promise<Peer> {
  return peer(createServer(), (socket) => {
    const timer = setInterval(() => socket.write('.'), everyMs);
    socket.on('close', () => clearInterval(timer));
  });
}

/** Answers every connection with random bytes, then keeps the connection open. */
export function garbagePeer(): Promise<Peer> {
  return peer(createServer(), (socket) => socket.write(randomBytes(64)));
}

/** Sends bytes without end, as fast as the client reads them. */
export function endlessPeer(): Promise<Peer> {
  return peer(createServer(), (socket) => {
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    const pump = (): void => {
      while (!socket.destroyed && socket.write(chunk)) {
        // keep writing until the kernel buffer is full
      }
    };
    socket.on('drain', pump);
    pump();
  });
}

/**
 * Starts a PostgreSQL-looking handshake and hangs up in the middle: answers SSLRequest with "N",
 * reads the startup message, sends the first byte of an authentication request, then closes.
 */
export function midHandshakePeer(): Promise<Peer> {
  return peer(createServer(), (socket) => {
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      seen += 1;
      if (seen === 1 && chunk.length === 8) socket.write('N');
      else socket.end(Buffer.from([0x52, 0x00, 0x00]));
    });
  });
}

/** Claims TLS ("S" to SSLRequest, or anything on connect) and then speaks plaintext. */
export function tlsPlaintextPeer(): Promise<Peer> {
  return peer(createServer(), (socket) => {
    socket.once('data', () => socket.write('S'));
    socket.on('data', () => socket.write('hello, this is not TLS\r\n'));
  });
}
