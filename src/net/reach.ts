import type { Socket } from 'node:net';
import type { Deadline } from '../engine/deadline.js';
import { resolveHost, type Resolution } from './dns.js';
import { connectTcp, connectUnix, type ConnectOutcome } from './tcp.js';

/**
 * Reaching an endpoint, before any database protocol: resolve its name, then connect to each
 * address in turn (as libpq and most drivers do), or open its Unix socket. Every outcome is kept,
 * so a report can say "::1 refused, 127.0.0.1 timed out". Shared by every probe.
 */
export interface EndpointSpec {
  /** A host name or address; for a Unix socket, what to show as the host (e.g. its directory). */
  readonly host: string;
  readonly port: number;
  /** Connect to this Unix socket instead of host:port over TCP. */
  readonly socketPath?: string;
  /** Connect to this numeric address, with no lookup of the host (libpq's hostaddr). */
  readonly address?: string;
}

export interface AddressAttempt {
  readonly address: string;
  readonly outcome: ConnectOutcome['outcome'];
  readonly code?: string;
  readonly message?: string;
  readonly durationMs: number;
}

export interface EndpointTrace {
  readonly host: string;
  readonly port: number;
  readonly transport: 'tcp' | 'unix';
  readonly socketPath?: string;
  /** The numeric address connected to instead of looking the host up (libpq's hostaddr). */
  readonly hostaddr?: string;
  dns?: Resolution;
  readonly connects: AddressAttempt[];
}

export interface Connected {
  readonly host: string;
  readonly port: number;
  /** The address (tcp) or socket path (unix) the connection was made to. */
  readonly address: string;
  readonly transport: 'tcp' | 'unix';
}

export interface Reached {
  readonly entry: EndpointTrace;
  readonly connected?: Connected;
  readonly socket?: Socket;
  /** An attempt ran out of time (a black hole, or the resolver). */
  readonly timedOut: boolean;
}

export interface ReachOptions {
  /** A per-host limit under the deadline (libpq's connect_timeout, a driver's connectTimeoutMS). */
  readonly perHostLimitMs?: number | undefined;
}

/** One endpoint: its name resolved, then each address tried until one connects. */
export async function reachEndpoint(spec: EndpointSpec, deadline: Deadline, options: ReachOptions = {}): Promise<Reached> {
  const hostDeadline = options.perHostLimitMs ? deadline.limit(options.perHostLimitMs, 'connect_timeout') : deadline;
  const { entry, addresses, timedOut: lookupTimedOut } = await lookUpEndpoint(spec, hostDeadline);
  let timedOut = lookupTimedOut;
  for (const address of addresses) {
    const reached = await connectAddress(entry, address, hostDeadline);
    if (reached.socket) return { entry, connected: reached.connected, socket: reached.socket, timedOut };
    if (reached.outcome === 'timeout') timedOut = true;
    if (hostDeadline.expired) break;
  }
  return { entry, timedOut };
}

/**
 * The first half of reaching an endpoint: its trace, and the addresses to connect to (the
 * resolved ones, or its Unix socket). A caller that does more than connect on each address
 * (libpq's whole handshake per address, under connect_timeout) walks them itself.
 */
export async function lookUpEndpoint(
  spec: EndpointSpec,
  deadline: Deadline,
): Promise<{ readonly entry: EndpointTrace; readonly addresses: readonly string[]; readonly timedOut: boolean }> {
  if (spec.socketPath !== undefined) {
    return {
      entry: { host: spec.host, port: spec.port, transport: 'unix', socketPath: spec.socketPath, connects: [] },
      addresses: [spec.socketPath],
      timedOut: false,
    };
  }
  const entry: EndpointTrace = {
    host: spec.host,
    port: spec.port,
    transport: 'tcp',
    ...(spec.address !== undefined ? { hostaddr: spec.address } : {}),
    connects: [],
  };
  // With a hostaddr there is no lookup: the literal "resolves" to itself.
  entry.dns = await resolveHost(spec.address ?? spec.host, deadline);
  if (entry.dns.outcome !== 'resolved') return { entry, addresses: [], timedOut: entry.dns.code === 'ETIMEOUT' };
  return { entry, addresses: entry.dns.addresses.map(({ address }) => address), timedOut: false };
}

/** One connect to one of an endpoint's addresses (or its socket), recorded in the endpoint's trace. */
export async function connectAddress(
  entry: EndpointTrace,
  address: string,
  deadline: Deadline,
): Promise<{ readonly outcome: ConnectOutcome['outcome']; readonly socket?: Socket; readonly connected?: Connected }> {
  const outcome = entry.transport === 'unix' ? await connectUnix(address, deadline) : await connectTcp(address, entry.port, deadline);
  entry.connects.push(summarise(address, outcome));
  if (outcome.outcome !== 'connected') return { outcome: outcome.outcome };
  return { outcome: outcome.outcome, socket: outcome.socket, connected: { host: entry.host, port: entry.port, address, transport: entry.transport } };
}

/** Endpoints in order until one connects (libpq's multi-host behaviour). */
export async function reachFirst(
  specs: readonly EndpointSpec[],
  deadline: Deadline,
  options: ReachOptions = {},
): Promise<{ readonly entries: EndpointTrace[]; readonly reached?: Reached; readonly timedOut: boolean }> {
  const entries: EndpointTrace[] = [];
  let timedOut = false;
  for (const spec of specs) {
    const reached = await reachEndpoint(spec, deadline, options);
    entries.push(reached.entry);
    timedOut ||= reached.timedOut;
    if (reached.socket) return { entries, reached, timedOut };
    if (deadline.expired) break;
  }
  return { entries, timedOut };
}

function summarise(address: string, outcome: ConnectOutcome): AddressAttempt {
  return outcome.outcome === 'connected'
    ? { address, outcome: outcome.outcome, durationMs: outcome.durationMs }
    : { address, outcome: outcome.outcome, code: outcome.code, message: outcome.message, durationMs: outcome.durationMs };
}

/**
 * What a probe tells as it reaches its servers: the first that takes a TCP connection (the
 * process step's answer, before any handshake), and what it waits on now (the progress line).
 */
export interface ReachHooks {
  readonly reached?: (connected: Connected) => void;
  readonly waiting?: (what: string | undefined) => void;
}

/** The first TCP connection a probe makes, as a promise a step can race with the whole outcome. */
export function firstReach(): { readonly hooks: Pick<ReachHooks, 'reached'>; readonly promise: Promise<Connected> } {
  let resolve: ((connected: Connected) => void) | undefined;
  const promise = new Promise<Connected>((done) => (resolve = done));
  return { hooks: { reached: (connected) => resolve?.(connected) }, promise };
}
