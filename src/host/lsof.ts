import { basename } from 'node:path';
import {
  ownerAmong,
  selectedProcesses,
  serverOf,
  sightOf,
  topLevel,
  type HostBackend,
  type HostListener,
  type Listed,
  type LocalServers,
  type OwnerLookup,
  type ServerSelector,
} from './backend.js';
import { runHostCommand } from './command.js';
import type { ProcessInfo } from './proc.js';

/**
 * The portable backend: `lsof` for listening sockets and the process holding each, `ps` for the
 * processes. lsof and ps ship with macOS and the BSDs; on Linux they are the fallback when /proc
 * is not readable to us directly (and the tests force this backend to check it gives the same
 * verdicts as /proc). Machine-readable forms only: `lsof -F` (one field per line, its kind in the
 * first character) and `ps -o …=` (no header), so no locale or column width changes the parse.
 */
const LSOF = 'lsof';
const PS = 'ps';

/**
 * `lsof -F pctn` output: "p<pid>", "c<command>", then per file "t<IPv4|IPv6|unix>" and
 * "n<name>" — "127.0.0.1:5432", "*:5432", "[::1]:5432" for TCP; a path (Linux's lsof appends
 * " type=STREAM") or "@name" for a Unix socket. Other fields (f, the fd) are skipped.
 */
export function parseLsofListeners(text: string): HostListener[] {
  const listeners: HostListener[] = [];
  let pid: number | undefined;
  let type = '';
  for (const line of text.split('\n')) {
    const field = line[0];
    const value = line.slice(1);
    if (field === 'p') {
      pid = Number(value);
      type = '';
    } else if (field === 't') {
      type = value;
    } else if (field === 'n' && pid !== undefined) {
      const tcp = /^(\*|\[[^\]]+\]|[^\s:[\]]+|[0-9a-fA-F:.]+):(\d+)(?:\s|$)/.exec(value);
      if ((type === 'IPv4' || type === 'IPv6') && tcp?.[1] && tcp[2]) {
        const host = tcp[1] === '*' ? (type === 'IPv6' ? '::' : '0.0.0.0') : tcp[1].replace(/^\[|\]$/g, '').replace(/%.*$/, '');
        listeners.push({ transport: type === 'IPv6' ? 'tcp6' : 'tcp', address: host, port: Number(tcp[2]), pid });
      } else if (type === 'unix' || type === '') {
        const path = value.replace(/\s+type=\w+$/, '');
        if (path.startsWith('/') || path.startsWith('@')) listeners.push({ transport: 'unix', address: path, port: undefined, pid });
      }
    }
  }
  return listeners;
}

/**
 * `ps -A -ww -o pid=,ppid=,uid=,stat=,comm=`: four numbers-or-words, then the name, which may hold
 * spaces (macOS gives the executable's full path there, Linux the kernel's short name).
 */
export function parsePsTable(text: string): Omit<ProcessInfo, 'cmdline'>[] {
  const rows: Omit<ProcessInfo, 'cmdline'>[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(-?\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!match?.[5]) continue;
    // A zombie has exited: it is no running server.
    if (match[4]?.startsWith('Z')) continue;
    rows.push({ pid: Number(match[1]), ppid: Number(match[2]), uid: Number(match[3]), comm: basename(match[5]) });
  }
  return rows;
}

/** `ps -A -ww -o pid=,args=`: pid → the command line, split at spaces (ps gives no argument boundaries). */
export function parsePsArgs(text: string): Map<number, string[]> {
  const args = new Map<number, string[]>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(.*?)\s*$/.exec(line);
    if (match?.[2] !== undefined)
      args.set(
        Number(match[1]),
        match[2].split(/\s+/).filter((part) => part !== ''),
      );
  }
  return args;
}

async function listProcesses(signal: AbortSignal | undefined): Promise<Listed<ProcessInfo>> {
  const [table, args] = await Promise.all([
    runHostCommand(PS, ['-A', '-ww', '-o', 'pid=,ppid=,uid=,stat=,comm='], { signal }),
    runHostCommand(PS, ['-A', '-ww', '-o', 'pid=,args='], { signal }),
  ]);
  if (table.state === 'failed') return { state: 'unread', reason: table.reason };
  const commandLines = args.state === 'ran' ? parsePsArgs(args.stdout) : new Map<number, string[]>();
  const processes = parsePsTable(table.stdout).map((row): ProcessInfo => ({ ...row, cmdline: commandLines.get(row.pid) ?? [row.comm] }));
  // ps that ran and listed nothing has not seen this machine (it always lists itself).
  if (processes.length === 0) return { state: 'unread', reason: 'ps listed no process at all' };
  return { state: 'read', items: processes };
}

async function listTcpListeners(signal: AbortSignal | undefined, port?: number): Promise<Listed<HostListener>> {
  const selection = port === undefined ? '-iTCP' : `-iTCP:${port}`;
  const output = await runHostCommand(LSOF, ['-w', '-nP', selection, '-sTCP:LISTEN', '-F', 'pctn'], { signal, okExitCodes: [1] });
  return output.state === 'ran' ? { state: 'read', items: parseLsofListeners(output.stdout) } : { state: 'unread', reason: output.reason };
}

export const lsofBackend: HostBackend = {
  name: 'lsof',

  async usable(signal) {
    const probe = await runHostCommand(LSOF, ['-v'], { signal, timeoutMs: 1500 });
    // `lsof -v` prints its version on stderr and exits 0 (1 on some builds): ENOENT is what matters.
    return probe.state === 'failed' && /not installed|may not be run/.test(probe.reason) ? { state: 'unusable', reason: probe.reason } : { state: 'usable' };
  },

  async findServers(selector: ServerSelector, signal?: AbortSignal): Promise<LocalServers> {
    const started = Date.now();
    const [listed, tcp] = await Promise.all([listProcesses(signal), listTcpListeners(signal)]);
    const sight = sightOf('lsof', listed, tcp, { processes: 'processes (ps)', sockets: 'listening TCP sockets and their processes (lsof)' });
    const selected = selectedProcesses(listed, selector);
    const roots = selector.topLevelOnly ? topLevel(selected) : selected;
    // Unix sockets: only the servers' own (lsof -U for every process is slow on a busy machine).
    const unixOutput =
      roots.length > 0
        ? await runHostCommand(LSOF, ['-w', '-nP', '-a', '-p', roots.map((info) => info.pid).join(','), '-U', '-F', 'pctn'], { signal, okExitCodes: [1] })
        : undefined;
    const unix = unixOutput?.state === 'ran' ? parseLsofListeners(unixOutput.stdout).filter((listener) => listener.transport === 'unix') : [];
    const tcpListeners = tcp.state === 'read' ? tcp.items : [];
    // lsof shows a user the sockets of their own processes only (it exits 1, saying nothing): the
    // sockets of a server another user runs are unread, not absent.
    const me = process.getuid?.();
    const socketsVisible = (info: ProcessInfo): boolean => tcp.state === 'read' && (me === undefined || me === 0 || info.uid === me);
    const hidden = roots.filter((info) => !socketsVisible(info));
    // lsof -iTCP lists TCP sockets only; the Unix ones come from the second call.
    const servers = roots.map((info) =>
      serverOf(
        info,
        [...tcpListeners, ...unix].filter((listener) => listener.pid === info.pid),
        socketsVisible(info) ? 'file descriptors' : 'nothing readable',
      ),
    );
    const unread = [
      ...sight.unread,
      ...(unixOutput?.state === 'failed' ? [`the servers' Unix sockets: ${unixOutput.reason}`] : []),
      ...(tcp.state === 'read' && hidden.length > 0
        ? [
            `the sockets of ${hidden.length === 1 ? 'a server' : `${hidden.length} servers`} another user runs (pid ${hidden.map((info) => info.pid).join(', ')}): lsof shows a user only their own; run as root to see them`,
          ]
        : []),
    ];
    return {
      servers,
      listeners: [...tcpListeners, ...unix],
      sight: { ...sight, unread },
      durationMs: Date.now() - started,
    };
  },

  async ownerOf(address: string, port: number, signal?: AbortSignal): Promise<OwnerLookup> {
    const [tcp, listed] = await Promise.all([listTcpListeners(signal, port), listProcesses(signal)]);
    const notFound = `lsof shows no process listening on port ${port} (a port forward, another namespace or container, or another user's process: run as root to see it)`;
    return ownerAmong(tcp, listed, address, port, notFound);
  },

  async cwdOf(pid: number, signal?: AbortSignal) {
    const output = await runHostCommand(LSOF, ['-w', '-a', '-p', String(pid), '-d', 'cwd', '-F', 'n'], { signal, okExitCodes: [1] });
    if (output.state === 'failed') return undefined;
    return output.stdout
      .split('\n')
      .find((line) => line.startsWith('n'))
      ?.slice(1);
  },
};
