import type { Remediation } from '../../engine/schema.js';
import { cassandraStatementRejected } from './statements.js';
import type { ConnectingSigns, EngineExplainer, Explained, ExplainRule, FieldPattern, Fields, HostSplitter, Reader } from '../../engine/explainer.js';
import { splitterAt } from '../common/hosts.js';
import { remediationInWords } from '../common/explain.js';
import type { EngineWords } from '../common/platform.js';
import { resolveCassandraTarget } from '../../config/cassandra/target.js';
import { buildEnvironment } from '../../config/environment.js';
import { cassandraWords } from './words.js';
import { acceptingRemedies } from './steps/accepting.js';
import { authRemedies } from './steps/auth.js';
import { networkRemedies } from './steps/network.js';
import { queriesRemedies } from './steps/queries.js';
import { isHostName } from '../../net/hostname.js';
import { urlHost, urlPart } from '../../text/url.js';

/**
 * `dbdoctor explain`'s Cassandra part: the server's errors as the drivers wrap them (classify.ts
 * reads the same words: BY_DRIVER_MESSAGE), the drivers' own words for a login the node asks for
 * and for a local data centre the cluster does not have, and Cassandra's words for the fixes. The
 * network faults (NoHostAvailable / AllNodesFailedException carrying a socket error) are read by
 * src/probes/common/explain.ts.
 */
const CQL = ['cassandra'] as const;
const DRIVERS = ['cassandra-python', 'cassandra-node', 'cassandra-java', 'gocql'];

export const cassandraRules: readonly ExplainRule[] = [
  // ── the server's words ─────────────────────────────────────────────────────
  {
    id: 'cql.bad-credentials',
    engines: CQL,
    clients: DRIVERS,
    rank: 'server',
    // PasswordAuthenticator's answer (error 0x0100 Bad credentials) for a wrong password or an unknown role alike.
    pattern: /Provided username (?<user>\S+) and\/or password are incorrect/,
    cause: 'auth_failed',
    fields: ['user'],
    examples: ['AuthenticationError: Provided username app and/or password are incorrect'],
  },
  {
    id: 'cql.login-not-permitted',
    engines: CQL,
    clients: DRIVERS,
    rank: 'server',
    pattern: /(?<![^\s'"])(?<user>[^\s'"]{1,256}) is not permitted to log in/,
    cause: 'permission_denied',
    fields: ['user'],
    examples: ["server replied with 'reporting is not permitted to log in' to AuthResponse request"],
  },
  {
    id: 'cql.keyspace-missing',
    engines: CQL,
    clients: DRIVERS,
    rank: 'server',
    pattern:
      /Keyspace '?(?<database>[\w"]+)'? does not exist|InvalidKeyspaceException: Invalid keyspace \S+|Unable to connect to any servers using keyspace '[^']+'/,
    cause: 'database_missing',
    fields: ['database'],
    examples: ["ResponseError: Keyspace 'no_such_keyspace' does not exist"],
  },
  {
    id: 'cql.protocol-version',
    engines: CQL,
    clients: ['cassandra-python', 'cassandra-node', 'gocql'],
    rank: 'server',
    pattern:
      /Invalid or unsupported protocol version \(\d+\)|unable to STARTUP using protocol version \d+|ProtocolError returned from server while using explicitly set client protocol_version \d+|Beta version of the protocol used \([^)]*\), but USE_BETA flag is unset|unsupported protocol response version: \d+/,
    cause: 'protocol_version',
    examples: ['Invalid or unsupported protocol version (2); supported versions are (3/v3, 4/v4, 5/v5, 6/v6-beta)'],
  },
  {
    id: 'cql.unavailable',
    engines: CQL,
    clients: DRIVERS,
    rank: 'server',
    // Error 0x1000 Unavailable: the coordinator knows too few replicas alive for the consistency level.
    pattern: /Not enough replicas? available for query at consistency (?<consistency>\w+)|Cannot achieve consistency level (?<level>\w+)/,
    cause: 'unavailable',
    examples: ['Not enough replicas available for query at consistency LOCAL_QUORUM (2 required but only 1 alive)'],
  },
  // ── the drivers' words ─────────────────────────────────────────────────────
  {
    id: 'cql.authentication-required',
    engines: CQL,
    clients: DRIVERS,
    rank: 'client',
    // The node sent AUTHENTICATE and the driver has no credentials to answer with.
    pattern:
      /requires authentication(?: \([^)]*\))?, but no authenticator|Remote end requires authentication|authentication required \(using "[^"]*"\)|Authentication provider not set/,
    cause: 'password_missing',
    examples: [
      'gocql: unable to create session: unable to discover protocol version: authentication required (using "org.apache.cassandra.auth.PasswordAuthenticator")',
    ],
  },
  {
    id: 'cql.local-dc',
    engines: CQL,
    clients: ['cassandra-node'],
    rank: 'client',
    pattern: /localDataCenter was configured as '[^']*', but only found hosts in data centers: \[[^\]]*\]/,
    cause: 'local_dc_mismatch',
    examples: ["ArgumentError: localDataCenter was configured as 'dc-east', but only found hosts in data centers: [datacenter1]"],
  },
];

export const cassandraFieldPatterns: readonly FieldPattern[] = [
  { clients: DRIVERS, pattern: /Keyspace '(?<database>[^']+)' does not exist/ },
  { clients: ['cassandra-java'], pattern: /Invalid keyspace (?<database>\S+)/ },
  { clients: ['cassandra-python'], pattern: /using keyspace '(?<database>[^']+)'/ },
];

/**
 * The probe's own words for the shared fixes, for a target built from what the text names (an
 * empty environment: a pasted message is about the application's machine, not this one).
 */
function wordsFor(fields: Fields): EngineWords {
  return cassandraWords(targetFor(fields));
}

/**
 * The target the text names; the password is wherever the application keeps it. A host the text
 * does not name (or names as something no resolver takes) stays the <host> placeholder, a value
 * like any other in the commands.
 */
function targetFor(fields: Fields): ReturnType<typeof resolveCassandraTarget> {
  const named = fields.host !== undefined && isHostName(fields.host) ? fields.host : undefined;
  let target: ReturnType<typeof resolveCassandraTarget>;
  try {
    target = resolveCassandraTarget({ text: url({ ...fields, host: named ?? 'localhost' }), source: 'the pasted text' }, buildEnvironment({}));
  } catch {
    target = resolveCassandraTarget({ text: 'cassandra://localhost:9042', source: 'the pasted text' }, buildEnvironment({}));
  }
  const contactPoints = named ? target.contactPoints : target.contactPoints.map((point) => ({ ...point, host: '<host>' }));
  return { ...target, contactPoints, sources: { ...target.sources, password: 'the application’s settings' } };
}

function remediation(explained: Explained): Remediation[] | undefined {
  const { cause, fields, text } = explained;
  switch (cause) {
    case 'auth_failed':
    case 'permission_denied':
    case 'password_missing':
    case 'database_missing':
      return authRemedies[cause](targetFor(fields));
    case 'protocol_version': {
      const offered =
        /supported versions are \(([^)]*)\)/
          .exec(text)?.[1]
          ?.match(/(\d+)\/v\d+(?!-beta)/g)
          ?.map((version) => Number(version.split('/')[0])) ?? [];
      return acceptingRemedies.protocol_version(targetFor(fields), offered);
    }
    case 'local_dc_mismatch': {
      const list = /only found hosts in data centers: \[([^\]]*)\]/.exec(text)?.[1] ?? '';
      return networkRemedies.local_dc_mismatch(
        targetFor(fields),
        list
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      );
    }
    case 'unavailable':
      return queriesRemedies.unavailable(targetFor(fields), fields.database ?? '<keyspace>');
    default:
      return remediationInWords(explained, wordsFor(fields), 9042, "the driver's SSL options (a truststore or CA file)");
  }
}

function url(fields: Fields): string {
  const user = fields.user ? `${urlPart(fields.user)}@` : '';
  return `cassandra://${user}${fields.host ? urlHost(fields.host) : '<host>'}:${fields.port ?? 9042}/${fields.database ? urlPart(fields.database) : ''}`;
}

/**
 * How the drivers list the hosts they tried: the Python driver's NoHostAvailable map
 * ({'10.0.0.1:9042': ConnectionRefusedError(…), …}), the Node.js driver's innerErrors (the same
 * keys), the Java driver's "tried: /10.0.0.1:9042 (…)" (3.x) and "Node(endPoint=/10.0.0.1:9042, …)"
 * (4.x).
 */
const cassandraHosts: readonly HostSplitter[] = [
  splitterAt('cassandra-map', /(?<=[{,]\s*)'(?<host>[^'\s:]+|\[[^\]]+\])(?::(?<port>\d+))?':\s/g),
  splitterAt('cassandra-java3', /(?:tried: |\), )\/(?<host>[^\s:/]+):(?<port>\d+) \(/g),
  splitterAt('cassandra-java4', /Node\(endPoint=[^/\s]*\/(?<host>[^\s:,]+):(?<port>\d+)/g),
];

/** The native protocol's error codes, the drivers' class names and fixed sentences for them, loaded when a text is read. */
async function readers(): Promise<readonly Reader[]> {
  return [(await import('./codes.js')).cqlCodeReader];
}

/**
 * How the Cassandra drivers show a connection attempt (for a request timeout, which decides only
 * then): their words for a session that could not be made, and the frames of the control
 * connection or the session's start.
 */
const cassandraConnecting: ConnectingSigns = {
  words:
    /Unable to connect to any servers|Could not reach any contact point|unable to create session|no connections were made when creating the session|Error during connection|\bCannot connect\b/i,
  frame:
    /\bControlConnection[._]|\bClient\._?connect\b|\bCluster\.(?:init|connect)\b|\bSessionBuilder\.build|\bDefaultSession\.init\b|, in (?:connect|_connect|_new_session|_reconnect_internal)\s*$/,
};

/** What only a working session hears: a query's own error, or a driver that connected. */
const CASSANDRA_WORKING = /\bunconfigured table\b|\bline \d+:\d+ (?:no viable alternative|mismatched input)\b|\bUndefined column name\b/i;

export const cassandraExplainer: EngineExplainer = {
  engine: 'cassandra',
  statementRejected: cassandraStatementRejected,
  rules: cassandraRules,
  fieldPatterns: cassandraFieldPatterns,
  readers,
  hostSplitters: cassandraHosts,
  connecting: cassandraConnecting,
  working: CASSANDRA_WORKING,
  remediation,
  url,
};
