/**
 * What answered on a port, from the first bytes it sent. Used by every probe to turn "the driver
 * got garbage" into "an HTTP server answers on this port". The families: web servers (with their
 * Server header), TLS, the server-first banners (SSH, SMTP, FTP, POP3, IMAP, VNC, MySQL/MariaDB),
 * the other databases and brokers (PostgreSQL, MongoDB, Cassandra's CQL, Redis, memcached, AMQP).
 */
export interface ProtocolGuess {
  /** A short name: http, tls, ssh, smtp, ftp, pop3, imap, vnc, mysql, redis, memcached, amqp, mongodb, postgres, cassandra, text, binary. */
  readonly protocol: string;
  /** What it is, for a person. */
  readonly description: string;
  /** The first bytes as printable text (non-printables as "."), at most 80 characters. */
  readonly sample: string;
}

/** The database engines dbdoctor speaks, by the protocol name a guess gives them. */
export const ENGINE_PROTOCOLS = { postgres: 'postgres', mongodb: 'mongodb', cassandra: 'cassandra' } as const;

export function identifyProtocol(bytes: Buffer): ProtocolGuess {
  const sample = printable(bytes.subarray(0, 80));
  const ascii = bytes.subarray(0, 16).toString('latin1');
  const guess = (protocol: string, description: string): ProtocolGuess => ({ protocol, description, sample });
  if (/^HTTP\/\d/.test(ascii)) {
    // mongod answers an HTTP request on its driver port with a page of its own.
    if (/trying to access MongoDB over HTTP/i.test(bytes.toString('latin1')))
      return guess(
        'mongodb',
        'MongoDB (it answered an HTTP request with "It looks like you are trying to access MongoDB over HTTP on the native driver port")',
      );
    const server = headerOf(bytes, 'server');
    return guess('http', `an HTTP server (${server ? `Server: ${server}` : firstLine(bytes)})`);
  }
  // An HTML page without a status line: a web server answering a request line it read as HTTP/0.9
  // (python's http.server does so for an engine's opening bytes that happen to hold a newline).
  if (/^\s*<(!doctype html|html)\b/i.test(bytes.subarray(0, 64).toString('latin1')))
    return guess('http', 'an HTTP server (it answered with an HTML page and no headers)');
  if (bytes[0] === 0x15 && bytes[1] === 0x03) return guess('tls', 'a TLS endpoint (it answered with a TLS alert)');
  if (bytes[0] === 0x16 && bytes[1] === 0x03) return guess('tls', 'a TLS endpoint (it sent a TLS handshake record)');
  if (ascii.startsWith('SSH-')) return guess('ssh', `an SSH server (${firstLine(bytes)})`);
  if (/^\+OK\b/.test(ascii) && /POP|ready|dovecot/i.test(firstLine(bytes))) return guess('pop3', `a POP3 mail server (${firstLine(bytes)})`);
  if (/^\* (OK|PREAUTH)\b/.test(ascii)) return guess('imap', `an IMAP mail server (${firstLine(bytes)})`);
  if (/^[-+](ERR|OK|NOAUTH|WRONGPASS|DENIED|PONG)/.test(ascii)) return guess('redis', `a Redis server (it answered "${firstLine(bytes)}")`);
  if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)\r?\n/.test(ascii)) return guess('memcached', 'a memcached server');
  if (ascii.startsWith('AMQP') && bytes.length >= 8)
    return guess('amqp', `an AMQP message broker such as RabbitMQ (it offers AMQP ${bytes[5] ?? '?'}-${bytes[6] ?? '?'}-${bytes[7] ?? '?'})`);
  if (ascii.startsWith('RFB ')) return guess('vnc', `a VNC server (${firstLine(bytes)})`);
  if (/^220[ -]/.test(ascii)) {
    const line = firstLine(bytes);
    if (/\bE?SMTP\b|\bPostfix\b|\bExim\b|\bSendmail\b/i.test(line)) return guess('smtp', `an SMTP mail server (${line})`);
    if (/\bFTP\b|FileZilla|vsFTPd|ProFTPD|Pure-FTPd/i.test(line)) return guess('ftp', `an FTP server (${line})`);
  }
  if (/^2\d\d[ -]/.test(ascii)) return guess('smtp', `a text protocol server such as SMTP or FTP (${firstLine(bytes)})`);
  const mysql = mysqlVersion(bytes);
  if (mysql !== undefined)
    return guess('mysql', /mariadb/i.test(mysql) ? `a MariaDB server (${mysql.replace(/^5\.5\.5-/, '')})` : `a MySQL server${mysql ? ` (${mysql})` : ''}`);
  if (isMongoReply(bytes)) {
    const version = mongoVersionOf(bytes);
    return guess('mongodb', version ? `MongoDB ${version} (or a server speaking its protocol)` : 'a MongoDB server');
  }
  const cql = cqlAnswer(bytes);
  if (cql) return guess('cassandra', cql);
  if (isPostgresMessage(bytes)) return guess('postgres', 'a PostgreSQL server');
  if (isMostlyText(bytes)) return guess('text', `a text protocol (${firstLine(bytes)})`);
  return guess('binary', 'an unrecognised binary protocol');
}

/** The MySQL greeting's server version: 3-byte length, sequence id 0, protocol 10, a NUL-terminated version. */
function mysqlVersion(bytes: Buffer): string | undefined {
  if (bytes.length < 6) return undefined;
  const length = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8) | ((bytes[2] ?? 0) << 16);
  if (!(bytes[3] === 0 && bytes[4] === 0x0a && length > 10 && length < 1024)) return undefined;
  const end = bytes.indexOf(0, 5);
  const version = bytes.subarray(5, end > 5 ? end : Math.min(bytes.length, 40)).toString('latin1');
  return /^[\w.+~-]+$/.test(version) ? version : '';
}

function isMongoReply(bytes: Buffer): boolean {
  // MsgHeader: int32 length, requestID, responseTo, opCode (1 = OP_REPLY, 2013 = OP_MSG).
  if (bytes.length < 16) return false;
  const opCode = bytes.readInt32LE(12);
  const length = bytes.readInt32LE(0);
  return (opCode === 2013 || opCode === 1) && length >= 16 && length < 48_000_000;
}

/**
 * MongoDB's release from the wire version its hello reply announces (maxWireVersion, an int32 in
 * the reply's BSON), read straight from the bytes: no driver is loaded to name a listener.
 */
const MONGODB_BY_WIRE_VERSION: Readonly<Record<number, string>> = { 6: '3.6', 7: '4.0', 8: '4.2', 9: '4.4', 13: '5.0', 17: '6.0', 21: '7.0', 25: '8.0' };

function mongoVersionOf(bytes: Buffer): string | undefined {
  const key = Buffer.from('\x10maxWireVersion\0', 'latin1');
  const at = bytes.indexOf(key);
  if (at < 0 || at + key.length + 4 > bytes.length) return undefined;
  const wire = bytes.readInt32LE(at + key.length);
  const known = Object.keys(MONGODB_BY_WIRE_VERSION)
    .map(Number)
    .filter((candidate) => candidate <= wire)
    .sort((a, b) => b - a)[0];
  return known === undefined ? undefined : `${MONGODB_BY_WIRE_VERSION[known] ?? '?'}${known === wire ? '' : '+'}`;
}

/** CQL opcodes a server sends: ERROR, READY, AUTHENTICATE, SUPPORTED, RESULT, EVENT, AUTH_CHALLENGE, AUTH_SUCCESS. */
const CQL_RESPONSES = new Set([0x00, 0x02, 0x03, 0x06, 0x08, 0x0c, 0x0e, 0x10]);

/**
 * A CQL response frame: the version byte with its response bit set (0x81–0x86), then flags and a
 * stream id (one byte up to v2, two from v3), then an opcode. Cassandra answers any bytes it cannot
 * read as a frame with an ERROR naming the versions it supports.
 */
function cqlAnswer(bytes: Buffer): string | undefined {
  const first = bytes[0] ?? 0;
  const version = first & 0x7f;
  if ((first & 0x80) === 0 || version < 1 || version > 6 || bytes.length < 8) return undefined;
  const opcode = version <= 2 ? bytes[3] : bytes[4];
  if (opcode === undefined || !CQL_RESPONSES.has(opcode)) return undefined;
  const text = bytes.toString('latin1');
  const offered = /supported versions are \(([^)]*)\)/.exec(text)?.[1] ?? [...text.matchAll(/(\d)\/v\d(?:-beta)?/g)].map((match) => match[0]).join(', ');
  return `Cassandra or another CQL server (CQL native protocol${offered ? `; it offers ${offered}` : ''})`;
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

/** An HTTP response header's value, e.g. Server: nginx/1.25.3. */
function headerOf(bytes: Buffer, name: string): string | undefined {
  const head =
    bytes
      .subarray(0, 2048)
      .toString('latin1')
      .split(/\r?\n\r?\n/)[0] ?? '';
  const line = head.split(/\r?\n/).find((candidate) => candidate.toLowerCase().startsWith(`${name}:`));
  const value = line?.slice(name.length + 1).trim();
  return value ? printable(Buffer.from(value, 'latin1')).slice(0, 60) : undefined;
}

function firstLine(bytes: Buffer): string {
  const line = bytes.subarray(0, 120).toString('latin1').split(/\r?\n/)[0] ?? '';
  return printable(Buffer.from(line, 'latin1')).slice(0, 60).trim();
}

function printable(bytes: Buffer): string {
  return [...bytes].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
}

/**
 * A guess that names a family but not the program: text, an unknown binary protocol, or an HTTP
 * server whose Server header was not seen. One more opening on a new connection may name it, so
 * that the same listener is named the same way whatever the engine's own handshake provoked.
 */
export function isVague(guess: ProtocolGuess | undefined): boolean {
  if (!guess) return false;
  return guess.protocol === 'text' || guess.protocol === 'binary' || (guess.protocol === 'http' && !/\(Server: /.test(guess.description));
}
