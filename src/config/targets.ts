import type { Environment } from './environment.js';
import { InputError } from './errors.js';
import { maskUrlPasswords } from './secrets.js';
import { isKeywordValueString, isPostgresUri } from './postgres/conninfo.js';
import { resolvePostgresTarget, type PostgresTarget } from './postgres/target.js';
import { isMongoUri, MONGODB_URL_VARIABLES, type MongoTarget } from './mongodb/target.js';

/** Every engine's target; the `engine` field tells them apart. */
export type Target = PostgresTarget | MongoTarget;

export const SUPPORTED_SCHEMES = ['postgres://', 'postgresql://', 'mongodb://', 'mongodb+srv://'] as const;

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
  if (isMongoUri(text)) return resolveMongo({ text, source: 'url' });
  if (isKeywordValueString(text)) return resolvePostgresTarget({ text, source: 'connection string' }, env);
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
    if (isMongoUri(databaseUrl)) return resolveMongo({ text: databaseUrl, source });
    if (!isPostgresUri(databaseUrl) && !isKeywordValueString(databaseUrl)) {
      throw new InputError(`${source} is not a PostgreSQL URL: ${maskUrlPasswords(databaseUrl)}`, `dbdoctor diagnoses ${SUPPORTED_SCHEMES.join(', ')} URLs; pass a target explicitly`);
    }
    return resolvePostgresTarget({ text: databaseUrl, source }, env);
  }
  const mongoVariable = MONGODB_URL_VARIABLES.find((name) => (env.get(name) ?? '').trim() !== '');
  if (mongoVariable) return resolveMongo({ text: env.get(mongoVariable) ?? '', source: env.sourceOf(mongoVariable) ?? `env ${mongoVariable}` });
  return resolvePostgresTarget(undefined, env);
}

/** MongoDB's resolver loads the driver's URL parser: only for MongoDB targets. */
async function resolveMongo(input: { text: string; source: string }): Promise<Target> {
  const { resolveMongoTarget } = await import('./mongodb/target.js');
  return resolveMongoTarget(input);
}
