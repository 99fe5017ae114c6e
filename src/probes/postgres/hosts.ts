import { isSocketHost, socketPathOf, type PostgresEndpoint, type PostgresTarget } from '../../config/postgres/target.js';
import type { Deadline } from '../../engine/deadline.js';
import { formatMs } from '../../text/duration.js';
import { connectAddress, lookUpEndpoint, type EndpointSpec, type EndpointTrace, type ReachHooks } from '../../net/reach.js';
import { hostPort } from '../../text/address.js';
import { closeConnection, connectAt, emptyTrace, type Connection, type ConnectionTrace, type OpenedSocket } from './connect.js';

/**
 * libpq's walk over the hosts of a connection string, as PQconnectPoll does it, so that the
 * diagnosis is made at the server libpq would settle on:
 *
 *   - each host in order, each of its addresses in order;
 *   - connect_timeout (URL or PGCONNECT_TIMEOUT) limits each address's whole attempt — TCP, TLS,
 *     startup, authentication — and when it runs out libpq moves on to the next address or host;
 *   - a refused or unreachable address, a name that does not resolve, and "cannot connect now"
 *     (SQLSTATE 57P03: starting up, shutting down, in recovery) move on too;
 *   - any other failure (a password refused, TLS required, a server that does not speak
 *     PostgreSQL, a hang-up) ends the walk there: libpq does not try the remaining hosts;
 *   - a host that logged in is checked against target_session_attrs (the login's in_hot_standby
 *     and default_transaction_read_only, reported since PostgreSQL 14, or asked); one that does not
 *     match is closed and the walk moves on ("session is read-only", "server is in hot standby
 *     mode", …); prefer-standby takes, when no host is a standby, the first that logged in.
 *
 * dbdoctor's own deadline stays above all of it: without connect_timeout, a silent host is
 * waited for until the connection's share of --timeout runs out, where libpq would wait for ever.
 * A host passed over for its role is closed, except the first, which is kept as the one to
 * diagnose when no host matches (and as prefer-standby's fallback): no host is connected twice.
 */
export type HostOutcome = 'chosen' | 'unresolved' | 'refused' | 'unreachable' | 'connect_timeout' | 'cannot connect now' | 'role' | 'failed';

export interface HostTried {
  readonly host: string;
  readonly port: number;
  /** The address (or socket) the outcome is about. */
  readonly address?: string;
  /** Whether the TCP connection (or socket) was made before the outcome. */
  readonly connected: boolean;
  readonly outcome: HostOutcome;
  /** In libpq's words where it has some ("session is read-only"), else dbdoctor's. */
  readonly said: string;
  /** A host that logged in: what it is. */
  readonly role?: ServerRole;
  readonly durationMs: number;
}

export type AskedRole = 'primary' | 'standby' | 'read-write' | 'read-only';

/** What target_session_attrs asks for, in libpq's first pass (prefer-standby: a standby). */
const ASKED: Readonly<Record<PostgresTarget['targetSessionAttrs'], AskedRole | undefined>> = {
  any: undefined,
  'read-write': 'read-write',
  'read-only': 'read-only',
  primary: 'primary',
  standby: 'standby',
  'prefer-standby': 'standby',
};

export interface ServerRole {
  readonly inHotStandby?: boolean;
  /** transaction_read_only: default_transaction_read_only or in_hot_standby. */
  readonly readOnly?: boolean;
  readonly from: 'login' | 'query';
}

export async function openConnection(target: PostgresTarget, deadline: Deadline, hooks: ReachHooks = {}): Promise<Connection> {
  const entries: EndpointTrace[] = [];
  const tried: HostTried[] = [];
  const asked = target.endpoints.length > 1 ? ASKED[target.targetSessionAttrs] : undefined;
  let kept: Connection | undefined;
  let spoke: Connection | undefined;
  let first: Connection | undefined;
  const finish = async (connection: Connection, outcome?: { readonly outcome: HostOutcome; readonly said: string }): Promise<Connection> => {
    if (kept && kept !== connection) await closeConnection(kept, deadline).catch(() => undefined);
    if (outcome) tried.push(hostTried(connection.trace, outcome.outcome, outcome.said));
    connection.trace.endpoints.splice(0, connection.trace.endpoints.length, ...entries);
    if (tried.length > 1 || target.endpoints.length > 1) connection.trace.hosts = tried;
    return connection;
  };
  for (const endpoint of target.endpoints) {
    if (deadline.expired) break;
    const { connection, next } = await connectHost(target, endpoint, deadline, entries, tried, hooks);
    if (connection.client && asked) {
      const role = await roleOf(connection, asked, deadline);
      if (role === undefined) return finish(connection, { outcome: 'chosen', said: 'logged in; its role could not be asked in time' });
      const refusal = refusedFor(asked, role);
      if (refusal === undefined)
        return finish(connection, { outcome: 'chosen', said: `logged in, ${roleWords(role)}, as target_session_attrs=${target.targetSessionAttrs} asks` });
      tried.push({ ...hostTried(connection.trace, 'role', refusal), role });
      if (kept) await closeConnection(connection, deadline).catch(() => undefined);
      else kept = connection;
      continue;
    }
    if (connection.client) return finish(connection, { outcome: 'chosen', said: 'logged in' });
    if (!next) return finish(connection, { outcome: 'failed', said: 'failed here (see the verdict); libpq tries no further host after such a failure' });
    if (connection.trace.connected) spoke ??= connection;
    first ??= connection;
  }
  // No host matched. prefer-standby's second pass takes the first host that logs in; for the
  // others, the first host passed over for its role is the one to diagnose, with the rest named.
  if (kept) {
    const fallback = target.targetSessionAttrs === 'prefer-standby';
    const index = tried.findIndex((entry) => entry.outcome === 'role');
    const entry = tried[index];
    if (entry)
      tried[index] = {
        ...entry,
        outcome: fallback ? 'chosen' : 'role',
        said: fallback ? `no host is a standby: prefer-standby takes the first that logged in (${entry.said})` : entry.said,
      };
    return finish(kept);
  }
  return finish(spoke ?? first ?? unreached(deadline));
}

/** The host the diagnosis is about, as an endpoint: the one connected to, else the first. */
export function decisiveEndpoint(target: PostgresTarget, trace: ConnectionTrace): PostgresEndpoint {
  const connected = trace.connected;
  const found = connected ? target.endpoints.find((endpoint) => endpoint.host === connected.host && endpoint.port === connected.port) : undefined;
  return found ?? target.endpoints[0] ?? { host: 'localhost', port: 5432 };
}

/** The target with the decisive host first: fixes and commands name the server diagnosed. */
export function focusOn(target: PostgresTarget, endpoint: PostgresEndpoint): PostgresTarget {
  if (target.endpoints[0] === endpoint) return target;
  return { ...target, endpoints: [endpoint, ...target.endpoints.filter((other) => other !== endpoint)] };
}

/** The same target, one host, no role asked: for the extra connections a diagnosis makes to the server it chose. */
export function pinnedTo(target: PostgresTarget, endpoint: PostgresEndpoint = target.endpoints[0] ?? { host: 'localhost', port: 5432 }): PostgresTarget {
  return { ...target, endpoints: [endpoint], targetSessionAttrs: 'any' };
}

function specOf(endpoint: PostgresEndpoint): EndpointSpec {
  // As libpq: a hostaddr is connected to as written (the host only names the server, for TLS and
  // the password file); a socket host (a directory, or an abstract "@name") is a socket.
  if (endpoint.hostaddr) return { host: endpoint.host, port: endpoint.port, address: endpoint.hostaddr };
  return isSocketHost(endpoint.host) ? { ...endpoint, socketPath: socketPathOf(endpoint.host, endpoint.port) } : endpoint;
}

/**
 * One host: its name resolved, then each address until one gives a connection that decides.
 * `next` says whether libpq would go on to the next host after this one's outcome.
 */
async function connectHost(
  target: PostgresTarget,
  endpoint: PostgresEndpoint,
  deadline: Deadline,
  entries: EndpointTrace[],
  tried: HostTried[],
  hooks: ReachHooks,
): Promise<{ connection: Connection; next: boolean }> {
  const limitOf = (): Deadline => (target.connectTimeoutMs ? deadline.limit(target.connectTimeoutMs, 'connect_timeout') : deadline);
  const lookup = await lookUpEndpoint(specOf(endpoint), limitOf());
  entries.push(lookup.entry);
  let timedOut: Connection | undefined;
  for (const address of lookup.addresses) {
    if (deadline.expired) break;
    const within = limitOf();
    hooks.waiting?.(`a TCP connection to ${authority(address, endpoint.port)}`);
    const reached = await connectAddress(lookup.entry, address, within);
    if (!reached.socket || !reached.connected) {
      const last = lookup.entry.connects.at(-1);
      tried.push({
        host: endpoint.host,
        port: endpoint.port,
        address,
        connected: false,
        outcome: reached.outcome === 'refused' || reached.outcome === 'missing' ? 'refused' : reached.outcome === 'timeout' ? 'connect_timeout' : 'unreachable',
        said: connectWords(last?.code, last?.message, within, target),
        durationMs: last?.durationMs ?? 0,
      });
      continue;
    }
    const opened: OpenedSocket = {
      socket: reached.socket,
      host: reached.connected.host,
      transport: reached.connected.transport,
      connected: reached.connected,
      ...(hooks.waiting ? { waiting: hooks.waiting } : {}),
    };
    hooks.reached?.(reached.connected);
    hooks.waiting?.(`the PostgreSQL handshake with ${authority(reached.connected.host, reached.connected.port)}`);
    const again = async (): Promise<OpenedSocket | undefined> => {
      // The second connection libpq makes to settle TLS goes to the same address, under the same limit.
      const copy: EndpointTrace = { ...lookup.entry, connects: [] };
      const retry = await connectAddress(copy, address, within);
      return retry.socket && retry.connected
        ? {
            socket: retry.socket,
            host: retry.connected.host,
            transport: retry.connected.transport,
            connected: retry.connected,
            ...(hooks.waiting ? { waiting: hooks.waiting } : {}),
          }
        : undefined;
    };
    const connection = await connectAt(target, opened, again, within);
    const { trace } = connection;
    // connect_timeout ran out (not the run's own deadline): libpq gives this address up and moves on.
    if (!connection.client && trace.timedOut && within !== deadline && within.expired && !deadline.expired) {
      tried.push(
        hostTried(
          trace,
          'connect_timeout',
          `no answer within connect_timeout (${formatMs(target.connectTimeoutMs ?? 0)}) during the ${trace.phase === 'auth' ? 'login' : trace.phase === 'ssl' || trace.phase === 'tls' ? 'TLS negotiation' : 'startup'}`,
        ),
      );
      timedOut ??= connection;
      continue;
    }
    if (!connection.client && trace.serverError?.code === '57P03') {
      tried.push(hostTried(trace, 'cannot connect now', `"${trace.serverError.message}" [57P03]`));
      return { connection, next: true };
    }
    return { connection, next: false };
  }
  if (timedOut) return { connection: timedOut, next: true };
  if (lookup.entry.dns && lookup.entry.dns.outcome !== 'resolved') {
    tried.push({
      host: endpoint.host,
      port: endpoint.port,
      connected: false,
      outcome: 'unresolved',
      said: `could not translate host name "${endpoint.host}" to address (${lookup.entry.dns.code})`,
      durationMs: lookup.entry.dns.durationMs,
    });
  }
  const failed = unreached(deadline);
  failed.trace.timedOut ||= lookup.timedOut || lookup.entry.connects.some((attempt) => attempt.outcome === 'timeout');
  return { connection: failed, next: true };
}

function unreached(deadline: Deadline): Connection {
  return { trace: emptyTrace(deadline.budgetMs) };
}

function connectWords(code: string | undefined, message: string | undefined, within: Deadline, target: PostgresTarget): string {
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOENT') return 'no such socket file';
  if (code === 'ETIMEOUT' || code === 'ETIMEDOUT')
    return target.connectTimeoutMs && within.expired ? `no answer within connect_timeout (${formatMs(target.connectTimeoutMs)})` : 'no answer';
  return message ?? code ?? 'failed';
}

function hostTried(trace: ConnectionTrace, outcome: HostOutcome, said: string): HostTried {
  const connected = trace.connected;
  return {
    host: connected?.host ?? trace.endpoints[0]?.host ?? '?',
    port: connected?.port ?? trace.endpoints[0]?.port ?? 0,
    ...(connected ? { address: connected.address } : {}),
    connected: connected !== undefined,
    outcome,
    said,
    durationMs: trace.durationMs,
  };
}

/**
 * The server's role as libpq learns it for target_session_attrs: the login's in_hot_standby and
 * default_transaction_read_only (PostgreSQL 14 and later report both, and a pooler replays
 * them), else one query, as libpq sends it. Undefined when the query gets no answer in time (a
 * pooler queueing it): the walk stops there and the steps look closer.
 */
async function roleOf(connection: Connection, asked: AskedRole, deadline: Deadline): Promise<ServerRole | undefined> {
  const params = connection.trace.serverParams;
  const hot = params.in_hot_standby === undefined ? undefined : params.in_hot_standby === 'on';
  const defaultReadOnly = params.default_transaction_read_only === undefined ? undefined : params.default_transaction_read_only === 'on';
  const wantsReadOnly = asked === 'read-write' || asked === 'read-only';
  if (hot !== undefined && (!wantsReadOnly || defaultReadOnly !== undefined))
    return { inHotStandby: hot, readOnly: hot || defaultReadOnly === true, from: 'login' };
  const client = connection.client;
  if (!client) return undefined;
  const within = deadline.limit(Math.min(2000, deadline.remainingMs() / 2), 'target_session_attrs');
  try {
    if (wantsReadOnly) {
      const result = await within.race(client.query<{ transaction_read_only: string }>('SHOW transaction_read_only'));
      return { readOnly: result.rows[0]?.transaction_read_only === 'on', from: 'query' };
    }
    const result = await within.race(client.query<{ in_recovery: boolean }>('SELECT pg_catalog.pg_is_in_recovery() AS in_recovery'));
    return { inHotStandby: result.rows[0]?.in_recovery === true, from: 'query' };
  } catch {
    // No answer in time (a pooler queueing the query), or the session ended under it.
    return undefined;
  }
}

/** libpq's words when the role does not match, or undefined when it does. */
function refusedFor(asked: AskedRole, role: ServerRole): string | undefined {
  switch (asked) {
    case 'read-write':
      return role.readOnly ? 'session is read-only' : undefined;
    case 'read-only':
      return role.readOnly === false ? 'session is not read-only' : undefined;
    case 'primary':
      return role.inHotStandby ? 'server is in hot standby mode' : undefined;
    case 'standby':
      return role.inHotStandby === false ? 'server is not in hot standby mode' : undefined;
  }
}

/** "127.0.0.1:5433: session is read-only" for each host passed over, for summaries. */
export function describePassedOver(hosts: readonly HostTried[] | undefined): string[] {
  return (hosts ?? [])
    .filter((entry) => entry.outcome !== 'chosen')
    .map((entry) => `${authority(entry.host, entry.port)} ${entry.outcome === 'role' ? `(${roleWords(entry.role)}): "${entry.said}"` : `: ${entry.said}`}`);
}

export function roleWords(role: ServerRole | undefined): string {
  if (!role) return 'role unknown';
  if (role.inHotStandby) return 'a standby';
  if (role.inHotStandby === false) return role.readOnly ? 'a primary, read-only by default_transaction_read_only' : 'a primary';
  return role.readOnly ? 'read-only' : 'read-write';
}

export function authority(host: string, port: number): string {
  return isSocketHost(host) ? socketPathOf(host, port) : hostPort(host, port);
}

export function hostsEvidence(hosts: readonly HostTried[] | undefined): Record<string, unknown> {
  if (!hosts || hosts.length === 0) return {};
  return { hostsTried: hosts.map((entry) => ({ ...entry, ...(entry.role ? { role: { ...entry.role } } : {}) })) };
}

/**
 * Hosts (or addresses) libpq gave up on after connect_timeout before it reached the one that
 * works: every new connection of the application waits that long first. Black-holed ones (no TCP
 * answer) and silent ones (connected, no PostgreSQL answer) are told apart, for the network and
 * accepting steps' warnings.
 */
export function slowPassedOver(trace: ConnectionTrace): { readonly blackHoled: HostTried[]; readonly silent: HostTried[] } {
  const slow = trace.connected ? (trace.hosts ?? []).filter((entry) => entry.outcome === 'connect_timeout') : [];
  return { blackHoled: slow.filter((entry) => !entry.connected), silent: slow.filter((entry) => entry.connected) };
}
