import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { type PostgresTarget } from '../../config/postgres/target.js';
import { isDeadlineExceeded, type Deadline } from '../../engine/deadline.js';
import type { Connected, EndpointTrace } from '../../net/reach.js';
import { identifyProtocol, isVague, type ProtocolGuess } from '../../net/sniff.js';
import { isForeign, watchForSilence, type ListenerIdentity, type SilenceWatch } from '../../net/identify.js';
import { connectTcp } from '../../net/tcp.js';
import { tlsFailureTrace, upgradeToTls, type CertificateSummary, type VerifyMode } from '../../net/tls.js';
import { requestSsl, WireObserver } from './wire.js';
import type { HostTried } from './hosts.js';
import { bounded, MESSAGE_CHARS, NAME_CHARS } from '../../text/bound.js';

/**
 * One connection attempt, end to end: resolve → connect → SSLRequest → TLS → startup → auth.
 * Everything observed on the way is kept in a ConnectionTrace, which the steps read to decide
 * their findings. At most two connections are ever opened: the second only to settle TLS
 * negotiation the way libpq does (sslmode allow/prefer), or to tell `tls_required` apart.
 */
export type Phase = 'dns' | 'tcp' | 'ssl' | 'tls' | 'startup' | 'auth' | 'ready';

export interface ServerError {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /**
   * Whether the error carries PostgreSQL's source-location fields (file, line, routine). A
   * PostgreSQL server always sends them; a pooler's own errors, and the server errors a pooler
   * relays (PgBouncer re-sends only severity, SQLSTATE and message), carry none.
   */
  readonly located?: boolean;
}

export interface TlsTrace {
  readonly outcome: 'established' | 'verify_failed' | 'handshake_failed' | 'timeout';
  readonly verify: VerifyMode;
  readonly protocol?: string;
  readonly cipher?: string;
  readonly problem?: string;
  readonly code?: string;
  readonly message?: string;
  readonly certificate?: CertificateSummary;
}

export interface ConnectionTrace {
  readonly endpoints: EndpointTrace[];
  /**
   * Every host (and address) libpq's walk tried before settling on this one, and this one, in
   * order (hosts.ts); only when the target lists several hosts, or one took several addresses.
   */
  hosts?: readonly HostTried[];
  /** Where the TCP (or socket) connection was made, once it was. */
  connected?: Connected;
  /** The furthest phase reached. */
  phase: Phase;
  encryption: 'none' | 'tls';
  sslReply?: 'S' | 'N' | 'other' | 'closed' | 'none' | 'error';
  tls?: TlsTrace;
  /** What came back, when it was not PostgreSQL speaking. */
  answeredBy?: ProtocolGuess;
  /** What answered other openings on new connections, when this one stayed silent or hung up. */
  listener?: ListenerIdentity;
  bytesReceived: number;
  closedByPeer: boolean;
  /** The authentication the server asked for: SCRAM-SHA-256, md5, password, or none. */
  authMethod?: string;
  /**
   * The server accepted our credentials (SCRAM's final message or AuthenticationOk). A pooler
   * that accepted them but has no server connection yet stays silent after this point.
   */
  authAccepted?: boolean;
  serverError?: ServerError;
  clientError?: { readonly name: string; readonly message: string; readonly code?: string };
  passwordMissing: boolean;
  readonly serverParams: Record<string, string>;
  backendPid?: number;
  /** sslmode=disable only: a second, TLS connection got past pg_hba.conf (so TLS is required). */
  tlsWouldBeAdmitted?: boolean;
  timedOut: boolean;
  budgetMs: number;
  durationMs: number;
}

export interface Connection {
  /** The attempt that decides the diagnosis (the last one made). */
  readonly trace: ConnectionTrace;
  /** The other attempt, when a second connection was made to settle TLS negotiation. */
  readonly otherAttempt?: ConnectionTrace;
  /** A logged-in session, when there is one. */
  readonly client?: Client;
  readonly stream?: Socket;
}

/** A trace before anything has happened. */
export function emptyTrace(budgetMs: number): ConnectionTrace {
  return {
    endpoints: [],
    phase: 'dns',
    encryption: 'none',
    bytesReceived: 0,
    closedByPeer: false,
    passwordMissing: false,
    serverParams: {},
    timedOut: false,
    budgetMs,
    durationMs: 0,
  };
}

class PasswordMissing extends Error {
  override readonly name = 'PasswordMissing';
}

type Encryption = 'plain' | 'tls-if-offered' | 'tls-required';

/** One address of one host, its TCP connection (or Unix socket) made. */
export interface OpenedSocket {
  readonly socket: Socket;
  readonly host: string;
  readonly transport: 'tcp' | 'unix';
  readonly connected: Connected;
  /** Told what the handshake waits on once the password was accepted (the progress line's words). */
  readonly waiting?: (what: string) => void;
}

/**
 * libpq's whole handshake on one address, whose socket is open: SSLRequest, TLS, startup, auth,
 * and the second connection libpq makes to the same address to settle TLS (sslmode allow and
 * prefer), through `reconnect`. The walk over hosts and addresses is hosts.ts's.
 */
export async function connectAt(
  target: PostgresTarget,
  opened: OpenedSocket,
  reconnect: () => Promise<OpenedSocket | undefined>,
  deadline: Deadline,
): Promise<Connection> {
  const first = await attempt(target, opened, deadline, initialEncryption(target.sslmode));
  const retry = secondAttemptFor(target, first.trace);
  if (!retry) return first;
  const second = await attempt(target, await reconnect(), deadline, retry);
  // prefer's TLS failed and the connection without TLS was turned away by pg_hba.conf: the TLS
  // failure is the cause (libpq reports both), the rejection what followed from it.
  if (preferTlsFailed(target, first.trace) && isHbaRejection(second.trace.serverError)) {
    await closeConnection(second, deadline);
    return { trace: first.trace, otherAttempt: second.trace };
  }
  if (target.sslmode === 'disable') {
    // The second connection only proves that TLS would have been admitted: close it and keep
    // the first attempt's rejection as the evidence, marked with what the probe found.
    await closeConnection(second, deadline);
    first.trace.tlsWouldBeAdmitted = passesHba(second.trace);
    return { trace: first.trace, otherAttempt: second.trace };
  }
  return { ...second, otherAttempt: first.trace };
}

function initialEncryption(sslmode: PostgresTarget['sslmode']): Encryption {
  switch (sslmode) {
    case 'disable':
    case 'allow':
      return 'plain';
    case 'prefer':
      return 'tls-if-offered';
    default:
      return 'tls-required';
  }
}

/**
 * libpq retries once with the other encryption when pg_hba.conf rejected the first attempt:
 * plain → TLS for sslmode=allow, TLS → plain for sslmode=prefer. For sslmode=disable we make
 * the same second attempt only to tell `tls_required` from a plain pg_hba rejection.
 */
function secondAttemptFor(target: PostgresTarget, trace: ConnectionTrace): Encryption | undefined {
  if (preferTlsFailed(target, trace)) return 'plain';
  if (!isHbaRejection(trace.serverError)) return undefined;
  if (trace.connected?.transport === 'unix') return undefined;
  if ((target.sslmode === 'allow' || target.sslmode === 'disable') && trace.encryption === 'none') return 'tls-required';
  if (target.sslmode === 'prefer' && trace.encryption === 'tls') return 'plain';
  return undefined;
}

/** A TLS handshake or certificate check that failed under sslmode=prefer: libpq tries again without TLS. */
function preferTlsFailed(target: PostgresTarget, trace: ConnectionTrace): boolean {
  return target.sslmode === 'prefer' && (trace.tls?.outcome === 'verify_failed' || trace.tls?.outcome === 'handshake_failed');
}

export function isHbaRejection(error: ServerError | undefined): boolean {
  return error?.code === '28000' && /pg_hba\.conf/.test(error.message);
}

function passesHba(trace: ConnectionTrace): boolean {
  return trace.phase === 'ready' || (trace.serverError !== undefined && !isHbaRejection(trace.serverError)) || trace.authMethod !== undefined;
}

async function attempt(target: PostgresTarget, opened: OpenedSocket | undefined, deadline: Deadline, encryption: Encryption): Promise<Connection> {
  const started = performance.now();
  // Load the driver while the network work happens: it is needed as soon as the socket is up.
  const driver = loadDriver();
  // Awaited later (handshake): a driver that cannot load (pg missing) fails there, not as an unhandled rejection now.
  driver.catch(() => undefined);
  const trace = emptyTrace(deadline.budgetMs);
  const done = (connection: Omit<Connection, 'trace'> = {}): Connection => {
    trace.durationMs = Math.round((performance.now() - started) * 10) / 10;
    return { trace, ...connection };
  };
  trace.phase = 'tcp';
  if (!opened) return done();
  trace.connected = opened.connected;
  const watch = opened.transport === 'tcp' ? watchForSilence(opened.socket, opened.connected, deadline, 'postgres') : undefined;
  try {
    const connection = await handshake(target, opened, driver, encryption, watch?.deadline ?? deadline, trace);
    await nameTheListener(watch, trace);
    return done(connection);
  } finally {
    watch?.stop();
  }
}

/**
 * Silence, or a hang-up, with no PostgreSQL word: what answers other openings on new connections
 * names the listener (an HTTP server, MongoDB, …). A TLS-only port was named already.
 */
async function nameTheListener(watch: SilenceWatch | undefined, trace: ConnectionTrace): Promise<void> {
  if (watch && isVague(trace.answeredBy)) {
    // A vague answer (text, an HTML page without headers) may be named better by another opening.
    trace.listener = await (watch.result() ?? watch.identify());
    if (isForeign(trace.listener, 'postgres') && !isVague(trace.listener.answeredBy)) trace.answeredBy = trace.listener.answeredBy;
    return;
  }
  if (
    !watch ||
    trace.answeredBy ||
    trace.serverError ||
    trace.authMethod !== undefined ||
    trace.bytesReceived > 0 ||
    trace.sslReply === 'S' ||
    trace.sslReply === 'N'
  )
    return;
  if (!trace.timedOut && !trace.closedByPeer) return;
  trace.listener = await (watch.result() ?? watch.identify());
  if (isForeign(trace.listener, 'postgres')) {
    trace.answeredBy = trace.listener.answeredBy;
    trace.timedOut = false;
  }
}

/**
 * The driver is awaited only once the SSLRequest has been answered: awaiting it earlier gives a
 * server that hangs up at once time to close the socket before anything listens to it.
 */
async function handshake(
  target: PostgresTarget,
  opened: OpenedSocket,
  driver: Promise<Driver>,
  encryption: Encryption,
  deadline: Deadline,
  trace: ConnectionTrace,
): Promise<Omit<Connection, 'trace'>> {
  let stream: Socket = opened.socket;
  if (encryption !== 'plain' && opened.transport === 'tcp') {
    trace.phase = 'ssl';
    const reply = await requestSsl(stream, deadline);
    trace.sslReply = reply.reply;
    if (reply.reply === 'other') {
      trace.answeredBy = identifyProtocol(reply.bytes);
      trace.bytesReceived = reply.bytes.length;
    }
    if (reply.reply === 'none') trace.timedOut = true;
    if (reply.reply === 'closed') {
      trace.closedByPeer = true;
      // Hanging up on the SSLRequest is what a TLS-only endpoint (a TLS-terminating proxy, or a
      // server expecting PostgreSQL 17's direct TLS) does. One direct TLS handshake tells it apart
      // from a proxy with nothing behind it.
      if (trace.connected) trace.answeredBy = await directTlsAnswer(trace.connected.address, trace.connected.port, opened.host, deadline);
    }
    if (reply.reply === 'error') trace.clientError = { name: 'SocketError', message: reply.message, code: reply.code };
    if (reply.reply !== 'S' && !(reply.reply === 'N' && encryption === 'tls-if-offered')) {
      stream.destroy();
      return {};
    }
    if (reply.reply === 'S') {
      trace.phase = 'tls';
      const secured = await secure(stream, target, opened.host, deadline, trace);
      if (!secured) return {};
      stream = secured;
    }
  }

  trace.phase = 'startup';
  const client = await startSession(await driver, stream, target, opened, deadline, trace);
  return client ? { client, stream } : {};
}

async function directTlsAnswer(address: string, port: number, host: string, deadline: Deadline): Promise<ProtocolGuess | undefined> {
  const tcp = await connectTcp(address, port, deadline);
  if (tcp.outcome !== 'connected') return undefined;
  const tls = await upgradeToTls(tcp.socket, { host, verify: 'none', alpn: ['postgresql'] }, deadline);
  if (tls.outcome !== 'established') return undefined;
  const alpn = tls.socket.alpnProtocol;
  tls.socket.destroy();
  return {
    protocol: 'tls',
    description: `a TLS-only endpoint (it hangs up on PostgreSQL's SSLRequest but completes a direct ${tls.protocol} handshake${alpn ? `, ALPN ${alpn}` : ''})`,
    sample: '',
  };
}

function verifyMode(target: PostgresTarget): VerifyMode {
  if (target.sslmode === 'verify-full') return 'full';
  if (target.sslmode === 'verify-ca') return 'ca';
  // libpq: "if a root CA file exists, the behavior of sslmode=require will be the same as that
  // of verify-ca" — and libpq verifies with that file for prefer and allow too, whenever it uses TLS
  // (prefer then retries without TLS; see secondAttemptFor).
  const root = rootCertPath(target);
  if ((target.sslmode === 'require' || target.sslmode === 'prefer' || target.sslmode === 'allow') && root !== undefined && existsSync(root)) return 'ca';
  return 'none';
}

function rootCertPath(target: PostgresTarget): string | undefined {
  if (target.sslrootcert === 'system') return undefined;
  return target.sslrootcert ?? join(homedir(), '.postgresql', 'root.crt');
}

async function secure(stream: Socket, target: PostgresTarget, host: string, deadline: Deadline, trace: ConnectionTrace): Promise<Socket | undefined> {
  const verify = verifyMode(target);
  const caPath = verify === 'none' ? undefined : rootCertPath(target);
  if (caPath !== undefined && !existsSync(caPath)) {
    trace.tls = {
      outcome: 'verify_failed',
      verify,
      problem: 'untrusted',
      code: 'ROOT_CERT_MISSING',
      message: `root certificate file "${caPath}" does not exist: give it with sslrootcert, use sslrootcert=system, or a weaker sslmode`,
    };
    stream.destroy();
    return undefined;
  }
  const certPath = target.sslcert ?? join(homedir(), '.postgresql', 'postgresql.crt');
  const keyPath = target.sslkey ?? join(homedir(), '.postgresql', 'postgresql.key');
  const outcome = await upgradeToTls(
    stream,
    {
      host,
      verify,
      names: 'libpq',
      ca: caPath ? readFileSync(caPath) : undefined,
      minVersion: target.sslMinProtocolVersion,
      maxVersion: target.sslMaxProtocolVersion,
      ...(existsSync(certPath) && existsSync(keyPath) ? { cert: readFileSync(certPath), key: readFileSync(keyPath) } : {}),
    },
    deadline,
  );
  if (outcome.outcome === 'established') {
    trace.encryption = 'tls';
    trace.tls = {
      outcome: outcome.outcome,
      verify,
      protocol: outcome.protocol,
      cipher: outcome.cipher,
      ...(outcome.certificate ? { certificate: outcome.certificate } : {}),
    };
    return outcome.socket;
  }
  if (outcome.outcome === 'timeout') trace.timedOut = true;
  trace.tls = tlsFailureTrace(outcome, verify);
  stream.destroy();
  return undefined;
}

type Driver = { readonly Client: typeof Client };
let driverModule: Promise<Driver> | undefined;
function loadDriver(): Promise<Driver> {
  driverModule ??= importPg();
  return driverModule;
}

/**
 * pg decides at load time whether it runs on Cloudflare Workers: without a global `navigator`
 * (Node 20 has none) it constructs a `Response`, which loads Node's whole fetch implementation
 * (about 45 ms, measured). A `navigator` present only while pg loads answers the question at once.
 *
 * pg is CommonJS, and required as such: `import('pg')` takes its ES module wrapper, which costs a
 * start of Node's ES module loader and a scan of pg's files for their exports, ~15 ms of a healthy
 * diagnosis (issue 15), for the same object.
 */
async function importPg(): Promise<Driver> {
  const shim = !('navigator' in globalThis);
  if (shim) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js' }, configurable: true });
  try {
    return createRequire(import.meta.url)('pg') as Driver;
  } finally {
    if (shim) Reflect.deleteProperty(globalThis, 'navigator');
  }
}

async function startSession(
  pg: Driver,
  stream: Socket,
  target: PostgresTarget,
  opened: OpenedSocket,
  deadline: Deadline,
  trace: ConnectionTrace,
): Promise<Client | undefined> {
  const observer = new WireObserver(stream);
  // pg connects its own socket; ours is connected already, so its connect() just reports success.
  Object.defineProperty(stream, 'connect', {
    configurable: true,
    value: () => {
      setImmediate(() => stream.emit('connect'));
      return stream;
    },
  });
  const client = new pg.Client({
    stream: () => stream,
    ssl: false,
    host: opened.host,
    port: trace.connected?.port ?? 5432,
    user: target.user,
    database: target.database,
    application_name: 'dbdoctor',
    password: async () => {
      trace.phase = 'auth';
      if (target.password === undefined) {
        trace.passwordMissing = true;
        throw new PasswordMissing('the server asked for a password and none was given');
      }
      return target.password;
    },
  });
  client.on('error', () => undefined);
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on('authenticationCleartextPassword', () => (trace.authMethod = 'password'));
  connection.on('authenticationMD5Password', () => (trace.authMethod = 'md5'));
  connection.on('authenticationSASL', (message: { mechanisms?: string[] }) => {
    // The server offers -PLUS (channel binding) too when on TLS; the driver uses plain SCRAM.
    const offered = message.mechanisms ?? [];
    trace.authMethod = offered.includes('SCRAM-SHA-256') ? 'SCRAM-SHA-256' : (offered[0] ?? 'SASL');
    trace.phase = 'auth';
  });
  // A pooler that has no server connection yet holds the login right here, after the password.
  const accepted = (): void => {
    if (!trace.authAccepted) opened.waiting?.('the answer to the login (a pooler holds it until it has a server connection)');
    trace.authAccepted = true;
  };
  connection.on('authenticationSASLFinal', accepted);
  connection.on('authenticationOk', () => {
    accepted();
    trace.authMethod ??= 'none (trust, peer or certificate)';
    trace.phase = 'auth';
  });
  connection.on('parameterStatus', (message: { parameterName: string; parameterValue: string }) => {
    // Whatever answered chose these: a bounded number of them, each bounded (text/bound).
    if (Object.keys(trace.serverParams).length < MAX_SERVER_PARAMS || message.parameterName in trace.serverParams) {
      trace.serverParams[bounded(message.parameterName, NAME_CHARS)] = bounded(message.parameterValue, NAME_CHARS);
    }
  });
  connection.on('backendKeyData', (message: { processID: number }) => (trace.backendPid = message.processID));

  try {
    await deadline.race(client.connect());
    trace.phase = 'ready';
    trace.bytesReceived = observer.bytesSeen;
    return client;
  } catch (error) {
    trace.bytesReceived = observer.bytesSeen;
    trace.closedByPeer = observer.closedByPeer;
    if (isDeadlineExceeded(error)) {
      trace.timedOut = true;
    } else if (isServerError(error)) {
      trace.serverError = {
        code: error.code,
        severity: bounded(error.severity ?? 'FATAL', NAME_CHARS),
        message: bounded(error.message, MESSAGE_CHARS),
        ...(error.detail ? { detail: bounded(error.detail, MESSAGE_CHARS) } : {}),
        ...(error.hint ? { hint: bounded(error.hint, MESSAGE_CHARS) } : {}),
        located: Boolean(error.routine ?? error.file ?? error.line),
      };
    } else if (!(error instanceof PasswordMissing)) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
      trace.clientError = {
        name: error instanceof Error ? error.name : 'Error',
        message: bounded(error instanceof Error ? error.message : String(error), MESSAGE_CHARS),
        ...(code ? { code: bounded(code, NAME_CHARS) } : {}),
      };
    }
    // Bytes that are not a PostgreSQL message mean something else answered.
    const bytes = observer.firstBytes();
    if (bytes.length > 0 && !trace.serverError && trace.authMethod === undefined) {
      const guess = identifyProtocol(bytes);
      if (guess.protocol !== 'postgres') trace.answeredBy = guess;
    }
    stream.destroy();
    return undefined;
  }
}

/** Startup parameters kept from one server (PostgreSQL sends about fifteen). */
const MAX_SERVER_PARAMS = 64;

interface PgDatabaseError extends Error {
  code: string;
  severity?: string;
  detail?: string;
  hint?: string;
  routine?: string;
  file?: string;
  line?: string;
}

function isServerError(error: unknown): error is PgDatabaseError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) && 'severity' in error;
}

/** Ends a session politely when there is time, and destroys its socket when there is not. */
export async function closeConnection(connection: Connection, deadline: Deadline): Promise<void> {
  const { client, stream } = connection;
  if (!client) return;
  try {
    await deadline.race(client.end());
  } catch {
    stream?.destroy();
  }
}
