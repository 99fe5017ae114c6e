import type { CassandraTarget } from '../../../config/cassandra/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { judgeNetwork, NETWORK_CHECKS, networkFailureOf, networkRemedies } from '../../common/network.js';
import { readCluster, type NodeView } from '../cluster.js';
import { cqlsh, environmentEvidence, hostsEvidence, urlWith } from '../commands.js';
import { cassandraWords } from '../words.js';
import type { CqlContext } from '../context.js';
import { urlLine } from '../../../text/url.js';
import { spokenSource } from '../../../config/source.js';
import { sudoUnlessRoot } from '../../../text/shell.js';

const remedies = {
  ...networkRemedies,
  local_dc_mismatch: (target: CassandraTarget, dataCenters: readonly string[]): Remediation[] => [
    ...(dataCenters[0]
      ? [{ text: `Use a data centre the cluster has (${dataCenters.join(', ')}):`, command: urlLine(urlWith(target, { localDc: dataCenters[0] })) }]
      : []),
    {
      text: `The local data centre came from ${spokenSource(target.sources.localDc, 'the URL')}; it must match the node's data centre exactly (case included). See the names:`,
      command: cqlsh(target, 'SELECT data_center FROM system.local; SELECT peer, data_center FROM system.peers;'),
      language: 'shell',
    },
  ],
  peer_unreachable: (nodes: readonly NodeView[]): Remediation[] => [
    {
      text: `The driver connects to each node at the address it advertises (${nodes.map((node) => `${node.advertised}:${node.port}`).join(', ')}), not at the contact point. Make each node advertise an address clients can reach: set broadcast_rpc_address (with rpc_address: 0.0.0.0) in cassandra.yaml and restart it; in containers, publish or route that address.`,
    },
    { text: 'See what the nodes advertise:', command: 'SELECT peer, native_address, native_port, data_center FROM system.peers_v2;', language: 'sql' },
  ],
  nodes_down: (nodes: readonly NodeView[]): Remediation[] => [
    {
      text: `See the ring as the cluster sees it (${nodes.map((node) => node.node).join(', ')} refused or are marked down):`,
      command: 'nodetool status',
      language: 'shell',
    },
    {
      text: 'On each down node, start Cassandra and read its log for why it stopped:',
      command: sudoUnlessRoot('sudo systemctl start cassandra; sudo tail -n 50 /var/log/cassandra/system.log'),
      language: 'shell',
    },
  ],
};

function dataCentresIn(message: string): string[] {
  const list = /only found hosts in data centers: \[([^\]]*)\]/i.exec(message)?.[1] ?? '';
  return list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** Step 3: can this machine reach the contact points, and the nodes the cluster advertises? */
export const networkStep = defineStep<CqlContext, keyof typeof remedies>({
  id: 'network',
  checks: `${NETWORK_CHECKS} Then reads the cluster from system.local and system.peers_v2: data centres, and whether each node's advertised address (native_address / rpc_address) resolves and answers from here.`,
  remedies,
  manual: [
    {
      text: 'Does each contact point resolve and answer from here?',
      command: 'getent ahosts "$CASSANDRA_HOST"; timeout 3 bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$CASSANDRA_HOST" 9042 && echo open',
      language: 'shell',
    },
    {
      text: 'What the nodes advertise to drivers, and their data centres:',
      command: "cqlsh <host> -e 'SELECT peer, native_address, native_port, data_center FROM system.peers_v2'",
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const target = ctx.target;
    const hosts = await ctx.hosts();
    const primary = await ctx.primary();
    const ordered = [primary, ...hosts.filter((outcome) => outcome !== primary)];
    const refusal = primary.decision.kind === 'refused' ? await ctx.refusal() : undefined;
    const failure = networkFailureOf(primary.decision, refusal);
    Object.assign(io.evidence, environmentEvidence(target), hosts.length > 1 ? { contactPoints: hostsEvidence(hosts) } : {});
    const outcome = await judgeNetwork({ entries: ordered.map((entry) => entry.trace.entry), connected: primary.trace.connected, failure }, io, {
      run: ctx.run,
      engine: cassandraWords(target),
      hostSource: target.sources.host ?? 'the URL',
      recheck: { text: 'Then check again:', command: cqlsh(target, 'SELECT release_version FROM system.local'), language: 'shell' },
    });
    const [reach, ...hints] = 'status' in outcome ? [outcome] : outcome;
    if (reach.status !== 'pass') return outcome;

    const session = await ctx.session();
    if (session.kind === 'failed' && session.failure.cause === 'local_dc_mismatch') {
      const dataCenters = dataCentresIn(session.failure.telling.message);
      const mismatch = io.found(
        'local_dc_mismatch',
        `the local data centre "${target.localDc ?? ''}" is not in the cluster, so the driver finds no node to use; the cluster has: ${dataCenters.join(', ') || 'unknown'}`,
        remedies.local_dc_mismatch(target, dataCenters),
        {
          localDc: target.localDc,
          dataCenters,
          localDcSource: target.sources.localDc,
          driverError: session.failure.error,
          hosts: session.failure.hosts,
        },
      );
      return [mismatch, ...hints];
    }
    if (session.kind !== 'session') return [io.pass(`${reach.summary}; cluster view not read (no session)`, reach.evidence), ...hints];

    const cluster = await readCluster(session.client, io.deadline, primary.trace.port);
    const evidence = {
      ...reach.evidence,
      clusterName: cluster.clusterName,
      dataCenters: [...cluster.dataCenters],
      nodes: cluster.nodes.map((node) => ({ ...node })),
      ...(target.localDc ? {} : { localDc: 'not set: the driver used the contact point’s data centre' }),
    };
    const unreachable = cluster.nodes.filter((node) => !node.local && node.reach !== 'reachable' && node.reach !== 'refused');
    const down = cluster.nodes.filter((node) => !node.local && (node.reach === 'refused' || (node.reach === 'reachable' && node.driverUp === false)));
    const findings = [
      ...(unreachable.length > 0
        ? [
            io.found(
              'peer_unreachable',
              `${unreachable.length} node(s) advertise an address this machine cannot reach: ${unreachable.map((node) => `${node.node} → ${node.advertised}:${node.port} (${node.reach})`).join(', ')}`,
              remedies.peer_unreachable(unreachable),
              evidence,
            ),
          ]
        : []),
      ...(down.length > 0
        ? [
            io.found(
              'nodes_down',
              `${down.length} of ${cluster.nodes.length} nodes are down: ${down.map((node) => `${node.node} (${node.dataCenter}, ${node.reach === 'refused' ? 'refuses connections' : 'marked down by the driver'})`).join(', ')}`,
              remedies.nodes_down(down),
              evidence,
            ),
          ]
        : []),
    ];
    const [first, ...rest] = findings;
    if (first) return [first, ...rest, ...hints];
    const dcs = cluster.dataCenters.join(', ');
    return [
      io.pass(
        `${reach.summary}; cluster "${cluster.clusterName}": ${cluster.nodes.length} node(s) in ${dcs}, all reachable at their advertised addresses`,
        evidence,
      ),
      ...hints,
    ];
  },
});
export { remedies as networkRemedies };
