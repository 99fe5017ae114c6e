import {
  ownerAmong,
  selectedProcesses,
  serverOf,
  sightOf,
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
 * The Windows backend: `netstat -ano` (every TCP socket with its owning process id) and
 * `tasklist /fo csv` (image name and process id). Both print in the language of the Windows
 * installation — "Active Connections"/"Aktive Verbindungen", "LISTENING"/"ABHÖREN", "Image
 * Name"/"Abbildname" — so nothing here reads a word: rows are told by their shape. A listening
 * TCP row is "TCP <local> <foreign> <state…> <pid>" whose foreign address is the wildcard
 * (0.0.0.0:0 or [::]:0), which only a listening socket has; a tasklist row is a CSV record whose
 * second field is a number (the header's is a word, in any language). Neither gives a parent
 * process, a command line or a working directory: a server is told by its image name, and
 * `postgres.exe`'s workers by not holding the listening sockets.
 */
const WILDCARD_PEER = /^(0\.0\.0\.0|\[::\]|\*):(0|\*)$/;

export function parseNetstatListeners(text: string): HostListener[] {
  const listeners: HostListener[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[0]?.toUpperCase() !== 'TCP') continue;
    const [, local = '', foreign = ''] = fields;
    const pid = Number(fields[fields.length - 1]);
    if (!WILDCARD_PEER.test(foreign) || !Number.isInteger(pid)) continue;
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(local);
    if (!match?.[1] || !match[2]) continue;
    const bracketed = match[1].startsWith('[');
    const address = match[1].replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    listeners.push({ transport: bracketed ? 'tcp6' : 'tcp', address, port: Number(match[2]), pid });
  }
  return listeners;
}

/** One CSV record's fields ("" inside quotes is a quote). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index += 1) {
    const character = line[index];
    if (quoted) {
      if (character === '"' && line[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      fields.push(field);
      field = '';
    } else field += character;
  }
  fields.push(field);
  return fields;
}

export interface WindowsProcess {
  readonly pid: number;
  /** "postgres.exe" */
  readonly image: string;
}

export function parseTasklistCsv(text: string): WindowsProcess[] {
  const processes: WindowsProcess[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [image, pid] = csvFields(line.trim());
    if (!image || !pid || !/^\d+$/.test(pid)) continue;
    processes.push({ pid: Number(pid), image });
  }
  return processes;
}

/** "postgres.exe" → "postgres": the name selectors know from Linux and macOS. */
export function commOfImage(image: string): string {
  return image.replace(/\.exe$/i, '').toLowerCase();
}

async function listProcesses(signal: AbortSignal | undefined): Promise<Listed<ProcessInfo>> {
  const output = await runHostCommand('tasklist', ['/fo', 'csv'], { signal });
  if (output.state === 'failed') return { state: 'unread', reason: output.reason };
  const processes = parseTasklistCsv(output.stdout).map((entry): ProcessInfo => ({
    pid: entry.pid,
    ppid: 0,
    comm: commOfImage(entry.image),
    cmdline: [entry.image],
    uid: -1,
  }));
  return processes.length === 0 ? { state: 'unread', reason: 'tasklist listed no process at all' } : { state: 'read', items: processes };
}

async function listTcpListeners(signal: AbortSignal | undefined): Promise<Listed<HostListener>> {
  const output = await runHostCommand('netstat', ['-ano'], { signal });
  return output.state === 'ran' ? { state: 'read', items: parseNetstatListeners(output.stdout) } : { state: 'unread', reason: output.reason };
}

export const windowsBackend: HostBackend = {
  name: 'windows',

  async usable(signal) {
    const probe = await runHostCommand('tasklist', ['/fo', 'csv', '/nh', '/fi', 'PID eq 4'], { signal, timeoutMs: 2000 });
    return probe.state === 'ran' ? { state: 'usable' } : { state: 'unusable', reason: probe.reason };
  },

  async findServers(selector: ServerSelector, signal?: AbortSignal): Promise<LocalServers> {
    const started = Date.now();
    const [listed, tcp] = await Promise.all([listProcesses(signal), listTcpListeners(signal)]);
    const sight = sightOf('windows', listed, tcp, { processes: 'processes (tasklist)', sockets: 'listening TCP sockets and their process ids (netstat -ano)' });
    const listeners = tcp.state === 'read' ? tcp.items : [];
    const selected = selectedProcesses(listed, selector);
    // No parent ids: the server is the process holding listening sockets; its workers hold none.
    const holding = selected.filter((info) => listeners.some((listener) => listener.pid === info.pid));
    const roots = selector.topLevelOnly ? (holding.length > 0 ? holding : selected.slice(0, 1)) : selected;
    // netstat lists TCP sockets only: a Windows server has no Unix sockets here.
    const servers = roots.map((info) =>
      serverOf(
        info,
        listeners.filter((listener) => listener.pid === info.pid),
        tcp.state === 'read' ? 'file descriptors' : 'nothing readable',
      ),
    );
    return { servers, listeners, sight, durationMs: Date.now() - started };
  },

  async ownerOf(address: string, port: number, signal?: AbortSignal): Promise<OwnerLookup> {
    const [tcp, listed] = await Promise.all([listTcpListeners(signal), listProcesses(signal)]);
    return ownerAmong(tcp, listed, address, port, `netstat shows no socket listening on port ${port} (a port forward, WSL2 or a container)`);
  },

  async cwdOf() {
    return undefined;
  },
};
