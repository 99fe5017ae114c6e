import type { Document } from 'bson';
import type { MongoTarget } from '../../../config/mongodb/target.js';
import { DeadlineExceeded } from '../../../engine/deadline.js';
import { defineStep, type StepIO } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { causeOfServerError } from '../classify.js';
import { mongoshAsAdmin } from '../commands.js';
import { serverStatusLimit, type MongoContext } from '../context.js';

/** The driver's default pool size: what each application instance may open when the URL says nothing. */
export const DRIVER_DEFAULT_MAX_POOL_SIZE = 100;
/** A URL that caps the driver's pool at this or fewer connections makes the client the likely limit. */
const SMALL_CLIENT_POOL = 5;

const WHO_HOLDS_CONNECTIONS =
  'db.currentOp(true).inprog.reduce((by, op) => { const k = (op.client || "internal") + " " + ((op.clientMetadata && op.clientMetadata.application && op.clientMetadata.application.name) || ""); by[k] = (by[k] || 0) + 1; return by; }, {})';

const clientPoolNote = (target: MongoTarget): Remediation => ({
  text: `Each application instance opens up to maxPoolSize connections (${target.maxPoolSize !== undefined ? `${target.maxPoolSize}, from the connection string` : `${DRIVER_DEFAULT_MAX_POOL_SIZE}, the driver default`}): instances × maxPoolSize must stay below the server's limit. Lower maxPoolSize, or raise net.maxIncomingConnections (and the open-files limit) on the server.`,
});

const remedies = {
  too_many_connections: (target: MongoTarget): Remediation[] => [
    {
      text: 'See who holds the connections, by client address and application name (as an administrator):',
      command: mongoshAsAdmin(target, WHO_HOLDS_CONNECTIONS),
      language: 'shell',
    },
    clientPoolNote(target),
  ],
  near_limit: (target: MongoTarget): Remediation[] => [
    { text: 'See who holds the connections (as an administrator):', command: mongoshAsAdmin(target, WHO_HOLDS_CONNECTIONS), language: 'shell' },
    clientPoolNote(target),
  ],
};

/** Step 4: is a connection slot free? serverStatus().connections, and the client's own pool settings. */
export const poolStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'pool',
  checks:
    'Reads serverStatus().connections (current, available, totalCreated) and the driver pool settings in the connection string (maxPoolSize, waitQueueTimeoutMS).',
  remedies,
  manual: [
    { text: 'Connections in use and available:', command: "mongosh '<url>' --quiet --eval 'JSON.stringify(db.serverStatus().connections)'", language: 'shell' },
  ],
  async run(ctx, io) {
    const session = await ctx.session();
    if (!session) return io.skip('needs a server that answers hello (see accepting)');
    if (session.kind === 'timed_out') throw new DeadlineExceeded('connect', session.budgetMs);
    if (session.kind !== 'ready') return io.skip('not checked: the login failed (see auth), and connection counts are read through a login');
    const { target } = await ctx.survey();
    const clientPool = clientPoolEvidence(target);
    const status = await ctx.serverStatus(io.deadline);
    if (!status) return io.skip('not checked: the login failed (see auth), and connection counts are read through a login');
    if (status.kind === 'error') {
      const cause = causeOfServerError(status.error);
      if (cause === 'permission_denied' || cause === 'password_missing')
        return io.pass(`connection counts not visible: ${serverStatusLimit(status) ?? ''} (limited view)`, {
          permissionDenied: { command: 'serverStatus', ...status.error },
          clientPool,
        });
      return io.pass(`connection counts not available: ${status.error.message}`, { serverStatusError: { ...status.error }, clientPool });
    }
    return judge(target, status.reply, clientPool, ctx.run.thresholds.nearLimitPercent, io);
  },
});

function judge(target: MongoTarget, reply: Document, clientPool: Evidence, nearLimitPercent: number, io: StepIO<keyof typeof remedies>): Finding {
  const connections: unknown = reply.connections;
  if (typeof connections !== 'object' || connections === null || !('current' in connections) || !('available' in connections)) {
    return io.pass('the server does not report connection counts (serverStatus has no connections section)', { clientPool });
  }
  const current = Number(connections.current);
  const available = Number(connections.available);
  const totalCreated = 'totalCreated' in connections ? Number(connections.totalCreated) : undefined;
  const limit = current + available;
  const percent = limit > 0 ? Math.round((current / limit) * 1000) / 10 : 100;
  const evidence: Evidence = { current, available, ...(totalCreated !== undefined ? { totalCreated } : {}), limit, usedPercent: percent, clientPool };
  if (available <= 0) {
    return io.found(
      'too_many_connections',
      `${current} of ${limit} connections in use and none available: new connections are refused (the server closes them at once)`,
      remedies.too_many_connections(target),
      evidence,
    );
  }
  if (percent >= nearLimitPercent) {
    return io.found(
      'near_limit',
      `${current} of ${limit} connections in use (${percent} %, warning at ${nearLimitPercent} %); ${available} available`,
      remedies.near_limit(target),
      evidence,
    );
  }
  const small = target.maxPoolSize !== undefined && target.maxPoolSize > 0 && target.maxPoolSize <= SMALL_CLIENT_POOL;
  const note = small
    ? `; the connection string caps the client's own pool at maxPoolSize=${target.maxPoolSize}${target.waitQueueTimeoutMS ? ` with waitQueueTimeoutMS=${target.waitQueueTimeoutMS}` : ''}: with more concurrent operations than that, the client waits on itself, not on the server`
    : '';
  return io.pass(`${current} of ${limit} connections in use (${percent} %)${note}`, evidence);
}

function clientPoolEvidence(target: MongoTarget): Evidence {
  return {
    maxPoolSize: target.maxPoolSize ?? DRIVER_DEFAULT_MAX_POOL_SIZE,
    maxPoolSizeSource: target.maxPoolSize !== undefined ? (target.sources.maxPoolSize ?? 'url') : 'default (the driver)',
    ...(target.waitQueueTimeoutMS !== undefined ? { waitQueueTimeoutMS: target.waitQueueTimeoutMS } : {}),
  };
}

/** The remedies, for `dbdoctor explain` and the tests that check every printed command. */
export { remedies as poolRemedies };
