import { defineStep } from '../../../engine/probe.js';
import type { Finding, Remediation } from '../../../engine/schema.js';
import { cqlsh } from '../commands.js';
import type { CqlContext } from '../context.js';
import type { Row } from '../driver.js';
import { readPerNode } from '../views.js';
import type { CassandraTarget } from '../../../config/cassandra/target.js';

const WHO_IS_CONNECTED = 'SELECT address, username, driver_name, connection_stage, request_count FROM system_views.clients;';

const remedies = {
  too_many_connections: (target: CassandraTarget): Remediation[] => [
    { text: 'See who holds the connections (on each node):', command: cqlsh(target, WHO_IS_CONNECTED), language: 'shell' },
    {
      text: 'Cassandra closes connections beyond native_transport_max_concurrent_connections. Shrink the client pools (connections per host), or raise the limit in cassandra.yaml and restart the node.',
    },
  ],
  near_limit: (target: CassandraTarget): Remediation[] => [
    { text: 'See who holds the connections:', command: cqlsh(target, WHO_IS_CONNECTED), language: 'shell' },
    {
      text: 'Shrink the client pools before the limit (native_transport_max_concurrent_connections) is reached: new connections beyond it are closed at once.',
    },
  ],
  overloaded: (target: CassandraTarget): Remediation[] => [
    {
      text: 'The node refused work because it is overloaded. See its pending and blocked native-transport requests:',
      command: 'nodetool tpstats | grep -i -E "Native-Transport|Pool Name"',
      language: 'shell',
    },
    {
      text: 'Lower the client request rate (or its concurrency per connection); check native_transport_max_requests_per_second and native_transport_rate_limiting_enabled in cassandra.yaml.',
    },
    { text: 'Check again:', command: cqlsh(target, 'SELECT release_version FROM system.local'), language: 'shell' },
  ],
};

const numberOf = (value: unknown): number => Number(value ?? Number.NaN);

/** Step 4: is a connection slot free? */
export const poolStep = defineStep<CqlContext, keyof typeof remedies>({
  id: 'pool',
  checks: 'Reads system_views.clients on each node (Cassandra 4.0+) against native_transport_max_concurrent_connections, and recognises the Overloaded error.',
  remedies,
  manual: [
    {
      text: 'Clients connected to each node, by address and user:',
      command: "cqlsh <host> -e 'SELECT address, username, driver_name FROM system_views.clients'",
      language: 'shell',
    },
    {
      text: 'Thread pools: pending and blocked native-transport requests:',
      command: 'nodetool tpstats | grep -E "Pool Name|Native-Transport"',
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const target = ctx.target;
    const { trace, decision } = await ctx.primary();
    if (decision.kind === 'failure' && decision.cause === 'overloaded') {
      return io.found(
        'overloaded',
        `${trace.host}:${trace.port} answered the handshake with Overloaded: "${trace.serverError?.message ?? ''}"`,
        remedies.overloaded(target),
        { serverError: trace.serverError },
      );
    }
    const session = await ctx.session();
    if (session.kind === 'failed' && session.failure.cause === 'overloaded') {
      return io.found('overloaded', `the node refused work: ${session.failure.telling.message}`, remedies.overloaded(target), {
        driverError: session.failure.error,
        hosts: session.failure.hosts,
      });
    }
    if (session.kind !== 'session') return io.skip('needs a session to read system_views.clients');
    const settings = await readPerNode(
      session.client,
      'system_views.settings',
      "SELECT name, value FROM system_views.settings WHERE name = 'native_transport_max_concurrent_connections'",
      io.deadline,
    );
    const clients = await ctx.clients(io.deadline);
    if (!clients) return io.skip('needs a session to read system_views.clients');
    if (clients.kind === 'hidden') {
      return io.pass(`connection counts not read (limited view: ${clients.reason})`, { visibility: clients.reason });
    }
    const limitOf = (node: string): number => {
      if (settings.kind !== 'rows') return -1;
      const row = settings.perNode.find((entry) => entry.node === node)?.rows[0];
      return numberOf(row?.value);
    };
    const nodes = clients.perNode.map(({ node, rows }) => ({ node, connected: rows.length, limit: limitOf(node), byClient: tally(rows) }));
    const evidence = { nodes, ...(settings.kind === 'hidden' ? { visibility: settings.reason } : {}) };
    const findings: Finding[] = [];
    for (const node of nodes) {
      if (!(node.limit > 0)) continue;
      const percent = Math.round((node.connected / node.limit) * 1000) / 10;
      if (node.connected >= node.limit) {
        findings.push(
          io.found(
            'too_many_connections',
            `${node.connected} of ${node.limit} client connections are open on ${node.node}: the node closes new ones (native_transport_max_concurrent_connections)`,
            remedies.too_many_connections(target),
            evidence,
          ),
        );
      } else if (percent >= ctx.run.thresholds.nearLimitPercent) {
        findings.push(
          io.found(
            'near_limit',
            `${node.connected} of ${node.limit} client connections in use on ${node.node} (${percent} %, warning at ${ctx.run.thresholds.nearLimitPercent} %)`,
            remedies.near_limit(target),
            evidence,
          ),
        );
      }
    }
    const [first, ...rest] = findings;
    if (first) return [first, ...rest];
    const described = nodes.map((node) => `${node.connected} on ${node.node}${node.limit > 0 ? ` of ${node.limit}` : ''}`).join(', ');
    const limit = nodes.every((node) => !(node.limit > 0)) ? ' (no connection limit set)' : '';
    return io.pass(`client connections: ${described}${limit}`, evidence);
  },
});

function tally(rows: readonly Row[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const key = `${String(row.address ?? '?')} ${String(row.driver_name ?? 'unknown driver')}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The remedies, for `dbdoctor explain` and the tests that check every printed command. */
export { remedies as poolRemedies };
