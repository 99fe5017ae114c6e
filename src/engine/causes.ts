import { z } from 'zod';
import { exitForSeverity, type ExitCode } from './exit.js';
import type { StepId } from './steps.js';

/**
 * The catalogue of cause codes: the JSON contract that scripts, tests and monitoring match on.
 * Codes are stable: add new ones, never rename or re-purpose one. Every code here has a README
 * entry and at least one test that produces it (test/unit/catalogue.test.ts checks both).
 *
 * One record per cause (issue 16): everything dbdoctor knows about a code is here, and `wait`, the
 * exit code, the README and every format read it; there is no other table of causes.
 *
 * `steps` lists where the code may appear; `severity` is the status a finding with this code has.
 * A few codes name a state that fails one connection and only weakens another (a standby is fatal
 * to a client that asked for a primary, and a warning to one that asked for nothing): they say
 * so in `warnWhen`, and a step may then report them as warnings (StepIO.warn) in that case only.
 * The code and its meaning stay the same either way; only the status differs, and the README's
 * catalogue shows both. The meaning is engine-agnostic; each probe keeps its own remediation next
 * to the step that produces the code.
 */
export interface CauseDeclaration {
  readonly steps: readonly StepId[] | 'any' | 'none';
  readonly severity: 'pass' | 'warn' | 'fail';
  /** For a `fail` code that is a warning in some cases: which, in a sentence (README, runbooks). */
  readonly warnWhen?: string;
  /** Whether waiting can make the cause go away (`dbdoctor wait`); every cause must say. */
  readonly waiting: Waiting;
  /** What the target's address did, which is how `wait` paces its next attempt; `answered` unless said. */
  readonly answer?: WaitAnswer;
  /**
   * Where a client meets what this cause looks like: only while connecting (unless said), or in a
   * session already established too (a reset, a silent peer, a read that timed out), where those
   * words say how a session broke, not why a connection failed. explain reads it (explain/match.ts).
   */
  readonly symptom?: 'connecting' | 'connecting-or-session';
  readonly title: string;
  readonly meaning: string;
}

/**
 * Whether waiting can make a cause go away, for `dbdoctor wait`:
 *   heals      a server starting, a resolver not up yet, slots freeing: keep waiting
 *   permanent  a wrong password or port, another protocol: waiting will not help, fail fast
 *   retries    permanent once seen several times in a row (a name that does not resolve may be a
 *              Kubernetes service whose DNS record is not created yet)
 */
export type Waiting = 'heals' | 'permanent' | 'retries';

/**
 * What the target's address did, as `wait` paces its attempts by it (api/wait.ts):
 *   answered   a server answered (with a refusal of its own, a full pool, a rejected login…):
 *              backoff, and near the deadline another try while a login and a query still fit
 *   refused    nothing listens there yet: wait watches the refused port during the pause and
 *              tries again the moment it opens
 *   silent     nothing answered: an attempt lasts as long as its deadline allows, so near the end
 *              another one would only be cut short; the last whole diagnosis is kept
 *   starting   a server on its way up (or restarting), seconds from ready: asked again every
 *              quarter second at most, as `until pg_isready; do sleep 1; done` does
 */
export type WaitAnswer = 'answered' | 'refused' | 'silent' | 'starting';

/** What the record adds to a declaration: derived, so that no second table can disagree. */
export interface CauseDerived {
  readonly code: string;
  /** The exit code a verdict with this cause gives at its catalogue severity (a `warnWhen` code reported as a warning: degraded's). */
  readonly exit: ExitCode;
  /** The id of its row in the README's catalogue (`README.md#cause-…`), written by docs/readme.ts. */
  readonly anchor: string;
}

export type CauseMeta = CauseDeclaration & CauseDerived;

/** A host that did not answer, where a later host of the same connection string did (libpq moves on after connect_timeout). */
const LATER_HOST_ANSWERED =
  'a later host or address of the connection string answered: libpq gave this one up after connect_timeout and moved on, so the connection works, and every new one waits that long first';

const DECLARED = {
  healthy: {
    steps: 'none',
    severity: 'pass',
    waiting: 'heals',
    title: 'Healthy',
    meaning: 'Every step passed. The verdict step is null.',
  },

  // ── process ────────────────────────────────────────────────────────────────
  not_running: {
    steps: ['process'],
    severity: 'fail',
    waiting: 'heals',
    answer: 'refused',
    title: 'No server is running',
    meaning:
      "The connection was refused (or the socket file is missing) and, when the host is this machine, no server process of this engine was found listening anywhere; where this machine's processes could not be read (no /proc, lsof or netstat to read them), none could be looked for, and the finding says so.",
  },
  wrong_port: {
    steps: ['process'],
    severity: 'fail',
    // Read from what runs here now: the server waited for may simply not have started yet (beside
    // other servers).
    waiting: 'heals',
    answer: 'refused',
    title: 'Server listens on another port',
    meaning: 'The connection was refused, but a server of this engine is listening on another local port, which is named.',
  },
  localhost_in_container: {
    steps: ['process'],
    severity: 'fail',
    // Read from what runs here now: the server waited for may be a sidecar container that shares
    // this pod's localhost, not started yet.
    waiting: 'retries',
    answer: 'refused',
    title: 'localhost inside a container',
    meaning:
      'The connection to a loopback address was refused while dbdoctor runs inside a container: loopback is the container itself, not the database’s container. The service names this environment knows are suggested.',
  },

  // ── accepting ──────────────────────────────────────────────────────────────
  starting_up: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'heals',
    answer: 'starting',
    title: 'Server is starting up',
    meaning: 'The server process runs but does not accept connections yet (PostgreSQL: SQLSTATE 57P03 "starting up"). Waiting helps.',
  },
  shutting_down: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'heals',
    answer: 'starting',
    title: 'Server is shutting down',
    meaning: 'The server refuses new connections because a shutdown is in progress (PostgreSQL: 57P03 "shutting down").',
  },
  recovery: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'heals',
    answer: 'starting',
    title: 'Server is in recovery',
    meaning:
      'The server is replaying WAL (crash recovery, or a standby without hot_standby / not yet consistent) and refuses connections (PostgreSQL: 57P03 variants).',
  },
  not_accepting: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Server refuses connections for now',
    meaning: 'The server said it cannot accept connections now (PostgreSQL: 57P03) with a reason dbdoctor does not recognise; the message is in the evidence.',
  },
  not_listening: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'retries',
    answer: 'refused',
    title: 'Server runs but does not listen on this address',
    meaning:
      'A server of this engine runs on this machine, on the requested port, but not on the requested address (for PostgreSQL: listen_addresses), so the connection is refused.',
  },
  connection_reset: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'heals',
    symptom: 'connecting-or-session',
    title: 'Reset during the handshake',
    meaning:
      'The TCP connection was accepted, then reset (RST) before the protocol handshake finished: a proxy or firewall killing the connection, or a server crashing on connect.',
  },
  no_response: {
    steps: ['accepting'],
    severity: 'fail',
    warnWhen: LATER_HOST_ANSWERED,
    waiting: 'heals',
    answer: 'silent',
    symptom: 'connecting-or-session',
    title: 'Accepted, but no answer',
    meaning: 'The TCP connection was accepted but nothing answered the protocol handshake in time: a hung server, a stuck proxy, or a port forward to nowhere.',
  },
  wrong_protocol: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Something else answers on this port',
    meaning:
      'Whatever listens on the port does not speak this engine’s protocol (an HTTP server, another database, a TLS-only endpoint); what answered is in the evidence.',
  },
  tls_required: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Server requires TLS',
    meaning: 'The server rejects unencrypted connections for this host/user/database, and the client did not use TLS (e.g. sslmode=disable).',
  },
  tls_unsupported: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Server does not support TLS',
    meaning: 'The client requires TLS (e.g. sslmode=require) but the server has TLS turned off.',
  },
  tls_verify_failed: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Server certificate rejected',
    meaning:
      'TLS was negotiated but the server certificate failed verification: expired, issued for another host name, or signed by an authority the client does not trust. The problem is named in the evidence.',
  },
  tls_handshake_failed: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'TLS handshake failed',
    meaning: 'The TLS handshake failed for a reason other than certificate verification (protocol version, cipher, a reset mid-handshake).',
  },
  standby: {
    steps: ['accepting'],
    severity: 'fail',
    warnWhen:
      'the client connects to it anyway, so reads work and only writes fail: PostgreSQL with target_session_attrs absent or any; MongoDB with directConnection=true to a secondary, whatever the read preference (a direct connection reads from any member)',
    waiting: 'heals',
    title: 'Server is a read-only standby',
    meaning:
      'The server is a hot standby or replica-set secondary (read-only) but the connection settings require a primary (target_session_attrs=read-write or primary), or ask for no role at all, so writes will fail (PostgreSQL: 25006). The primary is named when the standby knows it.',
  },

  // ── network ────────────────────────────────────────────────────────────────
  dns_not_found: {
    steps: ['network'],
    severity: 'fail',
    waiting: 'retries',
    title: 'Host name does not exist',
    meaning: 'The resolver answered that the name does not exist (ENOTFOUND / NXDOMAIN). Retrying will not help; the name is wrong or not registered here.',
  },
  dns_temporary: {
    steps: ['network'],
    severity: 'fail',
    waiting: 'heals',
    answer: 'silent',
    title: 'Name resolution failed temporarily',
    meaning: 'The resolver could not answer (EAI_AGAIN, resolver unreachable or timed out). This often heals by itself, e.g. at pod start.',
  },
  connect_timeout: {
    steps: ['network'],
    severity: 'fail',
    warnWhen: LATER_HOST_ANSWERED,
    waiting: 'heals',
    answer: 'silent',
    symptom: 'connecting-or-session',
    title: 'No answer to connect',
    meaning: 'The TCP connection attempt got no answer at all before its deadline: a firewall dropping packets, a black-holed route, or a host that is down.',
  },
  host_unreachable: {
    steps: ['network'],
    severity: 'fail',
    waiting: 'heals',
    answer: 'silent',
    title: 'Host or network unreachable',
    meaning: 'The network stack reported that no route leads to the host (EHOSTUNREACH / ENETUNREACH), often from an ICMP message.',
  },
  firewall_rejected: {
    steps: ['network'],
    severity: 'fail',
    waiting: 'retries',
    title: 'Rejected by a firewall',
    meaning:
      'The connection was refused although a server of this engine listens on exactly that address and port on this machine: a firewall rule rejects it (e.g. iptables REJECT --reject-with tcp-reset).',
  },
  ipv6_mismatch: {
    steps: ['network'],
    severity: 'warn',
    waiting: 'heals',
    title: 'The first address refuses',
    meaning:
      'The name resolves to several addresses and the first (typically ::1 for localhost) refuses, while a later one (127.0.0.1) works. dbdoctor and libpq try the next address; clients that try only the first one (Node.js 17+, some drivers) fail.',
  },

  // ── pool ───────────────────────────────────────────────────────────────────
  too_many_connections: {
    steps: ['pool'],
    severity: 'fail',
    waiting: 'heals',
    title: 'No connection slot is free',
    meaning:
      'The server refused the connection because its connection limit is reached (PostgreSQL: 53300, including "remaining slots are reserved" and per-role or per-database limits).',
  },
  near_limit: {
    steps: ['pool'],
    severity: 'warn',
    waiting: 'heals',
    title: 'Connections near the limit',
    meaning: 'At least 80 % (configurable) of the connection limit is in use.',
  },
  idle_in_transaction: {
    steps: ['pool'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Sessions idle in a transaction',
    meaning:
      'Sessions have been idle inside an open transaction for longer than the threshold: they hold connections, locks and snapshots while doing nothing.',
  },
  idle_connections: {
    steps: ['pool'],
    severity: 'warn',
    waiting: 'heals',
    title: 'Many long-idle connections',
    meaning:
      'Sessions idle for longer than the idle threshold (default 30 min) take at least 20 % of the connection limit: a leaking or oversized client pool.',
  },

  // ── auth ───────────────────────────────────────────────────────────────────
  auth_failed: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Authentication failed',
    meaning:
      'The server rejected the credentials (PostgreSQL: 28P01). With password methods PostgreSQL gives the same answer for a role that does not exist, so both are possible.',
  },
  role_missing: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'retries',
    title: 'Role does not exist',
    meaning: 'The server said the user (role) does not exist.',
  },
  hba_rejected: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Rejected by pg_hba.conf',
    meaning: 'No pg_hba.conf line admits this host, user, database and encryption, or a reject line matches. The server’s own words name all four.',
  },
  database_missing: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'retries',
    title: 'Database does not exist',
    meaning:
      'The server, or the pooler in front of it, said the requested database (a Cassandra keyspace) does not exist (PostgreSQL: 3D000; PgBouncer: "no such database").',
  },
  password_missing: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'No password was supplied',
    meaning: 'The server asked for a password but none was found in the URL, the environment or the password file.',
  },
  permission_denied: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'Not permitted to connect',
    meaning: 'The user exists and authenticated, but may not connect: no CONNECT privilege on the database, or the role may not log in.',
  },

  // ── queries ────────────────────────────────────────────────────────────────
  long_running: {
    steps: ['queries'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Long-running queries',
    meaning: 'Statements have been active for longer than the threshold (default 5 min).',
  },
  blocked: {
    steps: ['queries'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Sessions blocked on locks',
    meaning: 'Sessions have waited on a lock for longer than the threshold; the waiting and blocking sessions, their queries and how long are in the evidence.',
  },

  // ── MongoDB (and any engine with replica sets or DNS seed lists) ─────────────
  no_primary: {
    steps: ['accepting'],
    severity: 'fail',
    // An election in progress heals.
    waiting: 'heals',
    title: 'Replica set has no primary',
    meaning:
      'The servers answer as members of a replica set, but none is primary and none names one (an election in progress, or a majority of members down), while the read preference needs a primary.',
  },
  replica_set_mismatch: {
    steps: ['accepting'],
    severity: 'fail',
    // A wrong replicaSet name is configuration.
    waiting: 'permanent',
    title: 'Replica set name does not match',
    meaning:
      'The connection string names a replica set (replicaSet=…) but the server belongs to another set, or to none (a standalone server or a mongos), so the driver never selects it.',
  },
  member_unreachable: {
    steps: ['network'],
    severity: 'fail',
    // Members whose DNS records are not created yet: final only after --retries attempts.
    waiting: 'retries',
    title: 'Advertised member cannot be reached',
    meaning:
      'A seed answered, but the replica set advertises its members under host names (from its own configuration) that this client cannot resolve or connect to, so the driver cannot reach the primary it needs.',
  },
  srv_invalid: {
    steps: ['network'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'DNS seed list records are invalid',
    meaning:
      'The SRV or TXT records behind a mongodb+srv:// name exist but the driver rejects them: a host outside the parent domain, several TXT records, or a TXT option other than authSource, replicaSet and loadBalanced.',
  },
  auth_mechanism: {
    steps: ['auth'],
    severity: 'fail',
    // An unsupported mechanism is configuration.
    waiting: 'permanent',
    title: 'Authentication mechanism not supported',
    meaning:
      'The client asked for an authentication mechanism (e.g. SCRAM-SHA-1, PLAIN) that the server does not support, or that the user has no credentials for.',
  },

  // ── connection poolers (PgBouncer) ─────────────────────────────────────────
  // Appended for issue 9. A pooler splits one connection into two hops, client → pooler and
  // pooler → database; each code names the hop. Steps are chosen by what the client experiences:
  //   accepting  the pooler takes the connection but cannot serve it (the database behind is down,
  //              or the pooler holds it paused): the target does not accept work, as with
  //              not_accepting, though the pooler's process and port are fine;
  //   pool       no slot at the pooler: its client limit, or its server-connection pool;
  //   auth       a login is refused, by the pooler's own user list or by the database it logs in to.
  pooler_backend_down: {
    steps: ['accepting'],
    severity: 'fail',
    // A pooler waits for its database like a client does: a database behind it that is down,
    // paused or full heals; a rejected login does not.
    waiting: 'heals',
    title: 'Pooler up, database behind it unreachable',
    meaning:
      'A connection pooler (PgBouncer) accepts clients but cannot get a server connection to the database behind it: the database is down or unreachable from the pooler, or its logins keep failing. What the pooler reports (its error, its pool counters) and what dbdoctor saw at the database address are in the evidence. pg_isready against the pooler still says "accepting connections".',
  },
  pooler_paused: {
    steps: ['accepting'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Pooler holds the database paused or disabled',
    meaning:
      'An operator told PgBouncer to hold this database: PAUSE (clients log in, then every query waits in its queue) or DISABLE (new clients are rejected), until RESUME / ENABLE.',
  },
  pooler_client_limit: {
    steps: ['pool'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Pooler client limit reached',
    meaning:
      'The pooler refused the connection because its own client limit is reached: PgBouncer\'s "no more connections allowed (max_client_conn)" (or, in newer versions, max_db_client_connections / max_user_client_connections). The database itself may have free slots.',
  },
  pooler_pool_exhausted: {
    steps: ['pool'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Pooler pool exhausted: clients wait',
    meaning:
      "Clients wait in the pooler's queue (PgBouncer SHOW POOLS: cl_waiting, maxwait) because every server connection it may open for this database and user is busy. The limit that binds is named: the pool size (default_pool_size / pool_size), max_db_connections or max_user_connections. PostgreSQL itself may look idle.",
  },
  pooler_session_state: {
    steps: ['pool'],
    severity: 'warn',
    waiting: 'heals',
    title: 'Session state on transaction-pooled connections',
    meaning:
      'The pooler runs this database in transaction (or statement) pool mode, where server connections pass from client to client after each transaction, and a server connection carries session state left by an earlier client: session-level advisory locks held by idle server connections, named prepared statements, or settings changed with SET. The next client inherits them.',
  },
  pooler_auth: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'permanent',
    title: 'The pooler rejected the login',
    meaning:
      "The pooler itself rejected the client's credentials (PgBouncer: auth_file, auth_query run as auth_user, or its auth_hba_file), before any database was asked. The database never saw this login.",
  },
  pooler_backend_auth: {
    steps: ['auth'],
    severity: 'fail',
    waiting: 'permanent',
    title: "The database rejected the pooler's login",
    meaning:
      "The pooler accepted the client, but the database rejected the pooler's own login to it (the pooler → database hop): a password in the pooler's auth_file or [databases] line that does not match the role's, a pg_hba.conf without a line for the pooler's host, or a missing role. The server's own words, relayed by the pooler, are in the evidence.",
  },

  // ── hints from the environment, beside any verdict ────────────────────────
  config_mismatch: {
    steps: 'any',
    severity: 'warn',
    waiting: 'heals',
    title: 'Settings disagree',
    meaning:
      'The environment holds database settings that contradict each other or the target (a host in DATABASE_URL that differs from POSTGRES_HOST, one spelling of a variable set where another is expected): the application may read the other one.',
  },

  // ── the runner's own ───────────────────────────────────────────────────────
  deadline_exceeded: {
    steps: 'any',
    severity: 'fail',
    waiting: 'heals',
    answer: 'silent',
    title: 'Cut off by the deadline',
    meaning:
      'The step was still waiting when the run’s budget expired (--timeout, a target’s timeout in the config file, or, in the exporter, the scrape’s deadline; the message names which, with its figure); the evidence gathered so far is kept.',
  },
  check_error: {
    steps: 'any',
    severity: 'warn',
    waiting: 'heals',
    title: 'The check itself failed',
    meaning:
      'dbdoctor’s own check failed unexpectedly (for example a catalogue query the server does not support). The error is in the evidence; the other steps carried on.',
  },
  // ── added with the Cassandra probe ─────────────────────────────────────────
  protocol_version: {
    steps: ['accepting'],
    severity: 'fail',
    // A protocol version named wrongly is configuration.
    waiting: 'permanent',
    title: 'No common protocol version',
    meaning:
      'The server speaks the database protocol, but not at a version the client offers or is pinned to (Cassandra: "Invalid or unsupported protocol version"); the versions each side supports are in the evidence.',
  },
  native_transport_disabled: {
    steps: ['accepting'],
    severity: 'fail',
    // A binary port switched off (nodetool disablebinary during maintenance) may come back: final
    // only after --retries attempts.
    waiting: 'retries',
    title: 'Client port switched off',
    meaning:
      'The database process runs on this machine but its client port is closed on purpose (Cassandra: nodetool disablebinary, or start_native_transport: false), as its log or configuration shows.',
  },
  local_dc_mismatch: {
    steps: ['network'],
    severity: 'fail',
    // A data centre named wrongly is configuration.
    waiting: 'permanent',
    title: 'Local data centre not in the cluster',
    meaning: 'The client names a local data centre the cluster does not have, so the driver finds no node to use; the data centres that exist are listed.',
  },
  peer_unreachable: {
    steps: ['network'],
    severity: 'warn',
    waiting: 'retries',
    title: 'Advertised address unreachable from here',
    meaning:
      'A node advertises an address for clients (Cassandra: rpc_address / native_address) that this machine cannot resolve or reach, typically a container-internal or private address; drivers connect to that address, not to the contact point.',
  },
  nodes_down: {
    steps: ['network'],
    severity: 'warn',
    // Overload and missing replicas heal as nodes recover.
    waiting: 'heals',
    title: 'Nodes are down',
    meaning: 'The cluster lists nodes that refuse connections or that the driver marks down; the cluster still answers, with less capacity and fewer replicas.',
  },
  overloaded: {
    steps: ['pool'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Server is overloaded',
    meaning: 'The server refused work because it is overloaded (Cassandra: the Overloaded error, from native-transport request limits or back-pressure).',
  },
  unavailable: {
    steps: ['queries'],
    severity: 'fail',
    waiting: 'heals',
    title: 'Not enough replicas',
    meaning:
      'Too few replicas of the target keyspace are alive, or answered in time, for the consistency level (Cassandra: Unavailable, read timeout); replication factor, required and live replicas are in the evidence.',
  },

  // ── replication (issue 14): a standby's own health, beside the standby verdict ─────────────
  replication_stopped: {
    steps: ['accepting'],
    severity: 'warn',
    // wait never waits on a warning, but it heals as the primary comes back.
    waiting: 'heals',
    title: 'Replication has stopped',
    meaning:
      'The server is a standby (or secondary) that is not receiving changes from its primary: no WAL receiver is streaming (PostgreSQL: pg_stat_wal_receiver is empty or not "streaming"), or the replica set names no primary. The primary is down, unreachable from the standby, or refuses its replication login; reads return ever older data.',
  },
  replication_lag: {
    steps: ['accepting'],
    severity: 'warn',
    // wait never waits on a warning, but it heals as the primary comes back.
    waiting: 'heals',
    title: 'The standby lags behind',
    meaning:
      'The standby receives changes but applies them late: the last replayed transaction is older than the --replication-lag threshold (default 1 min) while more WAL waits to be replayed (PostgreSQL: pg_last_xact_replay_timestamp, pg_last_wal_receive_lsn against pg_last_wal_replay_lsn; MongoDB: the secondary’s last write against the primary’s).',
  },
  // ── the role a connection asks for (issue 14) ─────────────────────────────────────────────
  role_mismatch: {
    steps: ['accepting'],
    severity: 'fail',
    // As standby: a failover, or a standby still being built, changes the role a host has.
    waiting: 'heals',
    title: 'Not the role the connection asks for',
    meaning:
      'The connection settings ask for a standby or a read-only session (PostgreSQL: target_session_attrs=standby or read-only), or for a read-write one, and the server (every host listed) is the other kind: a primary where a standby was asked for, or a primary running with default_transaction_read_only = on where read-write was asked for. libpq refuses it ("server is not in hot standby mode", "session is not read-only", "session is read-only"). A standby where a primary is required is `standby`.',
  },
} as const satisfies Record<string, CauseDeclaration>;

/** Every cause's record: its declaration, and what follows from it (exit code, docs anchor). */
export const CAUSES = recordsOf(DECLARED);

// Object.fromEntries forgets which key holds which entry; each entry is its declaration spread
// with the fields derived from it, which is what the type says.
function recordsOf<T extends Record<string, CauseDeclaration>>(declared: T): { readonly [K in keyof T]: T[K] & CauseDerived & { readonly code: K } } {
  return Object.fromEntries(
    Object.entries(declared).map(([code, declaration]) => [
      code,
      { ...declaration, code, exit: exitForSeverity(declaration.severity), anchor: `cause-${code}` },
    ]),
  ) as { readonly [K in keyof T]: T[K] & CauseDerived & { readonly code: K } };
}

/** Codes that a step may report as a warning although their catalogue status is fail. */
export type WarnableCause = { [K in CauseCode]: (typeof CAUSES)[K] extends { readonly warnWhen: string } ? K : never }[CauseCode];

export type CauseCode = keyof typeof DECLARED;
export const CAUSE_CODES = Object.keys(CAUSES) as CauseCode[];
export const CauseCodeSchema = z.enum(CAUSE_CODES as [CauseCode, ...CauseCode[]]);

export function causeMeta(code: CauseCode): CauseMeta {
  return CAUSES[code];
}

/** Whether waiting can make a cause go away (`dbdoctor wait`). */
export function waitingFor(cause: CauseCode): Waiting {
  return CAUSES[cause].waiting;
}

/** What the target's address did, for wait's pace (`answered` unless the record says otherwise). */
export function answerOf(cause: CauseCode): WaitAnswer {
  const record: CauseMeta = CAUSES[cause];
  return record.answer ?? 'answered';
}

/** The tree step a cause belongs to, for causes that belong to exactly one place. */
export function stepOfCause(code: CauseCode): StepId | undefined {
  const steps: CauseMeta['steps'] = CAUSES[code].steps;
  return Array.isArray(steps) ? steps[0] : undefined;
}
