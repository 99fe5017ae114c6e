import { createRequire } from 'node:module';
import type { Client } from 'cassandra-driver';
import type { CassandraTarget } from '../../config/cassandra/target.js';
import { connectDeadline } from '../../engine/budget.js';
import { stepOfCause, type CauseCode } from '../../engine/causes.js';
import type { Deadline } from '../../engine/deadline.js';
import type { RunContext } from '../../engine/probe.js';
import type { StepId } from '../../engine/steps.js';
import { isLocalAddress } from '../../host/local.js';
import { causeOfDriverError, decideHost, mostTelling, type HostDecision } from './classify.js';
import { closeSession, openSession, type DriverError, type HostError, type SessionOutcome } from './driver.js';
import { handshake, type HostTrace } from './handshake.js';
import { explainRefusal, type CassandraRefusal } from './refusal.js';
import { scanLocalCassandra } from './local.js';
import { readPerNode, type ViewResult } from './views.js';
import { hostPort } from '../../text/address.js';
import { firstReach, type Connected } from '../../net/reach.js';

/**
 * Evidence the Cassandra steps share, each piece gathered once and only when a step asks: a raw
 * CQL handshake with every contact point, the one driver session, system_views.clients read
 * through it, and (after a refusal) a look at this machine's processes.
 *
 * The rule (CONTRIBUTING.md, "Writing a step"): facts are memoised, steps do not write back. What
 * a step learns is its finding's evidence; what a later step needs as well is a fact of this
 * context, computed once by whichever step asks first and the same whichever that is. No step
 * patches a field here for the steps after it: the order of steps is the tree's.
 */
export interface HostOutcome {
  readonly trace: HostTrace;
  readonly decision: HostDecision;
}

/** A driver failure, unwrapped: one entry per host, and the most telling one. */
export interface DriverFailure {
  readonly error: DriverError;
  readonly hosts: readonly (HostError & { readonly cause: CauseCode })[];
  readonly cause: CauseCode;
  readonly step: StepId;
  /** The host error the cause was read from. */
  readonly telling: DriverError;
}

export type SessionView =
  | { readonly kind: 'session'; readonly client: Client; readonly version: number | undefined }
  | { readonly kind: 'failed'; readonly failure: DriverFailure }
  | { readonly kind: 'timeout'; readonly budgetMs: number }
  | { readonly kind: 'not-attempted'; readonly reason: string };

export interface CqlFacts {
  readonly target: CassandraTarget;
  readonly run: RunContext;
  hosts(): Promise<readonly HostOutcome[]>;
  /** The contact point the diagnosis follows: one that answered, else the most telling failure. */
  primary(): Promise<HostOutcome>;
  /** The first contact point that took a TCP connection, as soon as one did, or the handshakes when none did (the process step's question). */
  reached(): Promise<{ readonly kind: 'connected'; readonly connected: Connected } | { readonly kind: 'settled' }>;
  refusal(): Promise<CassandraRefusal | undefined>;
  session(): Promise<SessionView>;
  /**
   * system_views.clients on every node, read once through the session (under the first caller's
   * deadline); undefined without one. A role that may not read it sees a limited view, which the
   * queries step reports too.
   */
  clients(deadline: Deadline): Promise<ViewResult | undefined>;
  close(deadline: Deadline): Promise<void>;
}

/** Every member readonly: a step asks the context, it never sets or replaces anything on it. */
export type CqlContext = Readonly<CqlFacts>;

const driverVersion = ((): string => {
  try {
    return String((createRequire(import.meta.url)('cassandra-driver/package.json') as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
})();

export function createContext(target: CassandraTarget, run: RunContext): CqlContext {
  let hosts: Promise<HostOutcome[]> | undefined;
  let refusal: Promise<CassandraRefusal | undefined> | undefined;
  let session: Promise<SessionView> | undefined;
  let clients: Promise<ViewResult | undefined> | undefined;
  const first = firstReach();
  const waiting = (what: string | undefined): void => run.observer?.waitingOn?.(target.display, what);
  const context: CqlContext = {
    target,
    run,
    hosts() {
      hosts ??= (async () => {
        const deadline = connectDeadline(run.deadline);
        const options = { tls: target.tls, pinnedVersion: target.protocolVersion, driverVersion };
        const traces = await Promise.all(target.contactPoints.map((point) => handshake(point, options, deadline, { ...first.hooks, waiting })));
        waiting(undefined);
        return traces.map((trace) => ({ trace, decision: decideHost(trace) }));
      })();
      return hosts;
    },
    reached() {
      const settled = context.hosts();
      return Promise.race([first.promise.then((connected) => ({ kind: 'connected' as const, connected })), settled.then(() => ({ kind: 'settled' as const }))]);
    },
    async primary() {
      const all = await context.hosts();
      const best = mostTelling(all, (outcome) => outcome.decision);
      if (!best) throw new Error('a Cassandra target has at least one contact point');
      return best;
    },
    refusal() {
      refusal ??= (async () => {
        const { trace, decision } = await context.primary();
        if (decision.kind !== 'refused') return undefined;
        const addresses = trace.entry.connects.map((attempt) => attempt.address);
        const local = addresses.some((address) => isLocalAddress(address));
        return explainRefusal(
          { addresses, port: trace.port, attempted: hostPort(trace.host, trace.port) },
          local ? await scanLocalCassandra(run.deadline.signal) : undefined,
          { inContainer: run.environment.platform.inContainer },
        );
      })();
      return refusal;
    },
    session() {
      session ??= (async (): Promise<SessionView> => {
        const { trace, decision } = await context.primary();
        if (decision.kind !== 'ok') return { kind: 'not-attempted', reason: 'no contact point completed the CQL handshake' };
        if (trace.startup === 'authenticate' && target.username === undefined)
          return { kind: 'not-attempted', reason: 'the server requires a login and no credentials were given' };
        const outcome: SessionOutcome = await openSession(target, connectDeadline(run.deadline), trace.port);
        if (outcome.kind !== 'failed') return outcome;
        return { kind: 'failed', failure: unwrap(outcome.error, outcome.hostErrors) };
      })();
      return session;
    },
    clients(deadline) {
      clients ??= (async () => {
        const view = await context.session();
        return view.kind === 'session'
          ? readPerNode(
              view.client,
              'system_views.clients',
              'SELECT address, port, username, driver_name, connection_stage FROM system_views.clients',
              deadline,
            )
          : undefined;
      })();
      return clients;
    },
    async close(deadline) {
      const view = session ? await session : undefined;
      if (view?.kind === 'session') await closeSession(view.client, deadline);
    },
  };
  return context;
}

/** NoHostAvailableError → one finding per host; the verdict is the one that got furthest. */
export function unwrap(error: DriverError, hostErrors: readonly HostError[]): DriverFailure {
  const hosts = hostErrors.map((host) => ({ ...host, cause: causeOfDriverError(host) }));
  const decisionOf = (cause: CauseCode): HostDecision => ({ kind: 'failure', step: stepOfCause(cause) ?? 'accepting', cause });
  const best = mostTelling(hosts, (host) => decisionOf(host.cause));
  const cause = best?.cause ?? causeOfDriverError(error);
  const decision = decisionOf(cause);
  return { error, hosts, cause, step: decision.kind === 'failure' ? decision.step : 'accepting', telling: best ?? error };
}
