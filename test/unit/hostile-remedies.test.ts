import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { resolveCassandraTarget, type CassandraTarget } from '../../src/config/cassandra/target.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { InputError } from '../../src/config/errors.js';
import { resolveMongoTarget, type MongoTarget } from '../../src/config/mongodb/target.js';
import { resolvePostgresTarget, type PostgresTarget } from '../../src/config/postgres/target.js';
import { secrets } from '../../src/config/secrets.js';
import { configMismatches } from '../../src/config/inventory.js';
import type { Remediation } from '../../src/engine/schema.js';
import type { CauseCode } from '../../src/engine/causes.js';
import type { PlatformInfo } from '../../src/host/platform.js';
import type { Suggestion } from '../../src/host/names.js';
import { isHostName } from '../../src/net/hostname.js';
import { networkRemedies as sharedNetworkRemedies } from '../../src/probes/common/network.js';
import { kubernetesName, platformFixes } from '../../src/probes/common/platform.js';
import { localhostInContainerRemedies } from '../../src/probes/common/refusal.js';
import { postgresProbe } from '../../src/probes/postgres/index.js';
import { mongoProbe } from '../../src/probes/mongodb/index.js';
import { cassandraProbe } from '../../src/probes/cassandra/index.js';
import { hbaToken, pgpassField } from '../../src/probes/postgres/commands.js';
import { pgbouncerName, pgbouncerValue } from '../../src/probes/postgres/pooler/commands.js';
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
import { jsString, yamlString } from '../../src/text/js.js';
import { shellWord } from '../../src/text/shell.js';
import { cqlIdent, cqlLiteral, pgIdent, pgLiteral } from '../../src/text/sql.js';
import { urlHost, urlPart, urlQueryValue } from '../../src/text/url.js';
import { hasInvisible } from '../../src/text/visible.js';
import { fillPlaceholders, pasteIntoBash, sameUpToValues, STUBBED_PROGRAMS, type Encoder, type Invocation, type PastedRun } from '../lab/commands.js';

/**
 * Every remedy that prints a command, built twice: once with plain placeholder values, once with
 * hostile ones — $(…), backticks, ; | &, line breaks, quotes of every kind, %-encodings, ESC/OSC/CSI
 * sequences, bidi overrides, very long strings — in every value it takes (user, database, socket
 * directory, password-file path, names a server sent, names from the environment). Then:
 *
 *  - every shell command is pasted into bash (test/lab/commands.ts: every program a stub that
 *    records its argv): no syntax error, no program it should not run (an injected `touch`), no file
 *    created, and exactly the programs and arguments of the plain command, each value in its place,
 *    written in the language of where it sits (SQL after psql -c, JavaScript after mongosh --eval,
 *    a URL part in a URL, a plain word elsewhere);
 *  - every SQL or CQL statement is the plain one with identifiers and literals in their place;
 *  - snippets (YAML, pg_hba.conf, pgbouncer.ini lines) parse, with the values in their place;
 *  - no command holds a control or invisible character: each prints on its own visible lines.
 *
 * The catalogue check at the end makes sure every cause a step can produce is built here.
 */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 20) };
const SANDBOX = mkdtempSync(join(tmpdir(), 'dbdoctor-remedies-'));

// ---------------------------------------------------------------- values

/** What an attacker (or an unlucky operator) puts in a value. */
const ATTACKS = [
  '$(touch SENTINEL)', '`touch SENTINEL`', "'; touch SENTINEL; '", '"; touch SENTINEL; "', '| touch SENTINEL', '& touch SENTINEL &', '&& touch SENTINEL',
  '\ntouch SENTINEL\n', '\r\ntouch SENTINEL', '>SENTINEL', '<(touch SENTINEL)', "$'\\x27'", '${IFS}', '$HOME', '!!', '{a,b}', '*', '?', '~root', '#x', '-e', '--help',
  "x'y", 'x"y', 'x\\y', "''", '""', '\\', '%27%3B%00', '%2F', '\u001b]52;c;dG91Y2ggU0VOVElORUw=\u0007', '\u001b[2J\u001b[H', '\u001b[31mred', '\u009b31m',
  '\u202egnp.exe', '\u200b', '\ufeff', '\u2028', 'café', '数据库', ';', '--', 'DROP ROLE x; --', "'); DROP TABLE t; --", '"; db.dropDatabase(); "', '}); db.x({',
  'all', 'user', 'select', 'replication', '+group', '@file', '/regex', 'true', 'null', 'yes', '0', '1e3',
];

/** Any text but a NUL byte (which no client can send, and dbdoctor refuses as input). */
const text = fc
  .oneof(
    fc.constantFrom(...ATTACKS),
    fc.array(fc.constantFrom(...ATTACKS, 'a', 'Z', '9', ' ', '.', '-', '_'), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('')),
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    fc.constant('x'.repeat(3000)),
  )
  .map((value) => value.replace(/\u0000/g, '') || 'x');

/** A host that is valid (anything else is refused as input) but as odd as names get. */
const host = fc.constantFrom('db.example.com', 'db_1', 'dbé.example', 'xn--db-jla.example', 'db.example.com.', 'fe80::1%eth0', '2001:db8::1', '10.0.0.5', '数据库', 'a-b_c');
/** A socket directory: any absolute path (without "," which separates hosts in a libpq host list). */
const socketDir = text.map((value) => `/tmp/${value.replace(/[/,]/g, '_').slice(0, 40).trim() || 'x'}`);

interface Values {
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

const hostileValues: fc.Arbitrary<Values> = fc.record({
  user: text,
  database: text,
  host,
  socketDir,
  // A file name: no "/", and short enough for the file system (NAME_MAX: 255 bytes).
  passfileName: text.map((value) => value.replace(/\//g, '_').slice(0, 100)).filter((name) => name !== '.' && name !== '..'),
  adminUser: text.map((value) => value.replace(/,/g, '').trim()).filter((name) => name !== ''),
  said: fc.tuple(text, text, text, text),
});

/** The plain values: every one a placeholder that each language writes its own way. */
const PLAIN: Values = { user: 'Zq0Uq', database: 'Zq1Dq', host: 'Zq2Hq', socketDir: '/tmp/Zq3Sq', passfileName: 'Zq4Pq', adminUser: 'Zq9Mq', said: ['Zq5Aq', 'Zq6Bq', 'Zq7Cq', 'Zq8Eq'] };

function pairs(values: Values): [string, string][] {
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

async function postgresTargets(values: Values): Promise<{ tcp: PostgresTarget; socket: PostgresTarget }> {
  const env = buildEnvironment({ HOME: SANDBOX, PGPASSFILE: join(SANDBOX, values.passfileName) });
  const keywords = `port=5432 user=${libpqQuoted(values.user)} dbname=${libpqQuoted(values.database)}`;
  return {
    tcp: await resolvePostgresTarget({ text: `host=${libpqQuoted(values.host)} ${keywords}`, source: 'url' }, env),
    socket: await resolvePostgresTarget({ text: `host=${libpqQuoted(values.socketDir)} ${keywords}`, source: 'url' }, env),
  };
}

async function mongoTarget(values: Values): Promise<MongoTarget> {
  const bracketed = values.host.includes(':') ? `[${values.host.replace(/%/g, '%25')}]` : urlPart(values.host);
  return resolveMongoTarget({ text: `mongodb://${urlPart(values.user)}@${bracketed}:27017/${urlPart(values.database)}?replicaSet=${urlPart(values.said[0])}&authSource=${urlPart(values.said[1])}`, source: 'url' });
}

function cassandraTarget(values: Values): CassandraTarget {
  return resolveCassandraTarget({ text: `cassandra://${urlPart(values.user)}@${urlHost(values.host)}:9042/${urlPart(values.database)}?dc=${urlPart(values.said[0])}`, source: 'url' }, buildEnvironment({}));
}

// ---------------------------------------------------------------- every cause, every platform

const PLATFORMS: readonly PlatformInfo[] = [
  { platform: 'host', chosen: 'detected', inContainer: false, signals: [] },
  { platform: 'systemd', chosen: 'detected', inContainer: false, signals: [] },
  { platform: 'kubernetes', chosen: 'detected', inContainer: true, kubernetesNamespace: 'ZqANq', signals: [] },
  { platform: 'compose', chosen: 'detected', inContainer: true, composeFile: 'compose.yaml', signals: [] },
];

interface Case {
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

async function cases(values: Values): Promise<Case[]> {
  const [said0, said1, said2, said3] = values.said;
  const { tcp, socket } = await postgresTargets(values);
  const mongo = await mongoTarget(values);
  const cql = cassandraTarget(values);
  const out: Case[] = [];
  const add = (engine: Case['engine'], cause: Case['cause'], fixes: readonly Remediation[]): void => void out.push({ engine, cause, fixes });
  const platforms = platformsWith(said2);
  const known = suggestionsFrom(values.host);

  // Shared by every engine: the network step and the platform fixes, in each engine's words.
  for (const [engine, words, port] of [['postgres', postgresWords(tcp), 5432], ['mongodb', mongoWords(mongo), 27017], ['cassandra', cassandraWords(cql), 9042]] as const) {
    for (const platform of platforms) {
      add(engine, 'dns_not_found', [...sharedNetworkRemedies.dns_not_found(values.host, said0, known, words, port), ...platformFixes('dns_not_found', platform, words, { host: values.host, port, suggestions: known })]);
      add(engine, 'dns_temporary', [...sharedNetworkRemedies.dns_temporary(values.host), ...platformFixes('dns_temporary', platform, words, { host: values.host, port })]);
      add(engine, 'connect_timeout', [...sharedNetworkRemedies.connect_timeout(values.host, port), ...platformFixes('connect_timeout', platform, words, { host: values.host, port })]);
      add(engine, 'localhost_in_container', localhostInContainerRemedies(words, platform, known, port));
      add(engine, 'starting_up', platformFixes('starting_up', platform, words, { host: values.host, port }));
    }
    add(engine, 'host_unreachable', sharedNetworkRemedies.host_unreachable(values.host, { text: 'again', command: words.readyCheck(values.host, port), language: 'shell' }));
    add(engine, 'firewall_rejected', sharedNetworkRemedies.firewall_rejected(port, { text: 'again', command: words.readyCheck(values.host, port), language: 'shell' }));
    add(engine, 'ipv6_mismatch', sharedNetworkRemedies.ipv6_mismatch(values.host, '::1', '127.0.0.1', words, port));
  }

  // PostgreSQL, over TCP and over a socket directory.
  for (const target of [tcp, socket]) {
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
    add('postgres', 'not_listening', pgAccepting.not_listening(target, { cause: 'not_listening', attempted: said0, listening: [`${values.socketDir}/.s.PGSQL.5433`, said1], servers: [] }));
    add('postgres', 'no_response', pgAccepting.no_response(target, true));
    add('postgres', 'wrong_protocol', pgAccepting.wrong_protocol(target, said0));
    add('postgres', 'tls_required', pgAccepting.tls_required(target));
    add('postgres', 'tls_unsupported', pgAccepting.tls_unsupported(target));
    for (const problem of ['expired', 'hostname_mismatch', 'untrusted']) add('postgres', 'tls_verify_failed', pgAccepting.tls_verify_failed(target, problem, said0));
    add('postgres', 'tls_handshake_failed', pgAccepting.tls_handshake_failed());
    add('postgres', 'standby', pgAccepting.standby(target));
    for (const address of ['127.0.0.1', '::1', '[local]', said0]) {
      for (const explicitReject of [false, true]) add('postgres', 'hba_rejected', pgAuth.hba_rejected(target, { host: address, user: said1, database: said2, encryption: said3, explicitReject }));
    }
    add('postgres', 'hba_rejected', pgAuth.hba_rejected(target, undefined));
    for (const method of ['peer', undefined]) add('postgres', 'auth_failed', pgAuth.auth_failed(target, method));
    add('postgres', 'role_missing', pgAuth.role_missing(target));
    add('postgres', 'database_missing', pgAuth.database_missing(target));
    add('postgres', 'password_missing', pgAuth.password_missing(target));
    add('postgres', 'password_missing', pgAuth.password_missing({ ...target, passfile: { state: 'ignored-permissions', path: join(SANDBOX, values.passfileName), mode: '0644' } }));
    for (const cannotLogin of [true, false]) add('postgres', 'permission_denied', pgAuth.permission_denied(target, cannotLogin));
    for (const kind of ['server', 'role', 'database'] as const) add('postgres', 'too_many_connections', pgPool.too_many_connections(kind));
    add('postgres', 'near_limit', pgPool.near_limit());
    // Pids are what a server reported: numbers by type, anything at run time.
    add('postgres', 'idle_in_transaction', pgPool.idle_in_transaction([42, said0 as unknown as number]));
    add('postgres', 'idle_connections', pgPool.idle_connections());
    add('postgres', 'long_running', pgQueries.long_running([42, said0 as unknown as number]));
    add('postgres', 'blocked', pgQueries.blocked([42, said0 as unknown as number], [42]));
    // PgBouncer: names from its console (admin_users, auth_file, the database's address).
    const view: PoolerView = {
      name: said3,
      signs: [],
      admin: { state: 'read', console: { version: said3, config: { admin_users: `${values.adminUser}, other`, auth_file: said1 }, databases: [], pools: [], servers: [], stats: [], lists: {}, unanswered: [] } },
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
      for (const limit of ['pool_size', undefined] as const) add('postgres', 'pooler_pool_exhausted', poolerPoolRemedies.pooler_pool_exhausted(target, pooler, limit));
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
  add('mongodb', 'not_listening', mongoAccepting.not_listening([said0, said1]));
  add('mongodb', 'no_response', mongoAccepting.no_response(mongo, true, 27017));
  add('mongodb', 'wrong_protocol', mongoAccepting.wrong_protocol(said0, 27017));
  add('mongodb', 'tls_required', mongoAccepting.tls_required(mongo));
  add('mongodb', 'tls_unsupported', mongoAccepting.tls_unsupported(mongo));
  for (const problem of ['hostname_mismatch', 'untrusted']) add('mongodb', 'tls_verify_failed', mongoAccepting.tls_verify_failed(mongo, problem, said0));
  add('mongodb', 'tls_handshake_failed', mongoAccepting.tls_handshake_failed());
  add('mongodb', 'shutting_down', mongoAccepting.shutting_down(mongo));
  add('mongodb', 'not_accepting', mongoAccepting.not_accepting());
  for (const actual of [said2, undefined]) add('mongodb', 'replica_set_mismatch', mongoAccepting.replica_set_mismatch(mongo, said1, actual));
  add('mongodb', 'no_primary', mongoAccepting.no_primary(mongo));
  for (const primary of [`${values.host.includes(':') ? `[${values.host}]` : values.host}:27018`, said0]) add('mongodb', 'standby', mongoAccepting.standby(mongo, primary));
  for (const member of [values.host, said0]) add('mongodb', 'member_unreachable', mongoNetwork.member_unreachable(mongo, { name: `${member}:27017`, host: member, port: 27017, reachable: false, viaSeed: false }));
  for (const record of ['SRV', 'TXT'] as const) add('mongodb', 'srv_invalid', mongoNetwork.srv_invalid({ srvName: `_mongodb._tcp.${values.host}`, host: values.host, srv: { outcome: 'found', records: [] }, txt: { outcome: 'found', records: [] }, txtOptions: {} } as never, record));
  add('mongodb', 'too_many_connections', mongoPool.too_many_connections(mongo));
  add('mongodb', 'near_limit', mongoPool.near_limit(mongo));
  for (const users of [{ inAuthSource: 'none', inAdmin: ['SCRAM-SHA-256'] }, { inAuthSource: 'unknown', inAdmin: 'unknown' }] as const) add('mongodb', 'auth_failed', mongoAuth.auth_failed(mongo, users));
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
  const node = { pid: 42, tcp: [], configFile: `/etc/${said1}`, logFile: `/var/log/${said2}`, nativePort: 9042, startNativeTransport: true, seenVia: 'file descriptors' } as const;
  add('cassandra', 'not_listening', cqlAccepting.not_listening([said0]));
  for (const withNode of [node, undefined]) add('cassandra', 'starting_up', cqlAccepting.starting_up(cql, withNode));
  for (const byConfig of [true, false]) add('cassandra', 'native_transport_disabled', cqlAccepting.native_transport_disabled(node, byConfig));
  add('cassandra', 'no_response', cqlAccepting.no_response(cql, true));
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

// ---------------------------------------------------------------- what a command may differ in

const identity: Encoder = (value) => value;
const inner = (encode: Encoder): Encoder => (value) => encode(value)?.slice(1, -1);
const formEncoded: Encoder = (value) => new URLSearchParams({ v: value }).toString().slice(2);
/** Where a value lands in a URL: a part, a host, a query value (ours, or the MongoDB driver's form encoding). */
const URL_ENCODERS: Encoder[] = [urlPart, urlHost, (value) => urlHost(value.toLowerCase()), urlQueryValue, formEncoded, (value) => (value.includes(':') ? `[${value}]` : undefined)];
/** Anywhere in a shell command's argument or a snippet: the value itself, or as a URL, YAML, config-file or shell word. */
const ANY: Encoder[] = [
  identity, shellWord, jsString, inner(jsString), yamlString, kubernetesName, (value) => pgpassField(value), (value) => hbaToken(value),
  (value) => pgbouncerName(value, 'ini'), (value) => pgbouncerValue(value), (value) => inner(jsString)(shellWord(value)), ...URL_ENCODERS,
];
const SQL: Encoder[] = [pgLiteral, pgIdent, (value) => pgbouncerName(value)];
const CQL: Encoder[] = [cqlLiteral, cqlIdent];
const JS: Encoder[] = [jsString];

/** The languages an argument of a pasted command is in, from the program and the flag before it. */
function encodersFor(program: string, args: readonly string[], index: number): Encoder[] {
  const flag = args[index - 1];
  if (program === 'psql' && flag === '-c') return SQL;
  if (program === 'cqlsh' && flag === '-e') return CQL;
  if (program === 'mongosh' && flag === '--eval') return JS;
  return ANY;
}

type Kind = 'shell' | 'url' | 'yaml' | 'config';

/** What a remedy's command is: a command for a shell, a URL to put in the settings, or a snippet of a file. */
function kindOf(command: string): Kind {
  if (/^(initContainers|services):\n/.test(command)) return 'yaml';
  const first = command.split(/[\s;]/)[0] ?? '';
  if (/^'?[a-z+]+:\/\//.test(first)) return 'url';
  if ((STUBBED_PROGRAMS as readonly string[]).includes(first) || first === 'until') return 'shell';
  return 'config';
}

function expectSamePasted(plain: PastedRun, hostile: PastedRun, valuePairs: [string, string][], where: string): void {
  const context = `${where}\n  plain:   ${plain.command}\n  hostile: ${hostile.command}\n  stderr:  ${hostile.stderr}`;
  expect(hostile.syntaxError, context).toBe(false);
  expect(hostile.notFound, context).toEqual([]);
  expect(hostile.createdFiles, context).toEqual([]);
  // The stages of a pipeline run at once: calls are compared program by program, in order within each.
  const byProgram = (calls: readonly Invocation[]): Invocation[] => [...calls].sort((a, b) => a.program.localeCompare(b.program));
  const plainCalls = byProgram(plain.invocations);
  const hostileCalls = byProgram(hostile.invocations);
  expect(hostileCalls.map((call) => call.program), context).toEqual(plainCalls.map((call) => call.program));
  hostileCalls.forEach((call, index) => {
    const plainCall = plainCalls[index];
    expect(call.args.length, context).toBe(plainCall?.args.length);
    call.args.forEach((arg, position) => {
      const plainArg = plainCall?.args[position] ?? '';
      if (arg !== plainArg) expect(sameUpToValues(plainArg, arg, valuePairs, encodersFor(call.program, call.args, position)), `${context}\n  argument ${position} of ${call.program}: ${JSON.stringify(plainArg)} → ${JSON.stringify(arg)}`).toBe(true);
    });
  });
}

/**
 * A value no command can hold (a line break or a control character in a pg_hba.conf or
 * pgbouncer.ini line, a name that is no host): the command may be left out, its text saying why.
 */
function unrepresentable(values: Values): boolean {
  return [values.user, values.database, ...values.said].some((value) => hasInvisible(value)) || values.said.some((value) => !isHostName(value));
}

/** The plain commands, built and pasted once: they are the same in every run. */
let plainBuilt: Promise<{ cases: Case[]; pasted: Map<string, PastedRun> }> | undefined;
function plainRemedies(): Promise<{ cases: Case[]; pasted: Map<string, PastedRun> }> {
  plainBuilt ??= (async () => {
    const built = await cases(PLAIN);
    const commands = [...new Set(built.flatMap((entry) => entry.fixes.flatMap((fix) => (fix.command && fix.language !== 'sql' ? [pastable(fix.command)] : []))).filter((command): command is string => command !== undefined))];
    const runs = await pasteIntoBash(commands.map(fillPlaceholders));
    return { cases: built, pasted: new Map(commands.map((command, index) => [command, runs[index] as PastedRun])) };
  })();
  return plainBuilt;
}

/** How a command is pasted: a shell command as it is, a URL as the one argument of echo; snippets are not pasted. */
function pastable(command: string): string | undefined {
  const kind = kindOf(command);
  return kind === 'shell' ? command : kind === 'url' ? `echo ${command}` : undefined;
}

/** Pasted commands write where they say (printf … >> the password file): each run starts from an empty sandbox. */
function emptySandbox(): void {
  for (const entry of readdirSync(SANDBOX)) rmSync(join(SANDBOX, entry), { recursive: true, force: true });
}

async function checkRemedies(values: Values): Promise<void> {
  emptySandbox();
  const t0 = Date.now();
  const [plain, hostileCases] = await Promise.all([plainRemedies(), cases(values)]);
  if (process.env.DEBUG_TIMING) console.log('cases', Date.now() - t0);
  const plainCases = plain.cases;
  expect(hostileCases.length).toBe(plainCases.length);
  const valuePairs = pairs(values);
  const pasted: { plain: string; hostile: string; where: string }[] = [];
  const statements: { statement: string; hostile: string; encoders: Encoder[]; where: string }[] = [];
  plainCases.forEach((plainCase, caseIndex) => {
    const hostileCase = hostileCases[caseIndex];
    const where = `${plainCase.engine}/${plainCase.cause}`;
    expect(hostileCase?.fixes.length, where).toBe(plainCase.fixes.length);
    plainCase.fixes.forEach((plainFix, fixIndex) => {
      const fix = hostileCase?.fixes[fixIndex];
      if (!plainFix.command) return;
      if (!fix?.command) {
        // Only a value that cannot be written there (a line break in a pg_hba.conf line) drops a command.
        expect(unrepresentable(values), `${where}: the command "${plainFix.command}" was left out`).toBe(true);
        return;
      }
      for (const line of fix.command.split('\n')) expect(hasInvisible(line), `${where}: ${JSON.stringify(fix.command)}`).toBe(false);
      const language = plainFix.language === 'sql' ? (plainCase.engine === 'cassandra' ? CQL : SQL) : undefined;
      if (language && fix.language === 'sql') {
        expect(sameUpToValues(plainFix.command, fix.command, valuePairs, language), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
        return;
      }
      if (language) {
        // A CQL statement whose names hold control characters is printed as cqlsh -e instead: the same statement, pasted.
        statements.push({ statement: plainFix.command, hostile: fix.command, encoders: language, where });
        return;
      }
      switch (kindOf(plainFix.command)) {
        case 'shell':
        case 'url':
          // A URL on its own line is one word: as the argument of echo, it must come out whole.
          pasted.push({ plain: pastable(plainFix.command) ?? '', hostile: pastable(fix.command) ?? '', where });
          break;
        case 'yaml':
          expect(() => parseYaml(fix.command ?? ''), `${where}: ${fix.command}`).not.toThrow();
          expect(sameUpToValues(plainFix.command, fix.command, valuePairs, ANY), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
          break;
        default:
          expect(sameUpToValues(plainFix.command, fix.command, valuePairs, ANY), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
      }
    });
  });
  const unique = [...new Map(pasted.map((entry) => [`${entry.plain}\0${entry.hostile}`, entry])).values()];
  const t1 = Date.now();
  const runs = await pasteIntoBash([...unique.map(({ hostile }) => fillPlaceholders(hostile)), ...statements.map(({ hostile }) => hostile)]);
  if (process.env.DEBUG_TIMING) console.log('paste', unique.length, Date.now() - t1);
  statements.forEach(({ statement, encoders, where }, index) => {
    const run = runs[unique.length + index];
    const call = run?.invocations[0];
    const context = `${where}\n  ${statement}\n  ${run?.command ?? ''}\n  ${run?.stderr ?? ''}`;
    expect(run?.syntaxError === false && run.notFound.length === 0 && run.invocations.length === 1 && call?.program === 'cqlsh', context).toBe(true);
    const cql = call?.args[call.args.indexOf('-e') + 1] ?? '';
    expect(sameUpToValues(statement, cql, valuePairs, encoders), context).toBe(true);
  });
  unique.forEach(({ where, plain: plainCommand }, index) => {
    const plainRun = plain.pasted.get(plainCommand);
    const hostile = runs[index];
    if (!plainRun || !hostile) throw new Error(`a pasted command did not run: ${plainCommand}`);
    expect(plainRun.syntaxError || plainRun.notFound.length > 0, `the plain command itself must run: ${plainRun.command}\n${plainRun.stderr}`).toBe(false);
    expectSamePasted(plainRun, hostile, valuePairs, where);
  });
}

describe('every printed command, built from hostile values, is the intended command', () => {
  test('the plain placeholders are valid in every slot (host names, SQL and CQL names)', () => {
    expect(isHostName(PLAIN.host)).toBe(true);
    for (const placeholder of [PLAIN.user, PLAIN.database, ...PLAIN.said]) expect(pgIdent(placeholder)).toBe(`"${placeholder}"`);
  });

  test('hostile values in every slot of every remedy', async () => {
    await fc.assert(
      fc.asyncProperty(hostileValues, async (values) => {
        secrets.forget();
        const t0 = Date.now();
        try {
          await checkRemedies(values);
          if (process.env.DEBUG_TIMING) console.log(Date.now() - t0, JSON.stringify(values).slice(0, 300));
        } catch (error) {
          // A value the parsers refuse is bad input (exit 3), not a remedy to print.
          if (error instanceof InputError) return;
          throw error;
        }
      }),
      {
        ...RUNS,
        examples: [
          [{ user: "x'y\"z$(touch SENTINEL)", database: '`touch SENTINEL`;|&', host: 'db.example.com', socketDir: "/tmp/a b$(touch SENTINEL)'\"", passfileName: "p'q$(touch SENTINEL)", adminUser: '$(touch SENTINEL)', said: ['\u001b]52;c;aGk=\u0007', '\u202eevil', 'a\nb', "'); DROP ROLE x; --"] }],
          [{ user: 'user', database: 'all', host: 'fe80::1%eth0', socketDir: '/tmp/-x', passfileName: '-n', adminUser: '-U', said: ['-e', '--help', '+group', '@file'] }],
        ],
      },
    );
  }, 600_000);

  test('every cause a step can produce is among the cases above', async () => {
    const built = new Set((await cases(PLAIN)).map((entry) => `${entry.engine}/${entry.cause}`));
    for (const probe of [postgresProbe, mongoProbe, cassandraProbe]) {
      for (const step of probe.steps) {
        for (const cause of step.produces) {
          if (cause === 'deadline_exceeded' || cause === 'check_error') continue;
          expect(built.has(`${probe.engine}/${cause}`), `${probe.engine}/${step.id}/${cause} has no case`).toBe(true);
        }
      }
    }
  });
});
