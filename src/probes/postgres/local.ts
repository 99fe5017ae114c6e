import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findLocalServers, processCwd, type HostSight } from '../../host/servers.js';
import { askOnce } from '../../host/shared.js';
import { searchClusters, type PgCluster } from './clusters.js';
import { managerOfExecutable, type ServiceManager } from '../../host/managers.js';

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
  /** Its data directory holds standby.signal (PostgreSQL 12+): a standby, until promoted. */
  readonly standby?: boolean;
  readonly tcp: readonly { readonly address: string; readonly port: number }[];
  readonly sockets: readonly string[];
  /** How we learned where it listens. */
  readonly seenVia: 'file descriptors' | 'postmaster.pid' | 'nothing readable';
  /** What starts it, from its executable's path: a Homebrew formula, Postgres.app, the EDB service. */
  readonly startedBy?: ServiceManager;
}

/**
 * A postgres process that is not a server: a single-user backend (`postgres --single`, run by
 * initdb or by an operator for maintenance) or initdb's bootstrap (`--boot`). It listens on
 * nothing and never will, but it holds its data directory's postmaster.pid (with its pid negated),
 * so the server for that directory cannot start until it exits.
 */
export interface PgStandalone {
  readonly pid: number;
  readonly mode: 'single-user' | 'bootstrap';
  readonly dataDir?: string;
  /** The port in its postmaster.pid: the port the server for that data directory would use. */
  readonly port?: number;
}

export interface LocalScan {
  /** Postmasters: servers that listen, or are starting or stopping. */
  readonly servers: readonly PgLocalServer[];
  readonly standalone: readonly PgStandalone[];
  /** PostgreSQL socket files (.s.PGSQL.<port>) we could not tie to a visible process. */
  readonly strayPorts: readonly { readonly path: string; readonly port: number }[];
  /** Clusters configured on this machine, running or not, with the port each uses or would use. */
  readonly clusters?: readonly PgCluster[];
  /** What the host backend could read: without the process list, absence is not known. */
  readonly sight?: HostSight;
  readonly durationMs: number;
}

const PG_SOCKET = /\/\.s\.PGSQL\.(\d+)$/;

/**
 * The PostgreSQL servers and clusters on this machine. What it reads does not depend on the target
 * (only on PGDATA): the refused targets of a fleet, diagnosed at once, share one reading (host/shared.ts).
 */
export function scanLocalPostgres(env: Readonly<Record<string, string | undefined>> = {}, signal?: AbortSignal): Promise<LocalScan> {
  const pgdata = env.PGDATA ?? '';
  return askOnce(`postgres-scan:${pgdata}`, signal, (shared) => readLocalPostgres(pgdata === '' ? {} : { PGDATA: pgdata }, shared));
}

async function readLocalPostgres(env: Readonly<Record<string, string | undefined>>, signal: AbortSignal): Promise<LocalScan> {
  const started = Date.now();
  // The clusters' files are read while the servers are found (most of the search needs no server).
  const clusterSearch = searchClusters(env);
  const found = await findLocalServers({ name: 'postgres', comm: (comm) => comm === 'postgres' || comm === 'postmaster', topLevelOnly: true }, { signal });
  const processes = await Promise.all(
    found.servers
      .filter((server) => !isUtilityRun(server.cmdline))
      .map(async (server): Promise<PgLocalServer | PgStandalone> => {
        const dataFlag = server.cmdline.indexOf('-D');
        const dataDir = (dataFlag >= 0 ? server.cmdline[dataFlag + 1] : undefined) ?? (await processCwd(server.pid, signal));
        const version = /\/postgresql\/([\d.]+)\/bin\//.exec(server.cmdline[0] ?? '')?.[1];
        const pidFile = dataDir ? await readPostmasterPid(dataDir) : undefined;
        const mode = standaloneMode(server.cmdline, pidFile?.pid === -server.pid);
        if (mode) return { pid: server.pid, mode, ...(dataDir ? { dataDir } : {}), ...(pidFile?.port ? { port: pidFile.port } : {}) };
        const startedBy = managerOfExecutable(server.cmdline[0] ?? '');
        const base = {
          pid: server.pid,
          ...(startedBy ? { startedBy } : {}),
          ...(dataDir ? { dataDir } : {}),
          ...(version ? { version } : {}),
          ...(pidFile?.status ? { status: pidFile.status } : {}),
          ...(pidFile?.port ? { port: pidFile.port } : {}),
          ...(dataDir && (await exists(join(dataDir, 'standby.signal'))) ? { standby: true } : {}),
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
  const servers = processes.filter((entry): entry is PgLocalServer => !('mode' in entry));
  const standalone = processes.filter((entry): entry is PgStandalone => 'mode' in entry);
  const claimed = new Set(servers.flatMap((server) => server.sockets));
  const strayPorts = found.listeners
    .filter((listener) => listener.transport === 'unix' && !claimed.has(listener.address))
    .flatMap((listener) => {
      const port = PG_SOCKET.exec(listener.address)?.[1];
      return port ? [{ path: listener.address, port: Number(port) }] : [];
    });
  const runningDataDirs = [...servers, ...standalone].flatMap((server) => (server.dataDir ? [server.dataDir] : []));
  const clusters = await clusterSearch.finish(runningDataDirs);
  return { servers, standalone, strayPorts, clusters, sight: found.sight, durationMs: Date.now() - started };
}

/** `postgres -C setting`, `--describe-config`, `-V`: a command that prints and exits, not a server. */
function isUtilityRun(cmdline: readonly string[]): boolean {
  return cmdline.some((arg) => arg === '-C' || arg === '--describe-config' || arg === '-V' || arg === '--version' || arg === '--check');
}

/** A backend without a postmaster: its flag says so, or postmaster.pid holds its pid negated. */
function standaloneMode(cmdline: readonly string[], negatedPid: boolean): PgStandalone['mode'] | undefined {
  if (cmdline.includes('--boot')) return 'bootstrap';
  if (cmdline.includes('--single') || negatedPid) return 'single-user';
  return undefined;
}

interface PostmasterPid {
  /** Negative for a standalone backend (single-user or bootstrap). */
  readonly pid?: number;
  readonly port?: number;
  readonly socketDir?: string;
  readonly listenAddress?: string;
  readonly status?: string;
}

/**
 * postmaster.pid, line by line: pid (negated for a standalone backend), data directory, start time, port, first socket directory,
 * first listen address, shared memory key, status (PostgreSQL 10+).
 */
export function parsePostmasterPid(text: string): PostmasterPid {
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  const listen = lines[5]?.trim();
  return {
    ...(lines[0]?.trim() && Number.isInteger(pid) && pid !== 0 ? { pid } : {}),
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

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
