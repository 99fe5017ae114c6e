import type { DotEnv } from './dotenv.js';
import { isSecretName, maskUrlPasswords, secrets } from './secrets.js';

/**
 * The environment dbdoctor reads settings from: the process environment over a .env file (the
 * real environment wins, as docker compose does). Every value remembers where it came from so
 * that reports can say "host came from .env DATABASE_URL".
 */
export interface Environment {
  get(name: string): string | undefined;
  /** "env PGHOST" or "./.env PGHOST"; undefined when the variable is not set. */
  sourceOf(name: string): string | undefined;
  names(): string[];
  /** A plain object view, for probes and libraries that want one. */
  toRecord(): Readonly<Record<string, string | undefined>>;
}

export function buildEnvironment(processEnv: Readonly<Record<string, string | undefined>>, dotenv?: DotEnv): Environment {
  const merged: Record<string, string> = {};
  const origin: Record<string, string> = {};
  for (const [name, value] of Object.entries(dotenv?.values ?? {})) {
    merged[name] = value;
    origin[name] = `${dotenv?.path ?? '.env'} ${name}`;
  }
  for (const [name, value] of Object.entries(processEnv)) {
    if (value === undefined) continue;
    merged[name] = value;
    origin[name] = `env ${name}`;
  }
  for (const [name, value] of Object.entries(merged)) registerSecrets(name, value);
  return {
    get: (name) => merged[name],
    sourceOf: (name) => origin[name],
    names: () => Object.keys(merged),
    toRecord: () => ({ ...merged }),
  };
}

/** Secret-named variables, and the password inside any URL-valued variable, are secrets. */
function registerSecrets(name: string, value: string): void {
  if (isSecretName(name)) secrets.add(value);
  const inUrl = /^[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s]*)@/i.exec(value);
  if (inUrl?.[1]) {
    secrets.add(inUrl[1]);
    try {
      secrets.add(decodeURIComponent(inUrl[1]));
    } catch {
      // a malformed escape: the raw form is registered already
    }
  }
  if (maskUrlPasswords(value) !== value) {
    const conninfo = /\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(value);
    if (conninfo?.[1]) secrets.add(conninfo[1].replace(/^'|'$/g, ''));
  }
}
