import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLocalServers, type HostSight } from '../../host/servers.js';
import { DEFAULT_CQL_PORT } from '../../config/cassandra/target.js';

/**
 * Cassandra nodes running on this machine: a JVM (comm "java") running CassandraDaemon, where it
 * listens, its cassandra.yaml (from -Dcassandra.config) and its system.log (-Dcassandra.logdir).
 * The log says what no socket can: whether the native transport was stopped on purpose
 * (`nodetool disablebinary`: "Stop listening for CQL clients"), turned off in the config
 * ("Not starting native transport"), or has not started yet.
 */
export interface CassandraNode {
  readonly pid: number;
  readonly tcp: readonly { readonly address: string; readonly port: number }[];
  readonly configFile?: string;
  readonly logFile?: string;
  /** native_transport_port from cassandra.yaml, else the default. */
  readonly nativePort: number;
  /** start_native_transport from cassandra.yaml (true when unset). */
  readonly startNativeTransport: boolean;
  readonly seenVia: 'file descriptors' | 'nothing readable';
}

export interface CassandraScan {
  readonly nodes: readonly CassandraNode[];
  /** What the host backend could read: without the process list, absence is not known. */
  readonly sight?: HostSight;
  readonly durationMs: number;
}

export const isCassandraJvm = (cmdline: readonly string[]): boolean =>
  cmdline.some((part) => part.includes('org.apache.cassandra.service.CassandraDaemon') || part.endsWith('CassandraDaemon'));

export async function scanLocalCassandra(signal?: AbortSignal): Promise<CassandraScan> {
  const started = Date.now();
  const found = await findLocalServers({ name: 'cassandra', comm: (comm) => comm === 'java', match: (info) => isCassandraJvm(info.cmdline) }, { signal });
  const nodes = await Promise.all(
    found.servers.map(async (server): Promise<CassandraNode> => {
      const configFile = configPathOf(server.cmdline);
      const yaml = configFile ? await readFile(configFile, 'utf8').catch(() => undefined) : undefined;
      const settings = yaml ? readYamlSettings(yaml) : {};
      const logDir = systemProperty(server.cmdline, 'cassandra.logdir');
      return {
        pid: server.pid,
        tcp: server.tcp,
        ...(configFile ? { configFile } : {}),
        ...(logDir ? { logFile: join(logDir, 'system.log') } : {}),
        nativePort: Number(settings.native_transport_port ?? DEFAULT_CQL_PORT),
        startNativeTransport: settings.start_native_transport !== 'false',
        seenVia: server.seenVia,
      };
    }),
  );
  return { nodes, sight: found.sight, durationMs: Date.now() - started };
}

export function systemProperty(cmdline: readonly string[], name: string): string | undefined {
  const prefix = `-D${name}=`;
  return cmdline.find((part) => part.startsWith(prefix))?.slice(prefix.length);
}

function configPathOf(cmdline: readonly string[]): string | undefined {
  const value = systemProperty(cmdline, 'cassandra.config');
  if (!value) return undefined;
  if (value.startsWith('file:')) {
    try {
      return fileURLToPath(value);
    } catch {
      return undefined;
    }
  }
  return value;
}

/** Top-level `key: value` lines of cassandra.yaml: all this probe needs, without a YAML parser. */
export function readYamlSettings(yaml: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of yaml.split('\n')) {
    const match = /^([a-z_]+):\s*([^#]*?)\s*(?:#.*)?$/.exec(line);
    if (match?.[1] && match[2] !== undefined && match[2] !== '') settings[match[1]] = match[2].replace(/^["']|["']$/g, '');
  }
  return settings;
}

/** What the log says about the native transport since the node last started. */
export type TransportState =
  | { readonly state: 'disabled_by_nodetool'; readonly line: string }
  | { readonly state: 'disabled_by_config'; readonly line: string }
  | { readonly state: 'starting'; readonly line: string | undefined }
  | { readonly state: 'unknown' };

// CassandraDaemon logs the host name once per start, before anything else of interest.
const START_MARKER = /CassandraDaemon\.java:\d+ - Hostname:/;
const STARTED_LISTENING = /Starting listening for CQL clients/;
const STOPPED_LISTENING = /Stop listening for CQL clients/;
const NOT_STARTING = /Not starting native transport/;

/** The time logback writes at the head of each line, in local time: "2026-11-23 09:44:27,336". */
export function logTime(line: string): number | undefined {
  const match = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})/.exec(line);
  return match ? new Date(`${match[1]}T${match[2]}.${match[3]}`).getTime() : undefined;
}

/**
 * `startedAt` is when the JVM started: a start marker older than that belongs to an earlier run
 * of the node (the log is appended to), so a JVM that has not logged its start yet is starting.
 */
export function transportStateFromLog(text: string, startedAt?: number): TransportState {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  let start = -1;
  lines.forEach((line, index) => {
    if (START_MARKER.test(line)) start = index;
  });
  const markerTime = start >= 0 ? logTime(lines[start] ?? '') : undefined;
  // One second of slack: the log's clock has millisecond resolution, /proc's a hundredth of a second.
  if (startedAt !== undefined && (start < 0 || (markerTime !== undefined && markerTime < startedAt - 1000))) return { state: 'starting', line: undefined };
  if (start < 0) return { state: 'unknown' };
  const run = lines.slice(start);
  const last = (pattern: RegExp): number => run.reduce((found, line, index) => (pattern.test(line) ? index : found), -1);
  const stopped = last(STOPPED_LISTENING);
  if (stopped >= 0 && stopped > last(STARTED_LISTENING)) return { state: 'disabled_by_nodetool', line: run[stopped] ?? '' };
  const notStarting = last(NOT_STARTING);
  if (notStarting >= 0 && last(STARTED_LISTENING) < 0) return { state: 'disabled_by_config', line: run[notStarting] ?? '' };
  return { state: 'starting', line: run[run.length - 1] };
}

/** When a process started (epoch ms), from /proc/<pid>/stat and the boot time in /proc/stat. */
export async function processStartedAt(pid: number): Promise<number | undefined> {
  try {
    const [stat, system] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile('/proc/stat', 'utf8')]);
    // Fields after the command name (which may hold spaces) start at field 3; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const boot = Number(/^btime (\d+)/m.exec(system)?.[1]);
    // USER_HZ is 100 on every Linux this runs on.
    return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** The tail of a node's system.log (the last 512 KiB is plenty for one start). */
export async function readLogTail(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 512 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
