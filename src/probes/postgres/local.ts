import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cwdOf, listListeners, listProcesses, socketInodesOf, type Listener } from '../../host/proc.js';

/**
 * PostgreSQL servers running on this machine, as /proc shows them: each postmaster, its data
 * directory, and where it listens. With root we read its sockets from its file descriptors;
 * without, we fall back to postmaster.pid and the socket files any user can see.
 */
export interface LocalServer {
  readonly pid: number;
  readonly dataDir?: string;
  /** From the binary's path, e.g. "15" for /usr/lib/postgresql/15/bin/postgres. */
  readonly version?: string;
  /** postmaster.pid's status line: starting, ready, stopping, standby. */
  readonly status?: string;
  readonly tcp: readonly { readonly address: string; readonly port: number }[];
  readonly sockets: readonly string[];
  /** How we learned where it listens. */
  readonly seenVia: 'file descriptors' | 'postmaster.pid' | 'nothing readable';
}

export interface LocalScan {
  readonly servers: readonly LocalServer[];
  /** PostgreSQL socket files (.s.PGSQL.<port>) we could not tie to a visible process. */
  readonly strayPorts: readonly { readonly path: string; readonly port: number }[];
  readonly durationMs: number;
}

const PG_SOCKET = /\/\.s\.PGSQL\.(\d+)$/;

export async function scanLocalPostgres(): Promise<LocalScan> {
  const started = Date.now();
  const [processes, listeners] = await Promise.all([listProcesses((comm) => comm === 'postgres' || comm === 'postmaster'), listListeners()]);
  const pids = new Set(processes.map((info) => info.pid));
  const postmasters = processes.filter((info) => !pids.has(info.ppid));
  const servers = await Promise.all(postmasters.map((info) => describe(info.pid, info.cmdline, listeners)));
  const claimed = new Set(servers.flatMap((server) => server.sockets));
  const strayPorts = listeners
    .filter((listener) => listener.transport === 'unix' && !claimed.has(listener.address))
    .flatMap((listener) => {
      const port = PG_SOCKET.exec(listener.address)?.[1];
      return port ? [{ path: listener.address, port: Number(port) }] : [];
    });
  return { servers, strayPorts, durationMs: Date.now() - started };
}

async function describe(pid: number, cmdline: readonly string[], listeners: readonly Listener[]): Promise<LocalServer> {
  const dataFlag = cmdline.indexOf('-D');
  const dataDir = (dataFlag >= 0 ? cmdline[dataFlag + 1] : undefined) ?? (await cwdOf(pid));
  const version = /\/postgresql\/([\d.]+)\/bin\//.exec(cmdline[0] ?? '')?.[1];
  const pidFile = dataDir ? await readPostmasterPid(dataDir) : undefined;
  const inodes = await socketInodesOf(pid);
  const base = {
    pid,
    ...(dataDir ? { dataDir } : {}),
    ...(version ? { version } : {}),
    ...(pidFile?.status ? { status: pidFile.status } : {}),
  };
  if (inodes) {
    const own = listeners.filter((listener) => inodes.has(listener.inode));
    return {
      ...base,
      tcp: own.filter((listener) => listener.transport !== 'unix').map((listener) => ({ address: listener.address, port: listener.port ?? 0 })),
      sockets: own.filter((listener) => listener.transport === 'unix').map((listener) => listener.address),
      seenVia: 'file descriptors',
    };
  }
  if (pidFile?.port) {
    const socket = pidFile.socketDir ? [join(pidFile.socketDir, `.s.PGSQL.${pidFile.port}`)] : [];
    const tcp = pidFile.listenAddress ? [{ address: pidFile.listenAddress, port: pidFile.port }] : [];
    return { ...base, tcp, sockets: socket, seenVia: 'postmaster.pid' };
  }
  return { ...base, tcp: [], sockets: [], seenVia: 'nothing readable' };
}

interface PostmasterPid {
  readonly port?: number;
  readonly socketDir?: string;
  readonly listenAddress?: string;
  readonly status?: string;
}

/**
 * postmaster.pid, line by line: pid, data directory, start time, port, first socket directory,
 * first listen address, shared memory key, status (PostgreSQL 10+).
 */
export function parsePostmasterPid(text: string): PostmasterPid {
  const lines = text.split('\n');
  const port = Number(lines[3]);
  const listen = lines[5]?.trim();
  return {
    ...(Number.isInteger(port) && port > 0 ? { port } : {}),
    ...(lines[4]?.trim() ? { socketDir: lines[4].trim() } : {}),
    ...(listen ? { listenAddress: listen === '*' ? '0.0.0.0' : listen } : {}),
    ...(lines[7]?.trim() ? { status: lines[7].trim() } : {}),
  };
}

async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | undefined> {
  try {
    return parsePostmasterPid(await readFile(join(dataDir, 'postmaster.pid'), 'utf8'));
  } catch {
    return undefined;
  }
}
