import type { CauseCode } from './causes.js';

/**
 * Whether waiting can make a cause go away, for `dbdoctor wait`. Exhaustive over the catalogue,
 * so a new cause code must be classified here before it compiles.
 *   heals      a server starting, a resolver not up yet, slots freeing: keep waiting
 *   permanent  a wrong password or port, another protocol: waiting will not help, fail fast
 *   retries    permanent once seen several times in a row (a name that does not resolve may be a
 *              Kubernetes service whose DNS record is not created yet)
 */
export type Waiting = 'heals' | 'permanent' | 'retries';

export const WAITING = {
  healthy: 'heals',
  not_running: 'heals',
  // Both are read from what runs here now: the server waited for may simply not have started yet
  // (beside other servers), or be a sidecar container that shares this pod's localhost.
  wrong_port: 'heals',
  localhost_in_container: 'retries',
  starting_up: 'heals',
  shutting_down: 'heals',
  recovery: 'heals',
  not_accepting: 'heals',
  not_listening: 'retries',
  connection_reset: 'heals',
  no_response: 'heals',
  wrong_protocol: 'permanent',
  tls_required: 'permanent',
  tls_unsupported: 'permanent',
  tls_verify_failed: 'permanent',
  tls_handshake_failed: 'permanent',
  standby: 'heals',
  dns_not_found: 'retries',
  dns_temporary: 'heals',
  connect_timeout: 'heals',
  host_unreachable: 'heals',
  firewall_rejected: 'retries',
  ipv6_mismatch: 'heals',
  too_many_connections: 'heals',
  near_limit: 'heals',
  idle_in_transaction: 'heals',
  idle_connections: 'heals',
  auth_failed: 'permanent',
  role_missing: 'retries',
  hba_rejected: 'permanent',
  database_missing: 'retries',
  password_missing: 'permanent',
  permission_denied: 'permanent',
  // A pooler waits for its database like a client does: a database behind it that is down,
  // paused or full heals; a rejected login does not.
  pooler_backend_down: 'heals',
  pooler_paused: 'heals',
  pooler_client_limit: 'heals',
  pooler_pool_exhausted: 'heals',
  pooler_session_state: 'heals',
  pooler_auth: 'permanent',
  pooler_backend_auth: 'permanent',
  // A replica set electing a primary, or members whose DNS records are not created yet, heal;
  // a wrong replicaSet name or an unsupported mechanism do not.
  no_primary: 'heals',
  replica_set_mismatch: 'permanent',
  member_unreachable: 'retries',
  srv_invalid: 'permanent',
  auth_mechanism: 'permanent',
  // Cassandra: a protocol version or data centre named wrongly is configuration; a binary port
  // switched off (nodetool disablebinary during maintenance) may come back, so it is final only
  // after --retries attempts; overload and missing replicas heal as nodes recover.
  protocol_version: 'permanent',
  native_transport_disabled: 'retries',
  local_dc_mismatch: 'permanent',
  peer_unreachable: 'retries',
  nodes_down: 'heals',
  overloaded: 'heals',
  unavailable: 'heals',
  long_running: 'heals',
  blocked: 'heals',
  // Warnings about a standby's replication: wait never waits on a warning, but they heal as the
  // primary comes back.
  replication_stopped: 'heals',
  replication_lag: 'heals',
  // As standby: a failover, or a standby still being built, changes the role a host has.
  role_mismatch: 'heals',
  config_mismatch: 'heals',
  deadline_exceeded: 'heals',
  check_error: 'heals',
} as const satisfies Record<CauseCode, Waiting>;

export function waitingFor(cause: CauseCode): Waiting {
  return WAITING[cause];
}
