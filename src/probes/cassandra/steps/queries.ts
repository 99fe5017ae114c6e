import type { CassandraTarget } from '../../../config/cassandra/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Finding, Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../text/duration.js';
import { causeOfDriverError, replicasRequired } from '../classify.js';
import { cqlsh, quoteName } from '../commands.js';
import type { CqlContext } from '../context.js';
import { flatten, hostErrorsOf, loadDriver, query } from '../driver.js';
import { readPerNode, upHosts } from '../views.js';
import { sh } from '../../../text/shell.js';

const remedies = {
  long_running: (target: CassandraTarget): Remediation[] => [
    {
      text: 'See what runs on each node (evidence has the tasks and how long they have run):',
      command: cqlsh(target, 'SELECT * FROM system_views.queries;'),
      language: 'shell',
    },
    {
      text: 'Long reads are usually full scans (ALLOW FILTERING, large partitions) or reads across many partitions; bound them with per-query timeouts and paging. Check the node for GC pauses and compaction:',
      command: 'nodetool tpstats; nodetool compactionstats',
      language: 'shell',
    },
  ],
  unavailable: (target: CassandraTarget, keyspace: string): Remediation[] => [
    { text: 'See which replicas are down, for this keyspace:', command: sh`nodetool status ${keyspace}`, language: 'shell' },
    {
      text: 'Bring the down nodes back (start Cassandra on them); until then, a lower consistency level may serve reads:',
      command: cqlsh(target, 'CONSISTENCY LOCAL_ONE;'),
      language: 'shell',
    },
    {
      text: 'If the replication factor is larger than the data centre has nodes, lower it (as a superuser), then repair:',
      command: `ALTER KEYSPACE ${quoteName(keyspace)} WITH replication = {'class': 'NetworkTopologyStrategy', '<dc>': <nodes>};`,
      language: 'sql',
    },
  ],
};

/** cassandra-driver's consistency numbers, by CQL name. */
async function consistencyCode(name: string): Promise<number> {
  const { types } = await loadDriver();
  const key = name.toLowerCase().replace(/_(.)/g, (_match, letter: string) => letter.toUpperCase()) as keyof typeof types.consistencies;
  return types.consistencies[key];
}

/** The replication factor for the local data centre (NetworkTopologyStrategy) or the whole ring. */
export function replicationOf(replication: Readonly<Record<string, string>>, dataCenter: string | undefined): { local: number; total: number } {
  if (/SimpleStrategy/.test(replication.class ?? '')) {
    const factor = Number(replication.replication_factor ?? 1);
    return { local: factor, total: factor };
  }
  const perDc = Object.entries(replication)
    .filter(([key]) => key !== 'class')
    .map(([key, value]) => [key, Number(value)] as const);
  const total = perDc.reduce((sum, [, value]) => sum + value, 0);
  return { local: perDc.find(([key]) => key === dataCenter)?.[1] ?? total, total };
}

/** Step 6: is anything long-running, and can the keyspace be read at its consistency level? */
export const queriesStep = defineStep<CqlContext, keyof typeof remedies>({
  id: 'queries',
  checks:
    'Reads system_views.queries on each node (Cassandra 4.0+) for work running past the long-running threshold, and reads one row of the target keyspace at its consistency level (Unavailable, read timeouts: replication factor against live replicas).',
  remedies,
  manual: [
    { text: 'Requests running now on a node (Cassandra 4.0+):', command: "cqlsh <host> -e 'SELECT * FROM system_views.queries'", language: 'shell' },
    { text: 'Replicas of the keyspace alive for its consistency level:', command: 'nodetool status <keyspace>', language: 'shell' },
  ],
  async run(ctx, io) {
    const session = await ctx.session();
    if (session.kind !== 'session') return io.skip('needs a session');
    const { client } = session;
    const { longRunningMs } = ctx.run.thresholds;
    const findings: Finding[] = [];
    const running = await readPerNode(
      client,
      'system_views.queries',
      'SELECT thread_id, queued_micros, running_micros, task FROM system_views.queries',
      io.deadline,
    );
    const long =
      running.kind === 'rows'
        ? running.perNode
            .flatMap(({ node, rows }) =>
              rows.map((row) => ({
                node,
                thread: String(row.thread_id ?? ''),
                runningMs: Number(row.running_micros ?? 0) / 1000,
                task: String(row.task ?? '').slice(0, 300),
              })),
            )
            .filter((entry) => entry.runningMs > longRunningMs && !entry.task.includes('system_views.queries'))
            .sort((a, b) => b.runningMs - a.runningMs)
        : [];
    // What the pool step could not read (read here when that step was not run), then this step's own.
    const clients = await ctx.clients(io.deadline);
    const hidden = [...(clients?.kind === 'hidden' ? [clients.reason] : []), ...(running.kind === 'hidden' ? [running.reason] : [])];
    const visibility = hidden.length > 0 ? { visibility: hidden } : {};
    if (long.length > 0) {
      const oldest = long[0];
      findings.push(
        io.found(
          'long_running',
          `${long.length} request(s) running for more than ${formatMs(longRunningMs)}${oldest ? ` (longest: ${formatMs(oldest.runningMs)} on ${oldest.node}: ${oldest.task.slice(0, 80)})` : ''}`,
          remedies.long_running(ctx.target),
          { longRunning: long, ...visibility },
        ),
      );
    }
    const availability = ctx.target.keyspace ? await readKeyspace(ctx, client, ctx.target.keyspace, io) : undefined;
    if (availability) findings.push(availability);
    const [first, ...rest] = findings;
    if (first) return [first, ...rest];
    const limited = hidden.length > 0 ? ` (limited view: ${hidden.join('; ')})` : '';
    const keyspace = ctx.target.keyspace ? `; keyspace "${ctx.target.keyspace}" readable at ${ctx.target.consistency}` : '';
    return io.pass(`nothing running past ${formatMs(longRunningMs)}${keyspace}${limited}`, {
      ...visibility,
      requestsSeen: running.kind === 'rows' ? running.perNode.reduce((sum, entry) => sum + entry.rows.length, 0) : null,
    });
  },
});

type Io = Parameters<(typeof queriesStep)['run']>[1];

/** One row of one table of the keyspace, at the target's consistency: does it have enough replicas? */
async function readKeyspace(ctx: CqlContext, client: Parameters<typeof query>[0], keyspace: string, io: Io): Promise<Finding | undefined> {
  const [schema] = await query(client, 'SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace], io.deadline);
  if (!schema) return undefined;
  const local = client.hosts.values().find((host) => host.isUp())?.datacenter;
  const dataCenter = ctx.target.localDc ?? local;
  const replication = replicationOf((schema.replication ?? {}) as Record<string, string>, dataCenter);
  const live = upHosts(client).filter((host) => !ctx.target.consistency.startsWith('LOCAL') || host.datacenter === dataCenter).length;
  const required = replicasRequired(ctx.target.consistency, replication.local, replication.total);
  const evidence = {
    keyspace,
    consistency: ctx.target.consistency,
    replication: schema.replication,
    replicationFactor: replication.local,
    replicasRequired: required,
    liveNodes: live,
    dataCenter,
  };
  const [table] = await query(client, 'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? LIMIT 1', [keyspace], io.deadline);
  if (!table) {
    if (live >= required) return undefined;
    return io.found(
      'unavailable',
      `${ctx.target.consistency} needs ${required} replica(s) of "${keyspace}" (replication factor ${replication.local}), but only ${live} node(s) are up`,
      remedies.unavailable(ctx.target, keyspace),
      evidence,
    );
  }
  const cql = `SELECT * FROM ${quoteName(keyspace)}.${quoteName(String(table.table_name))} LIMIT 1`;
  try {
    await query(client, cql, [], io.deadline, { consistency: await consistencyCode(ctx.target.consistency) });
    return undefined;
  } catch (error) {
    // An idempotent read is retried on the next host: the server's answer is inside NoHostAvailableError.
    const flat = hostErrorsOf(error).find((inner) => causeOfDriverError(inner) === 'unavailable') ?? flatten(error);
    if (causeOfDriverError(flat) !== 'unavailable') throw error;
    const said =
      flat.required !== undefined
        ? `: ${flat.required} replica(s) required, ${flat.alive ?? flat.received ?? 0} ${flat.alive !== undefined ? 'alive' : 'answered'}`
        : '';
    return io.found(
      'unavailable',
      `reading "${keyspace}" at ${ctx.target.consistency} failed${said} (replication factor ${replication.local}): ${flat.message}`,
      remedies.unavailable(ctx.target, keyspace),
      { ...evidence, statement: cql, driverError: flat },
    );
  }
}
export { remedies as queriesRemedies };
