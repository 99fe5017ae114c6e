import type { CassandraTarget } from '../config/cassandra/target.js';
import { defineEngine } from './module.js';

/** Apache Cassandra (and servers that speak CQL's native protocol, such as ScyllaDB). */
export const cassandraEngine = defineEngine<'cassandra', CassandraTarget>({
  id: 'cassandra',
  name: 'Cassandra',
  schemes: ['cassandra://'],
  scheme: 'cassandra://',
  defaultPort: 9042,
  resolve: async (input, env) => (await import('../config/cassandra/target.js')).resolveCassandraTarget(input, env),
  // The contact-point variables, in either spelling, name a target (unless a *DATABASE_URL already named one: they fill its gaps then).
  async discover(env, found) {
    const { SPELLINGS } = await import('../config/cassandra/target.js');
    if (!SPELLINGS.hosts.some((name) => (env.get(name) ?? '').trim() !== '') || found.some((entry) => entry.target.engine === 'cassandra')) return [];
    return [{ target: await this.resolve(undefined, env), label: 'CASSANDRA_* environment' }];
  },
  probe: async () => (await import('../probes/cassandra/index.js')).cassandraProbe,
  explainer: async () => (await import('../probes/cassandra/explain.js')).cassandraExplainer,
  textHints:
    /cassandra|datastax|gocql|NoHostAvailable|AllNodesFailedException|UnresolvableContactPoints|contact point|:9042\b|\bcqlsh\b|\bscylla|\bCQL\b|consistency level|\bcode=[0-9a-f]{4} \[/i,
  clients: [
    [
      'cassandra-python',
      /cassandra\.cluster|cassandra\.UnresolvableContactPoints|cassandra\.(?:protocol|Unavailable|Overloaded|ReadTimeout|WriteTimeout|AuthenticationFailed)/,
    ],
    ['cassandra-java', /com\.datastax/],
    ['cassandra-node', /NoHostAvailableError|cassandra-driver/],
    ['gocql', /gocql/],
  ],
  // cassandra-driver's per-host innerErrors and numeric ResponseError codes.
  errorShape: (read) =>
    read('innerErrors') !== undefined || read('name') === 'NoHostAvailableError' || (read('name') === 'ResponseError' && typeof read('code') === 'number'),
});
