import type { Target } from '../config/targets.js';
import type { EngineExplainer, ExplainRule, FieldPattern, Reader } from '../engine/explainer.js';
import type { RunContext, StepDescription } from '../engine/probe.js';
import type { Evidence, TargetReport } from '../engine/schema.js';
import type { PortWatch } from './common/watch.js';

/**
 * Engines by name, each probe loaded only when a target of its engine is diagnosed: a
 * PostgreSQL-only run never loads another engine's driver. The same goes for `explain`: its
 * hints (cheap, always loaded) say which engine a text is from; the engine's explainer is
 * imported only then, and none of them loads a driver.
 */
export async function diagnose(target: Target, run: RunContext): Promise<TargetReport> {
  const { diagnoseTarget } = await import('../engine/walk.js');
  switch (target.engine) {
    case 'postgres': {
      const { postgresProbe } = await import('./postgres/index.js');
      return diagnoseTarget(postgresProbe, target, run);
    }
    case 'mongodb': {
      const { mongoProbe } = await import('./mongodb/index.js');
      return diagnoseTarget(mongoProbe, target, run);
    }
    case 'cassandra': {
      const { cassandraProbe } = await import('./cassandra/index.js');
      return diagnoseTarget(cassandraProbe, target, run);
    }
  }
}

/** Engines that have a probe, with the name people use for them. */
export const ENGINES = { postgres: 'PostgreSQL', mongodb: 'MongoDB', cassandra: 'Cassandra' } as const;
export type EngineName = keyof typeof ENGINES;
export const ENGINE_NAMES = Object.keys(ENGINES) as [EngineName, ...EngineName[]];

export function isEngine(name: string): name is EngineName {
  return name in ENGINES;
}

/** A probe's step definitions, for runbooks and docs (loading the probe, never its driver). */
export async function stepsOf(engine: EngineName): Promise<readonly StepDescription[]> {
  switch (engine) {
    case 'postgres':
      return (await import('./postgres/index.js')).postgresProbe.steps;
    case 'mongodb':
      return (await import('./mongodb/index.js')).mongoProbe.steps;
    case 'cassandra':
      return (await import('./cassandra/index.js')).cassandraProbe.steps;
  }
}

/**
 * Which engine a pasted text comes from, told by cheap hints (module names, exception classes,
 * URL schemes, default ports, code spellings only that engine's clients print).
 */
export const ENGINE_HINTS: Readonly<Record<EngineName, RegExp>> = {
  postgres:
    /psycopg|asyncpg|PSQLException|node_modules\/pg\/|org\.postgresql|\bpq: |\bpgx\b|pgconn|SQLSTATE|pg_hba|pg-protocol|postgres(?:ql)?:\/\/|libpq|\bpsql\b|connection to server (?:at|on socket)|\bP10\d\d\b|:5432\b|, port 5432\b|pgbouncer|max_client_conn|query_wait_timeout|client_login_timeout|server_login_retry|no such database: |\bPG::|Postgrex|Npgsql|PostgresException|\bpg_connect\b|PDOException|sqlx?::postgres|tokio[-_]postgres|\bPostgreSQL\b/i,
  mongodb:
    /pymongo|Mongo[A-Z]\w*(?:Error|Exception)|mongodb(?:\+srv)?:\/\/|mongo-driver|server selection|:27017\b|\bmongo(?:d|s|sh|ose|id)?\b|\bcodeName\b|querySrv|_mongodb\._tcp/i,
  cassandra:
    /cassandra|datastax|gocql|NoHostAvailable|AllNodesFailedException|UnresolvableContactPoints|contact point|:9042\b|\bcqlsh\b|\bscylla|\bCQL\b|consistency level|\bcode=[0-9a-f]{4} \[/i,
};

/**
 * Which engine a driver's error object comes from, told by its shape (explain/objects.ts reads the
 * fields; never `instanceof`, so that a driver need not be installed): node-postgres' SQLSTATE with
 * a severity or routine, the MongoDB driver's Mongo…Error names, codeName, error labels and
 * topology description, cassandra-driver's per-host innerErrors and numeric ResponseError codes.
 */
export const ERROR_SHAPES: Readonly<Record<EngineName, (read: (...path: string[]) => unknown) => boolean>> = {
  postgres: (read) => {
    const code = read('code');
    return (
      typeof code === 'string' &&
      ((/^[0-9A-Z]{5}$/.test(code) && (read('severity') !== undefined || read('routine') !== undefined)) || read('name') === 'DatabaseError')
    );
  },
  mongodb: (read) =>
    /^Mongo[A-Z]\w*Error$/.test(typeof read('name') === 'string' ? String(read('name')) : '') ||
    read('codeName') !== undefined ||
    read('errorLabelSet') !== undefined ||
    read('reason', 'servers') instanceof Map,
  cassandra: (read) =>
    read('innerErrors') !== undefined || read('name') === 'NoHostAvailableError' || (read('name') === 'ResponseError' && typeof read('code') === 'number'),
};

/** The client a text comes from, most specific first (the same ids as the corpus' folders). */
export const CLIENT_HINTS: readonly (readonly [string, RegExp])[] = [
  ['sqlalchemy', /sqlalchemy\.exc|sqlalche\.me/],
  ['psycopg2', /psycopg2/],
  ['psycopg', /\bpsycopg\.|psycopg\.errors/],
  ['asyncpg', /asyncpg/],
  ['pgjdbc', /org\.postgresql|PSQLException/],
  ['pgx', /failed to connect to `|\bpgx\b|pgconn/],
  ['lib-pq', /\bpq: |lib\/pq/],
  ['node-postgres', /pg-protocol|node_modules\/pg\/|routine: '|Connection terminated unexpectedly/],
  ['prisma', /\bP1\d{3}\b|prisma/i],
  ['psql', /^psql: /m],
  ['ruby-pg', /\bPG::\w+/],
  ['npgsql', /Npgsql|PostgresException \(0x/],
  ['php', /PDOException|SQLSTATE\[\w{5}\]|pg_connect\(\)/],
  ['postgrex', /Postgrex|DBConnection\./],
  ['pymongo', /pymongo/],
  ['mongodb-node', /Mongo(?:ServerSelection|Network|Server|Parse|Api|Topology)\w*Error/],
  ['mongo-go-driver', /server selection error|mongo-driver/],
  ['mongo-java', /com\.mongodb\./],
  [
    'cassandra-python',
    /cassandra\.cluster|cassandra\.UnresolvableContactPoints|cassandra\.(?:protocol|Unavailable|Overloaded|ReadTimeout|WriteTimeout|AuthenticationFailed)/,
  ],
  ['cassandra-java', /com\.datastax/],
  ['cassandra-node', /NoHostAvailableError|cassandra-driver/],
  ['gocql', /gocql/],
];

/** Each engine's explainer, imported only when a text points at it (or, with no hint at all, every engine's). */
export async function loadExplainer(engine: EngineName): Promise<EngineExplainer> {
  switch (engine) {
    case 'postgres':
      return (await import('./postgres/explain.js')).postgresExplainer;
    case 'mongodb':
      return (await import('./mongodb/explain.js')).mongodbExplainer;
    case 'cassandra':
      return (await import('./cassandra/explain.js')).cassandraExplainer;
  }
}

/** What the network and the operating system say, whatever the engine: rules, errno readers, the shared fixes. */
export interface NetworkExplainer {
  readonly rules: readonly ExplainRule[];
  readonly fieldPatterns: readonly FieldPattern[];
  readers(): Promise<readonly Reader[]>;
  /** The fix in words that fit any database, for a text whose engine is not known. */
  readonly remediation: EngineExplainer['remediation'];
  /** Words any client logs once connected (EngineExplainer.working). */
  readonly working: RegExp;
}

export async function loadNetworkExplainer(): Promise<NetworkExplainer> {
  return (await import('./common/explain.js')).networkExplainer;
}

/**
 * `dbdoctor wait`'s watch on the ports its refused targets were refused at, read from the probes'
 * own network evidence (common/watch.ts, beside the code that writes it).
 */
export async function watchRefusedPorts(refused: readonly Evidence[]): Promise<PortWatch> {
  return (await import('./common/watch.js')).watchRefused(refused);
}
