import { readdir } from 'node:fs/promises';
import { bindingCovers, isLocalAddress } from './local.js';
import { listListeners, processInfo, socketInodesOf } from './proc.js';

/**
 * Which process owns a listening TCP socket on this machine: the socket's inode from
 * /proc/net/tcp{,6}, then the process holding that inode among its file descriptors
 * (/proc/<pid>/fd → socket:[inode]). Reading other users' descriptors needs root; without it the
 * answer says so. Only for addresses of this machine (and this network namespace).
 */
export interface ListenerOwner {
  readonly pid: number;
  /** The kernel's short name, e.g. "python3", "nginx", "docker-proxy". */
  readonly comm: string;
  readonly cmdline: readonly string[];
  /** "127.0.0.1:5432", "[::]:5432": the bound address that covers the one connected to. */
  readonly listensOn: string;
}

export type OwnerLookup =
  | { readonly state: 'found'; readonly owner: ListenerOwner }
  | { readonly state: 'unknown'; readonly reason: string }
  | { readonly state: 'remote' };

export async function ownerOfListener(address: string, port: number): Promise<OwnerLookup> {
  if (!isLocalAddress(address)) return { state: 'remote' };
  const sockets = (await listListeners()).filter((listener) => listener.transport !== 'unix' && listener.port === port && bindingCovers(listener.address, address));
  if (sockets.length === 0) return { state: 'unknown', reason: `no socket of this network namespace listens on port ${port} (a port forward, or another namespace or container)` };
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
      const bound = socket ? `${socket.address.includes(':') ? `[${socket.address}]` : socket.address}:${port}` : `${address}:${port}`;
      return { state: 'found', owner: { pid: hit.pid, comm: info?.comm ?? '?', cmdline: info?.cmdline ?? [], listensOn: bound } };
    }
  }
  return { state: 'unknown', reason: unreadable > 0 ? `the socket's process is not readable to this user (${unreadable} processes' file descriptors are not: run as root to see it)` : 'no process holds the socket (it closed meanwhile)' };
}

/** "python3 (pid 4242)": a process as a summary names it. */
export function describeOwner(owner: ListenerOwner): string {
  return `${owner.comm} (pid ${owner.pid})`;
}
