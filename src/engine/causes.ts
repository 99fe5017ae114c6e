import { z } from 'zod';
import type { StepId } from './steps.js';

/**
 * The catalogue of cause codes: the JSON contract that scripts, tests and monitoring match on.
 * Codes are stable: add new ones, never rename or re-purpose one. Every code here has a README
 * entry and at least one test that produces it (test/unit/catalogue.test.ts checks both).
 *
 * `steps` lists where the code may appear; `severity` is the status a finding with this code has.
 * The meaning is engine-agnostic; each probe keeps its own remediation next to the step that
 * produces the code.
 */
export interface CauseMeta {
  readonly steps: readonly StepId[] | 'any' | 'none';
  readonly severity: 'pass' | 'warn' | 'fail';
  readonly title: string;
  readonly meaning: string;
}

export const CAUSES = {
  healthy: {
    steps: 'none',
    severity: 'pass',
    title: 'Healthy',
    meaning: 'Every step passed. The verdict step is null.',
  },

  // ── process ────────────────────────────────────────────────────────────────
  not_running: {
    steps: ['process'],
    severity: 'fail',
    title: 'No server is running',
    meaning:
      'The connection was refused (or the socket file is missing) and, when the host is this machine, no server process of this engine is listening anywhere.',
  },
  wrong_port: {
    steps: ['process'],
    severity: 'fail',
    title: 'Server listens on another port',
    meaning: 'The connection was refused, but a server of this engine is listening on another local port, which is named.',
  },

  // ── accepting ──────────────────────────────────────────────────────────────
  starting_up: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server is starting up',
    meaning: 'The server process runs but does not accept connections yet (PostgreSQL: SQLSTATE 57P03 "starting up"). Waiting helps.',
  },
  shutting_down: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server is shutting down',
    meaning: 'The server refuses new connections because a shutdown is in progress (PostgreSQL: 57P03 "shutting down").',
  },
  recovery: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server is in recovery',
    meaning:
      'The server is replaying WAL (crash recovery, or a standby without hot_standby / not yet consistent) and refuses connections (PostgreSQL: 57P03 variants).',
  },
  not_accepting: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server refuses connections for now',
    meaning: 'The server said it cannot accept connections now (PostgreSQL: 57P03) with a reason dbdoctor does not recognise; the message is in the evidence.',
  },
  not_listening: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server runs but does not listen on this address',
    meaning:
      'A server of this engine runs on this machine, on the requested port, but not on the requested address (for PostgreSQL: listen_addresses), so the connection is refused.',
  },
  no_response: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Accepted, but no answer',
    meaning: 'The TCP connection was accepted but nothing answered the protocol handshake in time: a hung server, a stuck proxy, or a port forward to nowhere.',
  },
  wrong_protocol: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Something else answers on this port',
    meaning: 'Whatever listens on the port does not speak this engine’s protocol (an HTTP server, another database, a TLS-only endpoint); what answered is in the evidence.',
  },
  tls_required: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server requires TLS',
    meaning: 'The server rejects unencrypted connections for this host/user/database, and the client did not use TLS (e.g. sslmode=disable).',
  },
  tls_unsupported: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server does not support TLS',
    meaning: 'The client requires TLS (e.g. sslmode=require) but the server has TLS turned off.',
  },
  tls_verify_failed: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server certificate rejected',
    meaning:
      'TLS was negotiated but the server certificate failed verification: expired, issued for another host name, or signed by an authority the client does not trust. The problem is named in the evidence.',
  },
  tls_handshake_failed: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'TLS handshake failed',
    meaning: 'The TLS handshake failed for a reason other than certificate verification (protocol version, cipher, a reset mid-handshake).',
  },
  standby: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Server is a read-only standby',
    meaning: 'The server is a hot standby (read-only) but the connection settings require a primary (target_session_attrs=read-write or primary).',
  },

  // ── network ────────────────────────────────────────────────────────────────
  dns_not_found: {
    steps: ['network'],
    severity: 'fail',
    title: 'Host name does not exist',
    meaning: 'The resolver answered that the name does not exist (ENOTFOUND / NXDOMAIN). Retrying will not help; the name is wrong or not registered here.',
  },
  dns_temporary: {
    steps: ['network'],
    severity: 'fail',
    title: 'Name resolution failed temporarily',
    meaning: 'The resolver could not answer (EAI_AGAIN, resolver unreachable or timed out). This often heals by itself, e.g. at pod start.',
  },
  connect_timeout: {
    steps: ['network'],
    severity: 'fail',
    title: 'No answer to connect',
    meaning: 'The TCP connection attempt got no answer at all before its deadline: a firewall dropping packets, a black-holed route, or a host that is down.',
  },
  host_unreachable: {
    steps: ['network'],
    severity: 'fail',
    title: 'Host or network unreachable',
    meaning: 'The network stack reported that no route leads to the host (EHOSTUNREACH / ENETUNREACH), often from an ICMP message.',
  },

  // ── pool ───────────────────────────────────────────────────────────────────
  too_many_connections: {
    steps: ['pool'],
    severity: 'fail',
    title: 'No connection slot is free',
    meaning:
      'The server refused the connection because its connection limit is reached (PostgreSQL: 53300, including "remaining slots are reserved" and per-role or per-database limits).',
  },
  near_limit: {
    steps: ['pool'],
    severity: 'warn',
    title: 'Connections near the limit',
    meaning: 'At least 80 % (configurable) of the connection limit is in use.',
  },
  idle_in_transaction: {
    steps: ['pool'],
    severity: 'fail',
    title: 'Sessions idle in a transaction',
    meaning:
      'Sessions have been idle inside an open transaction for longer than the threshold: they hold connections, locks and snapshots while doing nothing.',
  },
  idle_connections: {
    steps: ['pool'],
    severity: 'warn',
    title: 'Many long-idle connections',
    meaning: 'Sessions idle for longer than the idle threshold (default 30 min) take at least 20 % of the connection limit: a leaking or oversized client pool.',
  },

  // ── auth ───────────────────────────────────────────────────────────────────
  auth_failed: {
    steps: ['auth'],
    severity: 'fail',
    title: 'Authentication failed',
    meaning:
      'The server rejected the credentials (PostgreSQL: 28P01). With password methods PostgreSQL gives the same answer for a role that does not exist, so both are possible.',
  },
  role_missing: {
    steps: ['auth'],
    severity: 'fail',
    title: 'Role does not exist',
    meaning: 'The server said the user (role) does not exist.',
  },
  hba_rejected: {
    steps: ['auth'],
    severity: 'fail',
    title: 'Rejected by pg_hba.conf',
    meaning: 'No pg_hba.conf line admits this host, user, database and encryption, or a reject line matches. The server’s own words name all four.',
  },
  database_missing: {
    steps: ['auth'],
    severity: 'fail',
    title: 'Database does not exist',
    meaning: 'The server said the requested database does not exist (PostgreSQL: 3D000).',
  },
  password_missing: {
    steps: ['auth'],
    severity: 'fail',
    title: 'No password was supplied',
    meaning: 'The server asked for a password but none was found in the URL, the environment or the password file.',
  },
  permission_denied: {
    steps: ['auth'],
    severity: 'fail',
    title: 'Not permitted to connect',
    meaning: 'The user exists and authenticated, but may not connect: no CONNECT privilege on the database, or the role may not log in.',
  },

  // ── queries ────────────────────────────────────────────────────────────────
  long_running: {
    steps: ['queries'],
    severity: 'fail',
    title: 'Long-running queries',
    meaning: 'Statements have been active for longer than the threshold (default 5 min).',
  },
  blocked: {
    steps: ['queries'],
    severity: 'fail',
    title: 'Sessions blocked on locks',
    meaning: 'Sessions have waited on a lock for longer than the threshold; the waiting and blocking sessions, their queries and how long are in the evidence.',
  },

  // ── the runner's own ───────────────────────────────────────────────────────
  deadline_exceeded: {
    steps: 'any',
    severity: 'fail',
    title: 'Cut off by the deadline',
    meaning: 'The step was still waiting when the run’s --timeout expired; the evidence gathered so far is kept.',
  },
  check_error: {
    steps: 'any',
    severity: 'warn',
    title: 'The check itself failed',
    meaning: 'dbdoctor’s own check failed unexpectedly (for example a catalogue query the server does not support). The error is in the evidence; the other steps carried on.',
  },
  // ── added with the Cassandra probe ─────────────────────────────────────────
  protocol_version: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'No common protocol version',
    meaning:
      'The server speaks the database protocol, but not at a version the client offers or is pinned to (Cassandra: "Invalid or unsupported protocol version"); the versions each side supports are in the evidence.',
  },
  native_transport_disabled: {
    steps: ['accepting'],
    severity: 'fail',
    title: 'Client port switched off',
    meaning:
      'The database process runs on this machine but its client port is closed on purpose (Cassandra: nodetool disablebinary, or start_native_transport: false), as its log or configuration shows.',
  },
  local_dc_mismatch: {
    steps: ['network'],
    severity: 'fail',
    title: 'Local data centre not in the cluster',
    meaning: 'The client names a local data centre the cluster does not have, so the driver finds no node to use; the data centres that exist are listed.',
  },
  peer_unreachable: {
    steps: ['network'],
    severity: 'warn',
    title: 'Advertised address unreachable from here',
    meaning:
      'A node advertises an address for clients (Cassandra: rpc_address / native_address) that this machine cannot resolve or reach, typically a container-internal or private address; drivers connect to that address, not to the contact point.',
  },
  nodes_down: {
    steps: ['network'],
    severity: 'warn',
    title: 'Nodes are down',
    meaning: 'The cluster lists nodes that refuse connections or that the driver marks down; the cluster still answers, with less capacity and fewer replicas.',
  },
  overloaded: {
    steps: ['pool'],
    severity: 'fail',
    title: 'Server is overloaded',
    meaning: 'The server refused work because it is overloaded (Cassandra: the Overloaded error, from native-transport request limits or back-pressure).',
  },
  unavailable: {
    steps: ['queries'],
    severity: 'fail',
    title: 'Not enough replicas',
    meaning:
      'Too few replicas of the target keyspace are alive, or answered in time, for the consistency level (Cassandra: Unavailable, read timeout); replication factor, required and live replicas are in the evidence.',
  },
} as const satisfies Record<string, CauseMeta>;

export type CauseCode = keyof typeof CAUSES;
export const CAUSE_CODES = Object.keys(CAUSES) as CauseCode[];
export const CauseCodeSchema = z.enum(CAUSE_CODES as [CauseCode, ...CauseCode[]]);

export function causeMeta(code: CauseCode): CauseMeta {
  return CAUSES[code];
}

/** The tree step a cause belongs to, for causes that belong to exactly one place. */
export function stepOfCause(code: CauseCode): StepId | undefined {
  const steps: CauseMeta['steps'] = CAUSES[code].steps;
  return Array.isArray(steps) ? steps[0] : undefined;
}
