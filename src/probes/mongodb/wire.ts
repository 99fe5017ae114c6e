import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { deserialize, serialize, type Document } from 'bson';
import type { Deadline } from '../../engine/deadline.js';
import { boundedDeep, MESSAGE_CHARS } from '../../text/bound.js';

/**
 * Just enough of the MongoDB wire protocol to ask a port "are you MongoDB?" ourselves: one OP_MSG
 * command and its reply, on a socket we opened. The driver only reports such failures after a
 * whole server-selection wait, as topology text; here every outcome is told apart at once:
 * a reply, silence, a hang-up, or bytes of another protocol.
 */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;
/** MongoDB's own limit (maxMessageSizeBytes): a larger "length" is not a MongoDB header. */
const MAX_MESSAGE_BYTES = 48_000_000;
const HEADER_BYTES = 16;

export type Exchange =
  | { readonly outcome: 'reply'; readonly reply: Document; readonly durationMs: number }
  /** Connected, but nothing came back before the deadline. */
  | { readonly outcome: 'silent'; readonly bytes: Buffer; readonly durationMs: number }
  /** The peer closed the connection; `bytes` is whatever it sent first (often nothing). */
  | { readonly outcome: 'closed'; readonly bytes: Buffer; readonly durationMs: number }
  /** Bytes that are not a MongoDB message: another protocol answers. */
  | { readonly outcome: 'foreign'; readonly bytes: Buffer; readonly durationMs: number }
  | { readonly outcome: 'error'; readonly code: string; readonly message: string; readonly durationMs: number };

let requestCounter = 0;

export function encodeOpMsg(command: Document, requestId: number): Buffer {
  const body = serialize(command);
  const head = Buffer.alloc(HEADER_BYTES + 5);
  head.writeInt32LE(head.length + body.length, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(0, 8);
  head.writeInt32LE(OP_MSG, 12);
  head.writeUInt32LE(0, 16); // flagBits
  head.writeUInt8(0, 20); // section kind 0: the command document
  return Buffer.concat([head, body]);
}

/** Does this look like the start of a MongoDB message (header length and opCode plausible)? */
export function isMongoHeader(bytes: Buffer): boolean {
  if (bytes.length < HEADER_BYTES) return false;
  const length = bytes.readInt32LE(0);
  const opCode = bytes.readInt32LE(12);
  return length >= HEADER_BYTES && length <= MAX_MESSAGE_BYTES && (opCode === OP_MSG || opCode === OP_REPLY || opCode === OP_COMPRESSED);
}

/** The first document of a complete OP_MSG or OP_REPLY message, its strings and lists bounded (text/bound). */
export function decodeReply(message: Buffer): Document | undefined {
  const opCode = message.readInt32LE(12);
  try {
    if (opCode === OP_MSG) {
      // flagBits (4), then sections; kind 0 carries the reply document.
      let offset = HEADER_BYTES + 4;
      while (offset < message.length) {
        const kind = message.readUInt8(offset);
        offset += 1;
        const size = message.readInt32LE(offset);
        if (kind === 0) return boundedDeep(deserialize(message.subarray(offset, offset + size)), MESSAGE_CHARS);
        // kind 1: size, identifier, documents; skip it.
        offset += size;
      }
      return undefined;
    }
    if (opCode === OP_REPLY) {
      // responseFlags (4), cursorID (8), startingFrom (4), numberReturned (4), documents.
      const offset = HEADER_BYTES + 20;
      const size = message.readInt32LE(offset);
      return boundedDeep(deserialize(message.subarray(offset, offset + size)), MESSAGE_CHARS);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** One request/response conversation on a socket we own; commands are sent one at a time. */
export class WireConversation {
  private buffer = Buffer.alloc(0);
  private closed = false;
  private failure: { code: string; message: string } | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.failure = { code: error.code ?? 'EUNKNOWN', message: error.message };
      this.wake?.();
    });
  }

  async command(command: Document, deadline: Deadline): Promise<Exchange> {
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
    if (this.closed) return { outcome: 'closed', bytes: Buffer.alloc(0), durationMs: 0 };
    requestCounter = (requestCounter % 0x7fffffff) + 1;
    this.socket.write(encodeOpMsg(command, requestCounter));
    for (;;) {
      const bytes = this.buffer;
      if (bytes.length > 0 && (bytes.length >= HEADER_BYTES ? !isMongoHeader(bytes) : !couldBeMongoHeader(bytes))) {
        return { outcome: 'foreign', bytes, durationMs: elapsed() };
      }
      if (bytes.length >= HEADER_BYTES && bytes.length >= bytes.readInt32LE(0)) {
        const length = bytes.readInt32LE(0);
        const message = bytes.subarray(0, length);
        this.buffer = bytes.subarray(length);
        const reply = decodeReply(message);
        if (!reply) return { outcome: 'foreign', bytes: message, durationMs: elapsed() };
        return { outcome: 'reply', reply, durationMs: elapsed() };
      }
      if (this.failure) return { outcome: 'error', ...this.failure, durationMs: elapsed() };
      if (this.closed) return { outcome: 'closed', bytes, durationMs: elapsed() };
      if (deadline.expired) return { outcome: 'silent', bytes, durationMs: elapsed() };
      await this.next(deadline);
    }
  }

  private next(deadline: Deadline): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.wake = undefined;
        deadline.signal.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      deadline.onExpired(done);
    });
  }
}

/** Fewer than 16 bytes: could they still grow into a MongoDB header? (A plausible length so far.) */
function couldBeMongoHeader(bytes: Buffer): boolean {
  if (bytes.length < 4) return true;
  const length = bytes.readInt32LE(0);
  return length >= HEADER_BYTES && length <= MAX_MESSAGE_BYTES;
}
