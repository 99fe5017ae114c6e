import type { Remediation } from '../../engine/schema.js';
import type { EngineExplainer, Explained, ExplainRule, FieldPattern, Fields } from '../../explain/rule.js';
import { remediationInWords } from '../common/explain.js';
import type { EngineWords } from '../common/platform.js';

/**
 * `dbdoctor explain`'s Cassandra part. Every message the Cassandra drivers print for the network
 * faults is read by src/probes/common/explain.ts (their wrappers, NoHostAvailable and
 * AllNodesFailedException, only carry the socket's error); what is here is Cassandra's words for
 * the fixes. Server-side errors (bad credentials, overloaded, …) belong here once the Cassandra
 * probe and its lab can produce real messages.
 */
export const cassandraRules: readonly ExplainRule[] = [];

export const cassandraFieldPatterns: readonly FieldPattern[] = [];

/** Cassandra's words for the shared fixes (replace with the Cassandra probe's own once it lands). */
export function cassandraWords(): EngineWords {
  return {
    name: 'Cassandra',
    unit: 'cassandra',
    readyCheck: (host, port) => `cqlsh ${host} ${port} -e 'SHOW VERSION'`,
    urlVariable: 'CASSANDRA_CONTACT_POINTS',
    urlFor: (host, port) => `cassandra://${host}:${port}`,
  };
}

function remediation(explained: Explained): Remediation[] | undefined {
  return remediationInWords(explained, cassandraWords(), 9042, "the driver's SSL options (a truststore or CA file)");
}

function url(fields: Fields): string {
  return `cassandra://${fields.host ?? '<host>'}:${fields.port ?? 9042}`;
}

export const cassandraExplainer: EngineExplainer = { engine: 'cassandra', rules: cassandraRules, fieldPatterns: cassandraFieldPatterns, remediation, url };
