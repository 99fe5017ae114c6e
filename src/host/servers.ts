import { HOST_BACKEND_VARIABLE, HOST_BACKENDS, type HostBackend, type HostBackendName, type LocalServers, type ServerSelector } from './backend.js';
import { lsofBackend } from './lsof.js';
import { procBackend } from './procfs.js';
import { windowsBackend } from './windows.js';
import { askOnce } from './shared.js';

export type { HostSight, LocalServer, LocalServers, ServerSelector } from './backend.js';

/**
 * Database servers running on this machine, through the first backend that can read it (see
 * backend.ts): on Linux /proc, then lsof and ps; on macOS and the BSDs lsof and ps; on Windows
 * netstat and tasklist. DBDOCTOR_HOST_BACKEND=proc|lsof|windows|none forces one (the tests run
 * the same faults under /proc and lsof; "none" shows what a machine that cannot be read gets).
 * When none can read the processes, the answer says so (`sight.processes: 'unseen'`), and
 * probes say they could not look instead of "no server runs here".
 */
const BACKENDS: Readonly<Record<Exclude<HostBackendName, 'none'>, HostBackend>> = { proc: procBackend, lsof: lsofBackend, windows: windowsBackend };

export interface BackendChoice {
  readonly order: readonly HostBackend[];
  /** Said in the evidence: "forced with DBDOCTOR_HOST_BACKEND=lsof", "no backend for aix". */
  readonly notes: readonly string[];
}

export function backendOrder(env: Readonly<Record<string, string | undefined>> = process.env, platform: NodeJS.Platform = process.platform): BackendChoice {
  const forced = env[HOST_BACKEND_VARIABLE]?.trim().toLowerCase();
  if (forced && forced !== 'auto') {
    const known = HOST_BACKENDS.find((name) => name === forced);
    if (known === 'none') return { order: [], notes: [`${HOST_BACKEND_VARIABLE}=none: this machine is not read`] };
    if (known) return { order: [BACKENDS[known]], notes: [] };
    return { ...backendOrder({}, platform), notes: [`${HOST_BACKEND_VARIABLE}=${forced} is not one of ${HOST_BACKENDS.join(', ')}, auto: ignored`] };
  }
  if (platform === 'linux' || platform === 'android') return { order: [procBackend, lsofBackend], notes: [] };
  if (platform === 'win32') return { order: [windowsBackend], notes: [] };
  // macOS, FreeBSD, OpenBSD, NetBSD, illumos, AIX: lsof and ps where installed.
  return { order: [lsofBackend], notes: [] };
}

const usability = new Map<HostBackendName, ReturnType<HostBackend['usable']>>();

/**
 * Whether a backend can read this machine, asked only when the one before it could not (on Linux,
 * /proc answers and lsof is never started): a yes is kept for the process; a no is asked again
 * next time (a check cut short by one run's deadline, or a program that hung once, must not blind
 * a long-running exporter or wait for good).
 */
async function usableNow(backend: HostBackend, signal: AbortSignal | undefined): Promise<Awaited<ReturnType<HostBackend['usable']>>> {
  let check = usability.get(backend.name);
  if (!check) {
    check = backend.usable(signal);
    usability.set(backend.name, check);
  }
  const answer = await check;
  if (answer.state !== 'usable') usability.delete(backend.name);
  return answer;
}

export async function findLocalServers(selector: ServerSelector, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<LocalServers> {
  if (selector.name === undefined) return readLocalServers(selector, options.signal);
  return askOnce(`servers:${selector.name}`, options.signal, (signal) => readLocalServers(selector, signal));
}

async function readLocalServers(selector: ServerSelector, signal: AbortSignal | undefined): Promise<LocalServers> {
  const options = { signal };
  const started = Date.now();
  const { order, notes } = backendOrder();
  const unread = [...notes];
  for (const backend of order) {
    const answer = await usableNow(backend, options.signal);
    if (answer.state !== 'usable') {
      unread.push(`${backend.name}: ${answer.reason}`);
      continue;
    }
    const found = await backend.findServers(selector, options.signal);
    if (found.sight.processes === 'seen')
      return unread.length > 0 ? { ...found, sight: { ...found.sight, unread: [...unread, ...found.sight.unread] } } : found;
    unread.push(...found.sight.unread.map((reason) => `${backend.name}: ${reason}`));
  }
  return {
    servers: [],
    listeners: [],
    sight: { backend: 'none', processes: 'unseen', read: [], unread: unread.length > 0 ? unread : ['no way to read this machine'] },
    durationMs: Date.now() - started,
  };
}

/** The backend that reads this machine, for one question (a port's owner, a process's directory): the first that can. */
export async function hostBackend(
  signal?: AbortSignal,
): Promise<{ readonly state: 'usable'; readonly backend: HostBackend } | { readonly state: 'none'; readonly reason: string }> {
  const { order, notes } = backendOrder();
  const unread = [...notes];
  for (const backend of order) {
    const answer = await usableNow(backend, signal);
    if (answer.state === 'usable') return { state: 'usable', backend };
    unread.push(`${backend.name}: ${answer.reason}`);
  }
  return { state: 'none', reason: unread.join('; ') || 'no way to read this machine' };
}

/** The working directory of a process (a PostgreSQL postmaster's is its data directory). */
export async function processCwd(pid: number, signal?: AbortSignal): Promise<string | undefined> {
  const chosen = await hostBackend(signal);
  return chosen.state === 'usable' ? chosen.backend.cwdOf(pid, signal) : undefined;
}
