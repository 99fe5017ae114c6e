/**
 * Just enough of the CQL native protocol (v3/v4 framing, and v1/v2's shorter header for the errors
 * old versions get back) to ask a port "do you speak CQL, which versions, and do you want a
 * password?" without a driver: OPTIONS → SUPPORTED, STARTUP → READY / AUTHENTICATE / ERROR.
 * The scripted test peer builds its answers from the same pieces.
 */
export const OPCODES = {
  ERROR: 0x00,
  STARTUP: 0x01,
  READY: 0x02,
  AUTHENTICATE: 0x03,
  OPTIONS: 0x05,
  SUPPORTED: 0x06,
  QUERY: 0x07,
  RESULT: 0x08,
  PREPARE: 0x09,
  EXECUTE: 0x0a,
  REGISTER: 0x0b,
  EVENT: 0x0c,
  BATCH: 0x0d,
  AUTH_CHALLENGE: 0x0e,
  AUTH_RESPONSE: 0x0f,
  AUTH_SUCCESS: 0x10,
} as const;

/** The error codes of the protocol spec, by name. */
export const ERROR_CODES = {
  serverError: 0x0000,
  protocolError: 0x000a,
  badCredentials: 0x0100,
  unavailable: 0x1000,
  overloaded: 0x1001,
  isBootstrapping: 0x1002,
  truncateError: 0x1003,
  writeTimeout: 0x1100,
  readTimeout: 0x1200,
  readFailure: 0x1300,
  functionFailure: 0x1400,
  writeFailure: 0x1500,
  syntaxError: 0x2000,
  unauthorized: 0x2100,
  invalid: 0x2200,
  configError: 0x2300,
  alreadyExists: 0x2400,
  unprepared: 0x2500,
} as const;

export interface Frame {
  readonly version: number;
  readonly response: boolean;
  readonly stream: number;
  readonly opcode: number;
  readonly body: Buffer;
}

export function headerLength(version: number): number {
  return version >= 3 ? 9 : 8;
}

export function encodeFrame(version: number, opcode: number, body: Buffer, options: { stream?: number; response?: boolean } = {}): Buffer {
  const header = Buffer.alloc(headerLength(version));
  header[0] = (options.response ? 0x80 : 0) | version;
  header[1] = 0;
  if (version >= 3) {
    header.writeInt16BE(options.stream ?? 0, 2);
    header[4] = opcode;
    header.writeInt32BE(body.length, 5);
  } else {
    header.writeInt8(options.stream ?? 0, 2);
    header[3] = opcode;
    header.writeInt32BE(body.length, 4);
  }
  return Buffer.concat([header, body]);
}

/** Reads one frame from the front of `bytes`, or undefined when it is not all there yet. */
export function readFrame(bytes: Buffer): { frame: Frame; rest: Buffer } | undefined {
  if (bytes.length < 1) return undefined;
  const version = (bytes[0] ?? 0) & 0x7f;
  const size = headerLength(version);
  if (bytes.length < size) return undefined;
  const length = bytes.readInt32BE(size - 4);
  if (bytes.length < size + length) return undefined;
  const stream = version >= 3 ? bytes.readInt16BE(2) : bytes.readInt8(2);
  const opcode = bytes[size - 5] ?? 0;
  return {
    frame: { version, response: ((bytes[0] ?? 0) & 0x80) !== 0, stream, opcode, body: bytes.subarray(size, size + length) },
    rest: bytes.subarray(size + length),
  };
}

/**
 * Does this look like the start of a CQL response frame? A version byte 0x81–0x86, flags, and an
 * opcode the spec defines: enough to tell CQL from HTTP, TLS or another database.
 */
export function looksLikeCqlResponse(bytes: Buffer): boolean {
  const first = bytes[0] ?? 0;
  const version = first & 0x7f;
  if ((first & 0x80) === 0 || version < 1 || version > 6) return false;
  const opcode = bytes[headerLength(version) - 5];
  return opcode !== undefined && opcode <= OPCODES.AUTH_SUCCESS;
}

// ── [notation] writers ──────────────────────────────────────────────────────
export const write = {
  short(value: number): Buffer {
    const buffer = Buffer.alloc(2);
    buffer.writeUInt16BE(value);
    return buffer;
  },
  int(value: number): Buffer {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    return buffer;
  },
  string(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    return Buffer.concat([write.short(bytes.length), bytes]);
  },
  longString(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    return Buffer.concat([write.int(bytes.length), bytes]);
  },
  bytes(value: Buffer | null): Buffer {
    return value === null ? write.int(-1) : Buffer.concat([write.int(value.length), value]);
  },
  stringList(values: readonly string[]): Buffer {
    return Buffer.concat([write.short(values.length), ...values.map((value) => write.string(value))]);
  },
  stringMap(map: Readonly<Record<string, string>>): Buffer {
    const entries = Object.entries(map);
    return Buffer.concat([write.short(entries.length), ...entries.flatMap(([key, value]) => [write.string(key), write.string(value)])]);
  },
  stringMultimap(map: Readonly<Record<string, readonly string[]>>): Buffer {
    const entries = Object.entries(map);
    return Buffer.concat([write.short(entries.length), ...entries.flatMap(([key, values]) => [write.string(key), write.stringList(values)])]);
  },
};

// ── [notation] reader ───────────────────────────────────────────────────────
export class BodyReader {
  private offset = 0;
  constructor(private readonly body: Buffer) {}

  get remaining(): number {
    return this.body.length - this.offset;
  }
  short(): number {
    const value = this.body.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }
  int(): number {
    const value = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  string(): string {
    const length = this.short();
    const text = this.body.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }
  longString(): string {
    const length = this.int();
    const text = this.body.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }
  bytes(): Buffer | null {
    const length = this.int();
    if (length < 0) return null;
    const value = this.body.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  stringList(): string[] {
    const count = this.short();
    return Array.from({ length: count }, () => this.string());
  }
  stringMultimap(): Record<string, string[]> {
    const count = this.short();
    const map: Record<string, string[]> = {};
    for (let index = 0; index < count; index += 1) {
      const key = this.string();
      map[key] = this.stringList();
    }
    return map;
  }
  stringMap(): Record<string, string> {
    const count = this.short();
    const map: Record<string, string> = {};
    for (let index = 0; index < count; index += 1) {
      const key = this.string();
      map[key] = this.string();
    }
    return map;
  }
}

/** A server's ERROR, with the fields its code carries. */
export interface CqlError {
  readonly code: number;
  readonly message: string;
  readonly consistency?: number;
  readonly required?: number;
  readonly alive?: number;
}

export function encodeError(error: CqlError): Buffer {
  const extra =
    error.code === ERROR_CODES.unavailable
      ? Buffer.concat([write.short(error.consistency ?? 0), write.int(error.required ?? 0), write.int(error.alive ?? 0)])
      : Buffer.alloc(0);
  return Buffer.concat([write.int(error.code), write.string(error.message), extra]);
}

export function parseError(body: Buffer): CqlError {
  const reader = new BodyReader(body);
  const code = reader.int();
  const message = reader.string();
  if (code === ERROR_CODES.unavailable && reader.remaining >= 10) {
    return { code, message, consistency: reader.short(), required: reader.int(), alive: reader.int() };
  }
  return { code, message };
}

/** "Invalid or unsupported protocol version (2); supported versions are (3/v3, 4/v4, 5/v5)" → [3, 4, 5]. */
export function supportedVersionsIn(message: string): number[] {
  const list = /supported versions are \(([^)]*)\)/i.exec(message)?.[1] ?? '';
  return [...list.matchAll(/(\d+)\//g)].map((match) => Number(match[1]));
}

/** SUPPORTED's PROTOCOL_VERSIONS entries ("3/v3", "5/v5-beta") → [3, 5]. */
export function versionsOf(entries: readonly string[]): number[] {
  return entries.map((entry) => Number(/^(\d+)/.exec(entry)?.[1] ?? Number.NaN)).filter((version) => Number.isInteger(version));
}

export const request = {
  options: (version: number): Buffer => encodeFrame(version, OPCODES.OPTIONS, Buffer.alloc(0)),
  startup: (version: number, options: Readonly<Record<string, string>>): Buffer =>
    encodeFrame(version, OPCODES.STARTUP, write.stringMap(options), { stream: 1 }),
};
