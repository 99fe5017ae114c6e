import fc from 'fast-check';
import { join } from 'node:path';
import { resolveCassandraTarget, type CassandraTarget } from '../../src/config/cassandra/target.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { configMismatches } from '../../src/config/postgres/mismatches.js';
import { resolveMongoTarget, type MongoTarget } from '../../src/config/mongodb/target.js';
import { resolvePostgresTarget, type PostgresTarget } from '../../src/config/postgres/target.js';
import type { CauseCode } from '../../src/engine/causes.js';
import type { Remediation } from '../../src/engine/schema.js';
import type { PlatformInfo } from '../../src/host/platform.js';
import type { Suggestion } from '../../src/host/names.js';
import { networkRemedies as sharedNetworkRemedies } from '../../src/probes/common/network.js';
import { platformFixes } from '../../src/probes/common/platform.js';
import { localhostInContainerRemedies } from '../../src/probes/common/refusal.js';
import { postgresWords } from '../../src/probes/postgres/words.js';
import { processRemedies as pgProcess } from '../../src/probes/postgres/steps/process.js';
import { acceptingRemedies as pgAccepting } from '../../src/probes/postgres/steps/accepting.js';
import { authRemedies as pgAuth } from '../../src/probes/postgres/steps/auth.js';
import { poolRemedies as pgPool } from '../../src/probes/postgres/steps/pool.js';
import { queriesRemedies as pgQueries } from '../../src/probes/postgres/steps/queries.js';
import { poolerAcceptingRemedies } from '../../src/probes/postgres/pooler/accepting.js';
import { poolerAuthRemedies } from '../../src/probes/postgres/pooler/auth.js';
import { poolerPoolRemedies } from '../../src/probes/postgres/pooler/pool.js';
import type { PoolerView } from '../../src/probes/postgres/pooler/view.js';
import { mongoWords } from '../../src/probes/mongodb/words.js';
import { processRemedies as mongoProcess } from '../../src/probes/mongodb/steps/process.js';
import { acceptingRemedies as mongoAccepting } from '../../src/probes/mongodb/steps/accepting.js';
import { networkRemedies as mongoNetwork } from '../../src/probes/mongodb/steps/network.js';
import { poolRemedies as mongoPool } from '../../src/probes/mongodb/steps/pool.js';
import { authRemedies as mongoAuth } from '../../src/probes/mongodb/steps/auth.js';
import { queriesRemedies as mongoQueries } from '../../src/probes/mongodb/steps/queries.js';
import { cassandraWords } from '../../src/probes/cassandra/words.js';
import { processRemedies as cqlProcess } from '../../src/probes/cassandra/steps/process.js';
import { acceptingRemedies as cqlAccepting } from '../../src/probes/cassandra/steps/accepting.js';
import { networkRemedies as cqlNetwork } from '../../src/probes/cassandra/steps/network.js';
import { poolRemedies as cqlPool } from '../../src/probes/cassandra/steps/pool.js';
import { authRemedies as cqlAuth } from '../../src/probes/cassandra/steps/auth.js';
import { queriesRemedies as cqlQueries } from '../../src/probes/cassandra/steps/queries.js';
import type { CqlContext } from '../../src/probes/cassandra/context.js';
import { printableFix } from '../../src/text/bound.js';
import { urlHost, urlPart } from '../../src/text/url.js';

/**
 * Every remedy of every cause, built from a set of values: once from plain placeholders, once from
 * hostile values (test/unit/hostile-remedies.test.ts compares the two; the PostgreSQL quoting test
 * sends the hostile SQL to a real server). Targets come through the real parsers (a libpq keyword
 * string, MongoDB and Cassandra URLs); the rest of a remedy's input is what a server or the
 * environment would supply.
 */
// ---------------------------------------------------------------- values

/** What an attacker (or an unlucky operator) puts in a value. */
export const ATTACKS = [
  '$(touch SENTINEL)',
  '`touch SENTINEL`',
  "'; touch SENTINEL; '",
  '"; touch SENTINEL; "',
  '| touch SENTINEL',
  '& touch SENTINEL &',
  '&& touch SENTINEL',
  '\ntouch SENTINEL\n',
  '\r\ntouch SENTINEL',
  '>SENTINEL',
  '<(touch SENTINEL)',
  "$'\\x27'",
  '${IFS}',
  '$HOME',
  '!!',
  '{a,b}',
  '*',
  '?',
  '~root',
  '#x',
  '-e',
  '--help',
  "x'y",
  'x"y',
  'x\\y',
  "''",
  '""',
  '\\',
  '%27%3B%00',
  '%2F',
  '\u001b]52;c;dG91Y2ggU0VOVElORUw=\u0007',
  '\u001b[2J\u001b[H',
  '\u001b[31mred',
  '\u009b31m',
  '\u202egnp.exe',
  '\u200b',
  '\ufeff',
  '\u2028',
  'café',
  '数据库',
  ';',
  '--',
  'DROP ROLE x; --',
  "'); DROP TABLE t; --",
  '"; db.dropDatabase(); "',
  '}); db.x({',
  'all',
  'user',
  'select',
  'replication',
  '+group',
  '@file',
  '/regex',
  'true',
  'null',
  'yes',
  '0',
  '1e3',
];

/** Any text but a NUL byte (which no client can send, and dbdoctor refuses as input). */
export const hostileText = fc
  .oneof(
    fc.constantFrom(...ATTACKS),
    fc.array(fc.constantFrom(...ATTACKS, 'a', 'Z', '9', ' ', '.', '-', '_'), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')),
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    fc.constant('x'.repeat(3000)),
  )
  // eslint-disable-next-line no-control-regex
  .map((value) => value.replace(/\u0000/g, '') || 'x');

/** A host that is valid (anything else is refused as input) but as odd as names get. */
const host = fc.constantFrom(
  'db.example.com',
  'db_1',
  'dbé.example',
  'xn--db-jla.example',
  'db.example.com.',
  'fe80::1%eth0',
  '2001:db8::1',
  '10.0.0.5',
  '数据库',
  'a-b_c',
);
/** A socket directory: any absolute path (without "," which separates hosts in a libpq host list). */
const socketDir = hostileText.map((value) => `/tmp/${value.replace(/[/,]/g, '_').slice(0, 40).trim() || 'x'}`);

export interface Values {
  readonly user: string;
  readonly database: string;
  readonly host: string;
  readonly socketDir: string;
  readonly passfileName: string;
  /** A user in PgBouncer's admin_users (a comma-separated list, each name trimmed). */
  readonly adminUser: string;
  /** Words a server or the environment supplied: names, paths, messages. */
  readonly said: readonly [string, string, string, string];
}

export const hostileValues: fc.Arbitrary<Values> = fc.record({
  user: hostileText,
  database: hostileText,
  host,
  socketDir,
  // A file name: no "/", and short enough for the file system (NAME_MAX: 255 bytes).
  passfileName: hostileText.map((value) => value.replace(/\//g, '_').slice(0, 100)).filter((name) => name !== '.' && name !== '..'),
  adminUser: hostileText.map((value) => value.replace(/,/g, '').trim()).filter((name) => name !== ''),
  said: fc.tuple(hostileText, hostileText, hostileText, hostileText),
});

/** The plain values: every one a placeholder that each language writes its own way. */
export const PLAIN: Values = {
  user: 'Zq0Uq',
  database: 'Zq1Dq',
  host: 'Zq2Hq',
  socketDir: '/tmp/Zq3Sq',
  passfileName: 'Zq4Pq',
  adminUser: 'Zq9Mq',
  said: ['Zq5Aq', 'Zq6Bq', 'Zq7Cq', 'Zq8Eq'],
};

export function pairs(values: Values): [string, string][] {
  return [
    [PLAIN.user, values.user],
    [PLAIN.database, values.database],
    [PLAIN.host, values.host],
    [PLAIN.socketDir, values.socketDir],
    [PLAIN.passfileName, values.passfileName],
    [PLAIN.adminUser, values.adminUser],
    ...PLAIN.said.map((placeholder, index): [string, string] => [placeholder, values.said[index] ?? '']),
  ];
}

// ---------------------------------------------------------------- targets, through the real parsers

const libpqQuoted = (value: string): string => `'${value.replace(/[\\']/g, '\\$&')}'`;

async function postgresTargets(values: Values, sandbox: string): Promise<{ tcp: PostgresTarget; socket: PostgresTarget; hostaddr: PostgresTarget }> {
  const env = buildEnvironment({ HOME: sandbox, PGPASSFILE: join(sandbox, values.passfileName) });
  const keywords = `port=5432 user=${libpqQuoted(values.user)} dbname=${libpqQuoted(values.database)}`;
  return {
    tcp: await resolvePostgresTarget({ text: `host=${libpqQuoted(values.host)} ${keywords}`, source: 'url' }, env),
    socket: await resolvePostgresTarget({ text: `host=${libpqQuoted(values.socketDir)} ${keywords}`, source: 'url' }, env),
    // libpq's hostaddr: the address connected to, the host naming the server.
    // and a verifying sslmode with its root certificate, which printed commands and URLs keep.
    hostaddr: await resolvePostgresTarget(
      { text: `host=${libpqQuoted(values.host)} hostaddr=10.0.0.5 sslmode=verify-ca sslrootcert=${libpqQuoted(values.socketDir)} ${keywords}`, source: 'url' },
      env,
    ),
  };
}

async function mongoTarget(values: Values): Promise<MongoTarget> {
  const bracketed = values.host.includes(':') ? `[${values.host.replace(/%/g, '%25')}]` : urlPart(values.host);
  return resolveMongoTarget({
    text: `mongodb://${urlPart(values.user)}@${bracketed}:27017/${urlPart(values.database)}?replicaSet=${urlPart(values.said[0])}&authSource=${urlPart(values.said[1])}`,
    source: 'url',
  });
}

function cassandraTarget(values: Values): CassandraTarget {
  return resolveCassandraTarget(
    { text: `cassandra://${urlPart(values.user)}@${urlHost(values.host)}:9042/${urlPart(values.database)}?dc=${urlPart(values.said[0])}`, source: 'url' },
    buildEnvironment({}),
  );
}

// ---------------------------------------------------------------- every cause, every platform

const PLATFORMS: readonly PlatformInfo[] = [
  { platform: 'host', chosen: 'detected', inContainer: false, signals: [] },
  { platform: 'systemd', chosen: 'detected', inContainer: false, signals: [] },
  { platform: 'kubernetes', chosen: 'detected', inContainer: true, kubernetesNamespace: 'ZqANq', signals: [] },
  { platform: 'compose', chosen: 'detected', inContainer: true, composeFile: 'compose.yaml', signals: [] },
  // A Mac (issue 21): Homebrew and Postgres.app fixes, lsof and dscacheutil, all POSIX shell.
  { platform: 'macos', os: 'macos', chosen: 'flag', inContainer: false, signals: [] },
];

export interface Case {
  readonly engine: 'postgres' | 'mongodb' | 'cassandra';
  readonly cause: CauseCode | 'config_mismatch';
  readonly fixes: readonly Remediation[];
}

/** `namespace` replaces the Kubernetes placeholder namespace in the platform. */
function platformsWith(namespace: string): PlatformInfo[] {
  return PLATFORMS.map((platform) => (platform.kubernetesNamespace ? { ...platform, kubernetesNamespace: namespace } : platform));
}

function suggestionsFrom(name: string): Suggestion[] {
  return [{ name, origin: 'compose.yaml service', kind: 'compose-service', port: 5432, publishedPort: 15432, score: 1 }];
}

export async function cases(values: Values, sandbox: string): Promise<Case[]> {
  const [said0, said1, said2, said3] = values.said;
  const { tcp, socket, hostaddr } = await postgresTargets(values, sandbox);
  const mongo = await mongoTarget(values);
  const cql = cassandraTarget(values);
  const out: Case[] = [];
  // As printed: every finding's commands pass the same rule (text/bound: printableFix).
  const add = (engine: Case['engine'], cause: Case['cause'], fixes: readonly Remediation[]): void =>
    void out.push({ engine, cause, fixes: fixes.map(printableFix) });
  const platforms = platformsWith(said2);
  const known = suggestionsFrom(values.host);

  // Shared by every engine: the network step and the platform fixes, in each engine's words.
  for (const [engine, words, port] of [
    ['postgres', postgresWords(tcp), 5432],
    ['mongodb', mongoWords(mongo), 27017],
    ['cassandra', cassandraWords(cql), 9042],
  ] as const) {
    for (const platform of platforms) {
      add(engine, 'dns_not_found', [
        ...sharedNetworkRemedies.dns_not_found(values.host, said0, known, words, port),
        ...platformFixes('dns_not_found', platform, words, { host: values.host, port, suggestions: known }),
      ]);
      add(engine, 'dns_temporary', [
        ...sharedNetworkRemedies.dns_temporary(values.host),
        ...platformFixes('dns_temporary', platform, words, { host: values.host, port }),
      ]);
      add(engine, 'connect_timeout', [
        ...sharedNetworkRemedies.connect_timeout(values.host, port),
        ...platformFixes('connect_timeout', platform, words, { host: values.host, port }),
      ]);
      add(engine, 'localhost_in_container', localhostInContainerRemedies(words, platform, known, port));
      add(engine, 'starting_up', platformFixes('starting_up', platform, words, { host: values.host, port }));
    }
    add(
      engine,
      'host_unreachable',
      sharedNetworkRemedies.host_unreachable(values.host, { text: 'again', command: words.readyCheck(values.host, port), language: 'shell' }),
    );
    add(
      engine,
      'firewall_rejected',
      sharedNetworkRemedies.firewall_rejected(port, { text: 'again', command: words.readyCheck(values.host, port), language: 'shell' }),
    );
    add(engine, 'ipv6_mismatch', sharedNetworkRemedies.ipv6_mismatch(values.host, '::1', '127.0.0.1', words, port));
    // The same network causes in macOS's commands (dscacheutil, scutil, nc -G, route, pfctl).
    add(engine, 'dns_not_found', sharedNetworkRemedies.dns_not_found(values.host, said0, known, words, port, 'macos'));
    add(engine, 'dns_temporary', sharedNetworkRemedies.dns_temporary(values.host, undefined, 'macos'));
    add(engine, 'connect_timeout', sharedNetworkRemedies.connect_timeout(values.host, port, 'macos'));
    add(
      engine,
      'host_unreachable',
      sharedNetworkRemedies.host_unreachable(values.host, { text: 'again', command: words.readyCheck(values.host, port), language: 'shell' }, 'macos'),
    );
    add(
      engine,
      'firewall_rejected',
      sharedNetworkRemedies.firewall_rejected(port, { text: 'again', command: words.readyCheck(values.host, port), language: 'shell' }, 'macos'),
    );
  }

  // PostgreSQL, over TCP, over a socket directory, and to a hostaddr.
  for (const target of [tcp, socket, hostaddr]) {
    for (const platform of platforms) {
      add('postgres', 'not_running', pgProcess.not_running(target, false, platform));
      add('postgres', 'not_running', pgProcess.not_running(target, true, platform));
      add('postgres', 'starting_up', pgAccepting.starting_up(target, platform));
    }
    add('postgres', 'wrong_port', pgProcess.wrong_port(target, [5433]));
    add('postgres', 'connection_reset', pgAccepting.connection_reset(target));
    add('postgres', 'shutting_down', pgAccepting.shutting_down(target));
    add('postgres', 'recovery', pgAccepting.recovery(target));
    add('postgres', 'not_accepting', pgAccepting.not_accepting());
    add(
      'postgres',
      'not_listening',
      pgAccepting.not_listening(target, { cause: 'not_listening', attempted: said0, listening: [`${values.socketDir}/.s.PGSQL.5433`, said1], servers: [] }),
    );
    add('postgres', 'no_response', pgAccepting.no_response(target, true));
    add('postgres', 'wrong_protocol', pgAccepting.wrong_protocol(target, said0));
    add('postgres', 'tls_required', pgAccepting.tls_required(target));
    add('postgres', 'tls_unsupported', pgAccepting.tls_unsupported(target));
    for (const problem of ['expired', 'hostname_mismatch', 'untrusted'])
      add('postgres', 'tls_verify_failed', pgAccepting.tls_verify_failed(target, problem, said0));
    add('postgres', 'tls_handshake_failed', pgAccepting.tls_handshake_failed());
    add('postgres', 'standby', pgAccepting.standby(target));
    // Issue 14's standby fixes name the primary the standby reports (a server's value that is no host name is left out of commands, a different branch).
    for (const host of [values.host]) {
      const primary = { host, port: 5433, from: 'primary_conninfo' as const };
      add('postgres', 'standby', pgAccepting.standby(target, primary, 'nothing'));
      add('postgres', 'standby', pgAccepting.standby(target, primary, 'primary'));
      add('postgres', 'replication_stopped', pgAccepting.replication_stopped(target, primary));
    }
    add('postgres', 'replication_stopped', pgAccepting.replication_stopped(target));
    for (const paused of [false, true]) add('postgres', 'replication_lag', pgAccepting.replication_lag(target, paused));
    for (const kind of ['primary', 'read-only primary'] as const) add('postgres', 'role_mismatch', pgAccepting.role_mismatch(target, kind));
    for (const address of ['127.0.0.1', '::1', '[local]', said0]) {
      for (const explicitReject of [false, true])
        add('postgres', 'hba_rejected', pgAuth.hba_rejected(target, { host: address, user: said1, database: said2, encryption: said3, explicitReject }));
    }
    add('postgres', 'hba_rejected', pgAuth.hba_rejected(target, undefined));
    for (const method of ['peer', undefined]) add('postgres', 'auth_failed', pgAuth.auth_failed(target, method));
    add('postgres', 'role_missing', pgAuth.role_missing(target));
    add('postgres', 'database_missing', pgAuth.database_missing(target));
    add('postgres', 'password_missing', pgAuth.password_missing(target));
    add(
      'postgres',
      'password_missing',
      pgAuth.password_missing({ ...target, passfile: { state: 'ignored-permissions', path: join(sandbox, values.passfileName), mode: '0644' } }),
    );
    for (const cannotLogin of [true, false]) add('postgres', 'permission_denied', pgAuth.permission_denied(target, cannotLogin));
    for (const kind of ['server', 'role', 'database'] as const) add('postgres', 'too_many_connections', pgPool.too_many_connections(kind));
    for (const kind of ['role', 'database'] as const) add('postgres', 'too_many_connections', pgPool.too_many_connections(kind, 1500, said1));
    add('postgres', 'near_limit', pgPool.near_limit());
    // Pids are what a server reported: numbers by type, anything at run time.
    add('postgres', 'idle_in_transaction', pgPool.idle_in_transaction([42, said0 as unknown as number]));
    add('postgres', 'idle_connections', pgPool.idle_connections());
    add('postgres', 'long_running', pgQueries.long_running([42, said0 as unknown as number]));
    add('postgres', 'blocked', pgQueries.blocked({ running: [43, said0 as unknown as number], idle: [42], hidden: [] }));
    add(
      'postgres',
      'blocked',
      pgQueries.blocked({
        running: [],
        idle: [],
        hidden: [
          { pid: 44, user: said1 },
          { pid: said0 as unknown as number, user: null },
        ],
      }),
    );
    add('postgres', 'idle_in_transaction', pgPool.idle_in_transaction([42], [43, said0]));
    // PgBouncer: names from its console (admin_users, auth_file, the database's address).
    const view: PoolerView = {
      name: said3,
      signs: [],
      admin: {
        state: 'read',
        console: {
          version: said3,
          config: { admin_users: `${values.adminUser}, other`, auth_file: said1 },
          databases: [],
          pools: [],
          servers: [],
          stats: [],
          lists: {},
          unanswered: [],
        },
      },
      backend: { host: values.host, port: 5432, database: said2, transport: 'tcp' },
    };
    const unread: PoolerView = { name: 'PgBouncer', signs: [], admin: { state: 'not-tried', reason: said0 } };
    for (const pooler of [view, unread]) {
      add('postgres', 'pooler_backend_down', poolerAcceptingRemedies.pooler_backend_down(target, pooler));
      for (const disabled of [true, false]) add('postgres', 'pooler_paused', poolerAcceptingRemedies.pooler_paused(target, pooler, disabled));
      add('postgres', 'pooler_auth', poolerAuthRemedies.pooler_auth(target, pooler));
      for (const hba of [true, false]) add('postgres', 'pooler_backend_auth', poolerAuthRemedies.pooler_backend_auth(target, pooler, hba));
      add('postgres', 'database_missing', poolerAuthRemedies.database_missing(target, pooler));
      add('postgres', 'pooler_client_limit', poolerPoolRemedies.pooler_client_limit(target, pooler));
      for (const limit of ['pool_size', undefined] as const)
        add('postgres', 'pooler_pool_exhausted', poolerPoolRemedies.pooler_pool_exhausted(target, pooler, limit));
      for (const what of ['servers', 'clients'] as const) add('postgres', 'near_limit', poolerPoolRemedies.near_limit(target, pooler, what));
      add('postgres', 'pooler_session_state', poolerPoolRemedies.pooler_session_state(target, pooler, [42, said0 as unknown as number]));
    }
  }
  // A setting in the environment naming another host (config_mismatch's own fix).
  for (const hint of configMismatches(buildEnvironment({ POSTGRES_HOST: values.host }), tcp)) add('postgres', 'config_mismatch', hint.finding.remediation);

  // MongoDB.
  for (const platform of platforms) {
    for (const remote of [true, false]) add('mongodb', 'not_running', mongoProcess.not_running(mongo, remote, platform));
  }
  add('mongodb', 'wrong_port', mongoProcess.wrong_port(mongo, 27018));
  add('mongodb', 'not_listening', mongoAccepting.not_listening([said0, said1], said2));
  add('mongodb', 'not_listening', mongoAccepting.not_listening([said0, said1], `/${said2}/mongodb-27017.sock`));
  add('mongodb', 'no_response', mongoAccepting.no_response(mongo, true, 27017));
  add('mongodb', 'connection_reset', mongoAccepting.connection_reset(27017));
  for (const primary of [`${values.host.includes(':') ? `[${values.host}]` : values.host}:27018`, said0])
    add('mongodb', 'replication_stopped', mongoAccepting.replication_stopped(mongo, primary));
  add('mongodb', 'replication_stopped', mongoAccepting.replication_stopped(mongo));
  add('mongodb', 'replication_lag', mongoAccepting.replication_lag(mongo));
  add('mongodb', 'wrong_protocol', mongoAccepting.wrong_protocol(said0, 27017));
  add('mongodb', 'tls_required', mongoAccepting.tls_required(mongo));
  add('mongodb', 'tls_unsupported', mongoAccepting.tls_unsupported(mongo));
  for (const problem of ['hostname_mismatch', 'untrusted']) add('mongodb', 'tls_verify_failed', mongoAccepting.tls_verify_failed(mongo, problem, said0));
  add('mongodb', 'tls_handshake_failed', mongoAccepting.tls_handshake_failed());
  add('mongodb', 'shutting_down', mongoAccepting.shutting_down(mongo));
  add('mongodb', 'not_accepting', mongoAccepting.not_accepting());
  for (const actual of [said2, undefined]) add('mongodb', 'replica_set_mismatch', mongoAccepting.replica_set_mismatch(mongo, said1, actual));
  add('mongodb', 'no_primary', mongoAccepting.no_primary(mongo));
  for (const primary of [`${values.host.includes(':') ? `[${values.host}]` : values.host}:27018`, said0])
    add('mongodb', 'standby', mongoAccepting.standby(mongo, primary));
  for (const member of [values.host, said0])
    add(
      'mongodb',
      'member_unreachable',
      mongoNetwork.member_unreachable(mongo, { name: `${member}:27017`, host: member, port: 27017, reachable: false, viaSeed: false }),
    );
  for (const record of ['SRV', 'TXT'] as const)
    add(
      'mongodb',
      'srv_invalid',
      mongoNetwork.srv_invalid(
        {
          srvName: `_mongodb._tcp.${values.host}`,
          host: values.host,
          srv: { outcome: 'found', records: [] },
          txt: { outcome: 'found', records: [] },
          txtOptions: {},
        } as never,
        record,
      ),
    );
  add('mongodb', 'too_many_connections', mongoPool.too_many_connections(mongo));
  add('mongodb', 'near_limit', mongoPool.near_limit(mongo));
  for (const users of [
    { inAuthSource: 'none', inAdmin: ['SCRAM-SHA-256'] },
    { inAuthSource: 'unknown', inAdmin: 'unknown' },
  ] as const)
    add('mongodb', 'auth_failed', mongoAuth.auth_failed(mongo, users));
  add('mongodb', 'auth_mechanism', mongoAuth.auth_mechanism(mongo, [said0]));
  for (const target of [mongo, { ...mongo, user: undefined }]) add('mongodb', 'password_missing', mongoAuth.password_missing(target));
  add('mongodb', 'permission_denied', mongoAuth.permission_denied(mongo));
  add('mongodb', 'long_running', mongoQueries.long_running(mongo, [4242, said0]));
  add('mongodb', 'blocked', mongoQueries.blocked(mongo, [4242, said0], [said1]));
  add('mongodb', 'blocked', mongoQueries.blocked(mongo, [said0], []));

  // Cassandra.
  // A contact point that is not loopback (a loopback one would need no other spelling).
  const env = { CASSANDRA_CONTACT_POINTS: `cassandra-${said0}-x` };
  for (const platform of platforms) {
    const ctx = { run: { env, environment: { platform, knownNames: async () => [] } } } as unknown as CqlContext;
    add('cassandra', 'localhost_in_container', cqlProcess.localhost_in_container({ ...cql, contactPoints: [{ host: 'localhost', port: 9042 }] }, ctx, known));
  }
  for (const remote of [true, false]) {
    add('cassandra', 'not_running', cqlProcess.not_running(cql, remote, env));
    add('cassandra', 'not_running', cqlProcess.not_running({ ...cql, contactPoints: [{ host: 'localhost', port: 9042 }] }, remote, env));
  }
  add('cassandra', 'wrong_port', cqlProcess.wrong_port(cql, [9043]));
  const node = {
    pid: 42,
    tcp: [],
    configFile: `/etc/${said1}`,
    logFile: `/var/log/${said2}`,
    nativePort: 9042,
    startNativeTransport: true,
    seenVia: 'file descriptors',
  } as const;
  add('cassandra', 'not_listening', cqlAccepting.not_listening([said0]));
  for (const withNode of [node, undefined]) add('cassandra', 'starting_up', cqlAccepting.starting_up(cql, withNode));
  for (const byConfig of [true, false]) add('cassandra', 'native_transport_disabled', cqlAccepting.native_transport_disabled(node, byConfig));
  add('cassandra', 'no_response', cqlAccepting.no_response(cql, true));
  add('cassandra', 'connection_reset', cqlAccepting.connection_reset(9042));
  add('cassandra', 'wrong_protocol', cqlAccepting.wrong_protocol(cql, said0));
  add('cassandra', 'tls_required', cqlAccepting.tls_required(cql));
  add('cassandra', 'tls_unsupported', cqlAccepting.tls_unsupported());
  add('cassandra', 'tls_handshake_failed', cqlAccepting.tls_handshake_failed());
  add('cassandra', 'protocol_version', cqlAccepting.protocol_version({ ...cql, protocolVersion: 2 }, [3, 4]));
  add('cassandra', 'not_accepting', cqlAccepting.not_accepting());
  add('cassandra', 'local_dc_mismatch', cqlNetwork.local_dc_mismatch(cql, [said1, said2]));
  const view = { node: said0, dataCenter: said1, rack: said2, releaseVersion: said3, advertised: said0, port: 9042, reach: 'refused' };
  add('cassandra', 'peer_unreachable', cqlNetwork.peer_unreachable([view] as never));
  add('cassandra', 'nodes_down', cqlNetwork.nodes_down([view] as never));
  add('cassandra', 'too_many_connections', cqlPool.too_many_connections(cql));
  add('cassandra', 'near_limit', cqlPool.near_limit(cql));
  add('cassandra', 'overloaded', cqlPool.overloaded(cql));
  for (const cause of ['password_missing', 'auth_failed', 'permission_denied', 'database_missing'] as const) add('cassandra', cause, cqlAuth[cause](cql));
  add('cassandra', 'long_running', cqlQueries.long_running(cql));
  add('cassandra', 'unavailable', cqlQueries.unavailable(cql, values.database));
  return out;
}
