import type { Engine, EngineExplainer } from './rule.js';

/**
 * Which engine and which client a pasted text comes from, told by cheap hints (module names,
 * exception classes, URL schemes, default ports). Only this table is always loaded; an engine's
 * rule table is imported when the text points at it (or, with no hint at all, every engine's).
 */
export const ENGINE_HINTS: Readonly<Record<Engine, RegExp>> = {
  postgres: /psycopg|asyncpg|PSQLException|node_modules\/pg\/|org\.postgresql|\bpq: |\bpgx\b|pgconn|SQLSTATE|pg_hba|pg-protocol|postgres(?:ql)?:\/\/|libpq|\bpsql\b|connection to server (?:at|on socket)|\bP10\d\d\b|:5432\b|, port 5432\b|pgbouncer|max_client_conn|query_wait_timeout|client_login_timeout|server_login_retry|no such database: /,
  mongodb: /pymongo|Mongo[A-Z]\w*(?:Error|Exception)|mongodb(?:\+srv)?:\/\/|mongo-driver|server selection|:27017\b/,
  cassandra: /cassandra|datastax|gocql|NoHostAvailable|AllNodesFailedException|UnresolvableContactPoints|contact point|:9042\b/i,
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
  ['pymongo', /pymongo/],
  ['mongodb-node', /Mongo(?:ServerSelection|Network)\w*Error/],
  ['mongo-go-driver', /server selection error|mongo-driver/],
  ['cassandra-python', /cassandra\.cluster|cassandra\.UnresolvableContactPoints/],
  ['cassandra-java', /com\.datastax/],
  ['cassandra-node', /NoHostAvailableError|cassandra-driver/],
  ['gocql', /gocql/],
];

export function enginesHinted(text: string): Engine[] {
  return (Object.entries(ENGINE_HINTS) as [Engine, RegExp][]).filter(([, pattern]) => pattern.test(text)).map(([engine]) => engine);
}

export function clientOf(text: string): string | undefined {
  return CLIENT_HINTS.find(([, pattern]) => pattern.test(text))?.[0];
}

/** Each engine's rule table, imported only when needed (none of them loads a database driver). */
export async function loadExplainer(engine: Engine): Promise<EngineExplainer> {
  switch (engine) {
    case 'postgres':
      return (await import('../probes/postgres/explain.js')).postgresExplainer;
    case 'mongodb':
      return (await import('../probes/mongodb/explain.js')).mongodbExplainer;
    case 'cassandra':
      return (await import('../probes/cassandra/explain.js')).cassandraExplainer;
  }
}
