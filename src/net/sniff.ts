/**
 * What answered on a port, from the first bytes it sent. Used by every probe to turn "the driver
 * got garbage" into "an HTTP server answers on this port".
 */
export interface ProtocolGuess {
  /** A short name: http, tls, ssh, mysql, redis, mongodb, postgres, smtp, text, binary. */
  readonly protocol: string;
  /** What it is, for a person. */
  readonly description: string;
  /** The first bytes as printable text (non-printables as "."), at most 80 characters. */
  readonly sample: string;
}

export function identifyProtocol(bytes: Buffer): ProtocolGuess {
  const sample = printable(bytes.subarray(0, 80));
  const ascii = bytes.subarray(0, 16).toString('latin1');
  const guess = (protocol: string, description: string): ProtocolGuess => ({ protocol, description, sample });
  if (/^HTTP\/\d/.test(ascii)) return guess('http', `an HTTP server (${firstLine(bytes)})`);
  if (bytes[0] === 0x15 && bytes[1] === 0x03) return guess('tls', 'a TLS endpoint (it answered with a TLS alert)');
  if (bytes[0] === 0x16 && bytes[1] === 0x03) return guess('tls', 'a TLS endpoint (it sent a TLS handshake record)');
  if (ascii.startsWith('SSH-')) return guess('ssh', `an SSH server (${firstLine(bytes)})`);
  if (/^[-+](ERR|OK|NOAUTH|WRONGPASS|DENIED)/.test(ascii)) return guess('redis', 'a Redis server');
  if (/^2\d\d[ -]/.test(ascii)) return guess('smtp', `a text protocol server such as SMTP or FTP (${firstLine(bytes)})`);
  if (isMysqlGreeting(bytes)) return guess('mysql', 'a MySQL or MariaDB server');
  if (isMongoReply(bytes)) return guess('mongodb', 'a MongoDB server');
  if (isPostgresMessage(bytes)) return guess('postgres', 'a PostgreSQL server');
  if (isMostlyText(bytes)) return guess('text', `a text protocol (${firstLine(bytes)})`);
  return guess('binary', 'an unrecognised binary protocol');
}

function isMysqlGreeting(bytes: Buffer): boolean {
  // 3-byte little-endian length, sequence id 0, protocol version 10, then a NUL-terminated version.
  if (bytes.length < 6) return false;
  const length = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8) | ((bytes[2] ?? 0) << 16);
  return bytes[3] === 0 && bytes[4] === 0x0a && length > 10 && length < 1024;
}

function isMongoReply(bytes: Buffer): boolean {
  // MsgHeader: int32 length, requestID, responseTo, opCode (1 = OP_REPLY, 2013 = OP_MSG).
  if (bytes.length < 16) return false;
  const opCode = bytes.readInt32LE(12);
  const length = bytes.readInt32LE(0);
  return (opCode === 2013 || opCode === 1) && length >= 16 && length < 48_000_000;
}

function isPostgresMessage(bytes: Buffer): boolean {
  // Type byte, then an int32 length that includes itself.
  if (bytes.length < 5) return false;
  const type = String.fromCharCode(bytes[0] ?? 0);
  const length = bytes.readInt32BE(1);
  return 'ERSKZN'.includes(type) && length >= 4 && length < 1_000_000;
}

function isMostlyText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 64);
  if (head.length === 0) return false;
  const printableCount = [...head].filter((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x0a || byte === 0x0d || byte === 0x09).length;
  return printableCount / head.length > 0.9;
}

function firstLine(bytes: Buffer): string {
  const line = bytes.subarray(0, 120).toString('latin1').split(/\r?\n/)[0] ?? '';
  return printable(Buffer.from(line, 'latin1')).slice(0, 60).trim();
}

function printable(bytes: Buffer): string {
  return [...bytes].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
}
