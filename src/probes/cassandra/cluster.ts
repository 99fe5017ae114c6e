import type { Client } from 'cassandra-driver';
import type { Deadline } from '../../engine/deadline.js';
import { decideUnreached } from '../../net/classify.js';
import { reachEndpoint } from '../../net/reach.js';
import { query, type Row } from './driver.js';
import { ERROR_CODES } from './frame.js';

/**
 * The cluster as the connected node describes it (system.local, system.peers_v2), and whether
 * this machine can reach each node at the address it advertises to clients: drivers connect to
 * that address, not to the contact point (the same trap as MongoDB replica-set member names).
 */
export interface NodeView {
  /** The node's broadcast address (its name inside the cluster). */
  readonly node: string;
  readonly dataCenter: string;
  readonly rack: string;
  readonly releaseVersion: string;
  /** What it tells clients to connect to: native_address / rpc_address. */
  readonly advertised: string;
  readonly port: number;
  /** From here: reachable, refused (down), or why not (dns_not_found, host_unreachable, …). */
  readonly reach: string;
  /** Whether the driver holds it up. */
  readonly driverUp: boolean | undefined;
  readonly local: boolean;
}

export interface ClusterView {
  readonly clusterName: string;
  readonly nodes: readonly NodeView[];
  readonly dataCenters: readonly string[];
}

const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

/** system.peers_v2 (Cassandra 4.0+) has ports; system.peers (older) does not. */
async function peers(client: Client, deadline: Deadline): Promise<Row[]> {
  try {
    return await query(client, 'SELECT * FROM system.peers_v2', [], deadline);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === ERROR_CODES.invalid) return query(client, 'SELECT * FROM system.peers', [], deadline);
    throw error;
  }
}

export async function readCluster(client: Client, deadline: Deadline, port: number): Promise<ClusterView> {
  const [local] = await query(client, "SELECT * FROM system.local WHERE key='local'", [], deadline);
  const peerRows = await peers(client, deadline);
  const driverHosts = client.hosts.values();
  const upOf = (address: string): boolean | undefined => driverHosts.find((host) => host.address.replace(/:\d+$/, '') === address)?.isUp();
  const rows = [...(local ? [{ row: local, isLocal: true }] : []), ...peerRows.map((row) => ({ row, isLocal: false }))];
  const reachDeadline = deadline.limit(Math.min(1500, deadline.remainingMs()), 'peer reachability');
  const nodes = await Promise.all(
    rows.map(async ({ row, isLocal }): Promise<NodeView> => {
      const advertised = text(row.native_address ?? row.rpc_address ?? row.broadcast_address ?? row.peer);
      const nodePort = Number(row.native_port ?? port) || port;
      const reach = isLocal ? 'reachable' : await reachability(advertised, nodePort, reachDeadline);
      return {
        node: text(row.broadcast_address ?? row.peer ?? row.listen_address),
        dataCenter: text(row.data_center),
        rack: text(row.rack),
        releaseVersion: text(row.release_version),
        advertised,
        port: nodePort,
        reach,
        driverUp: upOf(advertised),
        local: isLocal,
      };
    }),
  );
  return { clusterName: text(local?.cluster_name), nodes, dataCenters: [...new Set(nodes.map((node) => node.dataCenter))].sort() };
}

async function reachability(host: string, port: number, deadline: Deadline): Promise<string> {
  if (host === '' || host === '0.0.0.0' || host === '::') return 'unroutable';
  const reached = await reachEndpoint({ host, port }, deadline);
  reached.socket?.destroy();
  if (reached.socket) return 'reachable';
  const unreached = decideUnreached([reached.entry]);
  return unreached.kind === 'refused' ? 'refused' : unreached.cause;
}
