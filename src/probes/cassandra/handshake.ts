import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CassandraEndpoint } from '../../config/cassandra/target.js';
import type { Deadline } from '../../engine/deadline.js';
import { reachEndpoint, type Connected, type EndpointTrace, type ReachHooks } from '../../net/reach.js';
import { hostPort } from '../../text/address.js';
import { identifyProtocol, isVague, type ProtocolGuess } from '../../net/sniff.js';
import { connectTcp } from '../../net/tcp.js';
import { upgradeToTls } from '../../net/tls.js';
import { exchangeOnce, MORE } from '../../net/exchange.js';
import { isForeign, watchForSilence, type SilenceWatch, type ListenerIdentity } from '../../net/identify.js';
import {
  BodyReader,
  ERROR_CODES,
  looksLikeCqlResponse,
  OPCODES,
  parseError,
  readFrame,
  request,
  supportedVersionsIn,
  versionsOf,
  type CqlError,
  type Frame,
} from './frame.js';
import { bounded, boundedDeep, MESSAGE_CHARS, NAME_CHARS } from '../../text/bound.js';

/**
 * One contact point, spoken to without a driver: resolve, connect, (TLS,) OPTIONS, STARTUP.
 * That tells a silent port from another protocol, a refusal from a protocol-version mismatch,
 * and a server that wants a password from one that does not — before any credentials are sent.
 */
export interface HostTrace {
  readonly host: string;
  readonly port: number;
  readonly entry: EndpointTrace;
  connected?: Connected;
  phase: 'connect' | 'tls' | 'options' | 'startup' | 'done';
  tls?: { readonly outcome: string; readonly protocol?: string; readonly code?: string; readonly message?: string };
  /** The versions the server offered (SUPPORTED's PROTOCOL_VERSIONS, or its error message). */
  versionsOffered?: number[];
  /** The version the handshake completed with. */
  version?: number;
  supported?: Record<string, string[]>;
  startup?: 'ready' | 'authenticate';
  /** The authenticator the server named in AUTHENTICATE, e.g. org.apache.cassandra.auth.PasswordAuthenticator. */
  authenticator?: string;
  serverError?: CqlError;
  answeredBy?: ProtocolGuess;
  /** Hung up on CQL, but a second connection completed a TLS handshake: the port is TLS-only. */
  tlsOnly?: boolean;
  /** What answered other openings on new connections, when CQL got silence or a hang-up. */
  listener?: ListenerIdentity;
  closedByPeer: boolean;
  /** The peer reset the connection (RST, ECONNRESET) rather than closing it. */
  resetByPeer?: boolean;
  timedOut: boolean;
  bytesReceived: number;
  durationMs: number;
}

/** The newest version cassandra-driver 4 speaks; the server may offer more. */
export const DRIVER_MAX_VERSION = 4;
const DRIVER_VERSIONS = [1, 2, 3, 4];

export interface HandshakeOptions {
  readonly tls: boolean;
  readonly pinnedVersion: number | undefined;
  readonly driverVersion: string;
}

export async function handshake(point: CassandraEndpoint, options: HandshakeOptions, deadline: Deadline, hooks: ReachHooks = {}): Promise<HostTrace> {
  const started = performance.now();
  const reached = await reachEndpoint(point, deadline);
  const trace: HostTrace = {
    host: point.host,
    port: point.port,
    entry: reached.entry,
    phase: 'connect',
    closedByPeer: false,
    timedOut: reached.timedOut,
    bytesReceived: 0,
    durationMs: 0,
  };
  if (!reached.socket || !reached.connected) {
    trace.durationMs = Math.round((performance.now() - started) * 10) / 10;
    return trace;
  }
  hooks.reached?.(reached.connected);
  hooks.waiting?.(`the CQL handshake with ${hostPort(point.host, point.port)}`);
  trace.connected = reached.connected;
  const watch = watchForSilence(reached.socket, reached.connected, deadline, 'cassandra');
  try {
    await speakCql(point, options, reached.socket, watch?.deadline ?? deadline, deadline, trace);
    await nameTheListener(watch, trace);
  } finally {
    watch?.stop();
  }
  trace.durationMs = Math.round((performance.now() - started) * 10) / 10;
  return trace;
}

/** Silence, or a hang-up, with no CQL word and no TLS behind: what answers other openings names the listener. */
async function nameTheListener(watch: SilenceWatch | undefined, trace: HostTrace): Promise<void> {
  if (watch && isVague(trace.answeredBy)) {
    // A vague answer (text, an HTML page without headers) may be named better by another opening.
    trace.listener = await (watch.result() ?? watch.identify());
    if (isForeign(trace.listener, 'cassandra') && !isVague(trace.listener.answeredBy)) trace.answeredBy = trace.listener.answeredBy;
    return;
  }
  if (!watch || trace.answeredBy || trace.serverError || trace.tlsOnly || trace.bytesReceived > 0 || !(trace.timedOut || trace.closedByPeer)) return;
  trace.listener = await (watch.result() ?? watch.identify());
  if (isForeign(trace.listener, 'cassandra')) {
    trace.answeredBy = trace.listener.answeredBy;
    trace.timedOut = false;
    trace.closedByPeer = false;
  }
}

/** OPTIONS then STARTUP on the contact point's socket; `outer` is the point's own deadline, for second tries. */
async function speakCql(
  point: CassandraEndpoint,
  options: HandshakeOptions,
  raw: Socket,
  deadline: Deadline,
  outer: Deadline,
  trace: HostTrace,
): Promise<void> {
  const finish = (socket?: Socket): void => {
    socket?.destroy();
  };
  let socket: Socket = raw;
  if (options.tls) {
    trace.phase = 'tls';
    const secured = await upgradeToTls(socket, { host: point.host, verify: 'none' }, deadline);
    if (secured.outcome !== 'established') {
      trace.tls = { outcome: secured.outcome, code: secured.code, message: secured.message };
      if (secured.outcome === 'timeout') trace.timedOut = true;
      return finish(socket);
    }
    trace.tls = { outcome: 'established', protocol: secured.protocol };
    socket = secured.socket;
  }

  let version = options.pinnedVersion ?? DRIVER_MAX_VERSION;
  trace.phase = 'options';
  let reply = await exchange(socket, request.options(version), deadline, trace);
  if (reply?.opcode === OPCODES.ERROR) {
    const error = parseError(reply.body);
    const offered = supportedVersionsIn(error.message);
    trace.versionsOffered = offered;
    // Unpinned, the driver negotiates down: so do we, once, on a fresh connection.
    const lower = offered.filter((candidate) => DRIVER_VERSIONS.includes(candidate) && candidate < version).sort((a, b) => b - a)[0];
    if (error.code === ERROR_CODES.protocolError && options.pinnedVersion === undefined && lower !== undefined && trace.connected) {
      socket.destroy();
      const again = await connectTcp(trace.connected.address, point.port, outer);
      if (again.outcome !== 'connected') return finish();
      socket = again.socket;
      version = lower;
      reply = await exchange(socket, request.options(version), deadline, trace);
    } else {
      trace.serverError = boundedError(error);
      return finish(socket);
    }
  }
  if (!reply) {
    if (trace.closedByPeer && trace.bytesReceived === 0 && !options.tls && trace.connected)
      trace.tlsOnly = await completesTls(trace.connected.address, point, outer);
    return finish(socket);
  }
  if (reply.opcode === OPCODES.ERROR) {
    trace.serverError = boundedError(parseError(reply.body));
    return finish(socket);
  }
  if (reply.opcode === OPCODES.SUPPORTED) {
    trace.supported = boundedDeep(new BodyReader(reply.body).stringMultimap(), NAME_CHARS);
    const offered = versionsOf(trace.supported.PROTOCOL_VERSIONS ?? []);
    if (offered.length > 0) trace.versionsOffered = offered;
  }

  trace.phase = 'startup';
  const cqlVersion = trace.supported?.CQL_VERSION?.[0] ?? '3.0.0';
  const startup = await exchange(
    socket,
    request.startup(version, { CQL_VERSION: cqlVersion, DRIVER_NAME: 'dbdoctor', DRIVER_VERSION: options.driverVersion }),
    deadline,
    trace,
  );
  if (!startup) return finish(socket);
  trace.version = version;
  if (startup.opcode === OPCODES.READY) trace.startup = 'ready';
  else if (startup.opcode === OPCODES.AUTHENTICATE) {
    trace.startup = 'authenticate';
    trace.authenticator = bounded(new BodyReader(startup.body).string(), NAME_CHARS);
  } else if (startup.opcode === OPCODES.ERROR) trace.serverError = boundedError(parseError(startup.body));
  trace.phase = 'done';
  return finish(socket);
}

/** What a node said in an ERROR frame is kept as evidence and shown: bounded (text/bound). */
function boundedError(error: CqlError): CqlError {
  return { ...error, message: bounded(error.message, MESSAGE_CHARS) };
}

/**
 * Sends one request and waits for one response frame. Anything that is not CQL is kept as
 * `answeredBy`; a hang-up or silence is recorded on the trace, and the result is undefined.
 */
function exchange(socket: Socket, frame: Buffer, deadline: Deadline, trace: HostTrace): Promise<Frame | undefined> {
  const hungUp = (): undefined => {
    trace.closedByPeer = true;
    return undefined;
  };
  const expired = (): undefined => {
    trace.timedOut = true;
    return undefined;
  };
  // Nothing is sent once the deadline has passed.
  if (deadline.expired) return Promise.resolve(expired());
  return exchangeOnce<Frame | undefined>(socket, frame, deadline, {
    data: (buffer, chunk) => {
      trace.bytesReceived += chunk.length;
      // A CQL response starts with a version byte with the high bit set: wait for its whole header.
      if (buffer.length < 5 && ((buffer[0] ?? 0) & 0x80) !== 0) return MORE;
      if (!looksLikeCqlResponse(buffer)) {
        trace.answeredBy = identifyProtocol(buffer);
        return undefined;
      }
      return readFrame(buffer)?.frame ?? MORE;
    },
    close: hungUp,
    error: (error) => {
      if (error.code === 'ECONNRESET') trace.resetByPeer = true;
      return hungUp();
    },
    expired,
  });
}

/** A port that hangs up on a CQL frame: does it complete a TLS handshake instead? */
async function completesTls(address: string, point: CassandraEndpoint, deadline: Deadline): Promise<boolean> {
  const tcp = await connectTcp(address, point.port, deadline);
  if (tcp.outcome !== 'connected') return false;
  const tls = await upgradeToTls(tcp.socket, { host: point.host, verify: 'none' }, deadline);
  if (tls.outcome === 'established') tls.socket.destroy();
  else tcp.socket.destroy();
  return tls.outcome === 'established';
}
