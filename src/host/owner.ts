import { isLocalAddress } from './local.js';
import { hostBackend } from './servers.js';
import { askOnce } from './shared.js';
import type { ListenerOwner, OwnerLookup } from './backend.js';

export type { ListenerOwner, OwnerLookup } from './backend.js';

/**
 * Which process owns a listening TCP socket on this machine, through the backend that reads it
 * (/proc's socket inodes and file descriptors, lsof's listing, netstat -ano's process ids). Only
 * for addresses of this machine (and this network namespace); what cannot be read is said.
 */
export async function ownerOfListener(address: string, port: number, signal?: AbortSignal): Promise<OwnerLookup> {
  if (!isLocalAddress(address)) return { state: 'remote' };
  // Targets of one fleet behind the same silent port ask at once: one search of every process's descriptors (host/shared.ts).
  return askOnce(`owner:${address}:${port}`, signal, async (shared) => {
    const chosen = await hostBackend(shared);
    if (chosen.state === 'none') return { state: 'unknown', reason: `this machine's sockets could not be read (${chosen.reason})` };
    return chosen.backend.ownerOf(address, port, shared);
  });
}

/** "python3 (pid 4242)": a process as a summary names it. */
export function describeOwner(owner: ListenerOwner): string {
  return `${owner.comm} (pid ${owner.pid})`;
}
