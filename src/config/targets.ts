import type { Environment } from './environment.js';
import { InputError } from './errors.js';
import { maskUrlPasswords, passwordsIn, scrubLiterals } from './secrets.js';
import { ENGINE_MODULES, type Target } from '../engines/registry.js';

/** Every engine's target; the `engine` field tells them apart (the registry derives it from the engines). */
export type { Target } from '../engines/registry.js';

/** A target and, when it came from a config file or the environment, the name it goes by. */
export interface LabelledTarget {
  readonly target: Target;
  readonly label?: string;
}

export const SUPPORTED_SCHEMES: readonly string[] = ENGINE_MODULES.flatMap((module) => module.schemes);

/** The engine whose scheme starts the text (matched as typed, in any case). */
function engineOfUrl(text: string) {
  const lower = text.trim().toLowerCase();
  return ENGINE_MODULES.find((module) => module.schemes.some((scheme) => lower.startsWith(scheme)));
}

/** The engine that reads a text with no scheme as its own (libpq's keyword/value strings). */
function engineOfBareText(text: string) {
  return ENGINE_MODULES.find((module) => module.bareText?.test(text));
}

/** An engine's variables are parsed by its own resolver: whatever they seem to hold as a password is scrubbed from its errors. */
async function withoutEnvironmentPasswords<T>(env: Environment, parse: () => Promise<T>): Promise<T> {
  const values = env.names().map((name) => env.get(name) ?? '');
  return withoutPasswords(values.join('\n'), parse);
}

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
  const byScheme = engineOfUrl(text);
  if (byScheme) return await byScheme.resolve({ text, source }, env);
  const bare = engineOfBareText(text);
  if (bare?.bareText) return bare.resolve({ text, source: source === 'url' ? bare.bareText.source : source }, env);
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
    const engine = engineOfUrl(value) ?? engineOfBareText(value);
    if (engine) {
      found.push({ target: await withoutPasswords<Target>(value, () => engine.resolve({ text: value, source }, env)), label: name });
    } else if (name === 'DATABASE_URL') {
      throw new InputError(
        `${source} is not a URL dbdoctor knows: ${scrubLiterals(maskUrlPasswords(value), passwordsIn(value))}`,
        `dbdoctor diagnoses ${SUPPORTED_SCHEMES.join(', ')} URLs; pass a target explicitly`,
      );
    }
  }
  // Each engine's own variables (MONGODB_URI, CASSANDRA_CONTACT_POINTS, PGHOST, …), in the registry's order.
  const first: LabelledTarget[] = [];
  for (const module of ENGINE_MODULES) {
    const entries = await withoutEnvironmentPasswords(env, async () => (await module.discover?.(env, [...first, ...found])) ?? []);
    for (const entry of entries) (entry.first ? first : found).push({ target: entry.target, label: entry.label });
  }
  found.unshift(...first);
  // Nothing at all: the default engine's own defaults (libpq's).
  const fallback = ENGINE_MODULES[0];
  if (found.length === 0 && fallback.defaultTarget) {
    const entry = await fallback.defaultTarget(env);
    found.push({ target: entry.target, label: entry.label });
  }
  return found;
}
