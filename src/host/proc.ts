import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * What /proc says about this machine: processes, and the sockets listening on it. Everything
 * here degrades quietly: without root we cannot read other users' file descriptors, and we say
 * so (`fdsReadable`) instead of guessing.
 */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The kernel's short name (comm), e.g. "postgres". */
  readonly comm: string;
  readonly cmdline: readonly string[];
  readonly uid: number;
}

export interface Listener {
  readonly transport: 'tcp' | 'tcp6' | 'unix';
  /** The bound address (tcp), or the socket path (unix). */
  readonly address: string;
  readonly port: number | undefined;
  readonly inode: number;
}

export async function listProcesses(select: (comm: string) => boolean): Promise<ProcessInfo[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const found: ProcessInfo[] = [];
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  for (let start = 0; start < pids.length; start += PROCESS_BATCH) {
    // A turn of the event loop between batches: a host with thousands of processes never holds
    // the run's timers (its deadline) for longer than one batch's reads.
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const pid of pids.slice(start, start + PROCESS_BATCH)) {
      const info = await processInfo(pid, select);
      if (info) found.push(info);
    }
  }
  return found;
}

/** How many processes are read between two turns of the event loop (~1 ms of reads). */
const PROCESS_BATCH = 64;

/** One process, if it exists, runs (is no zombie) and its name passes `select`. */
export async function processInfo(pid: number, select: (comm: string) => boolean = () => true): Promise<ProcessInfo | undefined> {
  const comm = (await readText(`/proc/${pid}/comm`))?.trim();
  if (comm === undefined || !select(comm)) return undefined;
  const status = (await readText(`/proc/${pid}/status`)) ?? '';
  // A zombie (exited, not yet reaped: common under a container init that never reaps) is
  // not a running server.
  if (/^State:\s+[ZX]/m.test(status)) return undefined;
  // cmdline is read from the process's own memory, under its memory map's lock: a process stuck
  // with that lock held (what makes `ps` hang) must block a thread of the pool, never the event loop.
  const cmdline = ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)) ?? '').split('\0').filter((part) => part !== '');
  return {
    pid,
    ppid: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    comm,
    cmdline,
    uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1),
  };
}

/** Listening TCP sockets (IPv4 and IPv6) and listening Unix sockets of this network namespace. */
export async function listListeners(): Promise<Listener[]> {
  const [tcp, tcp6, unix] = await Promise.all([readText('/proc/net/tcp'), readText('/proc/net/tcp6'), readText('/proc/net/unix')]);
  return [...parseTcpTable(tcp ?? '', 'tcp'), ...parseTcpTable(tcp6 ?? '', 'tcp6'), ...parseUnixTable(unix ?? '')];
}

/** Socket inodes a process holds, or undefined when its fds cannot be read (not root). */
export async function socketInodesOf(pid: number): Promise<Set<number> | undefined> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const inodes = new Set<number>();
  await Promise.all(
    fds.map(async (fd) => {
      try {
        const link = await readlink(`/proc/${pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(link);
        if (match) inodes.add(Number(match[1]));
      } catch {
        // the fd closed while we looked
      }
    }),
  );
  return inodes;
}

/** The working directory of a process (a PostgreSQL postmaster's is its data directory). */
export async function cwdOf(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

const TCP_LISTEN = '0A';

export function parseTcpTable(text: string, transport: 'tcp' | 'tcp6'): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
    const [addressHex, portHex] = (fields[1] ?? '').split(':');
    if (!addressHex || !portHex) continue;
    listeners.push({
      transport,
      address: transport === 'tcp' ? decodeIPv4(addressHex) : decodeIPv6(addressHex),
      port: parseInt(portHex, 16),
      inode: Number(fields[9]),
    });
  }
  return listeners;
}

export function parseUnixTable(text: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = __SO_ACCEPTCON (listening)
    if (fields.length < 8 || fields[3] !== '00010000') continue;
    const path = fields.slice(7).join(' ');
    // A path, or an abstract socket, which the kernel lists as "@name" (libpq's own spelling).
    if (!path.startsWith('/') && !path.startsWith('@')) continue;
    listeners.push({ transport: 'unix', address: path, port: undefined, inode: Number(fields[6]) });
  }
  return listeners;
}

/** /proc/net/tcp stores an IPv4 address as one little-endian 32-bit word in hex. */
export function decodeIPv4(hex: string): string {
  const bytes = Buffer.from(hex.padStart(8, '0'), 'hex');
  return [bytes[3], bytes[2], bytes[1], bytes[0]].join('.');
}

/** /proc/net/tcp6 stores an IPv6 address as four little-endian 32-bit words in hex. */
export function decodeIPv6(hex: string): string {
  const bytes = Buffer.from(hex.padStart(32, '0'), 'hex');
  const groups: string[] = [];
  for (let word = 0; word < 4; word += 1) {
    // Copy before reversing: subarray shares memory, and reverse() works in place.
    const chunk = Buffer.from(bytes.subarray(word * 4, word * 4 + 4)).reverse();
    groups.push(chunk.subarray(0, 2).toString('hex'), chunk.subarray(2, 4).toString('hex'));
  }
  const full = groups.map((group) => group.replace(/^0+(?=.)/, '')).join(':');
  if (full.startsWith('0:0:0:0:0:ffff:')) {
    const v4 = Buffer.from(bytes.subarray(12, 16)).reverse();
    return `::ffff:${[...v4].join('.')}`;
  }
  return compressIPv6(full);
}

function compressIPv6(full: string): string {
  const groups = full.split(':');
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) return full;
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/**
 * A file of /proc that the kernel answers from its own records (comm, status, the socket tables),
 * read synchronously: procfs never waits on a disk for these, and a small file read at once costs
 * ~10 µs where the asynchronous path costs four trips through libuv's thread pool (open, stat, read,
 * close) — a scan of a hundred processes' `comm` took ~50 ms that way, most of a refused port's
 * verdict (issue 15). Not for cmdline or environ, which read the process's memory (see processInfo).
 */
async function readText(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
