import { listListeners, listProcesses, socketInodesOf, type Listener, type ProcessInfo } from './proc.js';

/**
 * Database servers running on this machine, found through /proc: the processes a probe selects,
 * and the TCP and Unix sockets each listens on. With root we read each process's sockets from its
 * file descriptors; without, `seenVia` says we could not, and the probe falls back on what it can
 * read itself (PostgreSQL's postmaster.pid, a server's command line).
 */
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
  /** Every listening socket of this network namespace, for probes that recognise their own. */
  readonly listeners: readonly Listener[];
  readonly durationMs: number;
}

export interface ServerSelector {
  /** A cheap first filter on the kernel's process name (e.g. "postgres", "mongod", "java"). */
  readonly comm: (comm: string) => boolean;
  /** A finer one on the whole process (e.g. a JVM whose command line runs CassandraDaemon). */
  readonly match?: (info: ProcessInfo) => boolean;
  /** Keep only processes whose parent is not also selected (a server, not its workers). */
  readonly topLevelOnly?: boolean;
}

export async function findLocalServers(selector: ServerSelector): Promise<LocalServers> {
  const started = Date.now();
  const [processes, listeners] = await Promise.all([listProcesses(selector.comm), listListeners()]);
  const selected = selector.match ? processes.filter(selector.match) : processes;
  const pids = new Set(selected.map((info) => info.pid));
  // A server's workers are its children (PostgreSQL backends): keep only the parent.
  const roots = selector.topLevelOnly ? selected.filter((info) => !pids.has(info.ppid)) : selected;
  const servers = await Promise.all(
    roots.map(async (info): Promise<LocalServer> => {
      const inodes = await socketInodesOf(info.pid);
      const own = inodes ? listeners.filter((listener) => inodes.has(listener.inode)) : [];
      return {
        pid: info.pid,
        comm: info.comm,
        cmdline: info.cmdline,
        tcp: own.filter((listener) => listener.transport !== 'unix').map((listener) => ({ address: listener.address, port: listener.port ?? 0 })),
        unix: own.filter((listener) => listener.transport === 'unix').map((listener) => listener.address),
        seenVia: inodes ? 'file descriptors' : 'nothing readable',
      };
    }),
  );
  return { servers, listeners, durationMs: Date.now() - started };
}
