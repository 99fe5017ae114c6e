import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './dbdoctor.js';
import { freePort } from './postgres.js';

/**
 * Throw-away FerretDB servers (a real MongoDB wire-protocol server; SQLite backend; SCRAM
 * authentication) for the tests. test/lab/setup.sh builds the binary once into .lab/ferretdb.
 * A server can run inside an isolated host (`prefix`), and with its own /etc/hosts (`hosts`), so
 * that it can listen on, and advertise, a name the client cannot resolve.
 */
export const FERRETDB_VERSION = 'v1.24.0';
export const FERRETDB = join(ROOT, '.lab', 'ferretdb', FERRETDB_VERSION, 'ferretdb');
export const ADMIN_USER = 'admin';

export interface FerretOptions {
  /** The admin user's password; no password: authentication is off. */
  readonly adminPassword?: string;
  /**
   * A PostgreSQL backend instead of SQLite (postgres://host:port/database, no user): FerretDB's
   * own PLAIN authentication, which hands the client's user and password to PostgreSQL, lazily,
   * when a command first needs the backend. (adminPassword is then not used.)
   */
  readonly postgresqlUrl?: string;
  /** host:port to listen on (default 127.0.0.1 and a free port). */
  readonly listen?: string;
  readonly replSetName?: string;
  /** A TLS listener on this address, with this certificate. */
  readonly tls?: { readonly listen: string; readonly certFile: string; readonly keyFile: string };
  /** A Unix socket to listen on too (a path; FerretDB's --listen-unix). */
  readonly unix?: string;
  readonly prefix?: readonly string[];
  /** /etc/hosts lines for the server only (a private mount namespace). */
  readonly hosts?: readonly string[];
}

export class Ferret {
  private child: ChildProcess | undefined;

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
    private readonly options: FerretOptions,
  ) {}

  static async start(options: FerretOptions = {}): Promise<Ferret> {
    if (!existsSync(FERRETDB)) throw new Error(`FerretDB not found at ${FERRETDB}: run the test command from the README (test/lab/setup.sh builds it)`);
    const listen = options.listen ?? `127.0.0.1:${await freePort()}`;
    const [, host = '127.0.0.1', port = '27017'] = /^(.*):(\d+)$/.exec(listen) ?? [];
    const server = new Ferret(host, Number(port), mkdtempSync(join(tmpdir(), 'dbdoctor-ferret-')), { ...options, listen });
    await server.run(true);
    return server;
  }

  /** The start time of the last (re)start, measured from spawn to "Listening". */
  startMs = 0;

  private async run(first: boolean): Promise<void> {
    const { options, dir } = this;
    const args = [
      ...(options.postgresqlUrl ? ['--handler=postgresql', `--postgresql-url=${options.postgresqlUrl}`] : ['--handler=sqlite', `--sqlite-url=file:${dir}/`]),
      `--state-dir=${dir}`,
      `--listen-addr=${options.listen ?? ''}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-format=text',
      '--log-level=info',
      ...(options.replSetName ? [`--repl-set-name=${options.replSetName}`] : []),
      ...(options.tls
        ? [`--listen-tls=${options.tls.listen}`, `--listen-tls-cert-file=${options.tls.certFile}`, `--listen-tls-key-file=${options.tls.keyFile}`]
        : []),
      ...(options.unix ? [`--listen-unix=${options.unix}`] : []),
      ...(options.adminPassword !== undefined && !options.postgresqlUrl ? ['--test-enable-new-auth'] : []),
      ...(options.adminPassword !== undefined && !options.postgresqlUrl && first
        ? ['--setup-database=admin', `--setup-username=${ADMIN_USER}`, `--setup-password=${options.adminPassword}`]
        : []),
    ];
    let command = [FERRETDB, ...args];
    if (options.hosts) {
      const hostsFile = join(dir, 'hosts');
      writeFileSync(hostsFile, ['127.0.0.1 localhost', ...options.hosts].join('\n') + '\n');
      command = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount --bind ${hostsFile} /etc/hosts && exec "$@"`, 'ferretdb', ...command];
    }
    const [file, ...rest] = [...(options.prefix ?? []), ...command];
    const started = performance.now();
    const child = spawn(file ?? FERRETDB, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`FerretDB did not start within 30 s:\n${log}`)), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`FerretDB exited (${code}) before listening:\n${log}`));
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const ready = /Listening on TCP/.test(log) && (!options.tls || /Listening on TLS/.test(log)) && (!options.unix || /Listening on Unix/.test(log));
        if (ready) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.startMs = Math.round(performance.now() - started);
  }

  url(user: string | undefined, password: string | undefined, database = '', query = ''): string {
    const auth =
      user === undefined ? '' : password === undefined ? `${encodeURIComponent(user)}@` : `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
    return `mongodb://${auth}${this.host}:${this.port}/${database}${query}`;
  }

  /** Stops the server process (the one FerretDB process, wherever the prefix put it) and waits for it. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const pids = [...descendants(child.pid ?? 0)].filter((pid) => readComm(pid) === 'ferretdb');
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    if (pids.length === 0) child.kill('SIGTERM');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.run(false);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A process and all its descendants, from /proc's children lists. */
function descendants(root: number): Set<number> {
  const found = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() ?? 0;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      children = [];
    }
    for (const child of children) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  return found;
}
