import type { Environment } from './environment.js';
import { isSecretName, MASK, maskUrlPasswords } from './secrets.js';

/**
 * Every variable that looks like a database setting, and the contradictions between them. Seeds
 * 000 and 002 are this: compose set DATABASE_URL with host "postgresql" while the code read
 * POSTGRES_HOST and fell back to localhost. Values are shown masked where secret.
 */
export interface ConfigVariable {
  readonly name: string;
  readonly value: string;
  readonly source: string;
}

const DATABASE_VARIABLE =
  /^(DATABASE_URL|[A-Z0-9_]+_DATABASE_URL|DB_[A-Z0-9_]+|DATABASE_[A-Z0-9_]+|POSTGRES(QL)?_[A-Z0-9_]+|PG[A-Z]+|MONGO[A-Z0-9_]*|CASSANDRA_[A-Z0-9_]+|[A-Z0-9_]+_(DB|DATABASE)_(URL|URI|HOST|PORT))$/;

export function databaseVariables(env: Environment): ConfigVariable[] {
  return env
    .names()
    .filter((name) => DATABASE_VARIABLE.test(name))
    .sort()
    .map((name) => {
      const value = env.get(name) ?? '';
      return { name, value: isSecretName(name) ? MASK : maskUrlPasswords(value), source: env.sourceOf(name) ?? `env ${name}` };
    });
}
