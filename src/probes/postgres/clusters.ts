import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, basename } from 'node:path';

/**
 * PostgreSQL clusters configured on this machine, running or not: a data directory (PG_VERSION in
 * it), whether a live postmaster holds it, and the port its server uses or would use. A refused port that such a cluster
 * is configured for is "that cluster is not running" — even when another cluster runs on another
 * port, which is then a possibility for the operator, not the fix (issue 19: two clusters on one
 * host, one stopped, must not read as "connect to the other one's port").
 *
 * Where clusters live is a convention of each way of installing PostgreSQL, so these are looked
 * for, and nothing else is searched:
 *   Debian/Ubuntu     /etc/postgresql/<version>/<name>/postgresql.conf (data_directory, port),
 *                     as pg_lsclusters reads them
 *   RHEL/Fedora/PGDG  /var/lib/pgsql/data, /var/lib/pgsql/<version>/data
 *   source builds     /usr/local/pgsql/data
 *   Homebrew          /usr/local/var/postgres*, /opt/homebrew/var/postgres*
 *   the docker image  /var/lib/postgresql/data
 *   the operator's    $PGDATA, and the other data directories beside a running cluster's
 * Each is a handful of stat and read calls; missing paths cost one failed stat.
 */
export interface PgCluster {
  readonly dataDir: string;
  /** The port its server would listen on, and where that was read. */
  readonly port: number;
  readonly portFrom: string;
  /** unix_socket_directories (or -k of its last start): where its sockets would be; unset, the build's default. */
  readonly socketDirs?: readonly string[];
  /** Debian's "15/main"; otherwise cluster_name when set. */
  readonly name?: string;
  /** PG_VERSION: "15". */
  readonly version?: string;
  /** The user that owns the data directory: the server must run as it. */
  readonly owner?: string;
  /** postmaster.pid names a live process: the server runs, or is starting or stopping. */
  readonly live: boolean;
  /** The pid postmaster.pid names: live, or left behind by a server that is gone (a crash, a killed container). */
  readonly postmasterPid?: number;
  readonly debian?: { readonly version: string; readonly cluster: string };
}

interface Candidate {
  readonly dataDir: string;
  /** Debian keeps the configuration outside the data directory. */
  readonly configFile?: string;
  readonly debian?: { readonly version: string; readonly cluster: string };
}

const DEFAULT_PORT = 5432;

export async function findClusters(options: {
  readonly runningDataDirs: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<PgCluster[]> {
  return searchClusters(options.env).finish(options.runningDataDirs);
}

/**
 * The search in two parts. What does not depend on the running servers (Debian's clusters, the
 * conventional directories, PGDATA) starts at once, so that its reads run while local.ts finds the
 * servers; `finish` adds the directories beside each running cluster. Each directory is read once.
 */
export function searchClusters(env: Readonly<Record<string, string | undefined>>): { finish(runningDataDirs: readonly string[]): Promise<PgCluster[]> } {
  const seen = new Set<string>();
  const take = async (candidate: Candidate): Promise<PgCluster | undefined> => {
    const dir = await canonical(candidate.dataDir);
    if (seen.has(dir)) return undefined;
    seen.add(dir);
    return clusterIn(candidate);
  };
  const early = (async () => {
    const candidates = [...(await debianClusters()), ...(await conventionalDataDirs({ env }))];
    return Promise.all(candidates.map(take));
  })();
  return {
    async finish(runningDataDirs) {
      const beside = await besideRunning(runningDataDirs);
      const found = [...(await early), ...(await Promise.all(beside.map(take)))];
      return found.filter((cluster): cluster is PgCluster => cluster !== undefined);
    },
  };
}

async function clusterIn(candidate: Candidate): Promise<PgCluster | undefined> {
  const version = (await readText(join(candidate.dataDir, 'PG_VERSION')))?.trim();
  if (!version) return undefined;
  const pid = Number((await readText(join(candidate.dataDir, 'postmaster.pid')))?.split('\n')[0]);
  // A negated pid is a single-user or bootstrap backend's (local.ts names it as the holder): no
  // postmaster runs for this directory, and none is left behind.
  const postmasterPid = Number.isInteger(pid) && pid > 0 ? pid : undefined;
  const [settings, owner] = await Promise.all([readSettings(candidate), ownerOf(candidate.dataDir)]);
  const name = candidate.debian ? `${candidate.debian.version}/${candidate.debian.cluster}` : settings.clusterName;
  return {
    dataDir: candidate.dataDir,
    port: settings.port?.value ?? DEFAULT_PORT,
    portFrom: settings.port?.from ?? 'the default (no port set)',
    ...(settings.socketDirs ? { socketDirs: settings.socketDirs } : {}),
    ...(name ? { name } : {}),
    version,
    ...(owner ? { owner } : {}),
    live: postmasterPid !== undefined && isAlive(postmasterPid),
    ...(postmasterPid !== undefined ? { postmasterPid } : {}),
    ...(candidate.debian ? { debian: candidate.debian } : {}),
  };
}

async function debianClusters(): Promise<Candidate[]> {
  const root = '/etc/postgresql';
  const versions = await list(root);
  const nested = await Promise.all(
    versions.map(async (version) =>
      Promise.all(
        (await list(join(root, version))).map(async (cluster): Promise<Candidate | undefined> => {
          const configFile = join(root, version, cluster, 'postgresql.conf');
          const text = await readText(configFile);
          if (text === undefined) return undefined;
          const dataDir = lastSetting(text, 'data_directory') ?? join('/var/lib/postgresql', version, cluster);
          return { dataDir, configFile, debian: { version, cluster } };
        }),
      ),
    ),
  );
  return nested.flat().filter((candidate): candidate is Candidate => candidate !== undefined);
}

async function conventionalDataDirs(options: { readonly env: Readonly<Record<string, string | undefined>> }): Promise<Candidate[]> {
  const fixed = ['/var/lib/pgsql/data', '/usr/local/pgsql/data', '/var/lib/postgresql/data'];
  const globbed = await Promise.all([
    children('/var/lib/pgsql', (name) => /^\d/.test(name)).then((dirs) => dirs.map((dir) => join(dir, 'data'))),
    children('/usr/local/var', (name) => name.startsWith('postgres')),
    children('/opt/homebrew/var', (name) => name.startsWith('postgres')),
  ]);
  const fromEnv = options.env.PGDATA && isAbsolute(options.env.PGDATA) ? [options.env.PGDATA] : [];
  return [...fromEnv, ...fixed, ...globbed.flat()].map((dataDir) => ({ dataDir }));
}

/**
 * Beside a running cluster, and one level up: /srv/pg/main beside /srv/pg/reporting, and
 * /var/lib/pgsql/15/data beside /var/lib/pgsql/16/data (where clusters of one machine live).
 * Each directory once: many processes can name one data directory (a crowded host had 300).
 */
async function besideRunning(runningDataDirs: readonly string[]): Promise<Candidate[]> {
  const dirs = [...new Set(runningDataDirs)];
  const found = await Promise.all([
    ...dirs.map((dir) => children(dirname(dir), () => true)),
    ...dirs.map((dir) => grandchildren(dirname(dirname(dir)), basename(dirname(dir)))),
  ]);
  return found.flat().map((dataDir) => ({ dataDir }));
}

interface Settings {
  readonly port?: { readonly value: number; readonly from: string };
  readonly clusterName?: string;
  readonly socketDirs?: readonly string[];
}

/**
 * The port a stopped cluster's server will use, in the order the server itself decides it: the
 * command line it was last started with (postmaster.opts, which `pg_ctl -o "-p 5433"` leaves),
 * then postgresql.auto.conf (ALTER SYSTEM), then postgresql.conf and what it includes, last
 * setting winning; 5432 when none sets it.
 */
async function readSettings(candidate: Candidate): Promise<Settings> {
  const configFile = candidate.configFile ?? join(candidate.dataDir, 'postgresql.conf');
  const [opts, auto, conf] = await Promise.all([
    readText(join(candidate.dataDir, 'postmaster.opts')),
    readText(join(candidate.dataDir, 'postgresql.auto.conf')),
    readConfig(configFile),
  ]);
  const fromOpts = opts ? portFromCommandLine(opts) : undefined;
  const autoPort = auto ? lastSetting(auto, 'port') : undefined;
  const confPort = conf ? lastSetting(conf, 'port') : undefined;
  const port =
    fromOpts !== undefined
      ? { value: fromOpts, from: `${join(candidate.dataDir, 'postmaster.opts')} (its last start)` }
      : autoPort !== undefined && Number(autoPort) > 0
        ? { value: Number(autoPort), from: join(candidate.dataDir, 'postgresql.auto.conf') }
        : confPort !== undefined && Number(confPort) > 0
          ? { value: Number(confPort), from: configFile }
          : undefined;
  const clusterName = (auto ? lastSetting(auto, 'cluster_name') : undefined) ?? (conf ? lastSetting(conf, 'cluster_name') : undefined);
  // The same order for the socket directories: -k on the command line, ALTER SYSTEM, the file.
  const sockets =
    (opts ? socketDirsFromCommandLine(opts) : undefined) ??
    (auto ? lastSetting(auto, 'unix_socket_directories') : undefined) ??
    (conf ? lastSetting(conf, 'unix_socket_directories') : undefined);
  const socketDirs = sockets
    ?.split(',')
    .map((dir) => dir.trim())
    .filter((dir) => dir.length > 0);
  return { ...(port ? { port } : {}), ...(clusterName ? { clusterName } : {}), ...(socketDirs ? { socketDirs } : {}) };
}

/** postgresql.conf with the files its include_dir / include / include_if_exists lines name, in order. */
async function readConfig(file: string, depth = 0): Promise<string | undefined> {
  const text = await readText(file);
  if (text === undefined || depth > 3) return text;
  const parts: string[] = [];
  for (const line of text.split('\n')) {
    const include = /^\s*(include_dir|include_if_exists|include)\s*=?\s*'([^']*)'/.exec(line);
    if (!include?.[2]) {
      parts.push(line);
      continue;
    }
    const path = isAbsolute(include[2]) ? include[2] : join(dirname(file), include[2]);
    if (include[1] === 'include_dir') {
      const files = (await list(path)).filter((name) => name.endsWith('.conf') && !name.startsWith('.')).sort();
      for (const name of files) parts.push((await readConfig(join(path, name), depth + 1)) ?? '');
    } else {
      parts.push((await readConfig(path, depth + 1)) ?? '');
    }
  }
  return parts.join('\n');
}

/** The last `name = value` of a postgresql.conf-style text, unquoted. */
export function lastSetting(text: string, name: string): string | undefined {
  let value: string | undefined;
  const pattern = new RegExp(`^\\s*${name}(?:\\s*=\\s*|\\s+)(?:'((?:[^']|'')*)'|([^\\s#]+))`, 'i');
  for (const line of text.split('\n')) {
    const match = pattern.exec(line);
    if (match) value = match[1] !== undefined ? match[1].replace(/''/g, "'") : match[2];
  }
  return value;
}

/** postmaster.opts' arguments, as pg_ctl quoted them. */
function commandLineArgs(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}

/** `-k /dir`, `-k/dir` or `-c unix_socket_directories=…` in postmaster.opts: the last one counts. */
export function socketDirsFromCommandLine(text: string): string | undefined {
  const args = commandLineArgs(text);
  let dirs: string | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    const next = args[index + 1] ?? '';
    const value =
      arg === '-k'
        ? next
        : arg.startsWith('-k')
          ? arg.slice(2)
          : arg === '-c' && next.startsWith('unix_socket_directories=')
            ? next.slice('unix_socket_directories='.length)
            : undefined;
    if (value !== undefined) dirs = value.replace(/^'(.*)'$/, '$1');
  }
  return dirs;
}

/** `-p 5433`, `-p5433`, `--port=5433` or `-c port=5433` in postmaster.opts' quoted arguments. */
export function portFromCommandLine(text: string): number | undefined {
  const args = commandLineArgs(text);
  let port: number | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    const value =
      arg === '-p'
        ? args[index + 1]
        : /^-p\d+$/.test(arg)
          ? arg.slice(2)
          : arg.startsWith('--port=')
            ? arg.slice('--port='.length)
            : arg === '-c' && /^port=/.test(args[index + 1] ?? '')
              ? args[index + 1]?.slice(5)
              : undefined;
    if (value !== undefined && Number(value) > 0) port = Number(value);
  }
  return port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

async function ownerOf(dir: string): Promise<string | undefined> {
  const uid = (await stat(dir).catch(() => undefined))?.uid;
  if (uid === undefined) return undefined;
  const passwd = (await readText('/etc/passwd')) ?? '';
  return (
    passwd
      .split('\n')
      .find((line) => line.split(':')[2] === String(uid))
      ?.split(':')[0] ?? String(uid)
  );
}

async function canonical(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/**
 * Directories two levels under `dir`, looked at only when it is not the root. A crowded `dir` (a
 * busy /tmp) is searched only among the entries named like the running cluster's own directory
 * (its name less the last part: "pg-main" → "pg…", "app-db-7f3k" → "app-db…"), still capped.
 */
async function grandchildren(dir: string, near?: string): Promise<string[]> {
  if (dirname(dir) === dir) return [];
  // The name without its last part ("pg-main" → "pg", "app-db-7f3k" → "app-db"): siblings made alike share it.
  const stem = near ? near.replace(/[-_.][^-_.]*$/, '') || /^[A-Za-z]+/.exec(near)?.[0] : undefined;
  const crowded = (await list(dir)).length > MAX_ENTRIES;
  if (crowded && (!stem || stem.length < 2)) return [];
  const parents = await children(dir, (name) => !crowded || (stem !== undefined && name.startsWith(stem)));
  if (parents.length > MAX_ENTRIES) return [];
  return (await Promise.all(parents.map((parent) => children(parent, () => true)))).flat();
}

/** A directory with more entries than this (a busy /tmp, /home on a shared host) is not searched. */
const MAX_ENTRIES = 256;

async function children(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const names = (await list(dir)).filter(keep);
  if (names.length > MAX_ENTRIES) return [];
  const dirs = await Promise.all(
    names.map(async (name) => ((await stat(join(dir, name)).catch(() => undefined))?.isDirectory() ? join(dir, name) : undefined)),
  );
  return dirs.filter((dir): dir is string => dir !== undefined);
}
