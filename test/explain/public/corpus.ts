import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isMap, isScalar, parse, Scalar } from 'yaml';
import { z } from 'zod';

/**
 * The public corpus: error text users pasted in public threads (issue trackers, Q&A pages),
 * copied verbatim with the thread's address, labelled with what an expert would name as the
 * fault from the text alone. It measures `dbdoctor explain` on wordings nobody wrote a rule
 * for; the lab corpus (test/explain/corpus) measures it on faults we produced ourselves.
 *
 * One YAML file per split and engine: tune/<engine>.yaml, heldout/<engine>.yaml. Which split a
 * message belongs to is decided once, by a hash of its thread's address (splitOf), so that every
 * message of a thread lands on the same side and new messages never move old ones.
 */

export const PUBLIC_DIR = dirname(fileURLToPath(import.meta.url));
export const SPLITS = ['tune', 'heldout'] as const;
export type Split = (typeof SPLITS)[number];
export const ENGINES = ['postgres', 'pgbouncer', 'mongodb', 'cassandra'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * Labels that name no cause. All three are right when explain recognises nothing (or, should it
 * learn to say so, answers "not a connection error"); any verdict is wrong.
 * - not_recognised: a connection problem, but the text does not decide which cause (guesses name
 *   the plausible ones);
 * - not_connection_error: the connection worked; the error is about the query or the data;
 * - no_cause_in_catalogue: a real fault the catalogue has no code for (a client-side pool, a
 *   session cut mid-query, a client/server version mismatch).
 */
export const SPECIAL_LABELS = ['not_recognised', 'not_connection_error', 'no_cause_in_catalogue'] as const;
export type SpecialLabel = (typeof SPECIAL_LABELS)[number];

const CauseRefSchema = z.string().regex(/^[a-z]+\/[a-z_0-9]+$/, 'step/cause, e.g. auth/auth_failed');

export const EntrySchema = z
  .object({
    /** Stable: <engine prefix>-<number>, never reused. */
    id: z.string().regex(/^(pg|pgb|mongo|cql)-\d{3}$/),
    /** The thread the text was copied from. */
    source: z.string().url(),
    engine: z.enum(ENGINES),
    /** The library or tool whose output this is (the outermost one that shows: sqlalchemy, not psycopg2). */
    client: z.string().min(1),
    /** Only when the text shows it: the platform's own wording is part of the test. */
    os: z.enum(['windows', 'macos', 'alpine', 'android']).optional(),
    /** Only when the database's or driver's own message is translated (gettext language code). */
    lang: z
      .string()
      .regex(/^[a-z]{2}(_[A-Z]{2})?$/)
      .optional(),
    label: z.union([CauseRefSchema, z.enum(SPECIAL_LABELS)]),
    /** Other causes that are as right as the label: the text cannot tell them apart. */
    also: z.array(CauseRefSchema).optional(),
    /** For special labels: the causes a good "not recognised" answer would list as guesses. */
    guesses: z.array(CauseRefSchema).optional(),
    /** One line: why this label (may cite what the thread found out, but the label is the text's). */
    why: z.string().min(1),
    /** Verbatim, as pasted (leading/trailing unrelated lines may be trimmed; passwords as ****). */
    text: z.string().min(1),
  })
  .strict();
export type Entry = z.infer<typeof EntrySchema>;
export type LoadedEntry = Entry & { readonly split: Split; readonly file: string };

export const ID_PREFIX: Record<Engine, string> = { postgres: 'pg', pgbouncer: 'pgb', mongodb: 'mongo', cassandra: 'cql' };

/** The thread, not the comment: a fragment or trailing slash does not make another thread. */
export function threadOf(source: string): string {
  const url = new URL(source);
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/**
 * The split rule, fixed before anyone tuned on the corpus: the first byte of
 * sha256("dbdoctor explain public corpus v1\n" + thread address); even → tune, odd → heldout.
 * Hashing the thread (not the message) keeps a thread's messages together, so tuning on one of
 * them cannot leak into the held-out score through its neighbour.
 */
export function splitOf(source: string): Split {
  const digest = createHash('sha256')
    .update(`dbdoctor explain public corpus v1\n${threadOf(source)}`)
    .digest();
  return (digest[0] ?? 0) % 2 === 0 ? 'tune' : 'heldout';
}

export function corpusFile(split: Split, engine: Engine): string {
  return join(PUBLIC_DIR, split, `${engine}.yaml`);
}

/** Every entry of the given splits (both by default), validated. */
export function loadPublicCorpus(splits: readonly Split[] = SPLITS): LoadedEntry[] {
  const entries: LoadedEntry[] = [];
  for (const split of splits) {
    const dir = join(PUBLIC_DIR, split);
    for (const name of readdirSync(dir)
      .filter((file) => file.endsWith('.yaml'))
      .sort()) {
      const file = join(dir, name);
      const parsed = z.array(EntrySchema).safeParse(parse(readFileSync(file, 'utf8')) ?? []);
      if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
      for (const entry of parsed.data) entries.push({ ...entry, split, file });
    }
  }
  return entries;
}

/**
 * Client → family: the layer whose wording the text carries. Django, SQLAlchemy, Rails and PHP
 * all print libpq's words; Sequelize, TypeORM and Knex print node-postgres's. Scores per family
 * show which wording a matcher misses; scores per client show where a wrapper adds its own.
 */
export const CLIENT_FAMILIES: Record<string, string> = {
  // PostgreSQL through libpq (C, Python psycopg, Ruby pg, PHP, Perl, Rust diesel, GUI tools).
  psql: 'libpq',
  libpq: 'libpq',
  pg_dump: 'libpq',
  pgbackrest: 'libpq',
  pgadmin: 'libpq',
  tableplus: 'libpq',
  psycopg2: 'libpq',
  psycopg3: 'libpq',
  sqlalchemy: 'libpq',
  django: 'libpq',
  peewee: 'libpq',
  hasura: 'libpq',
  rails: 'libpq',
  'ruby-pg': 'libpq',
  'ruby-dbi': 'libpq',
  'php-pdo': 'libpq',
  'php-pgsql': 'libpq',
  'perl-dbd-pg': 'libpq',
  diesel: 'libpq',
  // PostgreSQL, other drivers.
  'node-postgres': 'node-postgres',
  sequelize: 'node-postgres',
  typeorm: 'node-postgres',
  knex: 'node-postgres',
  'postgres-js': 'postgres.js',
  prisma: 'prisma',
  pgjdbc: 'jdbc',
  hikari: 'jdbc',
  flyway: 'jdbc',
  npgsql: 'npgsql',
  asyncpg: 'asyncpg',
  pgx: 'go',
  'lib-pq': 'go',
  'go-pg': 'go',
  gorm: 'go',
  'go-sql': 'go',
  banbot: 'go',
  sqlx: 'rust',
  'tokio-postgres': 'rust',
  'rust-postgres': 'rust',
  dbx: 'rust',
  'postgres-log': 'server log',
  'pgbouncer-log': 'pgbouncer log',
  postgresclientkit: 'other',
  'postgresql-typed': 'other',
  pgpool: 'other',
  unknown: 'other',
  // MongoDB.
  'mongodb-node': 'mongo node',
  mongoose: 'mongo node',
  payload: 'mongo node',
  compass: 'mongo node',
  pymongo: 'mongo python',
  motor: 'mongo python',
  'mongodb-java': 'mongo java',
  'mongo-go': 'mongo go',
  mgo: 'mongo go',
  'mongo-shell': 'mongo shell',
  mongosh: 'mongo shell',
  'mongodb-php': 'mongo php',
  'deno-mongo': 'mongo other',
  mongokitten: 'mongo other',
  'mongo-dart': 'mongo other',
  'mongodb-rust': 'mongo other',
  // Cassandra.
  'cassandra-python': 'cassandra python',
  cqlsh: 'cassandra python',
  'cassandra-java': 'cassandra java',
  'cassandra-stress': 'cassandra java',
  'cassandra-thrift': 'cassandra java',
  'cassandra-node': 'cassandra node',
  gocql: 'gocql',
  cqlsharp: 'cassandra other',
  phpcassa: 'cassandra other',
  kong: 'cassandra other',
  'scylla-rust': 'cassandra other',
  'cassandra-server-log': 'cassandra other',
};

export function familyOf(client: string): string {
  return CLIENT_FAMILIES[client] ?? 'other';
}

export function isSpecialLabel(label: string): label is SpecialLabel {
  return (SPECIAL_LABELS as readonly string[]).includes(label);
}

/** Renders entries with each text as a literal block, so a file reads like the pasted output. */
export function renderEntries(entries: readonly Entry[]): string {
  const doc = new Document(entries);
  for (const item of (doc.contents as { items: unknown[] }).items) {
    if (!isMap(item)) continue;
    const text = item.get('text', true);
    // Even a one-line text: a literal block shows the quotes and backslashes users pasted, unescaped.
    if (isScalar(text)) text.type = Scalar.BLOCK_LITERAL;
  }
  const rendered = doc.toString({ lineWidth: 0, blockQuote: 'literal' });
  const back = z.array(EntrySchema).parse(parse(rendered));
  back.forEach((entry, index) => {
    if (JSON.stringify(entry) !== JSON.stringify(entries[index])) throw new Error(`${entries[index]?.id}: does not survive YAML rendering unchanged`);
  });
  return rendered;
}

/** Writes every split/engine file from a map keyed "<split>/<engine>" (an empty list writes []). */
export function writeCorpusFiles(files: ReadonlyMap<string, readonly Entry[]>): void {
  for (const split of SPLITS) {
    for (const engine of ENGINES) {
      const entries = files.get(`${split}/${engine}`) ?? [];
      writeFileSync(corpusFile(split, engine), entries.length === 0 ? '[]\n' : renderEntries(entries));
    }
  }
}
