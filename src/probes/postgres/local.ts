import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cwdOf } from '../../host/proc.js';
import { findLocalServers } from '../../host/servers.js';

/**
 * PostgreSQL servers running on this machine: each postmaster (a postgres process whose parent is
 * not one), its data directory, and where it listens — from its file descriptors with root, else
 * from postmaster.pid, plus the socket files (.s.PGSQL.<port>) any user can see.
 */
export interface PgLocalServer {
  readonly pid: number;
  readonly dataDir?: string;
  /** From the binary's path, e.g. "15" for /usr/lib/postgresql/15/bin/postgres. */
  readonly version?: string;
  /** postmaster.pid's status line: starting, ready, stopping, standby. */
  readonly status?: string;
  /** postmaster.pid's port: the port it uses, even before (or after) it listens. */
  readonly port?: number;
  readonly tcp: readonly { readonly address: string; readonly port: number }[];
  readonly sockets: readonly string[];
  /** How we learned where it listens. */
  readonly seenVia: 'file descriptors' | 'postmaster.pid' | 'nothing readable';
}

export interface LocalScan {
  readonly servers: readonly PgLocalServer[];
  /** PostgreSQL socket files (.s.PGSQL.<port>) we could not tie to a visible process. */
  readonly strayPorts: readonly { readonly path: string; readonly port: number }[];
  readonly durationMs: number;
}

const PG_SOCKET = /\/\.s\.PGSQL\.(\d+)$/;

export async function scanLocalPostgres(): Promise<LocalScan> {
  const started = Date.now();
  const found = await findLocalServers({ comm: (comm) => comm === 'postgres' || comm === 'postmaster', topLevelOnly: true });
  const servers = await Promise.all(
    found.servers.map(async (server): Promise<PgLocalServer> => {
      const dataFlag = server.cmdline.indexOf('-D');
      const dataDir = (dataFlag >= 0 ? server.cmdline[dataFlag + 1] : undefined) ?? (await cwdOf(server.pid));
      const version = /\/postgresql\/([\d.]+)\/bin\//.exec(server.cmdline[0] ?? '')?.[1];
      const pidFile = dataDir ? await readPostmasterPid(dataDir) : undefined;
      const base = {
        pid: server.pid,
        ...(dataDir ? { dataDir } : {}),
        ...(version ? { version } : {}),
        ...(pidFile?.status ? { status: pidFile.status } : {}),
        ...(pidFile?.port ? { port: pidFile.port } : {}),
      };
      if (server.seenVia === 'file descriptors') return { ...base, tcp: server.tcp, sockets: server.unix, seenVia: 'file descriptors' };
      if (pidFile?.port) {
        return {
          ...base,
          tcp: pidFile.listenAddress ? [{ address: pidFile.listenAddress, port: pidFile.port }] : [],
          sockets: pidFile.socketDir ? [join(pidFile.socketDir, `.s.PGSQL.${pidFile.port}`)] : [],
          seenVia: 'postmaster.pid',
        };
      }
      return { ...base, tcp: [], sockets: [], seenVia: 'nothing readable' };
    }),
  );
  const claimed = new Set(servers.flatMap((server) => server.sockets));
  const strayPorts = found.listeners
    .filter((listener) => listener.transport === 'unix' && !claimed.has(listener.address))
    .flatMap((listener) => {
      const port = PG_SOCKET.exec(listener.address)?.[1];
      return port ? [{ path: listener.address, port: Number(port) }] : [];
    });
  return { servers, strayPorts, durationMs: Date.now() - started };
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
