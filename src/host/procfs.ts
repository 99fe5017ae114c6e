import { existsSync } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { bindingCovers } from './local.js';
import { hostPort } from '../text/address.js';
import { serverOf, topLevel, type HostBackend, type LocalServer, type OwnerLookup, type ServerSelector } from './backend.js';
import { cwdOf, listListeners, listProcesses, processInfo, socketInodesOf } from './proc.js';

/**
 * The Linux backend: /proc files only, no program run. A listening socket's owner is the process
 * holding its inode among its file descriptors (/proc/<pid>/fd → socket:[inode]); reading other
 * users' descriptors needs root, and without it the answer says so.
 */
export const procBackend: HostBackend = {
  name: 'proc',

  async usable() {
    // A tmpfs (or nothing) over /proc — and every macOS or Windows machine — has neither.
    const missing: string[] = [];
    for (const path of ['/proc/self/stat', '/proc/net/tcp']) {
      if (
        !(await access(path).then(
          () => true,
          () => false,
        ))
      )
        missing.push(path);
    }
    return missing.length === 0 ? { state: 'usable' } : { state: 'unusable', reason: `/proc is not readable here (${missing.join(', ')} missing)` };
  },

  async findServers(selector: ServerSelector) {
    const started = Date.now();
    const [processes, listeners] = await Promise.all([listProcesses(selector.comm), listListeners()]);
    const selected = selector.match ? processes.filter(selector.match) : processes;
    const roots = selector.topLevelOnly ? topLevel(selected) : selected;
    let unreadable = 0;
    const found = await Promise.all(
      roots.map(async (info): Promise<LocalServer | undefined> => {
        const inodes = await socketInodesOf(info.pid);
        // Gone between the process list and its descriptors (a postgres -C, a backend that ended): no server.
        if (!inodes && !existsSync(`/proc/${info.pid}`)) return undefined;
        if (!inodes) unreadable += 1;
        const own = inodes ? listeners.filter((listener) => inodes.has(listener.inode)) : [];
        return serverOf(info, own, inodes ? 'file descriptors' : 'nothing readable');
      }),
    );
    const servers = found.filter((server): server is LocalServer => server !== undefined);
    return {
      servers,
      listeners,
      sight: {
        backend: 'proc',
        processes: 'seen',
        read: ['processes and listening sockets (/proc)'],
        unread:
          unreadable > 0
            ? [
                `the file descriptors of ${unreadable} server process${unreadable === 1 ? '' : 'es'} (another user's: run as root to see where ${unreadable === 1 ? 'it listens' : 'they listen'})`,
              ]
            : [],
      },
      durationMs: Date.now() - started,
    };
  },

  async ownerOf(address: string, port: number): Promise<OwnerLookup> {
    const sockets = (await listListeners()).filter(
      (listener) => listener.transport !== 'unix' && listener.port === port && bindingCovers(listener.address, address),
    );
    if (sockets.length === 0)
      return { state: 'unknown', reason: `no socket of this network namespace listens on port ${port} (a port forward, or another namespace or container)` };
    const inodes = new Map(sockets.map((listener) => [listener.inode, listener]));
    let unreadable = 0;
    // In batches, stopping at the first process that holds one of the inodes.
    const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
    for (let start = 0; start < pids.length; start += 64) {
      const batch = pids.slice(start, start + 64);
      const held = await Promise.all(
        batch.map(async (pid) => {
          const own = await socketInodesOf(pid);
          if (!own) {
            unreadable += 1;
            return undefined;
          }
          const match = [...own].find((inode) => inodes.has(inode));
          return match === undefined ? undefined : { pid, inode: match };
        }),
      );
      const hit = held.find((entry) => entry !== undefined);
      if (hit) {
        const info = await processInfo(hit.pid);
        const socket = inodes.get(hit.inode);
        return {
          state: 'found',
          owner: { pid: hit.pid, comm: info?.comm ?? '?', cmdline: info?.cmdline ?? [], listensOn: hostPort(socket?.address ?? address, port) },
        };
      }
    }
    return {
      state: 'unknown',
      reason:
        unreadable > 0
          ? `the socket's process is not readable to this user (${unreadable} processes' file descriptors are not: run as root to see it)`
          : 'no process holds the socket (it closed meanwhile)',
    };
  },

  cwdOf: (pid: number) => cwdOf(pid),
};
