import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../engine/deadline.js';
import type { Connected } from './reach.js';
import { identifyProtocol, type ProtocolGuess } from './sniff.js';
import { connectTcp } from './tcp.js';

/**
 * Naming a listener that does not answer the engine's handshake. Many servers wait for their
 * client to speak first, and read an engine's opening bytes as an incomplete request of their own:
 * an HTTP server waits for the end of a request line, Redis for a newline, MongoDB for a 16-byte
 * header, Cassandra for a frame; PostgreSQL closes on anything that is not its startup packet.
 * So silence, or a hang-up, on the engine's own handshake says little. One more short probe says
 * more: new connections, each bounded, each with another opening, until one is answered:
 *
 *   greeting   connect and wait a moment: SSH, SMTP, FTP, POP3, IMAP, VNC and MySQL speak first;
 *   HTTP       then an HTTP/1.0 request line without a Host header (Redis would drop a client
 *              that sends one): web servers answer it, and so do Redis (-ERR), memcached, AMQP
 *              brokers, mongod (its "trying to access MongoDB over HTTP" page) and Cassandra (an
 *              ERROR frame naming its protocol versions);
 *   the other engines' handshakes: PostgreSQL's SSLRequest, MongoDB's hello, CQL's OPTIONS, for
 *              the servers that answer no HTTP (PostgreSQL, FerretDB).
 *
 * The openings tried are the engine's foreign ones only, and all of them together take at most
 * IDENTIFY_CAP_MS of the caller's deadline.
 */
/**
 * The protocol the caller speaks, by its engine's id ("postgres", "redis"): every other opening
 * below is tried on a listener that did not answer it. An engine whose protocol has no opening here
 * gets all of them (and sniff.ts names what answers, when it knows the protocol).
 */
export type EngineProtocol = string;

interface Opening {
  readonly name: string;
  readonly bytes: Buffer;
  /** Wait this long for a server-first greeting before sending. */
  readonly greetMs?: number;
  /** Answers only this opening gets (PostgreSQL's one-byte answer to SSLRequest). */
  readonly read?: (bytes: Buffer) => ProtocolGuess | undefined;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** hello as one OP_MSG: { hello: 1, $db: "admin" }, its BSON written out by hand (no driver loaded). */
const MONGO_HELLO = ((): Buffer => {
  const body = Buffer.concat([
    Buffer.from([0x10]),
    Buffer.from('hello\0'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from([0x02]),
    Buffer.from('$db\0'),
    Buffer.from([6, 0, 0, 0]),
    Buffer.from('admin\0'),
    Buffer.from([0]),
  ]);
  const document = Buffer.concat([Buffer.alloc(4), body]);
  document.writeInt32LE(document.length, 0);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + document.length, 0);
  header.writeInt32LE(1, 4);
  header.writeInt32LE(2013, 12);
  return Buffer.concat([header, document]);
})();

/** CQL v4 OPTIONS: version 4, no flags, stream 0, opcode 5, empty body. */
const CQL_OPTIONS = Buffer.from([0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00]);

const OPENINGS = {
  http: { name: 'an HTTP request line (after waiting for a greeting)', bytes: Buffer.from('GET / HTTP/1.0\r\n\r\n'), greetMs: 200 },
  postgres: {
    name: "PostgreSQL's SSLRequest",
    bytes: SSL_REQUEST,
    read: (bytes: Buffer): ProtocolGuess | undefined =>
      bytes.length === 1 && (bytes[0] === 0x53 || bytes[0] === 0x4e)
        ? {
            protocol: 'postgres',
            description: `PostgreSQL, or a pooler such as PgBouncer (it answered PostgreSQL's SSLRequest with "${String.fromCharCode(bytes[0])}")`,
            sample: String.fromCharCode(bytes[0]),
          }
        : undefined,
  },
  mongodb: { name: "MongoDB's hello", bytes: MONGO_HELLO },
  cassandra: { name: "CQL's OPTIONS", bytes: CQL_OPTIONS },
} as const satisfies Record<string, Opening>;

/** The openings of every protocol but the caller's own, HTTP's first (it waits for a greeting before it asks). */
function foreignOpenings(engine: EngineProtocol): readonly Opening[] {
  return Object.entries(OPENINGS)
    .filter(([protocol]) => protocol !== engine)
    .map(([, opening]) => opening);
}

/** The whole identification, every opening together; and each opening's wait for an answer. */
export const IDENTIFY_CAP_MS = 1500;
const ANSWER_MS = 500;
/** After a first byte, how long to gather the rest of an answer (a header, a frame). */
const GATHER_MS = 60;

export interface TriedOpening {
  readonly opening: string;
  readonly outcome: 'answered' | 'closed' | 'silent' | 'not connected';
  readonly bytes: number;
  readonly durationMs: number;
}

export interface ListenerIdentity {
  /** What answered one of the openings, when something recognisable did. */
  readonly answeredBy?: ProtocolGuess;
  readonly tried: readonly TriedOpening[];
  readonly durationMs: number;
}

/** Another protocol answered: not this engine, and something, not a generic "binary". */
export function isForeign(identity: ListenerIdentity | undefined, engine: EngineProtocol): identity is ListenerIdentity & { answeredBy: ProtocolGuess } {
  return identity?.answeredBy !== undefined && identity.answeredBy.protocol !== engine;
}

export async function identifyListener(address: string, port: number, engine: EngineProtocol, deadline: Deadline): Promise<ListenerIdentity> {
  const started = performance.now();
  const within = deadline.limit(IDENTIFY_CAP_MS, 'identify the listener');
  const tried: TriedOpening[] = [];
  for (const opening of foreignOpenings(engine)) {
    if (within.expired) break;
    const { entry, answer } = await tryOpening(address, port, opening, within);
    tried.push(entry);
    // A generic binary answer to one opening may still be named by the next one.
    if (answer && answer.protocol !== 'binary') return { answeredBy: answer, tried, durationMs: Math.round(performance.now() - started) };
  }
  return { tried, durationMs: Math.round(performance.now() - started) };
}

async function tryOpening(address: string, port: number, opening: Opening, deadline: Deadline): Promise<{ entry: TriedOpening; answer?: ProtocolGuess }> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const tcp = await connectTcp(address, port, deadline);
  if (tcp.outcome !== 'connected') return { entry: { opening: opening.name, outcome: 'not connected', bytes: 0, durationMs: elapsed() } };
  const socket = tcp.socket;
  try {
    const listening = collect(socket);
    if (opening.greetMs) {
      const greeting = await listening.wait(deadline.limit(opening.greetMs, 'greeting'));
      if (greeting.bytes.length > 0)
        return {
          entry: { opening: 'a server-first greeting', outcome: 'answered', bytes: greeting.bytes.length, durationMs: elapsed() },
          answer: identifyProtocol(greeting.bytes),
        };
      if (greeting.closed) return { entry: { opening: opening.name, outcome: 'closed', bytes: 0, durationMs: elapsed() } };
    }
    socket.write(opening.bytes);
    const reply = await listening.wait(deadline.limit(ANSWER_MS, 'answer'));
    const outcome = reply.bytes.length > 0 ? 'answered' : reply.closed ? 'closed' : 'silent';
    const answer = reply.bytes.length > 0 ? (opening.read?.(reply.bytes) ?? identifyProtocol(reply.bytes)) : undefined;
    return { entry: { opening: opening.name, outcome, bytes: reply.bytes.length, durationMs: elapsed() }, ...(answer ? { answer } : {}) };
  } finally {
    socket.destroy();
  }
}

/** Gathers what a socket sends: wait() returns once something came (plus a moment for the rest), it closed, or the deadline. */
function collect(socket: Socket): { wait(deadline: Deadline): Promise<{ bytes: Buffer; closed: boolean }> } {
  let bytes = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (bytes.length < 4096) bytes = Buffer.concat([bytes, chunk]);
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);
  return {
    wait: async (deadline) => {
      if (bytes.length === 0 && !closed) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          deadline.onExpired(() => resolve());
        });
        wake = undefined;
      }
      if (bytes.length > 0 && !closed) await deadline.limit(GATHER_MS, 'gather').sleep(GATHER_MS);
      return { bytes, closed };
    },
  };
}

/**
 * Watches the engine's own handshake on its socket: when nothing has come back after `afterMs`,
 * the listener is identified on new connections meanwhile, and when another protocol answers, the
 * handshake's deadline (`deadline`) ends at once instead of waiting out its silence.
 */
export class SilenceWatch {
  readonly deadline: Deadline;
  private readonly cut = new AbortController();
  private identification: Promise<ListenerIdentity> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly connected: Connected,
    private readonly parent: Deadline,
    private readonly engine: EngineProtocol,
    afterMs: number,
  ) {
    this.deadline = parent.until(this.cut.signal, 'the listener was identified');
    // Whether the server said anything is read from the socket's byte count, not from a 'data'
    // listener: one would set the socket flowing before the handshake listens, and an early
    // hang-up would then go unseen. Under a short deadline, early enough to still fit after it.
    this.timer = setTimeout(
      () => {
        if (!this.heard) void this.identify();
      },
      Math.min(afterMs, parent.remainingMs() / 3),
    );
    this.timer.unref();
    parent.onExpired(() => clearTimeout(this.timer));
  }

  /** Identifies the listener (once): now, if the handshake ended without a word before the watch began. */
  identify(): Promise<ListenerIdentity> {
    this.identification ??= identifyListener(this.connected.address, this.connected.port, this.engine, this.parent).then((identity) => {
      if (isForeign(identity, this.engine) && !this.heard) this.cut.abort();
      return identity;
    });
    return this.identification;
  }

  /** What the identification found, if it ran (it runs only when the socket stayed silent). */
  result(): Promise<ListenerIdentity> | undefined {
    return this.identification;
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private get heard(): boolean {
    return this.socket.bytesRead > 0;
  }
}

/** How long the engine's handshake may stay silent before the listener is looked at on new connections. */
export const SILENCE_BEFORE_IDENTIFY_MS = 1000;

export function watchForSilence(socket: Socket, connected: Connected, deadline: Deadline, engine: EngineProtocol): SilenceWatch | undefined {
  return connected.transport === 'tcp' ? new SilenceWatch(socket, connected, deadline, engine, SILENCE_BEFORE_IDENTIFY_MS) : undefined;
}

export function listenerEvidence(identity: ListenerIdentity): Record<string, unknown> {
  return {
    ...(identity.answeredBy ? { answeredBy: { ...identity.answeredBy } } : { answeredBy: 'nothing recognisable' }),
    tried: identity.tried.map((entry) => ({ ...entry })),
    durationMs: identity.durationMs,
  };
}
