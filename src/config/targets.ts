import type { Environment } from './environment.js';
import { InputError } from './errors.js';
import { maskUrlPasswords } from './secrets.js';
import { isKeywordValueString, isPostgresUri } from './postgres/conninfo.js';
import { resolvePostgresTarget, type PostgresTarget } from './postgres/target.js';
import { isCassandraUri, resolveCassandraTarget, SPELLINGS, type CassandraTarget } from './cassandra/target.js';

/** Every engine's target; the `engine` field tells them apart. */
export type Target = PostgresTarget | CassandraTarget;

export const SUPPORTED_SCHEMES = ['postgres://', 'postgresql://', 'cassandra://'] as const;

/**
 * Turns what the user typed (or, with nothing typed, what the environment points at) into
 * targets. The scheme picks the engine; anything else is an input error with the fix.
 */
export async function resolveTargets(inputs: readonly string[], env: Environment): Promise<Target[]> {
  if (inputs.length === 0) return [await fromEnvironment(env)];
  return Promise.all(inputs.map((input) => fromInput(input, env)));
}

async function fromInput(input: string, env: Environment): Promise<Target> {
  const text = input.trim();
  if (text === '') throw new InputError('the target is empty', 'give a URL such as postgresql://user@host:5432/db');
  if (isPostgresUri(text)) return resolvePostgresTarget({ text, source: 'url' }, env);
  if (isKeywordValueString(text)) return resolvePostgresTarget({ text, source: 'connection string' }, env);
  if (isCassandraUri(text)) return resolveCassandraTarget({ text, source: 'url' }, env);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
  if (scheme) {
    throw new InputError(`unknown engine "${scheme}" in ${maskUrlPasswords(text)}`, `dbdoctor diagnoses ${SUPPORTED_SCHEMES.join(', ')} URLs`);
  }
  throw new InputError(
    `cannot tell which database "${maskUrlPasswords(text)}" is`,
    'give a URL with its scheme, e.g. postgresql://user@host:5432/db, or a libpq string such as "host=db dbname=app"',
  );
}

/**
 * With no target: DATABASE_URL when set (from the environment or .env), else the libpq
 * environment (PGHOST, PGPORT, …), else libpq's own defaults (the local socket, port 5432).
 */
async function fromEnvironment(env: Environment): Promise<Target> {
  const databaseUrl = env.get('DATABASE_URL');
  if (databaseUrl && databaseUrl.trim() !== '') {
    const source = env.sourceOf('DATABASE_URL') ?? 'env DATABASE_URL';
    if (isCassandraUri(databaseUrl)) return resolveCassandraTarget({ text: databaseUrl, source }, env);
    if (!isPostgresUri(databaseUrl) && !isKeywordValueString(databaseUrl)) {
      throw new InputError(`${source} is not a PostgreSQL URL: ${maskUrlPasswords(databaseUrl)}`, `dbdoctor diagnoses ${SUPPORTED_SCHEMES.join(', ')} URLs; pass a target explicitly`);
    }
    return resolvePostgresTarget({ text: databaseUrl, source }, env);
  }
  // No DATABASE_URL: Cassandra's contact-point variables, in either spelling, name a Cassandra target.
  if (SPELLINGS.hosts.some((name) => (env.get(name) ?? '').trim() !== '')) return resolveCassandraTarget(undefined, env);
  return resolvePostgresTarget(undefined, env);
}
