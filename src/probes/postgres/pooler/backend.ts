import { isSocketHost, socketPathOf } from '../../../config/postgres/target.js';
import type { Deadline } from '../../../engine/deadline.js';
import type { Evidence } from '../../../engine/schema.js';
import { reachFirst, type EndpointSpec, type EndpointTrace } from '../../../net/reach.js';
import { reachEvidence } from '../../common/network.js';
import type { DatabaseRow } from './admin.js';

/**
 * The database behind the pooler, seen from here: where PgBouncer sends this database (its
 * [databases] line, from SHOW DATABASES) and whether that address takes a TCP connection. Only a
 * connect, closed at once without a byte sent: PostgreSQL logs nothing for it and no backend
 * logs in. Done only when the pooler holds no working server connection for the pool.
 */
export interface BackendAddress {
  /** Host names or a socket directory, as PgBouncer has them (comma-separated for several). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly transport: 'tcp' | 'unix';
}

export interface BackendReach {
  readonly address: BackendAddress;
  readonly outcome: 'answers' | 'refused' | 'unreachable';
  readonly entries: EndpointTrace[];
}

/** PgBouncer connects over its own unix_socket_dir when a [databases] line names no host. */
export function backendAddress(row: DatabaseRow, unixSocketDir: string | undefined): BackendAddress | undefined {
  const host = row.host ?? unixSocketDir;
  if (!host) return undefined;
  return { host, port: row.port || 5432, database: row.database ?? row.name, transport: isSocketHost(host) ? 'unix' : 'tcp' };
}

export async function reachBackend(address: BackendAddress, deadline: Deadline): Promise<BackendReach> {
  const specs: EndpointSpec[] = address.host
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host.length > 0)
    .map((host) => (isSocketHost(host) ? { host, port: address.port, socketPath: socketPathOf(host, address.port) } : { host, port: address.port }));
  const { entries, reached } = await reachFirst(specs, deadline);
  reached?.socket?.destroy();
  if (reached?.connected) return { address, outcome: 'answers', entries };
  const refused = entries.length > 0 && entries.every((entry) => entry.connects.length > 0 && entry.connects.every((attempt) => attempt.outcome === 'refused' || attempt.outcome === 'missing'));
  return { address, outcome: refused ? 'refused' : 'unreachable', entries };
}

export function backendEvidence(reach: BackendReach): Evidence {
  return { ...reach.address, seenFromHere: reach.outcome, ...reachEvidence(reach.entries, undefined) };
}

export function describeBackend(address: BackendAddress): string {
  const where = address.transport === 'unix' ? socketPathOf(address.host, address.port) : `${address.host}:${address.port}`;
  return `${where} (database "${address.database}")`;
}
