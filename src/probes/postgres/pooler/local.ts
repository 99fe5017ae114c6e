import { readFile, open } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Deadline } from '../../../engine/deadline.js';
import { ownerOfListener } from '../../../host/owner.js';
import { processCwd as cwdOf } from '../../../host/servers.js';
import type { Connected } from '../../../net/reach.js';

/**
 * PgBouncer on this machine, seen without its console: the process that owns the port dbdoctor
 * connected to (/proc, host/owner.ts), its configuration file (the last argument of its command
 * line, as `pgbouncer [-d] [-R] [-u user] pgbouncer.ini` takes it) and, from that, its own log.
 * An ordinary application user may not read the admin console; the machine the pooler runs on
 * still tells where it sends the database (its [databases] line, for a connect check), which
 * limits it has (max_db_connections, …), and why its last login to the database failed (its log:
 * "closing because: login failed", with the database's words a line before, or "connect
 * failed"). Nothing here is sent anywhere; passwords on [databases] lines are never kept.
 * Reading another user's /proc/<pid>/fd (to find the owner) needs root; without it, nothing.
 */
export interface LocalPgBouncer {
  readonly pid: number;
  readonly configFile: string;
  /** [pgbouncer] settings, keys in lower case. */
  readonly settings: Readonly<Record<string, string>>;
  /** [databases] lines, parsed; password= dropped. */
  readonly databases: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export type LocalLookup = { readonly state: 'found'; readonly pooler: LocalPgBouncer } | { readonly state: 'not-here'; readonly reason: string };

export async function findLocalPgBouncer(connected: Connected | undefined, deadline: Deadline): Promise<LocalLookup> {
  if (!connected || connected.transport !== 'tcp') return { state: 'not-here', reason: 'not a TCP connection on this machine' };
  const owner = await deadline.race(ownerOfListener(connected.address, connected.port)).catch(() => undefined);
  if (!owner || owner.state !== 'found')
    return { state: 'not-here', reason: owner?.state === 'remote' ? 'the pooler runs on another host' : (owner?.reason ?? 'no time left to look') };
  if (owner.owner.comm !== 'pgbouncer') return { state: 'not-here', reason: `the port belongs to ${owner.owner.comm} (pid ${owner.owner.pid})` };
  const argument = configArgument(owner.owner.cmdline);
  if (!argument) return { state: 'not-here', reason: `pgbouncer (pid ${owner.owner.pid}) names no configuration file on its command line` };
  const configFile = isAbsolute(argument) ? argument : join((await cwdOf(owner.owner.pid)) ?? '/', argument);
  const text = await readFile(configFile, 'utf8').catch(() => undefined);
  if (text === undefined) return { state: 'not-here', reason: `${configFile} is not readable to this user` };
  return { state: 'found', pooler: { pid: owner.owner.pid, configFile, ...parsePgBouncerIni(text) } };
}

/** `pgbouncer [-d] [-R] [-q] [-v] [-u user] file.ini`: the file is the argument that is no option's. */
export function configArgument(cmdline: readonly string[]): string | undefined {
  const rest = cmdline.slice(1);
  for (let index = rest.length - 1; index >= 0; index -= 1) {
    const argument = rest[index] ?? '';
    const previous = rest[index - 1];
    if (argument.startsWith('-')) continue;
    if (previous === '-u' || previous === '--user') continue;
    return argument;
  }
  return undefined;
}

export function parsePgBouncerIni(text: string): Pick<LocalPgBouncer, 'settings' | 'databases'> {
  const settings: Record<string, string> = {};
  const databases: Record<string, Record<string, string>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = (header[1] ?? '').trim().toLowerCase();
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!pair) continue;
    const key = (pair[1] ?? '').trim();
    const value = (pair[2] ?? '').trim();
    if (section === 'pgbouncer') settings[key.toLowerCase()] = value;
    if (section === 'databases') databases[key] = parseDatabaseLine(value);
  }
  return { settings, databases };
}

/** `host=db port=5432 dbname=app password=…`: libpq-style pairs, password dropped. */
function parseDatabaseLine(value: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of value.matchAll(/([A-Za-z_]+)\s*=\s*('(?:[^']|'')*'|\S+)/g)) {
    const key = (match[1] ?? '').toLowerCase();
    const quoted = match[2] ?? '';
    if (key === 'password') continue;
    fields[key] = quoted.startsWith("'") ? quoted.slice(1, -1).replace(/''/g, "'") : quoted;
  }
  return fields;
}

/** The [databases] line for a database name, or the "*" fallback PgBouncer uses for any other. */
export function databaseLine(pooler: LocalPgBouncer, name: string): { readonly name: string; readonly fields: Readonly<Record<string, string>> } | undefined {
  const own = pooler.databases[name];
  if (own) return { name, fields: own };
  const fallback = pooler.databases['*'];
  return fallback ? { name: '*', fields: fallback } : undefined;
}

/**
 * The last thing PgBouncer's log says about its server logins for one pool (database/user):
 * "login failed" with the database's words (the "server login failed:" warning it logs just
 * before), "connect failed", or a new connection since. Only recent lines count.
 */
export type ServerLoginEvent =
  | { readonly kind: 'login-failed'; readonly words: string; readonly at: string; readonly line: string }
  | { readonly kind: 'connect-failed'; readonly at: string; readonly line: string }
  | { readonly kind: 'connecting'; readonly at: string; readonly line: string };

const LOGIN_FAILED = / (?:server login failed|S: login failed): (?:(?:FATAL|ERROR):? )?(.*)$/;

/** How far back a failure in PgBouncer's log still explains what the client sees now. */
export const RECENT_MS = 10 * 60_000;
const TAIL_BYTES = 256 * 1024;

export async function lastServerLogin(logFile: string, database: string, user: string, now = Date.now()): Promise<ServerLoginEvent | undefined> {
  const text = await tail(logFile, TAIL_BYTES);
  return text === undefined ? undefined : lastServerLoginIn(text, database, user, now);
}

export function lastServerLoginIn(text: string, database: string, user: string, now = Date.now()): ServerLoginEvent | undefined {
  const lines = text.split('\n');
  const pool = `${database}/${user}@`;
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index] ?? '';
    const server = /^(\S+ \S+(?: \S+)?) \[\d+\] \w+ S-0x[0-9a-f]+: (\S+) (.*)$/.exec(line);
    if (!server || !(server[2] ?? '').startsWith(pool)) continue;
    const at = server[1] ?? '';
    const time = Date.parse(at.replace(' ', 'T').replace(/ UTC$/, 'Z'));
    if (Number.isFinite(time) && now - time > RECENT_MS) return undefined;
    const said = server[3] ?? '';
    if (/^closing because: login failed/.test(said)) {
      // The database's words come in the warning PgBouncer logs between this server connection's
      // "new connection to server" and its closing (other clients' lines may come in between).
      const id = / (S-0x[0-9a-f]+): /.exec(line)?.[1] ?? '';
      const opened = lines
        .slice(Math.max(0, index - 200), index)
        .map((earlier, offset) => ({ earlier, offset }))
        .reverse()
        .find(({ earlier }) => earlier.includes(`${id}: `) && / new connection to server/.test(earlier));
      const from = opened ? Math.max(0, index - 200) + opened.offset : Math.max(0, index - 20);
      // PgBouncer 1.18 words it "WARNING server login failed: FATAL <words>" for a pool's first
      // login and "ERROR S: login failed: FATAL: <words>" for later ones.
      const warning = lines
        .slice(from, index)
        .reverse()
        .find((earlier) => LOGIN_FAILED.test(earlier));
      const words = warning ? (LOGIN_FAILED.exec(warning)?.[1] ?? 'login failed') : 'login failed';
      return { kind: 'login-failed', words, at, line };
    }
    // A server connection that crashed under a client is not a login; the one after it may be.
    if (/^closing because: (connect failed|connect timeout)/.test(said)) return { kind: 'connect-failed', at, line };
    if (/^new connection to server/.test(said)) return { kind: 'connecting', at, line };
  }
  return undefined;
}

async function tail(path: string, bytes: number): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - bytes);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
