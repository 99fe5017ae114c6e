import type { Document } from 'bson';
import type { MongoTarget } from '../../../config/mongodb/target.js';
import { DeadlineExceeded } from '../../../engine/deadline.js';
import { defineStep } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../text/duration.js';
import { causeOfServerError } from '../classify.js';
import { jsString, mongoshAsAdmin } from '../commands.js';
import { serverStatusLimit, type MongoContext } from '../context.js';
import { adminCommand } from '../session.js';

/**
 * Seed 003's step 6, for MongoDB: currentOp for client operations running past the long-running
 * threshold, and those waiting for a lock past the lock-wait threshold. dbdoctor never kills
 * anything: it prints the killOp command with the opids it found.
 */
export interface Operation {
  readonly opid: number | string;
  readonly op: string;
  readonly ns: string;
  readonly client?: string;
  readonly appName?: string;
  readonly runningMs: number;
  readonly waitingForLock: boolean;
  /** Time spent acquiring locks (lockStats timeAcquiringMicros), or the running time when unknown. */
  readonly lockWaitMs: number;
  readonly command: string;
}

/** currentOp's own filter: long-running or lock-waiting operations only, to keep the reply small. */
export function currentOpCommand(longRunningMs: number, ownOps: boolean): Document {
  return {
    currentOp: 1,
    active: true,
    ...(ownOps ? { $ownOps: true } : {}),
    $or: [{ secs_running: { $gte: Math.floor(longRunningMs / 1000) } }, { waitingForLock: true }],
  };
}

/** Client operations only: internal threads and tailing cursors (oplog, change streams) run forever by design. */
export function clientOperations(inprog: readonly Document[]): Operation[] {
  return inprog
    .filter((op) => typeof op.desc !== 'string' || op.desc.startsWith('conn'))
    .filter((op) => !(isObject(op.cursor) && op.cursor.tailable === true))
    .map((op): Operation => {
      const runningMs = typeof op.microsecs_running === 'number' ? op.microsecs_running / 1000 : Number(op.secs_running ?? 0) * 1000;
      const acquiring = lockWaitMicros(op.lockStats);
      const metadata = isObject(op.clientMetadata) && isObject(op.clientMetadata.application) ? op.clientMetadata.application.name : undefined;
      return {
        opid: typeof op.opid === 'number' || typeof op.opid === 'string' ? op.opid : String(op.opid),
        op: String(op.op ?? 'unknown'),
        ns: String(op.ns ?? ''),
        ...(typeof op.client === 'string' ? { client: op.client } : {}),
        ...(typeof metadata === 'string' ? { appName: metadata } : {}),
        runningMs: Math.round(runningMs),
        waitingForLock: op.waitingForLock === true,
        lockWaitMs: Math.round(acquiring !== undefined ? acquiring / 1000 : runningMs),
        command: JSON.stringify(op.command ?? {}).slice(0, 300),
      };
    });
}

function lockWaitMicros(lockStats: unknown): number | undefined {
  if (!isObject(lockStats)) return undefined;
  let total = 0;
  let seen = false;
  for (const resource of Object.values(lockStats)) {
    if (!isObject(resource) || !isObject(resource.timeAcquiringMicros)) continue;
    for (const value of Object.values(resource.timeAcquiringMicros)) {
      total += Number(value);
      seen = true;
    }
  }
  return seen ? total : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** One killOp per operation; an opid is a number, or (mongos) a "shard:number" string: a JavaScript string then. */
const killOps = (target: MongoTarget, opids: readonly (number | string)[]): string =>
  mongoshAsAdmin(
    target,
    opids.map((opid) => `db.adminCommand({ killOp: 1, op: ${typeof opid === 'number' && Number.isFinite(opid) ? opid : jsString(String(opid))} })`).join('; '),
  );

const remedies = {
  long_running: (target: MongoTarget, opids: readonly (number | string)[]): Remediation[] => [
    {
      text: 'Look at what they run (the evidence has each command) before acting. To stop them (as an administrator; dbdoctor never does this itself):',
      command: killOps(target, opids),
      language: 'shell',
    },
    {
      text: 'Prevent it: give the application’s operations a time limit (maxTimeMS, or timeoutMS in the connection string), and index the filters these operations scan with.',
    },
  ],
  blocked: (target: MongoTarget, opids: readonly (number | string)[], holders: readonly (number | string)[]): Remediation[] => [
    ...(holders.length > 0
      ? [
          {
            text: `Operations ${holders.join(', ')} are running and not waiting: they probably hold the lock. Stopping them releases it (review first):`,
            command: killOps(target, holders),
            language: 'shell' as const,
          },
        ]
      : [
          {
            text: 'See which operations hold locks (as an administrator):',
            command: mongoshAsAdmin(target, 'db.currentOp({ active: true, waitingForLock: false, locks: { $exists: true } })'),
            language: 'shell' as const,
          },
        ]),
    { text: 'Or stop the waiting operations themselves:', command: killOps(target, opids), language: 'shell' },
    { text: 'Exclusive locks come from index builds on old versions, collMod, renames, or fsyncLock: find the one that started when the waits did.' },
  ],
};

/** Step 6: is anything long-running or waiting for a lock? */
export const queriesStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'queries',
  checks:
    'Runs currentOp for client operations active past the long-running threshold, and those waiting for a lock past the lock-wait threshold (never killOp: the command is printed).',
  remedies,
  manual: [
    {
      text: 'Operations running for more than 5 minutes, and those waiting for a lock:',
      command: "mongosh '<url>' --quiet --eval 'db.currentOp({ $or: [{ secs_running: { $gt: 300 } }, { waitingForLock: true }] }).inprog'",
      language: 'shell',
    },
    { text: 'End one (never run by dbdoctor):', command: "mongosh '<url>' --eval 'db.killOp(<opid>)'", language: 'shell' },
  ],
  async run(ctx, io) {
    const session = await ctx.session();
    if (!session || session.kind === 'failed' || session.kind === 'password_missing')
      return io.skip('not checked: the login failed, and running operations are read through a login');
    if (session.kind === 'timed_out') throw new DeadlineExceeded('connect', session.budgetMs);
    const { thresholds } = ctx.run;
    const { target } = await ctx.survey();
    let view: string | undefined;
    let reply = await adminCommand(session.client, currentOpCommand(thresholds.longRunningMs, false), io.deadline);
    if (reply.kind === 'error' && causeOfServerError(reply.error) === 'permission_denied') {
      // Without the inprog privilege a user may still see its own operations.
      view = `only this user’s operations are visible (currentOp: ${reply.error.codeName ?? reply.error.message})`;
      reply = await adminCommand(session.client, currentOpCommand(thresholds.longRunningMs, true), io.deadline);
    }
    if (reply.kind === 'error') return io.pass(`operations not visible: ${reply.error.message} (limited view)`, { currentOpError: { ...reply.error } });
    const inprog: unknown = reply.reply.inprog;
    const ops = clientOperations(Array.isArray(inprog) ? inprog.filter(isObject) : []);
    const blocked = ops.filter((op) => op.waitingForLock && op.lockWaitMs >= thresholds.lockWaitMs).sort((a, b) => b.lockWaitMs - a.lockWaitMs);
    const longRunning = ops.filter((op) => !op.waitingForLock && op.runningMs >= thresholds.longRunningMs).sort((a, b) => b.runningMs - a.runningMs);
    const evidence: Evidence = { longRunning, blocked, ...(view ? { visibility: view } : {}) };
    const findings: Finding[] = [];
    if (blocked.length > 0) {
      const worst = blocked[0];
      const holders = ops.filter((op) => !op.waitingForLock).map((op) => op.opid);
      findings.push(
        io.found(
          'blocked',
          `${blocked.length} operation(s) waiting for a lock for more than ${formatMs(thresholds.lockWaitMs)}${worst ? ` (opid ${String(worst.opid)} on ${worst.ns || 'an unknown namespace'} has waited ${formatMs(worst.lockWaitMs)})` : ''}`,
          remedies.blocked(
            target,
            blocked.map((op) => op.opid),
            holders,
          ),
          evidence,
        ),
      );
    }
    if (longRunning.length > 0) {
      const oldest = longRunning[0];
      findings.push(
        io.found(
          'long_running',
          `${longRunning.length} operation(s) running for more than ${formatMs(thresholds.longRunningMs)}${oldest ? ` (oldest: opid ${String(oldest.opid)}, ${oldest.op} on ${oldest.ns || 'an unknown namespace'}, ${formatMs(oldest.runningMs)})` : ''}`,
          remedies.long_running(
            target,
            longRunning.map((op) => op.opid),
          ),
          evidence,
        ),
      );
    }
    const [first, ...rest] = findings;
    if (first) return [first, ...rest];
    // serverStatus refused to the pool step (or here, when that step was not run) limits the view too.
    const limited = view ?? serverStatusLimit(await ctx.serverStatus(io.deadline));
    return io.pass(
      `nothing running past ${formatMs(thresholds.longRunningMs)} and no lock wait past ${formatMs(thresholds.lockWaitMs)}${limited ? ` (limited view: ${limited})` : ''}`,
      evidence,
    );
  },
});

/** The remedies, for `dbdoctor explain` and the tests that check every printed command. */
export { remedies as queriesRemedies };
