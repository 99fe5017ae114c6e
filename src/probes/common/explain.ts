import type { CauseCode } from '../../engine/causes.js';
import type { Remediation } from '../../engine/schema.js';
import type { PlatformInfo } from '../../host/platform.js';
import type { Alternative, Explained, ExplainRule, FieldPattern, Fields } from '../../engine/explainer.js';
import { ENGINE_NAMES, type NetworkExplainer } from '../../engines/registry.js';
import { errnoReader, refusedAlso, timeoutAlso } from './errno.js';
import { networkRemedies } from './network.js';
import { isHostName } from '../../net/hostname.js';
import { sh, sudoUnlessRoot } from '../../text/shell.js';
import { platformFixes, type EngineWords } from './platform.js';
import { hostPort } from '../../text/address.js';
import { shellQuote } from '../../text/shell.js';

/**
 * `dbdoctor explain`'s rules for what the network and the operating system say, whatever the
 * database: name resolution, refusals, silence, routing, resets and TLS. The wording is each
 * client's (libpq, Python's socket errors, Node's errno codes, Go's net package, Java's exceptions);
 * the examples are real messages, captured in test/explain/corpus with their provenance.
 */
const ALL = ENGINE_NAMES;

/** Every engine's clients in the corpus: the operating system's words reach them all alike. */
const EVERY_CLIENT: readonly string[] = [
  'psql',
  'psycopg2',
  'psycopg',
  'sqlalchemy',
  'asyncpg',
  'node-postgres',
  'pgjdbc',
  'pgx',
  'lib-pq',
  'pymongo',
  'mongodb-node',
  'mongo-go-driver',
  'cassandra-python',
  'cassandra-node',
  'cassandra-java',
  'gocql',
];

const eitherDns: readonly Alternative[] = [
  { cause: 'dns_temporary', why: 'this client reports "name does not exist" and "resolver did not answer" with the same words' },
];

export const networkRules: readonly ExplainRule[] = [
  // ── names ──────────────────────────────────────────────────────────────────
  {
    id: 'net.dns-not-found.gai',
    engines: ALL,
    clients: ['psql', 'psycopg2', 'psycopg', 'sqlalchemy', 'asyncpg', 'pymongo', 'cassandra-java'],
    rank: 'errno',
    pattern: /Name or service not known|\[Errno -2\]|nodename nor servname provided, or not known/,
    cause: 'dns_not_found',
    examples: ['psycopg2.OperationalError: could not translate host name "db" to address: Name or service not known'],
  },
  {
    id: 'net.dns-not-found.node',
    engines: ALL,
    clients: ['node-postgres', 'mongodb-node'],
    rank: 'errno',
    pattern: /getaddrinfo ENOTFOUND (?<host>[^\s'"]+)/,
    cause: 'dns_not_found',
    fields: ['host'],
    examples: ['Error: getaddrinfo ENOTFOUND postgres.lab'],
  },
  {
    id: 'net.dns-not-found.go',
    engines: ALL,
    clients: ['pgx', 'lib-pq', 'mongo-go-driver', 'gocql'],
    rank: 'errno',
    pattern: /lookup (?<host>[^\s]+) on [^\s]+: no such host/,
    cause: 'dns_not_found',
    fields: ['host'],
    examples: ['dial tcp: lookup postgres.lab on 127.0.0.53:53: no such host'],
  },
  {
    id: 'net.dns-temporary.gai',
    engines: ALL,
    clients: ['psql', 'psycopg2', 'psycopg', 'sqlalchemy', 'asyncpg', 'pymongo', 'cassandra-java', 'seed-004'],
    rank: 'errno',
    pattern: /Temporary failure in name resolution|\[Errno -3\]/,
    cause: 'dns_temporary',
    examples: ['pymongo.errors.ServerSelectionTimeoutError: mongodb:27017: [Errno -3] Temporary failure in name resolution'],
  },
  {
    id: 'net.dns-temporary.node',
    engines: ALL,
    clients: ['node-postgres', 'mongodb-node'],
    rank: 'errno',
    pattern: /getaddrinfo EAI_AGAIN (?<host>[^\s'"]+)/,
    cause: 'dns_temporary',
    fields: ['host'],
    examples: ['Error: getaddrinfo EAI_AGAIN postgres'],
  },
  {
    id: 'net.dns-temporary.go',
    engines: ALL,
    clients: ['pgx', 'lib-pq', 'mongo-go-driver', 'gocql'],
    rank: 'errno',
    // Go's resolver talks to the nameserver itself: "read: connection refused" here is the resolver's port, not the database's.
    pattern: /lookup (?<host>[^\s]+) on [^\s]+: (?:server misbehaving|read udp [^\s]+: (?:read: connection refused|i\/o timeout)|i\/o timeout)/,
    cause: 'dns_temporary',
    fields: ['host'],
    examples: ['dial tcp: lookup flaky.lab on 127.0.0.53:53: server misbehaving'],
  },
  {
    id: 'net.dns.java-unknown-host',
    engines: ALL,
    clients: ['pgjdbc'],
    rank: 'errno',
    pattern: /java\.net\.UnknownHostException: (?<host>[^\s:]+)\s*$/m,
    cause: 'dns_not_found',
    also: [{ cause: 'dns_temporary', why: "Java's UnknownHostException does not say whether the name does not exist or the resolver could not answer" }],
    fields: ['host'],
    examples: ['Caused by: java.net.UnknownHostException: postgres.lab'],
  },
  {
    id: 'net.dns.unresolvable-contact-points',
    engines: ['cassandra'],
    clients: ['cassandra-python', 'cassandra-node', 'gocql'],
    rank: 'errno',
    pattern: /UnresolvableContactPoints|No host could be resolved|failed to resolve any of the provided hostnames/,
    cause: 'dns_not_found',
    also: eitherDns,
    examples: ['cassandra.UnresolvableContactPoints: {}', 'NoHostAvailableError: No host could be resolved'],
  },

  // ── refusals ───────────────────────────────────────────────────────────────
  {
    id: 'net.refused.libpq',
    engines: ['postgres'],
    clients: ['psql', 'psycopg2', 'psycopg', 'sqlalchemy'],
    rank: 'errno',
    // A Unix socket file that is not there is libpq's refusal: no server has created it.
    pattern:
      /failed: Connection refused|could not connect to server: Connection refused|could not connect to server: No such file or directory\s+Is the server running locally|on socket "[^"]+" failed: No such file or directory/,
    cause: 'not_running',
    also: refusedAlso,
    examples: ['psycopg2.OperationalError: connection to server at "127.0.0.1", port 44571 failed: Connection refused'],
  },
  {
    id: 'net.refused.node',
    engines: ALL,
    clients: ['node-postgres', 'mongodb-node', 'cassandra-node'],
    rank: 'errno',
    // The port is the last number: Node prints an IPv6 address bare ("connect ECONNREFUSED ::1:5432").
    pattern: /connect ECONNREFUSED (?<host>[0-9a-fA-F.:]+):(?<port>\d+)(?![\d:.])|connect ENOENT \S+\.(?:s\.PGSQL\.\d+|sock)\b/,
    cause: 'not_running',
    also: refusedAlso,
    fields: ['host', 'port'],
    examples: ['Error: connect ECONNREFUSED 127.0.0.1:44571'],
  },
  {
    id: 'net.refused.go',
    engines: ALL,
    clients: ['pgx', 'lib-pq', 'mongo-go-driver', 'gocql'],
    rank: 'errno',
    pattern: /dial tcp (?<host>[^\s:]+|\[[^\]]+\]):(?<port>\d+): connect: connection refused/,
    cause: 'not_running',
    also: refusedAlso,
    fields: ['host', 'port'],
    examples: ['dial tcp 127.0.0.1:44571: connect: connection refused'],
  },
  {
    id: 'net.refused.python',
    engines: ALL,
    clients: ['asyncpg', 'pymongo', 'cassandra-python'],
    rank: 'errno',
    pattern: /\[Errno 111\]|ConnectionRefusedError\(111|Connect call failed \('(?<host>[^']+)', (?<port>\d+)\)/,
    cause: 'not_running',
    also: refusedAlso,
    examples: ["ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 44571)", 'localhost:27017: [Errno 111] Connection refused'],
  },
  {
    id: 'net.refused.java',
    engines: ALL,
    clients: ['pgjdbc', 'cassandra-java'],
    rank: 'errno',
    pattern: /java\.net\.ConnectException: Connection refused|Connection refused: \/|Connection to (?<host>[^\s:]+):(?<port>\d+) refused/,
    cause: 'not_running',
    also: refusedAlso,
    examples: [
      'org.postgresql.util.PSQLException: Connection to 127.0.0.1:44571 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.',
    ],
  },

  {
    // Last of the refusals: the bare words, as quoted in incident reports and logs (seed 002).
    id: 'net.refused',
    engines: ALL,
    clients: ['any'],
    rank: 'errno',
    pattern: /\bConnection refused\b|\berrno 111\b/,
    // As captured: Go's lower-case "connection refused" is often its resolver's (rule net.dns-temporary.go).
    caseSensitive: true,
    cause: 'not_running',
    also: refusedAlso,
    examples: ['"Connection refused" errors (errno 111)'],
  },

  // ── routing, silence, resets ───────────────────────────────────────────────
  {
    id: 'net.no-route',
    engines: ALL,
    clients: EVERY_CLIENT,
    rank: 'errno',
    pattern: /No route to host|no route to host|EHOSTUNREACH|\[Errno 113\]|Network is unreachable|network is unreachable|ENETUNREACH|\[Errno 101\]/,
    cause: 'host_unreachable',
    examples: ['OSError: [Errno 113] No route to host', 'Error: connect EHOSTUNREACH 10.98.0.5:5432 - Local (0.0.0.0:0)'],
  },
  {
    id: 'net.connect-timeout',
    engines: ALL,
    clients: ['pgjdbc', 'pgx', 'lib-pq', 'mongodb-node', 'cassandra-java', 'cassandra-node', 'gocql'],
    rank: 'errno',
    pattern:
      /SocketTimeoutException: Connect timed out|ConnectTimeoutException: connection timed out|dial tcp [^\s]+: i\/o timeout|Socket 'connect' timed out|connect ETIMEDOUT|DriverError: Connection timeout/,
    cause: 'connect_timeout',
    examples: ['dial tcp 10.99.0.3:5432: i/o timeout', "MongoServerSelectionError: Socket 'connect' timed out after 3000ms (connectTimeoutMS: 3000)"],
  },
  {
    id: 'net.timeout.python-socket',
    engines: ['mongodb', 'cassandra'],
    clients: ['pymongo', 'cassandra-python'],
    rank: 'symptom',
    pattern: /(?<![\w.-])[\w.-]{1,253}:\d{1,5}: timed out\b|Last error: timed out/,
    cause: 'connect_timeout',
    also: [
      { cause: 'no_response', why: 'Python\'s socket says "timed out" both when nothing answers the connection and when a connected server never replies' },
    ],
    examples: [
      "cassandra.cluster.NoHostAvailable: ('Unable to connect to any servers', {'10.99.0.3:9042': OSError(None, \"Tried connecting to [('10.99.0.3', 9042)]. Last error: timed out\")})",
    ],
  },
  {
    id: 'net.read-timeout',
    engines: ALL,
    clients: ['pgjdbc', 'lib-pq', 'pgx', 'cassandra-node'],
    rank: 'symptom',
    pattern: /SocketTimeoutException: Read timed out|read tcp [^\s]+->[^\s]+: i\/o timeout|failed to receive message: timeout|did not reply before timeout/,
    cause: 'no_response',
    also: [
      { cause: 'long_running', why: "if it happened during a query, the statement ran longer than the client's read timeout" },
      { cause: 'tls_verify_failed', why: 'some clients (the Node.js Cassandra driver) report a TLS failure as a timeout' },
    ],
    examples: ['Caused by: java.net.SocketTimeoutException: Read timed out'],
  },
  {
    id: 'net.timeout',
    engines: ALL,
    clients: ['psql', 'psycopg2', 'psycopg', 'sqlalchemy', 'asyncpg', 'node-postgres'],
    rank: 'symptom',
    pattern: /timeout expired|ConnectionTimeout|^TimeoutError\s*$|Connection terminated due to connection timeout/m,
    // Class names as captured: in another case ("connectionTimeout=30000") they are a setting, not an error.
    caseSensitive: true,
    cause: 'connect_timeout',
    also: timeoutAlso,
    examples: ['psycopg2.OperationalError: connection to server at "10.99.0.3", port 5432 failed: timeout expired', 'Error: timeout expired'],
  },
  {
    id: 'net.reset',
    engines: ALL,
    clients: ['asyncpg', 'lib-pq', 'node-postgres', 'pgjdbc', 'pgx'],
    rank: 'errno',
    pattern: /Connection reset by peer|connection reset by peer|ECONNRESET|SocketException: Connection reset|\[Errno 104\]/,
    cause: 'connection_reset',
    examples: ['ConnectionResetError: [Errno 104] Connection reset by peer', 'Error: read ECONNRESET'],
  },

  // ── TLS ────────────────────────────────────────────────────────────────────
  {
    id: 'net.tls.hostname',
    engines: ALL,
    clients: ['asyncpg', 'pgjdbc', 'pgx', 'lib-pq', 'node-postgres'],
    rank: 'client',
    pattern:
      /IP address mismatch, certificate is not valid for|Hostname\/IP does not match certificate's altnames|because it doesn't contain any IP SANs|certificate is valid for [^\n]*, not |could not be verified by hostname ?verifier|hostname mismatch/,
    cause: 'tls_verify_failed',
    examples: [
      "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'. (_ssl.c:1006)",
    ],
  },
  {
    id: 'net.tls.untrusted',
    engines: ALL,
    // The Node.js Cassandra driver says nothing of the certificate: it reports a TLS failure as a timeout (net.read-timeout).
    clients: EVERY_CLIENT.filter((client) => client !== 'cassandra-node'),
    rank: 'client',
    pattern:
      /certificate verify failed|CERTIFICATE_VERIFY_FAILED|self[- ]signed certificate|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|unable to verify the first certificate|certificate signed by unknown authority|PKIX path building failed|unable to find valid certification path/,
    cause: 'tls_verify_failed',
    examples: [
      'psycopg2.OperationalError: connection to server at "127.0.0.1", port 45063 failed: SSL error: certificate verify failed',
      'x509: certificate signed by unknown authority',
    ],
  },
  {
    id: 'net.tls.protocol-version',
    engines: ALL,
    clients: ['psql', 'psycopg2', 'psycopg', 'sqlalchemy'],
    rank: 'client',
    pattern:
      /alert protocol version|unsupported protocol|no protocols available|ERR_SSL_UNSUPPORTED_PROTOCOL|alert (?:internal error|handshake failure)|SSL alert number \d+/,
    cause: 'tls_handshake_failed',
    examples: ['connection to server at "127.0.0.1", port 45063 failed: SSL error: tlsv1 alert protocol version'],
  },
];

/** Where clients name host and port in network errors. */
export const networkFieldPatterns: readonly FieldPattern[] = [
  { clients: ['node-postgres', 'mongodb-node', 'cassandra-node'], pattern: /connect E[A-Z]+ (?<host>[0-9a-fA-F.:]+):(?<port>\d+)(?![\d:.])/ },
  { clients: ['node-postgres', 'mongodb-node'], pattern: /getaddrinfo E[A-Z_]+ (?<host>[^\s'"]+)/ },
  { clients: ['pgx', 'lib-pq', 'mongo-go-driver', 'gocql'], pattern: /dial tcp (?<host>[^\s:]+|\[[^\]]+\]):(?<port>\d+)/ },
  { clients: ['pgx', 'lib-pq', 'mongo-go-driver', 'gocql'], pattern: /lookup (?<host>[^\s]+) on / },
  { clients: ['lib-pq', 'pgx'], pattern: /read tcp [^\s]+->(?<host>[^\s:]+):(?<port>\d+)/ },
  { clients: ['asyncpg'], pattern: /Connect call failed \('(?<host>[^']+)', (?<port>\d+)\)/ },
  { clients: ['pymongo'], pattern: /(?<![\w.-])(?<host>[\w.-]{1,253}):(?<port>\d{1,5}): (?:\[Errno|\[SSL|timed out)/ },
  { clients: ['cassandra-python'], pattern: /Tried connecting to \[\('(?<host>[^']+)', (?<port>\d+)\)\]/ },
  { clients: ['mongo-go-driver'], pattern: /Addr: (?<host>[^\s,:]+):(?<port>\d+)/ },
  { clients: ['cassandra-java'], pattern: /endPoint=(?<host>[^/\s]+)\/[^:\s]*:(?<port>\d+)/ },
  { clients: ['cassandra-node'], pattern: /First host tried, (?<host>[^\s:]+):(?<port>\d+)/ },
  { clients: ['pgjdbc', 'cassandra-java'], pattern: /UnknownHostException: (?<host>[^\s:]+)/ },
  {
    clients: ['any'],
    pattern:
      /\b(?:postgres(?:ql)?|mongodb(?:\+srv)?|cassandra):\/\/(?:(?<user>[^:@/\s]+)(?::[^@\s]*)?@)?(?<host>[^:/?\s,@]+)(?::(?<port>\d+))?(?:\/(?<database>[^?\s/'"]+))?/,
  },
];

/**
 * The host a pasted text names, for commands: words that are no host name (a pasted message can
 * say anything, and a word starting with "-" would be an option to getent or nc) stay <host>.
 */
function hostOf(fields: Fields): string {
  return fields.host !== undefined && isHostName(fields.host) ? fields.host : '<host>';
}

/** What every engine has to say about the network causes, in its own words (tool names, URLs). */
export interface NetworkWords {
  readonly words: EngineWords;
  readonly recheck: Remediation;
  /** The engine's port; none when the engine is not known (then a port the text does not name is "<port>", never a number made up). */
  readonly defaultPort: number | undefined;
}

/** A platform that adds nothing: explain does not know where the pasted text came from. */
export const UNKNOWN_PLATFORM: PlatformInfo = { platform: 'host', os: 'linux', chosen: 'detected', inContainer: false, signals: [] };

/** The shared network remedies (the network step's own), for a cause read from text. */
export function networkRemediation(cause: CauseCode, fields: Fields, network: NetworkWords): Remediation[] | undefined {
  const host = hostOf(fields);
  const known = fields.port !== undefined ? Number(fields.port) : network.defaultPort;
  const port = known ?? '<port>';
  switch (cause) {
    case 'dns_not_found':
      // No suggestions from a pasted text: the port would only go into one.
      return networkRemedies.dns_not_found(host, 'the application’s settings', [], network.words, known ?? 0);
    case 'dns_temporary':
      return networkRemedies.dns_temporary(host);
    case 'connect_timeout':
      return networkRemedies.connect_timeout(host, port);
    case 'host_unreachable':
      return networkRemedies.host_unreachable(host, network.recheck);
    case 'firewall_rejected':
      return networkRemedies.firewall_rejected(port, network.recheck);
    case 'not_running':
      return [
        {
          text: `Nothing accepted the connection at ${hostPort(host, port)}. Check that ${network.words.name} runs there, and on which port (on that host):`,
          command: sudoUnlessRoot(sh`sudo ss -tlnp | grep -i ${network.words.unit}`),
          language: 'shell',
        },
        ...platformFixes('not_running', UNKNOWN_PLATFORM, network.words, { host, port: known ?? 0 }),
        network.recheck,
      ];
    default:
      return undefined;
  }
}

/**
 * The fix for an engine that has no explain remedies of its own yet (MongoDB, Cassandra): the
 * shared network remedies, then the TLS and silence fixes below, in the engine's words.
 */
export function remediationInWords(explained: Explained, words: EngineWords, defaultPort: number | undefined, trustSetting: string): Remediation[] | undefined {
  const { cause, fields } = explained;
  const port = fields.port !== undefined ? Number(fields.port) : defaultPort;
  const recheck: Remediation =
    fields.host !== undefined && port !== undefined
      ? { text: 'Then check again:', command: words.readyCheck(hostOf(fields), port), language: 'shell' }
      : { text: 'Then check again with the command below, given the connection URL the application uses.' };
  return networkRemediation(cause, fields, { words, recheck, defaultPort }) ?? tlsRemediation(cause, words, trustSetting);
}

/** Fixes for the accepting-step causes an engine without its own explain remedies can still name. */
export function tlsRemediation(cause: CauseCode, words: EngineWords, trustSetting: string): Remediation[] | undefined {
  switch (cause) {
    case 'tls_verify_failed':
      return [
        {
          text: `The client does not trust the server's certificate (expired, for another name, or signed by an authority it does not know). Give the client the CA that signed it: ${trustSetting}.`,
        },
        {
          text: 'See the certificate the server presents:',
          command: 'openssl s_client -connect <host>:<port> -showcerts </dev/null | openssl x509 -noout -subject -issuer -dates -ext subjectAltName',
          language: 'shell',
        },
      ];
    case 'tls_handshake_failed':
      return [{ text: `Compare the TLS versions and ciphers the client and ${words.name} allow, and read the server log for the handshake error.` }];
    case 'no_response':
    case 'connection_reset':
      return [
        {
          text: `Something accepted the TCP connection but did not answer as ${words.name}: a hung server, a proxy with nothing healthy behind it, or TLS expected on one side only.`,
        },
        { text: 'On the database host, see which process owns the port:', command: sudoUnlessRoot("sudo ss -tlnp 'sport = :<port>'"), language: 'shell' },
      ];
    default:
      return undefined;
  }
}

/** A database that is not known: the shared fixes, in words that fit any. */
const ANY_DATABASE: EngineWords = {
  name: 'the database server',
  unit: '<database-service>',
  readyCheck: (host, port) => `nc -vz -w 3 ${shellQuote(host)} ${port}`,
  urlVariable: 'DATABASE_URL',
  urlFor: (host, port) => `<scheme>://${hostPort(host, port)}`,
};

/**
 * What any client logs once it is connected: in a log stream, a record after the newest error
 * that says so makes that error history (EngineExplainer.working). "not connected to" and
 * "disconnected" are not it.
 */
const CONNECTED =
  /(?<!\bnot |dis)\bconnected to (?:the )?(?:database|db|server|postgres(?:ql)?|mongo(?:db)?|cassandra|cluster)\b|\b(?:database )?connection (?:established|successful)\b|\bsuccessfully connected\b/i;

/** The network's part of explain, loaded through the registry: its rules, the errno reader, the fixes for any engine. */
export const networkExplainer: NetworkExplainer = {
  rules: networkRules,
  fieldPatterns: networkFieldPatterns,
  // A library's fixed sentence before the errno words inside it ("The DNS operation timed out" is the resolver's).
  readers: async () => [(await import('./libraries.js')).libraryPhrases, errnoReader],
  remediation: (explained) => remediationInWords(explained, ANY_DATABASE, undefined, "the client's TLS settings"),
  working: CONNECTED,
};
