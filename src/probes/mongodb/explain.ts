import type { Remediation } from '../../engine/schema.js';
import type { EngineExplainer, Explained, ExplainRule, FieldPattern, Fields } from '../../explain/rule.js';
import { remediationInWords } from '../common/explain.js';
import type { EngineWords } from '../common/platform.js';

/**
 * `dbdoctor explain`'s MongoDB part. The network-level causes MongoDB shares with every engine are
 * read by src/probes/common/explain.ts; what is here is the driver's own wording (server selection)
 * and MongoDB's words for the fixes. Server-side codes (AuthenticationFailed 18, too many
 * connections, …) belong here once the MongoDB probe and its lab can produce real messages.
 */
const MONGO = ['mongodb'] as const;

export const mongodbRules: readonly ExplainRule[] = [
  {
    id: 'mongo.selection-timeout',
    engines: MONGO,
    clients: ['mongo-go-driver'],
    rank: 'symptom',
    // Server selection gave up and the topology holds no "Last error": nothing ever answered.
    pattern: /server selection (?:timeout|error: context deadline exceeded), current topology: \{ Type: \w+, Servers: \[\{ Addr: (?<host>[^\s,:]+):(?<port>\d+), Type: Unknown \}/,
    cause: 'connect_timeout',
    also: [
      { cause: 'no_response', why: 'a server that accepted the connection and never answered leaves the same topology' },
      { cause: 'tls_verify_failed', why: 'with TLS on, a failed handshake may end the same way' },
    ],
    fields: ['host', 'port'],
    examples: ['server selection error: server selection timeout, current topology: { Type: Single, Servers: [{ Addr: 10.99.0.3:27017, Type: Unknown }, ] }'],
  },
];

export const mongodbFieldPatterns: readonly FieldPattern[] = [];

/** MongoDB's words for the shared fixes (replace with the MongoDB probe's own once it lands). */
export function mongodbWords(): EngineWords {
  return {
    name: 'MongoDB',
    unit: 'mongod',
    readyCheck: (host, port) => `mongosh --quiet "mongodb://${host}:${port}/" --eval "db.runCommand({ ping: 1 })"`,
    urlVariable: 'MONGODB_URI',
    urlFor: (host, port) => `mongodb://${host}:${port}/`,
  };
}

function remediation(explained: Explained): Remediation[] | undefined {
  return remediationInWords(explained, mongodbWords(), 27017, 'tlsCAFile=/path/to/ca.pem in the connection string');
}

function url(fields: Fields): string {
  return `mongodb://${fields.host ?? '<host>'}:${fields.port ?? 27017}/`;
}

export const mongodbExplainer: EngineExplainer = { engine: 'mongodb', rules: mongodbRules, fieldPatterns: mongodbFieldPatterns, remediation, url };
