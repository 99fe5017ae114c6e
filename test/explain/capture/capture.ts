import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, freePort, holdConnections } from '../../lab/postgres.js';
import { BLACK_HOLE, IsolatedHost, UNREACHABLE } from '../../lab/isolated.js';
import { hangUpPeer, httpPeer, resetPeer, silentPeer, tlsOnlyPeer, type Peer } from '../../lab/servers.js';
import { selfSignedCertificate } from '../../lab/tls.js';
import { Ferret, ADMIN_USER } from '../../lab/mongo.js';
import { APP, CassandraNode, DC, KEYSPACES, NOLOGIN } from '../../lab/cassandra.js';
import { holdPoolerClients, PgBouncer } from '../../lab/pgbouncer.js';

/**
 * Re-captures the explain corpus: real clients against real faults. Each fault is built with the
 * fault lab (real PostgreSQL clusters, isolated hosts with the lab's DNS server, scripted peers),
 * each client makes one connection attempt through a small program of ours (python/, node/, go/,
 * java/), and what the client prints is saved under ../corpus/<engine>/<client>/<fault>.txt with
 * its provenance. Needs root and the clients installed by ./setup.sh; see ./README.md.
 *
 *   tsx test/explain/capture/capture.ts [fault-id-prefix…]
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(HERE, '..', 'corpus');
const TOOLS = process.env.CAPTURE_DIR ?? '/tmp/dbdoctor-capture';
const SECRET = 'Capture-Secret-7f3a';

type Engine = 'postgres' | 'mongodb' | 'cassandra';

interface Case {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** libpq-style query parameters (sslmode, sslrootcert, …), for the URL forms. */
  readonly params?: Readonly<Record<string, string>>;
  readonly tls?: boolean;
  readonly caFile?: string;
  readonly timeoutMs?: number;
  /** Statements to run once connected ("@sleep <ms>" pauses). */
  readonly sql?: readonly string[];
  /** Cassandra: the keyspace to use, the local data centre, the protocol version, one statement and its consistency level. */
  readonly keyspace?: string;
  readonly dc?: string;
  readonly protocolVersion?: number;
  readonly cql?: string;
  readonly consistency?: string;
  /** MongoDB: the admin command to run once connected (default ping, which needs no login). */
  readonly command?: string;
  /** Passwords other than SECRET that the output must not show (a lab role's own). */
  readonly secrets?: readonly string[];
}

interface Client {
  readonly engine: Engine;
  readonly version: string;
  argv(c: Case): string[];
}

interface Fault {
  readonly id: string;
  readonly engine: Engine;
  /** step/cause: what the fault is, as `dbdoctor diagnose` names it. */
  readonly cause: string;
  readonly description: string;
  /** Clients that hide the fault behind other words, and the step/cause those words support ("reads-as" in the header). */
  readonly readsAs?: Readonly<Record<string, string>>;
  /** Only these clients can express the fault (e.g. a libpq-only setting). */
  readonly clients?: readonly string[];
  /** Builds the fault; `after` registers what undoes it once its clients have run. */
  readonly build: (after: (undo: () => Promise<unknown>) => void) => Promise<{ readonly case: Case; readonly prefix?: readonly string[] }>;
}

const query = (params: Readonly<Record<string, string>> | undefined): string => {
  const entries = Object.entries(params ?? {});
  return entries.length > 0 ? `?${entries.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&')}` : '';
};
const authority = (c: Case): string => `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
const userinfo = (c: Case): string => (c.user ? `${encodeURIComponent(c.user)}${c.password !== undefined ? `:${encodeURIComponent(c.password)}` : ''}@` : '');
const pgUrl = (c: Case): string => `postgresql://${userinfo(c)}${authority(c)}/${c.database ?? 'postgres'}${query(c.params)}`;
const mongoUrl = (c: Case): string =>
  `mongodb://${userinfo(c)}${authority(c)}/${query({ directConnection: 'true', ...(c.tls ? { tls: 'true', ...(c.caFile ? { tlsCAFile: c.caFile } : {}) } : {}), ...c.params })}`;
const json = (c: Case, url: string): string => JSON.stringify({ ...c, url, timeoutMs: c.timeoutMs ?? 3000 });

function versionOf(command: string, args: readonly string[], cwd?: string): string {
  try {
    return execFileSync(command, [...args], { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'not installed';
  }
}

const python = join(TOOLS, 'venv', 'bin', 'python');
const pyVersion = (module: string): string => versionOf(python, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(module)}))`]);
const nodeVersion = (module: string): string => {
  try {
    return (JSON.parse(readFileSync(join(TOOLS, 'node', 'node_modules', module, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
};
// Run in go/, where go.mod names the modules (elsewhere `go list -m` knows none of them).
const goVersion = (module: string): string => versionOf('go', ['list', '-m', '-f', '{{.Version}}', module], join(HERE, 'go')).split('\n')[0] ?? '';
const jarVersion = (prefix: string): string => {
  const lib = join(HERE, 'java', 'target', 'lib');
  const jar = existsSync(lib) ? readdirSync(lib).find((name) => name.startsWith(`${prefix}-`) && /-\d/.test(name.slice(prefix.length))) : undefined;
  return jar ? jar.slice(prefix.length + 1, -'.jar'.length) : 'not installed';
};
const javaClasspath = (): string => `${join(HERE, 'java', 'target', 'classes')}:${join(HERE, 'java', 'target', 'lib', '*')}`;

const py =
  (client: string, toUrl: (c: Case) => string) =>
  (c: Case): string[] => [python, join(HERE, 'python', 'clients.py'), client, json(c, toUrl(c))];
const node =
  (client: string, toUrl: (c: Case) => string) =>
  (c: Case): string[] => [process.execPath, join(TOOLS, 'node', 'clients.mjs'), client, json(c, toUrl(c))];
const go =
  (client: string, toUrl: (c: Case) => string) =>
  (c: Case): string[] => [join(TOOLS, 'capture-go'), client, json(c, toUrl(c))];

const CLIENTS: Readonly<Record<string, Client>> = {
  psql: {
    engine: 'postgres',
    version: `psql (libpq) ${versionOf('psql', ['--version']).replace(/^psql \(PostgreSQL\) /, '')}`,
    // psql runs each -c in the same session; "\! sleep" pauses it.
    argv: (c) => [
      'env',
      `PGCONNECT_TIMEOUT=${Math.ceil((c.timeoutMs ?? 3000) / 1000)}`,
      'psql',
      '--no-password',
      pgUrl(c),
      ...(c.sql ?? ['SELECT 1']).flatMap((statement) => ['-c', statement.startsWith('@sleep ') ? `\\! sleep ${Number(statement.slice(7)) / 1000}` : statement]),
    ],
  },
  psycopg2: {
    engine: 'postgres',
    version: `psycopg2-binary ${pyVersion('psycopg2-binary')}`,
    argv: (c) => py('psycopg2', pgUrl)({ ...c, params: { connect_timeout: '3', ...c.params } }),
  },
  psycopg: {
    engine: 'postgres',
    version: `psycopg ${pyVersion('psycopg')} (binary)`,
    argv: (c) => py('psycopg', pgUrl)({ ...c, params: { connect_timeout: '3', ...c.params } }),
  },
  asyncpg: { engine: 'postgres', version: `asyncpg ${pyVersion('asyncpg')}`, argv: py('asyncpg', pgUrl) },
  sqlalchemy: {
    engine: 'postgres',
    version: `SQLAlchemy ${pyVersion('SQLAlchemy')} with psycopg2-binary ${pyVersion('psycopg2-binary')}`,
    argv: (c) => py('sqlalchemy', pgUrl)({ ...c, params: { connect_timeout: '3', ...c.params } }),
  },
  'node-postgres': { engine: 'postgres', version: `pg ${nodeVersion('pg')} (Node.js ${process.versions.node})`, argv: node('pg', pgUrl) },
  pgjdbc: {
    engine: 'postgres',
    version: `org.postgresql:postgresql ${jarVersion('postgresql')} (Java 17)`,
    argv: (c) => {
      const params = { ...c.params };
      // pgjdbc spells target_session_attrs=read-write as targetServerType=primary.
      if (params.target_session_attrs === 'read-write') {
        delete params.target_session_attrs;
        params.targetServerType = 'primary';
      }
      return [
        'java',
        '-cp',
        javaClasspath(),
        'capture.Main',
        'pgjdbc',
        `jdbc:postgresql://${authority(c)}/${c.database ?? 'postgres'}${query(params)}`,
        c.user ?? '',
        c.password ?? '',
        ...(c.sql ?? []),
      ];
    },
  },
  pgx: {
    engine: 'postgres',
    version: `github.com/jackc/pgx/v5 ${goVersion('github.com/jackc/pgx/v5')}`,
    argv: (c) => go('pgx', pgUrl)({ ...c, params: { connect_timeout: '3', ...c.params } }),
  },
  'lib-pq': {
    engine: 'postgres',
    version: `github.com/lib/pq ${goVersion('github.com/lib/pq')}`,
    argv: (c) => go('pq', pgUrl)({ ...c, params: { connect_timeout: '3', ...c.params } }),
  },
  pymongo: { engine: 'mongodb', version: `pymongo ${pyVersion('pymongo')}`, argv: py('pymongo', mongoUrl) },
  'mongodb-node': { engine: 'mongodb', version: `mongodb ${nodeVersion('mongodb')} (Node.js ${process.versions.node})`, argv: node('mongodb', mongoUrl) },
  'mongo-go-driver': { engine: 'mongodb', version: `go.mongodb.org/mongo-driver ${goVersion('go.mongodb.org/mongo-driver')}`, argv: go('mongo', mongoUrl) },
  'cassandra-python': { engine: 'cassandra', version: `cassandra-driver ${pyVersion('cassandra-driver')} (Python)`, argv: py('cassandra', () => '') },
  'cassandra-node': {
    engine: 'cassandra',
    version: `cassandra-driver ${nodeVersion('cassandra-driver')} (Node.js ${process.versions.node})`,
    argv: node('cassandra', () => ''),
  },
  'cassandra-java': {
    engine: 'cassandra',
    version: `com.datastax.oss:java-driver-core ${jarVersion('java-driver-core')} (Java 17)`,
    argv: (c) => [
      'java',
      '-cp',
      javaClasspath(),
      'capture.Main',
      'cassandra',
      c.host,
      String(c.port),
      c.user ?? '',
      c.password ?? '',
      String(c.timeoutMs ?? 3000),
      ...(c.tls ? ['tls'] : []),
      ...(c.keyspace ? [`keyspace=${c.keyspace}`] : []),
      ...(c.dc ? [`dc=${c.dc}`] : []),
      ...(c.protocolVersion ? [`protocol=V${c.protocolVersion}`] : []),
      ...(c.cql ? [`cql=${c.cql}`, `consistency=${c.consistency ?? 'LOCAL_ONE'}`] : []),
    ],
  },
  gocql: { engine: 'cassandra', version: `github.com/gocql/gocql ${goVersion('github.com/gocql/gocql')}`, argv: go('gocql', () => '') },
};

const DEFAULT_PORT: Record<Engine, number> = { postgres: 5432, mongodb: 27017, cassandra: 9042 };
const LIBPQ = ['psql', 'psycopg2', 'psycopg', 'sqlalchemy'];

/** The clusters a capture run builds, torn down at the end. */
const teardown: (() => Promise<unknown>)[] = [];

async function postgresFaults(): Promise<Fault[]> {
  const cert = await selfSignedCertificate('db.example');
  const stranger = await selfSignedCertificate('stranger.example');
  const main = await Cluster.create('explain-main', {
    settings: { ssl: 'on', ssl_cert_file: `'${cert.certFile}'`, ssl_key_file: `'${cert.keyFile}'`, ssl_min_protocol_version: "'TLSv1.3'" },
    hba: [
      'local all all trust',
      'hostssl all tlsonly 127.0.0.1/32 scram-sha-256',
      'host all rejected 127.0.0.1/32 reject',
      'host all ghost 127.0.0.1/32 trust',
      'host all app,locked,limited,nobody 127.0.0.1/32 scram-sha-256',
    ],
  });
  teardown.push(() => main.destroy());
  for (const role of ['app', 'tlsonly', 'rejected']) await main.sql(`CREATE ROLE ${role} LOGIN PASSWORD '${SECRET}'`);
  await main.sql(`CREATE ROLE locked NOLOGIN PASSWORD '${SECRET}'`);
  await main.sql(`CREATE ROLE limited LOGIN CONNECTION LIMIT 0 PASSWORD '${SECRET}'`);
  await main.sql('CREATE DATABASE appdb OWNER app');
  await main.sql('CREATE DATABASE private OWNER postgres');
  await main.sql('REVOKE CONNECT ON DATABASE private FROM PUBLIC');

  const plain = await Cluster.create('explain-plain');
  teardown.push(() => plain.destroy());
  await plain.sql(`CREATE ROLE app LOGIN PASSWORD '${SECRET}'`);
  await plain.sql('CREATE TABLE held (id int)');
  await plain.sql('GRANT SELECT ON held TO app');

  const pool = await Cluster.create('explain-pool', { settings: { max_connections: 6, superuser_reserved_connections: 3 } });
  teardown.push(() => pool.destroy());
  await pool.sql(`CREATE ROLE app LOGIN PASSWORD '${SECRET}'`);

  const on = (cluster: Cluster, c: Partial<Case>): Case => ({
    host: cluster.host,
    port: cluster.port,
    user: 'app',
    password: SECRET,
    database: 'postgres',
    ...c,
  });
  const peerFault = (id: string, cause: string, description: string, start: () => Promise<Peer>, readsAs?: Readonly<Record<string, string>>): Fault => ({
    id,
    engine: 'postgres',
    cause,
    description,
    ...(readsAs ? { readsAs } : {}),
    build: async (after) => {
      const peer = await start();
      after(() => peer.close());
      return {
        case: { host: '127.0.0.1', port: peer.port, user: 'app', password: SECRET, database: 'appdb', params: { sslmode: 'disable' }, timeoutMs: 2000 },
      };
    },
  });
  const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  const standby = async (settings: Record<string, string>): Promise<void> => {
    await plain.stop('fast');
    plain.markStandby();
    plain.configure(settings);
    await plain.startNoWait();
    for (let waited = 0; waited < 10_000 && !existsSync(join(plain.socketDir, `.s.PGSQL.${plain.port}`)); waited += 100) await pause(100);
    await pause(300);
  };
  const primary = async (): Promise<void> => {
    await plain.stop('immediate');
    execFileSync('rm', ['-f', join(plain.dataDir, 'standby.signal')]);
    plain.configure({ restore_command: "''", hot_standby: 'on' });
    await plain.start();
  };

  return [
    {
      id: 'pg-wrong-password',
      engine: 'postgres',
      cause: 'auth/auth_failed',
      description: 'wrong password for an existing role (scram-sha-256)',
      build: async () => ({ case: on(main, { password: `${SECRET}x`, database: 'appdb' }) }),
    },
    {
      id: 'pg-missing-role-password-auth',
      engine: 'postgres',
      cause: 'auth/auth_failed',
      description: 'a role that does not exist, under scram-sha-256 (PostgreSQL answers as for a wrong password)',
      build: async () => ({ case: on(main, { user: 'nobody', database: 'appdb' }) }),
    },
    {
      id: 'pg-missing-role-trust',
      engine: 'postgres',
      cause: 'auth/role_missing',
      description: 'a role that does not exist, under a trust line (the server says so)',
      build: async () => ({ case: on(main, { user: 'ghost', database: 'appdb' }) }),
    },
    {
      id: 'pg-missing-database',
      engine: 'postgres',
      cause: 'auth/database_missing',
      description: 'a database that does not exist',
      build: async () => ({ case: on(main, { database: 'nope' }) }),
    },
    {
      id: 'pg-hba-reject-line',
      engine: 'postgres',
      cause: 'auth/hba_rejected',
      description: 'a pg_hba.conf "reject" line matches the role',
      build: async () => ({ case: on(main, { user: 'rejected', database: 'appdb' }) }),
    },
    {
      id: 'pg-hba-no-entry',
      engine: 'postgres',
      cause: 'auth/hba_rejected',
      description: 'no pg_hba.conf line admits the role',
      build: async () => ({ case: on(main, { user: 'stranger', database: 'appdb' }) }),
    },
    {
      id: 'pg-no-password',
      engine: 'postgres',
      cause: 'auth/password_missing',
      description: 'no password given; the server asks for one (scram-sha-256)',
      build: async () => ({ case: { ...on(main, { database: 'appdb' }), password: undefined } }),
    },
    {
      id: 'pg-role-nologin',
      engine: 'postgres',
      cause: 'auth/permission_denied',
      description: 'the role exists with NOLOGIN',
      build: async () => ({ case: on(main, { user: 'locked', database: 'appdb' }) }),
    },
    {
      id: 'pg-no-connect-privilege',
      engine: 'postgres',
      cause: 'auth/permission_denied',
      description: 'CONNECT on the database revoked from PUBLIC',
      build: async () => ({ case: on(main, { database: 'private' }) }),
    },
    {
      id: 'pg-role-connection-limit',
      engine: 'postgres',
      cause: 'pool/too_many_connections',
      description: 'the role’s CONNECTION LIMIT (0) is reached',
      build: async () => ({ case: on(main, { user: 'limited', database: 'appdb' }) }),
    },
    {
      id: 'pg-reserved-slots',
      engine: 'postgres',
      cause: 'pool/too_many_connections',
      description: 'every non-reserved slot taken (max_connections 6, superuser_reserved_connections 3)',
      build: async (after) => {
        const held = await holdConnections(pool, 3);
        after(() => held.release());
        return { case: on(pool, { params: { sslmode: 'disable' } }) };
      },
    },
    {
      id: 'pg-too-many-clients',
      engine: 'postgres',
      cause: 'pool/too_many_connections',
      description: 'every slot taken, reserved ones too (max_connections 6)',
      build: async (after) => {
        const held = await holdConnections(pool, 6);
        after(() => held.release());
        return { case: on(pool, { params: { sslmode: 'disable' } }) };
      },
    },
    {
      id: 'pg-tls-required',
      engine: 'postgres',
      cause: 'accepting/tls_required',
      description: 'a hostssl-only role connecting with sslmode=disable',
      build: async () => ({ case: on(main, { user: 'tlsonly', database: 'appdb', params: { sslmode: 'disable' } }) }),
    },
    {
      id: 'pg-tls-unsupported',
      engine: 'postgres',
      cause: 'accepting/tls_unsupported',
      description: 'sslmode=require against a server with ssl = off',
      build: async () => ({ case: on(plain, { params: { sslmode: 'require' } }) }),
    },
    {
      id: 'pg-tls-hostname-mismatch',
      engine: 'postgres',
      cause: 'accepting/tls_verify_failed',
      description: 'sslmode=verify-full: the certificate is for db.example, the client connects to 127.0.0.1',
      build: async () => ({ case: on(main, { database: 'appdb', params: { sslmode: 'verify-full', sslrootcert: cert.certFile } }) }),
    },
    {
      id: 'pg-tls-untrusted',
      engine: 'postgres',
      cause: 'accepting/tls_verify_failed',
      description: 'sslmode=verify-ca with a root certificate that did not sign the server’s (self-signed) certificate',
      build: async () => ({ case: on(main, { database: 'appdb', params: { sslmode: 'verify-ca', sslrootcert: stranger.certFile } }) }),
    },
    {
      id: 'pg-tls-protocol-version',
      engine: 'postgres',
      cause: 'accepting/tls_handshake_failed',
      description: 'client capped at TLS 1.2 (ssl_max_protocol_version), server requires TLS 1.3',
      clients: LIBPQ,
      build: async () => ({ case: on(main, { database: 'appdb', params: { sslmode: 'require', ssl_max_protocol_version: 'TLSv1.2' } }) }),
    },
    // Clients whose words for a closed connection do not show that it was being made: guesses (lib/pq's "EOF", node-postgres's "Connection terminated unexpectedly").
    peerFault('pg-http-server', 'accepting/wrong_protocol', 'an HTTP server on the port (sslmode=disable)', httpPeer, {
      'lib-pq': 'guesses accepting/wrong_protocol',
      'node-postgres': 'guesses accepting/wrong_protocol',
    }),
    peerFault('pg-silent-peer', 'accepting/no_response', 'a peer that accepts the TCP connection and never answers (client timeout 2-3 s)', silentPeer),
    peerFault('pg-hang-up', 'accepting/no_response', 'a peer that accepts the TCP connection and closes it at once', hangUpPeer, {
      'lib-pq': 'guesses accepting/no_response',
      'node-postgres': 'guesses accepting/no_response',
    }),
    peerFault('pg-reset', 'accepting/connection_reset', 'a peer that resets the connection (RST) on the first bytes', resetPeer),
    {
      id: 'pg-statement-timeout',
      engine: 'postgres',
      cause: 'queries/long_running',
      description: 'statement_timeout (200 ms) cancels pg_sleep(2)',
      build: async () => ({ case: on(plain, { params: { sslmode: 'disable' }, sql: ['SET statement_timeout = 200', 'SELECT pg_sleep(2)'] }) }),
    },
    {
      id: 'pg-lock-timeout',
      engine: 'postgres',
      cause: 'queries/blocked',
      description: 'lock_timeout (200 ms) while another session holds ACCESS EXCLUSIVE on the table',
      build: async (after) => {
        const holder = plain.client();
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
        after(() => holder.end());
        return { case: on(plain, { params: { sslmode: 'disable' }, sql: ['SET lock_timeout = 200', 'SELECT * FROM held'] }) };
      },
    },
    {
      id: 'pg-idle-in-transaction-timeout',
      engine: 'postgres',
      cause: 'pool/idle_in_transaction',
      // libpq 15 loses the server's FATAL and shows only the closed connection.
      readsAs: { psycopg2: 'guesses pool/idle_in_transaction', sqlalchemy: 'guesses pool/idle_in_transaction' },
      description: 'idle_in_transaction_session_timeout (200 ms) ends a session left idle in a transaction',
      build: async () => ({
        case: on(plain, {
          params: { sslmode: 'disable' },
          sql: ['SET idle_in_transaction_session_timeout = 200', 'BEGIN', 'SELECT 1', '@sleep 800', 'SELECT 1'],
        }),
      }),
    },
    {
      id: 'pg-starting-up',
      engine: 'postgres',
      cause: 'accepting/starting_up',
      description: 'a standby start whose restore_command blocks on a FIFO: the server stays "starting up"',
      build: async (after) => {
        const fifo = join(plain.root, 'restore.fifo');
        if (!existsSync(fifo)) execFileSync('runuser', ['-u', 'postgres', '--', 'mkfifo', fifo]);
        await standby({ hot_standby: 'on', restore_command: `'cat ${fifo} > /dev/null; false'` });
        after(primary);
        return { case: on(plain, { params: { sslmode: 'disable' } }) };
      },
    },
    {
      id: 'pg-recovery',
      engine: 'postgres',
      cause: 'accepting/recovery',
      description: 'a standby with hot_standby = off',
      build: async (after) => {
        await standby({ hot_standby: 'off' });
        after(primary);
        return { case: on(plain, { params: { sslmode: 'disable' } }) };
      },
    },
    {
      id: 'pg-read-only-standby',
      engine: 'postgres',
      cause: 'accepting/standby',
      description: 'a hot standby, with target_session_attrs=read-write (pgjdbc: targetServerType=primary)',
      clients: [...LIBPQ, 'pgjdbc', 'pgx', 'asyncpg'],
      build: async (after) => {
        await plain.stop('fast');
        plain.markStandby();
        plain.configure({ hot_standby: 'on' });
        await plain.start();
        after(primary);
        return { case: on(plain, { params: { sslmode: 'disable', target_session_attrs: 'read-write' } }) };
      },
    },
    {
      id: 'pg-shutting-down',
      engine: 'postgres',
      cause: 'accepting/shutting_down',
      description: 'a smart shutdown held open by one connected session',
      build: async (after) => {
        const session = plain.client();
        await session.connect();
        await plain.stop('smart', false);
        await pause(300);
        after(async () => {
          await session.end().catch(() => undefined);
          await plain.stop('fast');
          await plain.start();
        });
        return { case: on(plain, { params: { sslmode: 'disable' } }) };
      },
    },
  ];
}

/** PgBouncer (Debian's package) in front of a real cluster; the PostgreSQL clients connect through it. */
async function pgbouncerFaults(): Promise<Fault[]> {
  const cluster = await Cluster.create('explain-bouncer');
  teardown.push(() => cluster.destroy());
  await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${SECRET}'`);
  await cluster.sql('CREATE DATABASE appdb OWNER app');
  const through = async (
    after: (undo: () => Promise<unknown>) => void,
    options: { users?: Record<string, string>; settings?: Record<string, string | number>; databases?: Record<string, string> } = {},
  ): Promise<PgBouncer> => {
    // pgjdbc sends extra_float_digits, which PgBouncer refuses unless told to ignore it (as deployments for Java do).
    const bouncer = await PgBouncer.start(cluster, {
      users: { app: SECRET },
      ...options,
      settings: { ignore_startup_parameters: 'extra_float_digits', ...options.settings },
    });
    after(() => bouncer.stop());
    return bouncer;
  };
  const on = (bouncer: PgBouncer, c: Partial<Case> = {}): Case => ({
    host: bouncer.host,
    port: bouncer.port,
    user: 'app',
    password: SECRET,
    database: 'appdb',
    params: { sslmode: 'disable' },
    ...c,
  });
  return [
    {
      id: 'pgb-wrong-password',
      engine: 'postgres',
      cause: 'auth/pooler_auth',
      description: 'PgBouncer (auth_type scram-sha-256, auth_file) refuses a wrong password',
      build: async (after) => ({ case: on(await through(after), { password: `${SECRET}x` }) }),
    },
    {
      id: 'pgb-backend-auth',
      engine: 'postgres',
      cause: 'auth/pooler_backend_auth',
      description:
        'PgBouncer’s auth_file holds a stale password for app: the client logs in to PgBouncer with it, PgBouncer cannot log in to PostgreSQL with it (server_login_retry 1 s)',
      build: async (after) => ({
        case: on(await through(after, { users: { app: 'stale-Pa55' }, settings: { server_login_retry: 1 } }), {
          password: 'stale-Pa55',
          secrets: ['stale-Pa55'],
          sql: ['SELECT 1'],
        }),
      }),
    },
    {
      id: 'pgb-backend-down',
      engine: 'postgres',
      cause: 'accepting/pooler_backend_down',
      description:
        'PgBouncer’s [databases] entry points at a port where nothing listens (the database is down) and it never logged in there, so it cannot finish a client’s login; server_login_retry 1 s, client_login_timeout 1 s (60 s by default: a client with a shorter timeout sees only its own timeout)',
      build: async (after) => {
        const down = await freePort();
        const bouncer = await through(after, {
          databases: { appdb: `host=127.0.0.1 port=${down} dbname=appdb` },
          settings: { server_login_retry: 1, client_login_timeout: 1 },
        });
        return { case: on(bouncer, { sql: ['SELECT 1'] }) };
      },
    },
    {
      id: 'pgb-backend-gone',
      engine: 'postgres',
      cause: 'accepting/pooler_backend_down',
      description:
        'the database stops after PgBouncer had logged in to it: PgBouncer still logs clients in, and their query waits for a server connection until query_wait_timeout (1 s); server_login_retry 1 s',
      readsAs: {
        psycopg2: 'guesses accepting/pooler_backend_down',
        sqlalchemy: 'guesses accepting/pooler_backend_down',
        'lib-pq': 'guesses accepting/pooler_backend_down',
      },
      build: async (after) => {
        const bouncer = await through(after, { settings: { server_login_retry: 1, query_wait_timeout: 1 } });
        const warm = await holdPoolerClients(bouncer, 1, 'app', SECRET);
        await warm.clients[0]?.query('SELECT 1');
        await warm.release();
        await cluster.stop('fast');
        after(() => cluster.start());
        return { case: on(bouncer, { sql: ['SELECT 1'] }) };
      },
    },
    {
      id: 'pgb-backend-silent',
      engine: 'postgres',
      cause: 'accepting/pooler_backend_down',
      description:
        'PgBouncer’s [databases] entry points at a host that accepts TCP and never answers (a hung database): clients wait for a server connection until query_wait_timeout (1 s; server_connect_timeout is 15 s)',
      build: async (after) => {
        const hung = await silentPeer();
        after(() => hung.close());
        const bouncer = await through(after, { databases: { appdb: `host=127.0.0.1 port=${hung.port} dbname=appdb` }, settings: { query_wait_timeout: 1 } });
        return { case: on(bouncer, { sql: ['SELECT 1'] }) };
      },
    },
    {
      id: 'pgb-client-limit',
      engine: 'postgres',
      cause: 'pool/pooler_client_limit',
      description: 'max_client_conn 3 at PgBouncer, three clients connected',
      build: async (after) => {
        const bouncer = await through(after, { settings: { max_client_conn: 3 } });
        const held = await holdPoolerClients(bouncer, 3, 'app', SECRET);
        after(() => held.release());
        return { case: on(bouncer) };
      },
    },
    {
      id: 'pgb-pool-exhausted',
      engine: 'postgres',
      cause: 'pool/pooler_pool_exhausted',
      description: 'default_pool_size 1 (transaction mode), its server connection held in an open transaction; query_wait_timeout 1 s',
      readsAs: {
        psycopg2: 'guesses pool/pooler_pool_exhausted',
        sqlalchemy: 'guesses pool/pooler_pool_exhausted',
        'lib-pq': 'guesses pool/pooler_pool_exhausted',
      },
      build: async (after) => {
        const bouncer = await through(after, { settings: { default_pool_size: 1, query_wait_timeout: 1 } });
        const held = await holdPoolerClients(bouncer, 1, 'app', SECRET);
        await held.clients[0]?.query('BEGIN; SELECT 1');
        after(() => held.release());
        return { case: on(bouncer, { sql: ['SELECT 1'] }) };
      },
    },
    {
      id: 'pgb-no-such-database',
      engine: 'postgres',
      cause: 'auth/database_missing',
      description: 'a database PgBouncer has no [databases] entry for (and no "*" fallback)',
      build: async (after) => ({ case: on(await through(after), { database: 'nowhere' }) }),
    },
    {
      id: 'pgb-tls-required',
      engine: 'postgres',
      cause: 'accepting/tls_required',
      description: 'PgBouncer with client_tls_sslmode = require (a self-signed certificate); the client connects with sslmode=disable',
      build: async (after) => {
        const cert = await selfSignedCertificate('pgbouncer.example');
        const bouncer = await through(after, {
          settings: { client_tls_sslmode: 'require', client_tls_cert_file: cert.certFile, client_tls_key_file: cert.keyFile },
        });
        return { case: on(bouncer) };
      },
    },
    {
      id: 'pgb-disabled',
      engine: 'postgres',
      cause: 'accepting/pooler_paused',
      description: "an operator ran DISABLE appdb on PgBouncer's console: new clients of that database are rejected",
      build: async (after) => {
        const bouncer = await through(after);
        await bouncer.admin('DISABLE appdb');
        return { case: on(bouncer) };
      },
    },
  ];
}

/** A real FerretDB (SCRAM authentication on, the admin user set up) on a free port. */
async function mongodbFaults(): Promise<Fault[]> {
  const server = await Ferret.start({ adminPassword: SECRET });
  teardown.push(() => server.destroy());
  const on = (c: Partial<Case> = {}): Case => ({ host: server.host, port: server.port, user: ADMIN_USER, password: SECRET, ...c });
  return [
    {
      id: 'mongo-wrong-password',
      engine: 'mongodb',
      cause: 'auth/auth_failed',
      description: 'wrong password for the admin user (SCRAM-SHA-256, FerretDB answers AuthenticationFailed, code 18)',
      build: async () => ({ case: on({ password: `${SECRET}x` }) }),
    },
    {
      id: 'mongo-auth-mechanism',
      engine: 'mongodb',
      cause: 'auth/auth_mechanism',
      description: 'authMechanism=PLAIN, a mechanism FerretDB does not support',
      build: async () => ({ case: on({ params: { authMechanism: 'PLAIN' } }) }),
    },
    {
      id: 'mongo-no-credentials',
      engine: 'mongodb',
      cause: 'auth/password_missing',
      description: 'no credentials; the server requires authentication (listDatabases; ping needs no login)',
      build: async () => ({ case: on({ user: undefined, password: undefined, command: 'listDatabases' }) }),
    },
    {
      id: 'mongo-replica-set-mismatch',
      engine: 'mongodb',
      cause: 'accepting/replica_set_mismatch',
      description: 'replicaSet=rs0 (directConnection=false) against a standalone server',
      build: async () => ({ case: on({ params: { directConnection: 'false', replicaSet: 'rs0' } }) }),
    },
  ];
}

/** One real Apache Cassandra 5 node (PasswordAuthenticator; test/lab/cassandra.ts), started once. */
async function cassandraFaults(): Promise<Fault[]> {
  const node = await CassandraNode.create();
  teardown.push(() => node.stop());
  // The lab's ordinary role (not the superuser, whose password "cassandra" cannot be told from the word); it may read both keyspaces.
  await node.cql(`GRANT SELECT ON KEYSPACE ${KEYSPACES.overReplicated} TO ${APP.user}`);
  const on = (c: Partial<Case> = {}): Case => ({
    host: '127.0.0.1',
    port: node.port,
    user: APP.user,
    password: APP.password,
    secrets: [APP.password, NOLOGIN.password],
    timeoutMs: 5000,
    ...c,
  });
  return [
    {
      id: 'cql-wrong-password',
      engine: 'cassandra',
      cause: 'auth/auth_failed',
      description: 'wrong password for an existing role (PasswordAuthenticator)',
      build: async () => ({ case: on({ password: SECRET }) }),
    },
    {
      id: 'cql-no-credentials',
      engine: 'cassandra',
      cause: 'auth/password_missing',
      description: 'no credentials for a node with PasswordAuthenticator',
      build: async () => ({ case: on({ user: undefined, password: undefined }) }),
    },
    {
      id: 'cql-role-nologin',
      engine: 'cassandra',
      cause: 'auth/permission_denied',
      description: 'a role with LOGIN = false, its right password',
      build: async () => ({ case: on({ user: NOLOGIN.user, password: NOLOGIN.password }) }),
    },
    {
      id: 'cql-missing-keyspace',
      engine: 'cassandra',
      cause: 'auth/database_missing',
      description: 'a keyspace that does not exist',
      build: async () => ({ case: on({ keyspace: 'no_such_keyspace' }) }),
    },
    {
      id: 'cql-protocol-v2',
      engine: 'cassandra',
      cause: 'accepting/protocol_version',
      description: 'protocol version 2, which Cassandra 5 no longer speaks',
      clients: ['cassandra-python', 'cassandra-node', 'gocql'],
      build: async () => ({ case: on({ protocolVersion: 2 }) }),
    },
    {
      id: 'cql-protocol-v6',
      engine: 'cassandra',
      cause: 'accepting/protocol_version',
      description: 'protocol version 6 (beta), which Cassandra 5 does not offer without allow_beta',
      build: async () => ({ case: on({ protocolVersion: 6 }) }),
    },
    {
      id: 'cql-wrong-dc',
      engine: 'cassandra',
      cause: 'network/local_dc_mismatch',
      description: `local data centre "dc-east"; the node is in "${DC}"`,
      build: async () => ({ case: on({ dc: 'dc-east', cql: 'SELECT release_version FROM system.local' }) }),
    },
    {
      id: 'cql-unavailable',
      engine: 'cassandra',
      cause: 'queries/unavailable',
      description: `a read at LOCAL_QUORUM of keyspace ${KEYSPACES.overReplicated} (RF 3 on a one-node data centre: 2 replicas required, 1 alive)`,
      build: async () => ({ case: on({ cql: `SELECT * FROM ${KEYSPACES.overReplicated}.items`, consistency: 'LOCAL_QUORUM' }) }),
    },
  ];
}

/** Faults that need no server: the same for every engine. */
async function networkFaults(engine: Engine): Promise<Fault[]> {
  const port = DEFAULT_PORT[engine];
  const base = { user: 'app', password: SECRET, database: 'appdb', params: engine === 'postgres' ? { sslmode: 'disable' } : undefined };
  const isolated = async (options: { dns: boolean }, after: (undo: () => Promise<unknown>) => void): Promise<IsolatedHost> => {
    const host = await IsolatedHost.create();
    after(() => host.destroy());
    if (options.dns) await host.startDns({ 'flaky.lab': 'SERVFAIL' });
    return host;
  };
  const faults: Fault[] = [
    {
      id: 'net-refused',
      engine,
      cause: 'process/not_running',
      description: 'nothing listens on the port: connection refused',
      build: async () => ({ case: { ...base, host: '127.0.0.1', port: await freePort() } }),
    },
    {
      id: 'net-dns-nxdomain',
      engine,
      cause: 'network/dns_not_found',
      description: `the name "${engine}.lab" does not exist (the lab's DNS server answers NXDOMAIN), in an isolated host`,
      build: async (after) => ({ case: { ...base, host: `${engine}.lab`, port }, prefix: (await isolated({ dns: true }, after)).prefix }),
    },
    {
      id: 'net-dns-servfail',
      engine,
      cause: 'network/dns_temporary',
      description: 'the resolver answers SERVFAIL for "flaky.lab", in an isolated host',
      build: async (after) => ({ case: { ...base, host: 'flaky.lab', port }, prefix: (await isolated({ dns: true }, after)).prefix }),
    },
    {
      id: 'net-dns-resolver-down',
      engine,
      cause: 'network/dns_temporary',
      description: `no resolver answers (nameserver 127.0.0.53, nothing listens), name "${engine}"`,
      build: async (after) => ({ case: { ...base, host: engine, port }, prefix: (await isolated({ dns: false }, after)).prefix }),
    },
    {
      id: 'net-black-hole',
      engine,
      cause: 'network/connect_timeout',
      description: `${BLACK_HOLE}: packets are dropped silently (client timeout 3 s), in an isolated host`,
      build: async (after) => ({ case: { ...base, host: BLACK_HOLE, port }, prefix: (await isolated({ dns: false }, after)).prefix }),
    },
    {
      id: 'net-no-route',
      engine,
      cause: 'network/host_unreachable',
      description: `${UNREACHABLE}: an "unreachable" route (EHOSTUNREACH), in an isolated host`,
      build: async (after) => ({ case: { ...base, host: UNREACHABLE, port }, prefix: (await isolated({ dns: false }, after)).prefix }),
    },
  ];
  if (engine !== 'postgres') {
    faults.push({
      id: 'net-tls-self-signed',
      engine,
      cause: 'accepting/tls_verify_failed',
      description: 'TLS turned on in the client; the endpoint’s certificate is self-signed and not trusted',
      build: async (after) => {
        const certificate = await selfSignedCertificate('localhost');
        const peer = await tlsOnlyPeer(certificate.certFile, certificate.keyFile);
        after(() => peer.close());
        return { case: { ...base, host: 'localhost', port: peer.port, tls: true } };
      },
    });
  }
  return faults;
}

function run(argv: readonly string[], prefix: readonly string[]): Promise<string> {
  const [command, ...args] = [...prefix, ...argv];
  return new Promise((resolve) => {
    execFile(
      command ?? 'false',
      args,
      { timeout: 30_000, env: { ...process.env, HOME: TOOLS, LC_ALL: 'C.UTF-8', PGPASSWORD: '', NO_COLOR: '1' } },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}

function redact(text: string, others: readonly string[] = []): string {
  let redacted = text;
  for (const secret of [SECRET, ...others]) redacted = redacted.split(secret).join('****').split(encodeURIComponent(secret)).join('****');
  return redacted;
}

async function capture(fault: Fault, when: string): Promise<void> {
  const undo: (() => Promise<unknown>)[] = [];
  try {
    await captureBuilt(fault, await fault.build((step) => undo.push(step)), when);
  } finally {
    for (const step of undo.reverse()) await step().catch((error: unknown) => console.log(`  cleanup failed: ${String(error)}`));
  }
}

async function captureBuilt(fault: Fault, built: { readonly case: Case; readonly prefix?: readonly string[] }, when: string): Promise<void> {
  const clients = Object.entries(CLIENTS).filter(([id, client]) => client.engine === fault.engine && (!fault.clients || fault.clients.includes(id)));
  await Promise.all(
    clients.map(async ([id, client]) => {
      const output = redact((await run(client.argv(built.case), built.prefix ?? [])).trim(), built.case.secrets);
      const file = join(CORPUS, fault.engine, id, `${fault.id}.txt`);
      if (output === '' || /^connected$/m.test(output)) {
        console.log(`  ${fault.id} ${id}: no error (${output.slice(0, 60) || 'no output'}), not saved`);
        return;
      }
      const c = built.case;
      // The user and database (a Cassandra keyspace) only where the fault gives them; the network faults name neither.
      const named = !fault.id.startsWith('net-');
      const database = fault.engine === 'postgres' ? c.database : fault.engine === 'cassandra' ? c.keyspace : undefined;
      const fields = [
        `host=${c.host}`,
        `port=${c.port}`,
        ...(c.user && (named || fault.engine === 'postgres') ? [`user=${c.user}`] : []),
        ...(database && (named || fault.engine === 'postgres') ? [`database=${database}`] : []),
      ];
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(
        file,
        [
          `client: ${client.version}`,
          `engine: ${fault.engine}`,
          `fault: ${fault.description}`,
          `cause: ${fault.cause}`,
          ...(fault.readsAs?.[id] ? [`reads-as: ${fault.readsAs[id]}`] : []),
          `fields: ${fields.join(' ')}`,
          `captured: ${when} by test/explain/capture/capture.ts${built.prefix ? ', inside an isolated host (network namespace)' : ''}; password replaced by ****`,
          '----',
          output,
          '',
        ].join('\n'),
      );
      console.log(
        `  ${fault.id} ${id}: ${
          output
            .split('\n')
            .find((line) => /error|exception|fail|refused|timeout/i.test(line))
            ?.slice(0, 100) ?? output.slice(0, 100)
        }`,
      );
    }),
  );
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const when = new Date().toISOString().slice(0, 10);
  copyFileSync(join(HERE, 'node', 'clients.mjs'), join(TOOLS, 'node', 'clients.mjs'));
  try {
    const wanted = (id: string, engine: Engine): boolean => only.length === 0 || only.some((prefix) => id.startsWith(prefix) || engine === prefix);
    // Each group's servers start only when one of its faults is wanted (Cassandra takes ~15 s).
    const groups: [string, Engine, () => Promise<Fault[]>][] = [
      ['net-', 'postgres', () => networkFaults('postgres')],
      ['net-', 'mongodb', () => networkFaults('mongodb')],
      ['net-', 'cassandra', () => networkFaults('cassandra')],
      ['pg-', 'postgres', postgresFaults],
      ['pgb-', 'postgres', pgbouncerFaults],
      ['mongo-', 'mongodb', mongodbFaults],
      ['cql-', 'cassandra', cassandraFaults],
    ];
    const faults: Fault[] = [];
    for (const [prefix, engine, build] of groups)
      if (only.length === 0 || only.some((want) => want.startsWith(prefix) || prefix.startsWith(want) || want === engine)) faults.push(...(await build()));
    for (const fault of faults.filter((candidate) => wanted(candidate.id, candidate.engine))) {
      console.log(`${fault.engine} ${fault.id} (${fault.cause})`);
      await capture(fault, when);
    }
  } finally {
    for (const step of teardown.reverse()) await step().catch(() => undefined);
  }
}

await main();
