import type { PostgresTarget } from '../../config/postgres/target.js';
import type { EngineWords } from '../common/platform.js';
import { urlWith } from './commands.js';
import { sh } from '../../text/shell.js';
import { postgresDesktop } from './desktop.js';

/** PostgreSQL in the shared steps' and platform fixes' words. */
export function postgresWords(target: PostgresTarget): EngineWords {
  return {
    name: 'PostgreSQL',
    unit: 'postgresql',
    managed: postgresDesktop,
    readyCheck: (host, port) => sh`pg_isready -h ${host} -p ${port}`,
    urlVariable: 'DATABASE_URL',
    urlFor: (host, port) => urlWith(target, { host, port }),
  };
}

/** Words in service names that suggest a PostgreSQL service. */
export const POSTGRES_SERVICE_WORDS = ['postgres', 'postgresql', 'pg', 'psql'] as const;
