import type { Environment } from './environment.js';
import { InputError } from './errors.js';
import { maskUrlPasswords, passwordsIn, scrubLiterals } from './secrets.js';
import { isKeywordValueString, isPostgresUri } from './postgres/conninfo.js';
import { resolvePostgresTarget, type PostgresTarget } from './postgres/target.js';
import { isMongoUri, MONGODB_URL_VARIABLES, type MongoTarget } from './mongodb/target.js';
import { isCassandraUri, resolveCassandraTarget, SPELLINGS, type CassandraTarget } from './cassandra/target.js';

/** Every engine's target; the `engine` field tells them apart. */
export type Target = PostgresTarget | MongoTarget | CassandraTarget;

/** A target and, when it came from a config file or the environment, the name it goes by. */
export interface LabelledTarget {
  readonly target: Target;
  readonly label?: string;
}

export const SUPPORTED_SCHEMES = ['postgres://', 'postgresql://', 'mongodb://', 'mongodb+srv://', 'cassandra://'] as const;

/**
 * Turns what the user typed (or, with nothing typed, what the environment points at) into
 * targets. The scheme picks the engine; anything else is an input error with the fix.
 */
export async function resolveTargets(inputs: readonly string[], env: Environment): Promise<Target[]> {
  if (inputs.length === 0) return (await discoverTargets(env)).map((entry) => entry.target);
  return Promise.all(inputs.map((input) => resolveTarget(input, env)));
}

export async function resolveTarget(input: string, env: Environment, source = 'url'): Promise<Target> {
  return withoutPasswords(input, () => fromInput(input, env, source));
}

/**
 * Parsers mask the password they find, but input that does not parse may hide it where they do
 * not look (a "?" in the user name turns the password into a query parameter; libpq reads
 * "sslmode= password=x" as sslmode "password=x"). Whatever the input seems to hold as a password
 * is scrubbed from the error, literally, on the way out.
 */
async function withoutPasswords<T>(input: string, parse: () => Promise<T> | T): Promise<T> {
  try {
    return await parse();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const candidates = passwordsIn(input);
    if (candidates.length === 0) throw error;
    throw new InputError(scrubLiterals(error.message, candidates), error.hint === undefined ? undefined : scrubLiterals(error.hint, candidates));
  }
}

async function fromInput(input: string, env: Environment, source = 'url'): Promise<Target> {
  const text = input.trim();
  if (text === '') throw new InputError('the target is empty', 'give a URL such as postgresql://user@host:5432/db');
  if (isPostgresUri(text)) return resolvePostgresTarget({ text, source }, env);
  if (isMongoUri(text)) return resolveMongo({ text, source });
  if (isCassandraUri(text)) return resolveCassandraTarget({ text, source }, env);
  if (isKeywordValueString(text)) return resolvePostgresTarget({ text, source: source === 'url' ? 'connection string' : source }, env);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
  if (scheme) {
    throw new InputError(`unknown engine "${scheme}" in ${maskUrlPasswords(text)}`, `dbdoctor diagnoses ${SUPPORTED_SCHEMES.join(', ')} URLs`);
  }
  throw new InputError(
    `cannot tell which database "${maskUrlPasswords(text)}" is`,
    'give a URL with its scheme, e.g. postgresql://user@host:5432/db, or a libpq string such as "host=db dbname=app"',
  );
}

/** Variables naming a database URL: DATABASE_URL, and any ORDERS_DATABASE_URL-style name. */
const DATABASE_URL_VARIABLE = /^([A-Z0-9_]+_)?DATABASE_URL$/;

/**
 * With no target: every database the environment points at. Each *DATABASE_URL variable with a
 * supported scheme (labelled by its name); MONGODB_URI / MONGO_URL / MONGO_URI; CASSANDRA_CONTACT_POINTS
 * (or CASSANDRA_HOSTS); the libpq variables (PGHOST, …) when no DATABASE_URL is set (with one, they
 * fill its gaps, as libpq does); else, when nothing else was found, libpq's own defaults.
 */
export async function discoverTargets(env: Environment): Promise<LabelledTarget[]> {
  const found: LabelledTarget[] = [];
  const urlVariables = env
    .names()
    .filter((name) => DATABASE_URL_VARIABLE.test(name))
    .sort((a, b) => (a === 'DATABASE_URL' ? -1 : b === 'DATABASE_URL' ? 1 : a.localeCompare(b)));
  for (const name of urlVariables) {
    const value = env.get(name)?.trim() ?? '';
    if (value === '') continue;
    const source = env.sourceOf(name) ?? `env ${name}`;
    if (isPostgresUri(value) || isKeywordValueString(value)) {
      found.push({ target: await withoutPasswords(value, () => resolvePostgresTarget({ text: value, source }, env)), label: name });
    } else if (isMongoUri(value)) {
      found.push({ target: await withoutPasswords(value, () => resolveMongo({ text: value, source })), label: name });
    } else if (isCassandraUri(value)) {
      found.push({ target: await withoutPasswords(value, () => resolveCassandraTarget({ text: value, source }, env)), label: name });
    } else if (name === 'DATABASE_URL') {
      throw new InputError(
        `${source} is not a URL dbdoctor knows: ${scrubLiterals(maskUrlPasswords(value), passwordsIn(value))}`,
        `dbdoctor diagnoses ${SUPPORTED_SCHEMES.join(', ')} URLs; pass a target explicitly`,
      );
    }
  }
  // MongoDB's own variables: the first of MONGODB_URI / MONGO_URL / MONGO_URI that is set.
  const mongoVariable = MONGODB_URL_VARIABLES.find((name) => (env.get(name) ?? '').trim() !== '');
  if (mongoVariable) {
    const text = env.get(mongoVariable) ?? '';
    found.push({
      target: await withoutPasswords(text, () => resolveMongo({ text, source: env.sourceOf(mongoVariable) ?? `env ${mongoVariable}` })),
      label: mongoVariable,
    });
  }
  // Cassandra's contact-point variables, in either spelling, name a Cassandra target (unless a
  // *DATABASE_URL already named one: they fill its gaps then).
  if (SPELLINGS.hosts.some((name) => (env.get(name) ?? '').trim() !== '') && !found.some((entry) => entry.target.engine === 'cassandra')) {
    found.push({ target: resolveCassandraTarget(undefined, env), label: 'CASSANDRA_* environment' });
  }
  if (!found.some((entry) => entry.label === 'DATABASE_URL')) {
    const libpq = env.names().some((name) => /^PG(HOST|HOSTADDR|PORT|USER|DATABASE|SERVICE)$/.test(name));
    if (libpq || found.length === 0)
      found.unshift({ target: await resolvePostgresTarget(undefined, env), label: libpq ? 'PG* environment' : 'libpq defaults' });
  }
  return found;
}

/** MongoDB's resolver loads the driver's URL parser: only for MongoDB targets. */
async function resolveMongo(input: { text: string; source: string }): Promise<Target> {
  const { resolveMongoTarget } = await import('./mongodb/target.js');
  return resolveMongoTarget(input);
}
