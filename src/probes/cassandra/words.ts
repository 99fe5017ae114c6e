import type { CassandraTarget } from '../../config/cassandra/target.js';
import type { EngineWords } from '../common/platform.js';
import { cqlsh, urlWith } from './commands.js';
import { cassandraDesktop } from './desktop.js';

/** Cassandra in the shared steps' and platform fixes' words. */
export function cassandraWords(target: CassandraTarget): EngineWords {
  return {
    name: 'Cassandra',
    unit: 'cassandra',
    managed: cassandraDesktop,
    readyCheck: (host, port) => cqlsh({ ...target, contactPoints: [{ host, port }] }, 'SELECT release_version FROM system.local'),
    urlVariable: 'CASSANDRA_CONTACT_POINTS',
    urlFor: (host, port) => urlWith(target, { host, port }),
  };
}

/** Words in service names that suggest a Cassandra service. */
export const CASSANDRA_SERVICE_WORDS = ['cassandra', 'cql', 'scylla'] as const;
