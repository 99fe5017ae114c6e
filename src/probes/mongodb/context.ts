import { toolVersion } from '../../engine/tool.js';
import type { MongoTarget } from '../../config/mongodb/target.js';
import { connectDeadline } from '../../engine/budget.js';
import type { Deadline } from '../../engine/deadline.js';
import type { RunContext } from '../../engine/probe.js';
import { decide, type Decision } from './classify.js';
import { explainMongoRefusal, type MongoRefusal } from './local.js';
import { adminCommand, closeSession, openSession, type CommandOutcome, type Session } from './session.js';
import { answeringSeed, survey, type Survey } from './survey.js';
import { firstReach, type Connected } from '../../net/reach.js';

/**
 * Evidence the MongoDB steps share, each piece gathered at most once and only when a step asks:
 * the survey (DNS, every seed's hello, the advertised members), what it means, (only after a
 * refusal) a look at /proc, the one driver session, and serverStatus read through it.
 *
 * The rule (CONTRIBUTING.md, "Writing a step"): facts are memoised, steps do not write back. What
 * a step learns is its finding's evidence; what a later step needs as well is a fact of this
 * context, computed once by whichever step asks first and the same whichever that is. No step
 * (and no fact) patches a field here for the steps after it: the order of steps is the tree's.
 */
export interface MongoFacts {
  /**
   * The target as given. The one the diagnosis is about, with the options a mongodb+srv TXT
   * record set, is the survey's (`(await ctx.survey()).target`).
   */
  readonly requested: MongoTarget;
  readonly run: RunContext;
  survey(): Promise<Survey>;
  /** The first seed that took a TCP connection, as soon as one did, or the survey when none did (the process step's question). */
  reached(): Promise<{ readonly kind: 'connected'; readonly connected: Connected } | { readonly kind: 'settled'; readonly survey: Survey }>;
  decision(): Promise<Decision>;
  refusal(): Promise<MongoRefusal | undefined>;
  /** The driver session, when a seed answered; undefined when none did. */
  session(): Promise<Session | undefined>;
  /**
   * serverStatus's connections section, asked once through the session (under the first caller's
   * deadline); undefined without a logged-in session. The pool step reads the counts; a refusal
   * tells the queries step that its view is limited.
   */
  serverStatus(deadline: Deadline): Promise<CommandOutcome | undefined>;
  close(deadline: Deadline): Promise<void>;
}

/** Every member readonly: a step asks the context, it never sets or replaces anything on it. */
export type MongoContext = Readonly<MongoFacts>;

/** serverStatus refused: this user's view of the server is limited, in words the report prints. */
export function serverStatusLimit(status: CommandOutcome | undefined): string | undefined {
  if (status?.kind !== 'error') return undefined;
  return `serverStatus is not permitted for this user (${status.error.codeName ?? status.error.code ?? status.error.name}: ${status.error.message})`;
}

const SERVER_STATUS = { serverStatus: 1, repl: 0, metrics: 0, locks: 0, opcounters: 0, wiredTiger: 0 } as const;

/** dbdoctor's version, for the client metadata in hello (the server logs who connected). */
const VERSION = toolVersion();

export function createContext(target: MongoTarget, run: RunContext): MongoContext {
  let surveyed: Promise<Survey> | undefined;
  let refusal: Promise<MongoRefusal | undefined> | undefined;
  let session: Promise<Session | undefined> | undefined;
  let serverStatus: Promise<CommandOutcome | undefined> | undefined;
  const first = firstReach();
  const waiting = (what: string | undefined): void => run.observer?.waitingOn?.(target.display, what);
  const context: MongoContext = {
    requested: target,
    run,
    survey() {
      surveyed ??= survey(target, connectDeadline(run.deadline), VERSION, { ...first.hooks, waiting }).then((result) => {
        waiting(undefined);
        return result;
      });
      return surveyed;
    },
    reached() {
      const settled = context.survey();
      return Promise.race([
        first.promise.then((connected) => ({ kind: 'connected' as const, connected })),
        settled.then((result) => ({ kind: 'settled' as const, survey: result })),
      ]);
    },
    async decision() {
      return decide(await context.survey());
    },
    refusal() {
      refusal ??= (async () => {
        if ((await context.decision()).kind !== 'refused') return undefined;
        const seed = (await context.survey()).seeds[0];
        return seed ? explainMongoRefusal(seed, { inContainer: run.environment.platform.inContainer }, run.deadline.signal) : undefined;
      })();
      return refusal;
    },
    session() {
      session ??= (async () => {
        const surveyed = await context.survey();
        const seed = answeringSeed(surveyed.seeds);
        return seed ? openSession(surveyed.target, seed, surveyed.srv, connectDeadline(run.deadline)) : undefined;
      })();
      return session;
    },
    serverStatus(deadline) {
      serverStatus ??= (async () => {
        const live = await context.session();
        return live?.kind === 'ready' ? adminCommand(live.client, SERVER_STATUS, deadline) : undefined;
      })();
      return serverStatus;
    },
    async close(deadline) {
      if (session) await closeSession(await session, deadline);
    },
  };
  return context;
}
