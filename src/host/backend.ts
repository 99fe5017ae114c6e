import { hostPort } from '../text/address.js';
import { bindingCovers } from './local.js';
import type { ProcessInfo } from './proc.js';

/**
 * What this machine says about itself, behind one interface whatever the operating system:
 *   proc     Linux's /proc (files only: the fastest, and the default on Linux)
 *   lsof     `lsof` + `ps`: macOS and the BSDs, and Linux when /proc cannot be read
 *   windows  `netstat -ano` + `tasklist /fo csv`
 *   none     nothing could be read: every answer says so, and nothing is concluded from it
 * Each backend answers the same three questions — which database server processes run and where
 * they listen, which process owns a listening port, a process's working directory — and says what
 * it read and what it could not (`HostSight`). A probe that was not shown the processes must never
 * assert that none runs.
 */
export const HOST_BACKENDS = ['proc', 'lsof', 'windows', 'none'] as const;
export type HostBackendName = (typeof HOST_BACKENDS)[number];

/** The variable that forces a backend (tests, and a user whose machine is detected wrong). */
export const HOST_BACKEND_VARIABLE = 'DBDOCTOR_HOST_BACKEND';

export interface HostSight {
  readonly backend: HostBackendName;
  /** Whether the process list was read: without it, absence of a server is not known. */
  readonly processes: 'seen' | 'unseen';
  /** What was read, e.g. "processes (ps)", "listening TCP sockets and their processes (lsof)". */
  readonly read: readonly string[];
  /** What could not be read, and why: "lsof is not installed (not found on PATH)". */
  readonly unread: readonly string[];
}

/** A listening socket: TCP (the bound address and port) or Unix (its path, or "@name"). */
export interface HostListener {
  readonly transport: 'tcp' | 'tcp6' | 'unix';
  readonly address: string;
  readonly port: number | undefined;
  /** /proc's socket inode (proc backend only). */
  readonly inode?: number;
  /** The process holding it, when the backend lists sockets with their processes (lsof, netstat -o). */
  readonly pid?: number;
}

export interface LocalServer {
  readonly pid: number;
  readonly comm: string;
  readonly cmdline: readonly string[];
  readonly tcp: readonly { readonly address: string; readonly port: number }[];
  readonly unix: readonly string[];
  readonly seenVia: 'file descriptors' | 'nothing readable';
}

export interface LocalServers {
  readonly servers: readonly LocalServer[];
  /** Every listening socket the backend saw, for probes that recognise their own. */
  readonly listeners: readonly HostListener[];
  readonly sight: HostSight;
  readonly durationMs: number;
}

export interface ServerSelector {
  /** A cheap first filter on the process's short name (e.g. "postgres", "mongod", "java"). */
  readonly comm: (comm: string) => boolean;
  /** A finer one on the whole process (e.g. a JVM whose command line runs CassandraDaemon). */
  readonly match?: (info: ProcessInfo) => boolean;
  /** Keep only processes whose parent is not also selected (a server, not its workers). */
  readonly topLevelOnly?: boolean;
  /**
   * A name for this selection ("postgres", "mongodb"): askers of the same name at the same moment
   * share one reading of the machine (host/shared.ts). The same name must mean the same selection.
   */
  readonly name?: string;
}

export interface ListenerOwner {
  readonly pid: number;
  /** The short name, e.g. "python3", "nginx", "docker-proxy". */
  readonly comm: string;
  readonly cmdline: readonly string[];
  /** "127.0.0.1:5432", "[::]:5432": the bound address that covers the one connected to. */
  readonly listensOn: string;
}

export type OwnerLookup =
  { readonly state: 'found'; readonly owner: ListenerOwner } | { readonly state: 'unknown'; readonly reason: string } | { readonly state: 'remote' };

export interface HostBackend {
  readonly name: HostBackendName;
  /** Can this backend read this machine at all (cheap: a file, or one short command)? */
  usable(signal?: AbortSignal): Promise<{ readonly state: 'usable' } | { readonly state: 'unusable'; readonly reason: string }>;
  findServers(selector: ServerSelector, signal?: AbortSignal): Promise<LocalServers>;
  /** The owner of the listening socket that covers address:port (a local address). */
  ownerOf(address: string, port: number, signal?: AbortSignal): Promise<OwnerLookup>;
  cwdOf(pid: number, signal?: AbortSignal): Promise<string | undefined>;
}

/** Keep only the processes whose parent is not selected too: the server, not its workers. */
export function topLevel(processes: readonly ProcessInfo[]): ProcessInfo[] {
  const pids = new Set(processes.map((info) => info.pid));
  return processes.filter((info) => !pids.has(info.ppid));
}

/** A server process, with the listening sockets it holds (its own, however the backend told them). */
export function serverOf(info: ProcessInfo, own: readonly HostListener[], seenVia: LocalServer['seenVia']): LocalServer {
  return {
    pid: info.pid,
    comm: info.comm,
    cmdline: info.cmdline,
    tcp: own.filter((listener) => listener.transport !== 'unix').map((listener) => ({ address: listener.address, port: listener.port ?? 0 })),
    unix: own.filter((listener) => listener.transport === 'unix').map((listener) => listener.address),
    seenVia,
  };
}

/** One listing a backend took: what it read, or why it could not. */
export type Listed<T> = { readonly state: 'read'; readonly items: readonly T[] } | { readonly state: 'unread'; readonly reason: string };

/** What a look at processes and sockets read and could not, in the words of the programs that read them. */
export function sightOf(
  backend: HostBackendName,
  processes: Listed<ProcessInfo>,
  sockets: Listed<HostListener>,
  words: { readonly processes: string; readonly sockets: string },
): HostSight {
  const read: string[] = [];
  const unread: string[] = [];
  if (processes.state === 'read') read.push(words.processes);
  else unread.push(`processes: ${processes.reason}`);
  if (sockets.state === 'read') read.push(words.sockets);
  else unread.push(`listening TCP sockets: ${sockets.reason}`);
  return { backend, processes: processes.state === 'read' ? 'seen' : 'unseen', read, unread };
}

/** The processes a selector picks from a listing (none from a listing that was not read). */
export function selectedProcesses(processes: Listed<ProcessInfo>, selector: ServerSelector): ProcessInfo[] {
  const named = processes.state === 'read' ? processes.items.filter((info) => selector.comm(info.comm)) : [];
  return selector.match ? named.filter(selector.match) : named;
}

/** The owner of the listening socket that covers address:port, from a listing of sockets with their process ids. */
export function ownerAmong(sockets: Listed<HostListener>, processes: Listed<ProcessInfo>, address: string, port: number, notFound: string): OwnerLookup {
  if (sockets.state === 'unread') return { state: 'unknown', reason: `the listening sockets could not be read: ${sockets.reason}` };
  const socket = sockets.items.find((listener) => listener.port === port && bindingCovers(listener.address, address));
  if (socket?.pid === undefined) return { state: 'unknown', reason: notFound };
  const info = processes.state === 'read' ? processes.items.find((candidate) => candidate.pid === socket.pid) : undefined;
  return { state: 'found', owner: { pid: socket.pid, comm: info?.comm ?? '?', cmdline: info?.cmdline ?? [], listensOn: hostPort(socket.address, port) } };
}
