import { isKeywordValueString, LIBPQ_KEYWORDS } from '../config/postgres/conninfo.js';
import type { PostgresTarget } from '../config/postgres/target.js';
import { defineEngine } from './module.js';

/** libpq's own variables: set, they name the target applications default to (PGHOST, PGPORT, …). */
const LIBPQ_VARIABLE = /^PG(HOST|HOSTADDR|PORT|USER|DATABASE|SERVICE)$/;

/** PostgreSQL, and PgBouncer in front of it: the probe finds out which answers. */
export const postgresEngine = defineEngine<'postgres', PostgresTarget>({
  id: 'postgres',
  name: 'PostgreSQL',
  schemes: ['postgres://', 'postgresql://'],
  scheme: 'postgresql://',
  settingNames: [...LIBPQ_KEYWORDS],
  defaultPort: 5432,
  bareText: { test: isKeywordValueString, source: 'connection string' },
  resolve: async (input, env) => (await import('../config/postgres/target.js')).resolvePostgresTarget(input, env),
  // With a DATABASE_URL, libpq's variables only fill its gaps (as libpq does); without one, they name a target of their own.
  async discover(env, found) {
    if (found.some((entry) => entry.label === 'DATABASE_URL') || !env.names().some((name) => LIBPQ_VARIABLE.test(name))) return [];
    return [{ target: await this.resolve(undefined, env), label: 'PG* environment', first: true }];
  },
  async defaultTarget(env) {
    return { target: await this.resolve(undefined, env), label: 'libpq defaults' };
  },
  probe: async () => (await import('../probes/postgres/index.js')).postgresProbe,
  hints: async (env, target) => (await import('../config/postgres/mismatches.js')).configMismatches(env, target),
  explainer: async () => (await import('../probes/postgres/explain.js')).postgresExplainer,
  textHints:
    /psycopg|asyncpg|PSQLException|node_modules\/pg\/|org\.postgresql|\bpq: |\bpgx\b|pgconn|SQLSTATE|pg_hba|pg-protocol|postgres(?:ql)?:\/\/|libpq|\bpsql\b|connection to server (?:at|on socket)|\bP10\d\d\b|:5432\b|, port 5432\b|pgbouncer|max_client_conn|query_wait_timeout|client_login_timeout|server_login_retry|no such database: |\bPG::|Postgrex|Npgsql|PostgresException|\bpg_connect\b|PDOException|sqlx?::postgres|tokio[-_]postgres|\bPostgreSQL\b/i,
  clients: [
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
  ],
  // node-postgres: a SQLSTATE with a severity or routine (or its DatabaseError).
  errorShape(read) {
    const code = read('code');
    return (
      typeof code === 'string' &&
      ((/^[0-9A-Z]{5}$/.test(code) && (read('severity') !== undefined || read('routine') !== undefined)) || read('name') === 'DatabaseError')
    );
  },
});
