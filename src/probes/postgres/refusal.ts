import { dirname } from 'node:path';
import { isLocalAddress } from '../../host/local.js';
import type { HostSight } from '../../host/servers.js';
import { explainTcpRefusal, unique } from '../common/refusal.js';
import type { ConnectionTrace } from './connect.js';
import type { PgCluster } from './clusters.js';
import type { LocalScan, PgLocalServer, PgStandalone } from './local.js';
import { hostPort } from '../../text/address.js';

/**
 * Why a connection was refused, told from what runs on this machine:
 *   not_running   nothing of PostgreSQL runs here (or, for a remote host, nothing listens there)
 *   wrong_port    PostgreSQL listens on this address, but on another port
 *   not_listening PostgreSQL runs, on this port, but not on this address / socket directory
 *   in_transition the server for this port is starting or stopping: postmaster.pid names the port,
 *                 but its sockets are not open (yet, or any more) — a refusal that heals by itself
 *
 * A single-user or bootstrap backend (initdb, a maintenance session) is not a server: it never
 * listens. When it holds the data directory for the refused port, not_running and wrong_port name
 * it (`heldBy`): the server for that port cannot start until it exits.
 *
 * A stopped cluster configured for the refused port (see clusters.ts) makes it not_running even
 * when another cluster listens on another port: that one is a different cluster (its own data
 * directory, its own name), and "connect to its port" would send the application to another
 * database. It is named as a possibility only.
 *
 * A server that is starting or stopping elsewhere on this machine, with no socket open, says
 * nothing about where a settled server listens; it is left out of the other judgements (two
 * clusters on one host, one of them restarting, must not turn "not running" into "not listening").
 */
export type Refusal =
  | {
      readonly cause: 'not_running';
      /**
       * remote: another host, not looked at; local: this machine, looked at; unseen: this
       * machine, but its processes could not be read (sight says why): nothing listens at the
       * address, and whether a server runs elsewhere here is not known.
       */
      readonly where: 'remote' | 'local' | 'unseen';
      readonly sight?: HostSight;
      readonly attempted: string;
      readonly heldBy?: PgStandalone;
      /** Stopped clusters configured for this port: the server that is not running, by name. */
      readonly stopped?: readonly PgCluster[];
      /** Servers that run on other ports: possibilities for the operator, not the fix. */
      readonly others?: readonly PgLocalServer[];
    }
  | { readonly cause: 'localhost_in_container'; readonly attempted: string }
  | { readonly cause: 'firewall_rejected'; readonly attempted: string; readonly listening: readonly string[]; readonly servers: readonly PgLocalServer[] }
  | {
      readonly cause: 'wrong_port';
      readonly attempted: string;
      readonly ports: readonly number[];
      readonly servers: readonly PgLocalServer[];
      readonly heldBy?: PgStandalone;
    }
  | { readonly cause: 'not_listening'; readonly attempted: string; readonly listening: readonly string[]; readonly servers: readonly PgLocalServer[] }
  | { readonly cause: 'in_transition'; readonly state: 'starting' | 'stopping'; readonly attempted: string; readonly server: PgLocalServer };

export interface RefusedEndpoint {
  readonly transport: 'tcp' | 'unix';
  /** Addresses tried (tcp) or the socket path (unix). */
  readonly addresses: readonly string[];
  readonly port: number;
  readonly attempted: string;
}

export function refusedEndpoint(trace: ConnectionTrace): RefusedEndpoint | undefined {
  const endpoint = trace.endpoints[0];
  if (!endpoint) return undefined;
  const addresses = endpoint.connects.map((entry) => entry.address);
  const attempted = endpoint.transport === 'unix' ? (endpoint.socketPath ?? endpoint.host) : hostPort(endpoint.host, endpoint.port);
  return { transport: endpoint.transport, addresses, port: endpoint.port, attempted };
}

/** Is the refused endpoint on this machine, where /proc can tell us more? */
export function isLocalEndpoint(endpoint: RefusedEndpoint): boolean {
  return endpoint.transport === 'unix' || endpoint.addresses.some((address) => isLocalAddress(address));
}

export function explainRefusal(
  endpoint: RefusedEndpoint,
  scan: LocalScan | undefined,
  where: { readonly inContainer: boolean } = { inContainer: false },
): Refusal {
  if (!scan) return { cause: 'not_running', where: 'remote', attempted: endpoint.attempted };
  const inTransition = scan.servers.filter(isInTransition);
  const ours = inTransition.find((server) => server.port === endpoint.port) ?? startingCluster(endpoint, scan);
  if (ours) return { cause: 'in_transition', state: ours.status === 'stopping' ? 'stopping' : 'starting', attempted: endpoint.attempted, server: ours };
  const settled = { ...scan, servers: scan.servers.filter((server) => !inTransition.includes(server)) };
  const explained = endpoint.transport === 'unix' ? explainSocket(endpoint, settled) : explainTcp(endpoint, settled, where);
  // Over a Unix socket, a stopped cluster is the one refused when its sockets would be in that
  // directory too: the other cluster's socket elsewhere is then a possibility, as over TCP, and
  // not_listening is left for a socket no cluster here is configured for.
  // The newest version first: after an upgrade (Homebrew's postgresql@14 and @16, Debian's 15 and
  // 16 on one port) the new cluster is the one to start, and the one the fixes name.
  const stopped = (scan.clusters ?? [])
    .filter((cluster) => cluster.port === endpoint.port && !cluster.live && (endpoint.transport === 'tcp' || usesSocketDir(cluster, socketDirOf(endpoint))))
    .sort((a, b) => Number.parseFloat(b.version ?? '0') - Number.parseFloat(a.version ?? '0'));
  const replaced =
    explained.cause === 'wrong_port' || explained.cause === 'not_running' || (endpoint.transport === 'unix' && explained.cause === 'not_listening');
  const refusal: Refusal =
    stopped.length > 0 && replaced
      ? {
          cause: 'not_running',
          where: 'local',
          attempted: endpoint.attempted,
          stopped,
          others: settled.servers,
          ...(scan.sight?.processes === 'unseen' ? { sight: scan.sight } : {}),
        }
      : explained;
  const heldBy = scan.standalone.find((backend) => backend.port === endpoint.port);
  if (heldBy && (refusal.cause === 'not_running' || refusal.cause === 'wrong_port')) return { ...refusal, heldBy };
  // A look that did not happen proves no absence: a stopped cluster's files were read (clusters.ts
  // needs no process list), but "no server runs here" would be a guess.
  if (refusal.cause === 'not_running' && refusal.where === 'local' && (refusal.stopped ?? []).length === 0 && scan.sight?.processes === 'unseen')
    return { cause: 'not_running', where: 'unseen', attempted: endpoint.attempted, sight: scan.sight };
  return refusal;
}

function socketDirOf(endpoint: RefusedEndpoint): string {
  return dirname(endpoint.addresses[0] ?? endpoint.attempted);
}

/**
 * Where PostgreSQL builds put their sockets when unix_socket_directories is not set: /tmp for a
 * source build, /var/run/postgresql (= /run/postgresql) for Debian's and the PGDG packages.
 */
const DEFAULT_SOCKET_DIRS = ['/tmp', '/var/run/postgresql', '/run/postgresql'];

function usesSocketDir(cluster: PgCluster, directory: string): boolean {
  const normal = (dir: string): string => dir.replace(/\/+$/, '') || '/';
  return (cluster.socketDirs ?? DEFAULT_SOCKET_DIRS).some((dir) => normal(dir) === normal(directory));
}

/**
 * A cluster configured for the refused port whose postmaster is alive but has no socket open: it
 * is starting (or stopping), even in the first milliseconds when its postmaster.pid has no port
 * line yet and the process scan cannot say which port it is for.
 */
function startingCluster(endpoint: RefusedEndpoint, scan: LocalScan): PgLocalServer | undefined {
  const cluster = (scan.clusters ?? []).find((candidate) => candidate.port === endpoint.port && candidate.live);
  if (!cluster) return undefined;
  const server = scan.servers.find((candidate) => candidate.pid === cluster.postmasterPid);
  if (server && (server.tcp.length > 0 || server.sockets.length > 0)) return undefined;
  return server
    ? { ...server, port: cluster.port, status: server.status ?? 'starting' }
    : { pid: cluster.postmasterPid ?? 0, dataDir: cluster.dataDir, port: cluster.port, status: 'starting', tcp: [], sockets: [], seenVia: 'postmaster.pid' };
}

/**
 * Starting or stopping, with no socket open: where it will listen is not known yet. A postmaster
 * writes postmaster.pid before it opens its sockets and adds the status line only after: a pid
 * file with a port but no status, and no socket, is one in those first milliseconds.
 */
function isInTransition(server: PgLocalServer): boolean {
  const early = server.status === undefined && server.port !== undefined;
  return (server.status === 'starting' || server.status === 'stopping' || early) && server.tcp.length === 0 && server.sockets.length === 0;
}

function explainTcp(endpoint: RefusedEndpoint, scan: LocalScan, where: { readonly inContainer: boolean }): Refusal {
  const { servers } = scan;
  // Without file-descriptor access, a socket file still names the port a local server uses.
  const refusal = explainTcpRefusal(
    endpoint,
    {
      running: servers.length > 0,
      tcp: servers.flatMap((server) => server.tcp),
      portHints: scan.strayPorts.map((entry) => entry.port),
      elsewhere: [...servers.flatMap((server) => server.sockets), ...scan.strayPorts.map((entry) => entry.path)],
    },
    where,
  );
  switch (refusal.cause) {
    case 'not_running':
      return { cause: 'not_running', where: 'local', attempted: endpoint.attempted };
    case 'localhost_in_container':
      return { cause: 'localhost_in_container', attempted: endpoint.attempted };
    case 'wrong_port':
      return { cause: 'wrong_port', attempted: endpoint.attempted, ports: refusal.ports, servers };
    case 'firewall_rejected':
      return { cause: 'firewall_rejected', attempted: endpoint.attempted, listening: refusal.listening, servers };
    default:
      return { cause: 'not_listening', attempted: endpoint.attempted, listening: refusal.listening, servers };
  }
}

function explainSocket(endpoint: RefusedEndpoint, scan: LocalScan): Refusal {
  const { servers } = scan;
  if (servers.length === 0 && scan.strayPorts.length === 0) return { cause: 'not_running', where: 'local', attempted: endpoint.attempted };
  const path = endpoint.addresses[0] ?? endpoint.attempted;
  const directory = dirname(path);
  const sockets = unique([...servers.flatMap((server) => server.sockets), ...scan.strayPorts.map((entry) => entry.path)]);
  const portOf = (socket: string): number => Number(/\.s\.PGSQL\.(\d+)$/.exec(socket)?.[1] ?? 0);
  const sameDirectory = sockets.filter((socket) => dirname(socket) === directory);
  if (sameDirectory.length > 0) {
    return { cause: 'wrong_port', attempted: endpoint.attempted, ports: unique(sameDirectory.map(portOf)), servers };
  }
  const tcp = servers.flatMap((server) => server.tcp.map((listener) => `${listener.address}:${listener.port}`));
  if (sockets.length === 0 && tcp.length === 0) return { cause: 'not_running', where: 'local', attempted: endpoint.attempted };
  return { cause: 'not_listening', attempted: endpoint.attempted, listening: unique([...sockets, ...tcp]), servers };
}
