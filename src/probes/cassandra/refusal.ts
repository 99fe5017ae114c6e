import { explainTcpRefusal, type RefusedTcp } from '../common/refusal.js';
import type { HostSight } from '../../host/servers.js';
import { processStartedAt, readLogTail, transportStateFromLog, type CassandraNode, type CassandraScan, type TransportState } from './local.js';

/**
 * Why a contact point refused, told from the Cassandra JVMs on this machine:
 *   not_running        no Cassandra JVM here (or the host is remote: nothing listens there)
 *   wrong_port         a node listens for CQL on this address, on another port
 *   not_listening      a node listens on this port, but not on this address (rpc_address)
 *   transport_closed   a node runs with this native-transport port, and nothing listens on it:
 *                      disabled (nodetool disablebinary / start_native_transport: false) or starting
 *   localhost_in_container   loopback refused inside a container, with no Cassandra JVM in it
 *   firewall_rejected  a node listens on exactly this address and port: something else refused
 */
export type CassandraRefusal =
  | { readonly cause: 'not_running'; readonly where: 'remote' | 'local' | 'unseen'; readonly attempted: string; readonly sight?: HostSight }
  | { readonly cause: 'localhost_in_container'; readonly attempted: string }
  | { readonly cause: 'firewall_rejected'; readonly attempted: string; readonly listening: readonly string[]; readonly nodes: readonly CassandraNode[] }
  | { readonly cause: 'wrong_port'; readonly attempted: string; readonly ports: readonly number[]; readonly nodes: readonly CassandraNode[] }
  | { readonly cause: 'not_listening'; readonly attempted: string; readonly listening: readonly string[]; readonly nodes: readonly CassandraNode[] }
  | { readonly cause: 'transport_closed'; readonly attempted: string; readonly node: CassandraNode; readonly transport: TransportState };

export async function explainRefusal(
  refused: RefusedTcp & { readonly attempted: string },
  scan: CassandraScan | undefined,
  where: { readonly inContainer: boolean } = { inContainer: false },
): Promise<CassandraRefusal> {
  const { attempted } = refused;
  if (!scan) return { cause: 'not_running', where: 'remote', attempted };
  const { nodes } = scan;
  if (nodes.length === 0) {
    const alone = explainTcpRefusal(refused, { running: false, tcp: [] }, where);
    if (alone.cause === 'localhost_in_container') return { cause: 'localhost_in_container', attempted };
    // Processes not read: whether a node runs elsewhere here is not known (issue 21).
    return scan.sight?.processes === 'unseen'
      ? { cause: 'not_running', where: 'unseen', attempted, sight: scan.sight }
      : { cause: 'not_running', where: 'local', attempted };
  }
  const native = nodes.flatMap((node) => node.tcp.filter((listener) => listener.port === node.nativePort));
  const closed = nodes.find((node) => node.nativePort === refused.port && !native.some((listener) => listener.port === node.nativePort));
  if (closed) {
    const log = closed.logFile ? await readLogTail(closed.logFile) : undefined;
    let transport: TransportState = log ? transportStateFromLog(log, await processStartedAt(closed.pid)) : { state: 'unknown' };
    if (transport.state === 'unknown' && !closed.startNativeTransport)
      transport = { state: 'disabled_by_config', line: `start_native_transport: false in ${closed.configFile ?? 'cassandra.yaml'}` };
    return { cause: 'transport_closed', attempted, node: closed, transport };
  }
  const explained = explainTcpRefusal(refused, { running: true, tcp: native, portHints: nodes.map((node) => node.nativePort) });
  switch (explained.cause) {
    case 'wrong_port':
      return { cause: 'wrong_port', attempted, ports: explained.ports, nodes };
    case 'not_listening':
      return { cause: 'not_listening', attempted, listening: explained.listening, nodes };
    case 'firewall_rejected':
      return { cause: 'firewall_rejected', attempted, listening: explained.listening, nodes };
    default:
      return { cause: 'not_running', where: 'local', attempted };
  }
}
