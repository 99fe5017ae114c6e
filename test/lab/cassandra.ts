import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import cassandra from 'cassandra-driver';
import { inject } from 'vitest';
import { BodyReader, encodeFrame, OPCODES, readFrame, request, write } from '../../src/probes/cassandra/frame.js';
import { isAlive } from './global-setup.js';
import { freePort } from './postgres.js';

/**
 * A real Apache Cassandra for the tests, from the jars test/lab/setup.sh resolved from Maven
 * Central, on this machine's Java 17 with the JVM options Cassandra ships for it. It starts once
 * per test run, lazily, by the first test file that needs it (a mkdir lock in the run directory
 * the global setup provides), and is shared by all; the global teardown stops it. Scenarios that
 * change the node (stop it, switch off its CQL port, fill its connection slots) hold `exclusive`.
 */
const run = promisify(execFile);
const LAB = join(dirname(fileURLToPath(import.meta.url)), 'cassandra');

export const SUPERUSER = { user: 'cassandra', password: 'cassandra' };
export const APP = { user: 'app', password: 'app-s3cret-pass' };
/** A role that exists, with the right password, that may not log in. */
export const NOLOGIN = { user: 'reporting', password: 'reporting-pass' };
export const DC = 'datacenter1';
/** native_transport_max_concurrent_connections of the lab node. */
export const MAX_CONNECTIONS = 40;
/** Keyspaces: `shop` (RF 1, one table, one row) and `wide` (RF 3 on a one-node data centre). */
export const KEYSPACES = { healthy: 'shop', overReplicated: 'wide' };

export function cassandraVersion(): string {
  return /<cassandra\.version>([^<]+)<\/cassandra\.version>/.exec(readFileSync(join(LAB, 'pom.xml'), 'utf8'))?.[1] ?? '5.0.5';
}

export function cassandraLib(): string {
  const lib = join(process.env.DBDOCTOR_CACHE ?? join(homedir(), '.cache', 'dbdoctor'), `cassandra-${cassandraVersion()}`, 'lib');
  if (!existsSync(join(lib, '.complete')))
    throw new Error(`Apache Cassandra's jars are not in ${lib}: run the test command from the README (test/lab/setup.sh fetches them with Maven)`);
  return lib;
}

function jvmOptions(): string[] {
  return (
    readFileSync(join(LAB, 'jvm17.options'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      // As Cassandra's start script does: "--add-exports a=b" is two arguments.
      .flatMap((line) => line.split(/\s+/))
  );
}

export interface NodeInfo {
  readonly root: string;
  readonly nativePort: number;
  readonly storagePort: number;
  readonly jmxPort: number;
  pid: number;
  /** Milliseconds from spawning the JVM to its CQL port answering a login. */
  readonly startMs: number;
}

export class CassandraNode {
  constructor(readonly info: NodeInfo) {}

  get port(): number {
    return this.info.nativePort;
  }

  get logFile(): string {
    return join(this.info.root, 'logs', 'system.log');
  }

  /** Writes a minimal cassandra.yaml into a fresh directory, starts the node and waits for logins. */
  static async create(): Promise<CassandraNode> {
    const root = mkdtempSync(join(tmpdir(), 'dbdoctor-cassandra-'));
    const [nativePort, storagePort, jmxPort] = [await freePort(), await freePort(), await freePort()];
    mkdirSync(join(root, 'logs'));
    writeFileSync(
      join(root, 'cassandra.yaml'),
      [
        'cluster_name: dbdoctor-lab',
        'num_tokens: 1',
        'partitioner: org.apache.cassandra.dht.Murmur3Partitioner',
        'endpoint_snitch: SimpleSnitch',
        'authenticator: PasswordAuthenticator',
        'authorizer: CassandraAuthorizer',
        'role_manager: CassandraRoleManager',
        'commitlog_sync: periodic',
        'commitlog_sync_period: 10000ms',
        'seed_provider:',
        '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider',
        `    parameters:\n      - seeds: "127.0.0.1:${storagePort}"`,
        'listen_address: 127.0.0.1',
        'rpc_address: 127.0.0.1',
        `storage_port: ${storagePort}`,
        `native_transport_port: ${nativePort}`,
        'start_native_transport: true',
        `native_transport_max_concurrent_connections: ${MAX_CONNECTIONS}`,
        `data_file_directories: [${join(root, 'data')}]`,
        `commitlog_directory: ${join(root, 'commitlog')}`,
        `saved_caches_directory: ${join(root, 'saved_caches')}`,
        `hints_directory: ${join(root, 'hints')}`,
        `cdc_raw_directory: ${join(root, 'cdc')}`,
        'auto_snapshot: false',
        '',
      ].join('\n'),
    );
    const started = Date.now();
    const pid = spawnJvm(root, jmxPort);
    const node = new CassandraNode({ root, nativePort, storagePort, jmxPort, pid, startMs: 0 });
    await node.waitForLogin(180_000);
    const ready = new CassandraNode({ ...node.info, startMs: Date.now() - started });
    await ready.createFixtures();
    return ready;
  }

  /** Starts the JVM again on the same directory (after `stop`), without waiting. */
  restart(): void {
    this.info.pid = spawnJvm(this.info.root, this.info.jmxPort);
  }

  /** SIGTERM, as `systemctl stop cassandra` does, and wait for the JVM to exit. */
  async stop(): Promise<void> {
    try {
      process.kill(this.info.pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let waited = 0; waited < 60_000 && isAlive(this.info.pid); waited += 100) await sleep(100);
    if (isAlive(this.info.pid)) process.kill(this.info.pid, 'SIGKILL');
  }

  /** nodetool over the node's local JMX port: Cassandra's own NodeTool class from the same jars. */
  async nodetool(...args: string[]): Promise<string> {
    const { stdout } = await run(
      'java',
      [
        ...jvmOptions(),
        '-Dlogback.configurationFile=/dev/null',
        '-cp',
        `${cassandraLib()}/*`,
        'org.apache.cassandra.tools.NodeTool',
        '-h',
        '127.0.0.1',
        '-p',
        String(this.info.jmxPort),
        ...args,
      ],
      { maxBuffer: 8 * 1024 * 1024 },
    );
    return stdout;
  }

  async waitForLogin(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < until) {
      if (!isAlive(this.info.pid)) throw new Error(`Cassandra exited during start; see ${this.logFile}:\n${tail(this.logFile)}`);
      try {
        await this.cql('SELECT release_version FROM system.local');
        return;
      } catch (error) {
        last = error;
        await sleep(250);
      }
    }
    throw new Error(`Cassandra did not take logins within ${timeoutMs} ms (${String(last)}); see ${this.logFile}`);
  }

  /** Runs statements as the superuser, through cassandra-driver. */
  async cql(...statements: string[]): Promise<cassandra.types.Row[]> {
    const client = new cassandra.Client({
      contactPoints: [`127.0.0.1:${this.port}`],
      localDataCenter: DC,
      credentials: { username: SUPERUSER.user, password: SUPERUSER.password },
      socketOptions: { connectTimeout: 2000 },
    });
    try {
      await client.connect();
      let rows: cassandra.types.Row[] = [];
      for (const statement of statements) rows = (await client.execute(statement)).rows;
      return rows;
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  }

  private async createFixtures(): Promise<void> {
    await this.cql(
      `CREATE ROLE IF NOT EXISTS ${APP.user} WITH PASSWORD = '${APP.password}' AND LOGIN = true`,
      `CREATE ROLE IF NOT EXISTS ${NOLOGIN.user} WITH PASSWORD = '${NOLOGIN.password}' AND LOGIN = false`,
      `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACES.healthy} WITH replication = {'class': 'NetworkTopologyStrategy', '${DC}': 1}`,
      `CREATE TABLE IF NOT EXISTS ${KEYSPACES.healthy}.orders (id int PRIMARY KEY, item text)`,
      `INSERT INTO ${KEYSPACES.healthy}.orders (id, item) VALUES (1, 'tea')`,
      `GRANT SELECT ON KEYSPACE ${KEYSPACES.healthy} TO ${APP.user}`,
      `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACES.overReplicated} WITH replication = {'class': 'NetworkTopologyStrategy', '${DC}': 3}`,
      `CREATE TABLE IF NOT EXISTS ${KEYSPACES.overReplicated}.items (id int PRIMARY KEY)`,
    );
  }

  url(credentials: { user: string; password?: string } | undefined, keyspace = '', query = `?dc=${DC}`): string {
    const auth = credentials
      ? `${encodeURIComponent(credentials.user)}${credentials.password !== undefined ? `:${encodeURIComponent(credentials.password)}` : ''}@`
      : '';
    return `cassandra://${auth}127.0.0.1:${this.port}/${keyspace}${query}`;
  }
}

function spawnJvm(root: string, jmxPort: number): number {
  const out = openSync(join(root, 'logs', 'stdout.log'), 'a');
  const child = spawn(
    'java',
    [
      ...jvmOptions(),
      // A small heap: the machine is shared, and the tests hold a handful of rows.
      '-Xms512m',
      '-Xmx512m',
      `-Dcassandra.config=file://${join(root, 'cassandra.yaml')}`,
      `-Dcassandra.logdir=${join(root, 'logs')}`,
      `-Dcassandra.storagedir=${root}`,
      `-Dlogback.configurationFile=${join(LAB, 'logback.xml')}`,
      `-Dcassandra.jmx.local.port=${jmxPort}`,
      '-Dcassandra-foreground=yes',
      '-Dcassandra.superuser_setup_delay_ms=0',
      '-Dcassandra.skip_wait_for_gossip_to_settle=0',
      '-cp',
      `${cassandraLib()}/*`,
      'org.apache.cassandra.service.CassandraDaemon',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new Error('could not start java');
  return child.pid;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

// ── one node per test run ─────────────────────────────────────────────────────

declare module 'vitest' {
  export interface ProvidedContext {
    /** The directory where this test run's shared Cassandra records itself (global setup). */
    cassandraRunDir: string;
  }
}

const runDir = (): string => inject('cassandraRunDir');

/** The run's Cassandra node, started by whichever test file asks first. */
export async function sharedCassandra(): Promise<CassandraNode> {
  const dir = runDir();
  const readyFile = join(dir, 'node.json');
  const failedFile = join(dir, 'failed.txt');
  let starter = false;
  try {
    mkdirSync(join(dir, 'starting'));
    starter = true;
  } catch {
    // another test file is starting it
  }
  if (starter) {
    try {
      const node = await CassandraNode.create();
      writeFileSync(readyFile, JSON.stringify(node.info));
      return node;
    } catch (error) {
      writeFileSync(failedFile, String(error));
      throw error;
    }
  }
  for (let waited = 0; waited < 240_000; waited += 200) {
    if (existsSync(failedFile)) throw new Error(`the shared Cassandra failed to start: ${readFileSync(failedFile, 'utf8')}`);
    if (existsSync(readyFile)) return new CassandraNode(JSON.parse(readFileSync(readyFile, 'utf8')) as NodeInfo);
    await sleep(200);
  }
  throw new Error('the shared Cassandra did not start within 4 minutes');
}

/** Records a new pid after a restart, so that the global teardown stops the right JVM. */
export function recordNode(node: CassandraNode): void {
  writeFileSync(join(runDir(), 'node.json'), JSON.stringify(node.info));
}

/** Runs `work` while no other test file uses the node (a mkdir lock, polled). */
export async function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(runDir(), 'exclusive');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Logged-in CQL connections, held open as an application's pool would, until released. */
export async function holdConnections(port: number, count: number, credentials = SUPERUSER): Promise<{ release(): void }> {
  const sockets: Socket[] = [];
  const release = (): void => sockets.forEach((socket) => socket.destroy());
  try {
    for (let index = 0; index < count; index += 1) sockets.push(await login(port, credentials));
  } catch (error) {
    release();
    throw error;
  }
  return { release };
}

async function login(port: number, credentials: { user: string; password: string }): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const frames = frameStream(socket);
  socket.write(request.startup(4, { CQL_VERSION: '3.0.0', DRIVER_NAME: 'dbdoctor-lab-holder' }));
  let frame = await frames();
  if (frame.opcode === OPCODES.AUTHENTICATE) {
    const token = Buffer.from(`\0${credentials.user}\0${credentials.password}`);
    socket.write(encodeFrame(4, OPCODES.AUTH_RESPONSE, write.bytes(token), { stream: 2 }));
    frame = await frames();
  }
  if (frame.opcode !== OPCODES.AUTH_SUCCESS && frame.opcode !== OPCODES.READY) {
    socket.destroy();
    throw new Error(`a held connection was not admitted (opcode ${frame.opcode}: ${new BodyReader(frame.body.subarray(4)).string()})`);
  }
  return socket;
}

function frameStream(socket: Socket): () => Promise<{ opcode: number; body: Buffer }> {
  let buffer: Buffer = Buffer.alloc(0);
  const waiting: ((frame: { opcode: number; body: Buffer }) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (let read = readFrame(buffer); read; read = readFrame(buffer)) {
      buffer = read.rest;
      waiting.shift()?.(read.frame);
    }
  });
  return () =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      socket.once('close', () => reject(new Error('the node closed the connection')));
    });
}
