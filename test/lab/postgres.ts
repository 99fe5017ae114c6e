import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * Throw-away PostgreSQL clusters for the tests: initdb into a temp directory, start on a free
 * port with its own socket directory, stop and delete at the end. PostgreSQL refuses to run as
 * root, so as root every server command runs as the `postgres` user (created by Debian's package,
 * which the test command installs).
 */
const run = promisify(execFile);

export const SUPERUSER = 'postgres';

export function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root))
    throw new Error(`PostgreSQL server binaries not found under ${root}: run the test command from the README (it installs the postgresql package)`);
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (!newest) throw new Error(`no initdb under ${root}/*/bin: install the postgresql package`);
  return join(root, newest, 'bin');
}

const isRoot = (): boolean => userInfo().uid === 0;

/** Runs a server-side command as the postgres user when we are root (inside `prefix`, if any). */
export async function asPostgres(
  command: string,
  args: readonly string[],
  options: { prefix?: readonly string[] } = {},
): Promise<{ stdout: string; stderr: string }> {
  const full = join(pgBinDir(), command);
  const argv = [...(options.prefix ?? []), ...(isRoot() ? ['runuser', '-u', 'postgres', '--', full] : [full]), ...args];
  const [file, ...rest] = argv;
  return run(file ?? full, rest, { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024 });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A directory the postgres user owns. */
export function labDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dbdoctor-${prefix}-`));
  chmodSync(dir, 0o755);
  if (isRoot()) {
    const owner = postgresOwner();
    chownSync(dir, owner.uid, owner.gid);
  }
  return dir;
}

export function postgresOwner(): { uid: number; gid: number } {
  const fields = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postgres:'))
    ?.split(':');
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error('no postgres user on this machine: install the postgresql package (the test command does)');
  return { uid, gid };
}

export interface ClusterOptions {
  /** Extra postgresql.conf settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** pg_hba.conf lines placed before the defaults (first match wins). */
  readonly hbaFirst?: readonly string[];
  /** The whole pg_hba.conf, replacing initdb's defaults. */
  readonly hba?: readonly string[];
  /** Listen addresses; default 127.0.0.1. */
  readonly listen?: string;
  /** Run the server inside this command prefix (an isolated test host). */
  readonly prefix?: readonly string[];
  /** A fixed port (inside an isolated host any port is free). */
  readonly port?: number;
  /** A Linux abstract socket to listen on too ("@name", in the server's network namespace). */
  readonly abstractSocket?: string;
}

export class Cluster {
  readonly host = '127.0.0.1';
  private constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    readonly socketDir: string,
    readonly root: string,
    private readonly prefix: readonly string[],
  ) {}

  static async create(name: string, options: ClusterOptions = {}): Promise<Cluster> {
    const root = labDir(name);
    const dataDir = join(root, 'data');
    const socketDir = join(root, 'sock');
    await asPostgres('initdb', [
      '-D',
      dataDir,
      '-U',
      SUPERUSER,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    await run(isRoot() ? 'runuser' : 'mkdir', isRoot() ? ['-u', 'postgres', '--', 'mkdir', '-p', socketDir] : ['-p', socketDir]);
    const port = options.port ?? (await freePort());
    const cluster = new Cluster(name, port, dataDir, socketDir, root, options.prefix ?? []);
    cluster.configure({
      port,
      listen_addresses: `'${options.listen ?? '127.0.0.1'}'`,
      unix_socket_directories: `'${socketDir}${options.abstractSocket ? `,@${options.abstractSocket}` : ''}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: "'16MB'",
      max_connections: 30,
      log_min_messages: 'warning',
      log_connections: 'on',
      logging_collector: 'off',
      ...options.settings,
    });
    const hba = options.hba ? '' : readFileSync(join(dataDir, 'pg_hba.conf'), 'utf8');
    writeFileSync(join(dataDir, 'pg_hba.conf'), `${[...(options.hbaFirst ?? []), ...(options.hba ?? [])].join('\n')}\n${hba}`);
    await cluster.start();
    return cluster;
  }

  /**
   * A streaming hot standby of `primary`, made as an operator makes one: pg_basebackup -R over TCP
   * as a replication role (which writes primary_conninfo and standby.signal), on its own port and
   * socket directory. The role needs REPLICATION and a password; initdb's pg_hba.conf admits
   * replication connections from 127.0.0.1 with scram-sha-256.
   */
  static async standbyOf(primary: Cluster, name: string, replicator: { readonly user: string; readonly password: string }): Promise<Cluster> {
    const root = labDir(name);
    const dataDir = join(root, 'data');
    const socketDir = join(root, 'sock');
    const conninfo = `host=${primary.host} port=${primary.port} user=${replicator.user} password=${replicator.password} application_name=${name}`;
    await asPostgres('pg_basebackup', ['-d', conninfo, '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
    await run(isRoot() ? 'runuser' : 'mkdir', isRoot() ? ['-u', 'postgres', '--', 'mkdir', '-p', socketDir] : ['-p', socketDir]);
    const port = await freePort();
    const standby = new Cluster(name, port, dataDir, socketDir, root, primary.prefix);
    standby.configure({ port, unix_socket_directories: `'${socketDir}'`, hot_standby: 'on' });
    await standby.start();
    return standby;
  }

  configure(settings: Readonly<Record<string, string | number>>): void {
    appendFileSync(
      join(this.dataDir, 'postgresql.conf'),
      `\n${Object.entries(settings)
        .map(([key, value]) => `${key} = ${value}`)
        .join('\n')}\n`,
    );
  }

  get logFile(): string {
    return join(this.root, 'server.log');
  }

  async start(extraArgs: readonly string[] = []): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', ...extraArgs, 'start'], { prefix: this.prefix });
  }

  /** Starts without waiting for readiness (for startup scenarios). */
  async startNoWait(): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-W', 'start'], { prefix: this.prefix });
  }

  async stop(mode: 'fast' | 'immediate' | 'smart' = 'fast', wait = true): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-m', mode, ...(wait ? ['-w', '-t', '60'] : ['-W']), 'stop'], { prefix: this.prefix }).catch(
      (error: unknown) => {
        if (!/Is server running\?|no server running|PID file .* does not exist/i.test(String(error))) throw error;
      },
    );
  }

  async reload(): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, 'reload'], { prefix: this.prefix });
  }

  /** Makes the next start a standby start (standby.signal), owned by the postgres user. */
  markStandby(): void {
    const file = join(this.dataDir, 'standby.signal');
    writeFileSync(file, '');
    if (isRoot()) {
      const owner = postgresOwner();
      chownSync(file, owner.uid, owner.gid);
    }
  }

  /** Runs SQL as the superuser over the cluster's Unix socket. */
  async sql(statement: string, database = 'postgres'): Promise<pg.QueryResult> {
    const client = this.client({ user: SUPERUSER, database });
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  }

  /** A pg client over TCP (give a password) or the Unix socket (trust, superuser). */
  client(options: { user?: string; password?: string; database?: string; viaSocket?: boolean; applicationName?: string } = {}): pg.Client {
    const client = new pg.Client({
      host: options.password === undefined || options.viaSocket ? this.socketDir : this.host,
      port: this.port,
      user: options.user ?? SUPERUSER,
      database: options.database ?? 'postgres',
      ...(options.password !== undefined ? { password: options.password } : {}),
      application_name: options.applicationName ?? 'dbdoctor-lab',
    });
    client.on('error', () => undefined);
    return client;
  }

  url(user: string, password: string | undefined, database: string, query = ''): string {
    const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
    return `postgresql://${auth}@${this.host}:${this.port}/${database}${query}`;
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Holds `count` idle sessions open (to fill connection slots) until released. */
export async function holdConnections(
  cluster: Cluster,
  count: number,
  options: { user?: string; password?: string; database?: string } = {},
): Promise<{ release(): Promise<void>; clients: pg.Client[] }> {
  const clients: pg.Client[] = [];
  for (let index = 0; index < count; index += 1) {
    const client = cluster.client(options);
    await client.connect();
    clients.push(client);
  }
  return {
    clients,
    release: async () => {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    },
  };
}

/** Spawns a long-lived child whose stdout we can wait on (for servers in tests). */
export function spawnQuiet(command: string, args: readonly string[]): ReturnType<typeof spawn> {
  return spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
