import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, labDir, postgresOwner, type Cluster } from './postgres.js';
import { accepts } from './listeners.js';

/**
 * Throw-away PgBouncer instances in front of the lab's clusters: a pgbouncer.ini and an auth_file
 * in a temp directory, a free loopback port, no Unix socket. PgBouncer refuses to run as root, so
 * as root it runs as the postgres user (the process is PgBouncer itself, so stop() signals it).
 * The binary comes from Debian's pgbouncer package, which the test command installs.
 */
export const PGBOUNCER_BIN = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((path) => existsSync(path));

/** The console user the tests use for PAUSE, RELOAD and friends; dbdoctor never gets it. */
export const LAB_ADMIN = { user: 'lab_admin', password: 'lab-admin-Pa55' } as const;

export interface PgBouncerOptions {
  /** [databases] lines: name → connection string; default: `appdb` on the cluster. */
  readonly databases?: Readonly<Record<string, string>>;
  /** auth_file entries, user → plain-text password (PgBouncer logs in to PostgreSQL with these too). */
  readonly users: Readonly<Record<string, string>>;
  /** [pgbouncer] settings on top of the lab's defaults. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export class PgBouncer {
  readonly host = '127.0.0.1';
  private constructor(
    readonly port: number,
    readonly root: string,
    private readonly child: ChildProcess,
  ) {}

  get logFile(): string {
    return join(this.root, 'pgbouncer.log');
  }

  get iniFile(): string {
    return join(this.root, 'pgbouncer.ini');
  }

  static async start(cluster: Cluster, options: PgBouncerOptions): Promise<PgBouncer> {
    if (!PGBOUNCER_BIN)
      throw new Error('pgbouncer not found in /usr/sbin or /usr/bin: run the test command from the README (it installs the pgbouncer package)');
    const root = labDir('pgbouncer');
    const port = await freePort();
    const databases = options.databases ?? { appdb: `host=${cluster.host} port=${cluster.port} dbname=appdb` };
    const users = { ...options.users, [LAB_ADMIN.user]: LAB_ADMIN.password };
    const settings: Record<string, string | number> = {
      listen_addr: '127.0.0.1',
      listen_port: port,
      unix_socket_dir: '',
      auth_type: 'scram-sha-256',
      auth_file: join(root, 'userlist.txt'),
      admin_users: LAB_ADMIN.user,
      pool_mode: 'transaction',
      default_pool_size: 5,
      max_client_conn: 50,
      logfile: join(root, 'pgbouncer.log'),
      pidfile: join(root, 'pgbouncer.pid'),
      log_connections: 1,
      log_disconnections: 1,
      ...options.settings,
    };
    const quote = (text: string): string => `"${text.replace(/"/g, '""')}"`;
    writeOwned(
      join(root, 'userlist.txt'),
      Object.entries(users)
        .map(([user, password]) => `${quote(user)} ${quote(password)}`)
        .join('\n') + '\n',
      0o600,
    );
    writeOwned(
      join(root, 'pgbouncer.ini'),
      [
        '[databases]',
        ...Object.entries(databases).map(([name, conn]) => `${name} = ${conn}`),
        '',
        '[pgbouncer]',
        ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
        '',
      ].join('\n'),
      0o644,
    );
    const owner = userInfo().uid === 0 ? postgresOwner() : undefined;
    const child = spawn(PGBOUNCER_BIN, [join(root, 'pgbouncer.ini')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const bouncer = new PgBouncer(port, root, child);
    await bouncer.waitListening(() => `${output}${existsSync(bouncer.logFile) ? readFileSync(bouncer.logFile, 'utf8') : ''}`);
    return bouncer;
  }

  private async waitListening(log: () => string): Promise<void> {
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      if (this.child.exitCode !== null) throw new Error(`pgbouncer exited with ${this.child.exitCode}:\n${log()}`);
      if (await accepts(this.port, this.host)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`pgbouncer did not listen on ${this.port} within 15 s:\n${log()}`);
  }

  url(user: string, password: string | undefined, database = 'appdb', query = ''): string {
    const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
    return `postgresql://${auth}@${this.host}:${this.port}/${database}${query}`;
  }

  /** A pg client through the pooler. */
  client(user: string, password: string, database = 'appdb'): pg.Client {
    const client = new pg.Client({ host: this.host, port: this.port, user, password, database, application_name: 'dbdoctor-lab' });
    client.on('error', () => undefined);
    return client;
  }

  /** One client of `user` logs in and runs a query, so that PgBouncer has served the pool (and cached its login). */
  async serve(user: string, password: string): Promise<void> {
    const warm = this.client(user, password);
    await warm.connect();
    await warm.query('SELECT 1');
    await warm.end();
  }

  /** Runs one command on the admin console as the lab's admin user (PAUSE, RESUME, SHOW …). */
  async admin(command: string): Promise<pg.QueryResult> {
    const client = this.client(LAB_ADMIN.user, LAB_ADMIN.password, 'pgbouncer');
    await client.connect();
    try {
      return await client.query(command);
    } finally {
      await client.end();
    }
  }

  /** The log since `offset` bytes (PgBouncer writes a line per login with log_connections). */
  logSince(offset: number): string {
    return readFileSync(this.logFile).subarray(offset).toString('utf8');
  }

  logSize(): number {
    return existsSync(this.logFile) ? readFileSync(this.logFile).length : 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

function writeOwned(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode });
  if (userInfo().uid === 0) {
    const owner = postgresOwner();
    chownSync(path, owner.uid, owner.gid);
  }
}

/** Clients through the pooler, each logged in, held until released. */
export async function holdPoolerClients(
  bouncer: PgBouncer,
  count: number,
  user: string,
  password: string,
  database = 'appdb',
): Promise<{ clients: pg.Client[]; release(): Promise<void> }> {
  const clients: pg.Client[] = [];
  for (let index = 0; index < count; index += 1) {
    const client = bouncer.client(user, password, database);
    await client.connect();
    clients.push(client);
  }
  return { clients, release: async () => void (await Promise.all(clients.map((client) => client.end().catch(() => undefined)))) };
}
