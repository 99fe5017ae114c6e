import type { MongoTarget } from '../../config/mongodb/target.js';
import { mongodbStatementRejected } from './statements.js';
import type { Remediation } from '../../engine/schema.js';
import type { EngineExplainer, Explained, ExplainRule, FieldPattern, Fields, HostSplitter, Reader } from '../../engine/explainer.js';
import { splitterAt } from '../common/hosts.js';
import { remediationInWords } from '../common/explain.js';
import type { EngineWords } from '../common/platform.js';
import { showSetName, withoutReplicaSet } from './steps/accepting.js';
import { authRemedies } from './steps/auth.js';
import { sh } from '../../text/shell.js';
import { urlHost, urlLine, urlPart } from '../../text/url.js';
import { isHostName } from '../../net/hostname.js';
import { mongodbDesktop } from './desktop.js';

/**
 * `dbdoctor explain`'s MongoDB part: the server's errors (the codes and words classify.ts reads:
 * AuthenticationFailed 18, an unsupported mechanism, "requires authentication" 13), then the
 * drivers' own wording (server selection), and MongoDB's words for the fixes. The network-level
 * causes MongoDB shares with every engine are read by src/probes/common/explain.ts.
 */
const MONGO = ['mongodb'] as const;
const DRIVERS = ['pymongo', 'mongodb-node', 'mongo-go-driver'];

export const mongodbRules: readonly ExplainRule[] = [
  // ── the server's words (classify.ts: the words before the code where they are more precise) ──
  {
    // FerretDB sends this with code 18 (AuthenticationFailed), MongoDB with 334 (MechanismUnavailable).
    id: 'mongo.auth-mechanism',
    engines: MONGO,
    clients: DRIVERS,
    rank: 'server',
    pattern: /[Uu]nsupported authentication mechanism "?(?<mechanism>[\w-]+)"?|\bMechanismUnavailable\b/,
    cause: 'auth_mechanism',
    examples: ['MongoServerError: Unsupported authentication mechanism "PLAIN".'],
  },
  {
    // Code 13 (Unauthorized) without a login: no credentials reached the server at all.
    id: 'mongo.requires-authentication',
    engines: MONGO,
    clients: DRIVERS,
    rank: 'server',
    pattern: /Command \w+ requires authentication/,
    cause: 'password_missing',
    also: [
      { cause: 'auth_failed', why: 'a client that logs in lazily (or against another authSource) and carries on after a failed login gets the same answer' },
    ],
    examples: ['MongoServerError: Command listDatabases requires authentication'],
  },
  {
    id: 'mongo.auth-failed',
    engines: MONGO,
    clients: DRIVERS,
    rank: 'server',
    // Code 18; Atlas prefixes "bad auth :". The words are MongoDB's and FerretDB's alike.
    pattern: /\bAuthentication failed\b/,
    cause: 'auth_failed',
    examples: [
      "pymongo.errors.OperationFailure: Authentication failed., full error: {'ok': 0.0, 'errmsg': 'Authentication failed.', 'code': 18, 'codeName': 'AuthenticationFailed'}",
    ],
  },
  // ── the drivers' words ─────────────────────────────────────────────────────
  {
    // A replicaSet= topology with no servers left: every seed answered, and the driver removed each
    // one for not being a member of that set (a standalone, a mongos, another set). Unreachable
    // seeds would stay in the topology as Unknown.
    id: 'mongo.replica-set-no-members',
    engines: MONGO,
    clients: DRIVERS,
    rank: 'client',
    pattern:
      /No replica set members available for replica set name "(?<setName>[^"]+)"|Type: ReplicaSetNoPrimary, Servers: \[\] \}|type: 'ReplicaSetNoPrimary',\s+servers: Map\(0\) \{\}[\s\S]*?setName: '(?<setName2>[^']+)'/,
    cause: 'replica_set_mismatch',
    examples: ['server selection error: server selection timeout, current topology: { Type: ReplicaSetNoPrimary, Servers: [] }'],
  },
  {
    id: 'mongo.selection-timeout',
    engines: MONGO,
    clients: ['mongo-go-driver'],
    rank: 'symptom',
    // Server selection gave up and the topology holds no "Last error": nothing ever answered.
    pattern:
      /server selection (?:timeout|error: context deadline exceeded), current topology: \{ Type: \w+, Servers: \[\{ Addr: (?<host>[^\s,:]+):(?<port>\d+), Type: Unknown \}/,
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
    managed: mongodbDesktop,
    readyCheck: (host, port) => sh`mongosh --quiet ${`mongodb://${urlHost(host)}:${port}/`} --eval ${'db.runCommand({ ping: 1 })'}`,
    urlVariable: 'MONGODB_URI',
    urlFor: (host, port) => `mongodb://${urlHost(host)}:${port}/`,
  };
}

/** A MongoDB target from what a message names; what it does not name is a placeholder. */
function targetOf(fields: Fields, options: Readonly<Record<string, string>> = {}): MongoTarget {
  // A host the text does not name, or names as something no resolver takes, is a placeholder.
  const host = fields.host !== undefined && isHostName(fields.host) ? fields.host : 'HOST';
  const port = Number(fields.port ?? 27017);
  const user = fields.user ?? 'USER';
  const query = new URLSearchParams(options).toString();
  return {
    engine: 'mongodb',
    display: '',
    sources: { password: 'the application’s settings' },
    uri: `mongodb://${urlPart(user)}@${urlHost(host)}:${port}/${query ? `?${query}` : ''}`,
    srv: false,
    hosts: [{ host, port }],
    srvServiceName: 'mongodb',
    user,
    database: 'test',
    authSource: 'admin',
    ...(options.authMechanism ? { authMechanism: options.authMechanism } : {}),
    ...(options.replicaSet ? { replicaSet: options.replicaSet } : {}),
    loadBalanced: false,
    readPreference: 'primary',
    tls: false,
    tlsAllowInvalidCertificates: false,
    tlsAllowInvalidHostnames: false,
    ignoredParams: [],
  };
}

function remediation(explained: Explained): Remediation[] | undefined {
  const { cause, fields, matched } = explained;
  switch (cause) {
    case 'auth_failed':
      return authRemedies.auth_failed(targetOf(fields), { inAuthSource: 'unknown', inAdmin: 'unknown' });
    case 'auth_mechanism': {
      const mechanism = /mechanism "?([\w-]+)"?/.exec(matched)?.[1];
      return authRemedies.auth_mechanism(targetOf(fields, mechanism ? { authMechanism: mechanism } : {}), undefined);
    }
    case 'password_missing':
      return authRemedies.password_missing({ ...targetOf(fields), user: undefined });
    case 'replica_set_mismatch': {
      const setName = /replica set name "([^"]+)"|setName: '([^']+)'/.exec(explained.text);
      const expected = setName?.[1] ?? setName?.[2] ?? 'NAME';
      const target = targetOf(fields, { replicaSet: expected });
      return [
        {
          text: `No server the driver reached is a member of replica set "${expected}": each answered as a standalone server, a mongos, or a member of another set, and was dropped. Fix the name, or drop replicaSet for a standalone server:`,
          command: urlLine(withoutReplicaSet(target)),
        },
        showSetName(target),
      ];
    }
    default:
      return remediationInWords(explained, mongodbWords(), 27017, 'tlsCAFile=/path/to/ca.pem in the connection string');
  }
}

function url(fields: Fields): string {
  return `mongodb://${fields.host ? urlHost(fields.host) : '<host>'}:${fields.port ?? 27017}/`;
}

/**
 * How the drivers list the servers of a topology they could not select from: Go's "{ Addr:
 * a:27017, Type: Unknown, Last error: … }", Node.js's "'a:27017' => ServerDescription { … }",
 * pymongo's "<ServerDescription ('a', 27017) … error=…>", Java's "{address=a:27017, … exception=…}".
 */
const mongoHosts: readonly HostSplitter[] = [
  splitterAt('mongo-go', /\{ Addr: (?<host>[^\s,:]+|\[[^\]]+\]):(?<port>\d+)/g),
  splitterAt('mongo-node', /'(?<host>[^'\s:]+|\[[^\]]+\]):(?<port>\d+)' => ServerDescription/g),
  splitterAt('mongo-python', /<ServerDescription \('(?<host>[^']+)', (?<port>\d+)\)/g),
  splitterAt('mongo-java', /\{address=(?<host>[^\s,:]+|\[[^\]]+\]):(?<port>\d+)/g),
];

/** MongoDB's codes and code names in every driver's spelling, loaded when a text is read. */
async function readers(): Promise<readonly Reader[]> {
  const [{ mongodbPhrases }, { mongoCodeReader }] = await Promise.all([import('./phrases.js'), import('./codes.js')]);
  return [mongodbPhrases, mongoCodeReader];
}

/** What only a working connection hears: a write's own error. */
const MONGODB_WORKING = /\bE11000 duplicate key error\b|\bDocument failed validation\b/;

export const mongodbExplainer: EngineExplainer = {
  engine: 'mongodb',
  statementRejected: mongodbStatementRejected,
  rules: mongodbRules,
  fieldPatterns: mongodbFieldPatterns,
  readers,
  hostSplitters: mongoHosts,
  working: MONGODB_WORKING,
  remediation,
  url,
};
