import { toolVersion } from '../../engine/tool.js';
import type { MongoTarget } from '../../config/mongodb/target.js';
import { connectDeadline } from '../../engine/budget.js';
import type { Deadline } from '../../engine/deadline.js';
import type { RunContext } from '../../engine/probe.js';
import { decide, type Decision } from './classify.js';
import { explainMongoRefusal, type MongoRefusal } from './local.js';
import { closeSession, openSession, type Session } from './session.js';
import { answeringSeed, survey, type Survey } from './survey.js';
import { firstReach, type Connected } from '../../net/reach.js';

/**
 * Evidence the MongoDB steps share, each piece gathered at most once and only when a step asks:
 * the survey (DNS, every seed's hello, the advertised members), what it means, (only after a
 * refusal) a look at /proc, and the one driver session.
 */
export interface MongoContext {
  /** The target; once the survey has run, with the options its TXT record set (mongodb+srv). */
  target: MongoTarget;
  readonly run: RunContext;
  survey(): Promise<Survey>;
  /** The first seed that took a TCP connection, as soon as one did, or the survey when none did (the process step's question). */
  reached(): Promise<{ readonly kind: 'connected'; readonly connected: Connected } | { readonly kind: 'settled'; readonly survey: Survey }>;
  decision(): Promise<Decision>;
  refusal(): Promise<MongoRefusal | undefined>;
  /** The driver session, when a seed answered; undefined when none did. */
  session(): Promise<Session | undefined>;
  /** Set by the pool step: commands this user may not run, so later steps say their view is limited. */
  limitedView: string | undefined;
  close(deadline: Deadline): Promise<void>;
}

/** dbdoctor's version, for the client metadata in hello (the server logs who connected). */
const VERSION = toolVersion();

export function createContext(target: MongoTarget, run: RunContext): MongoContext {
  let surveyed: Promise<Survey> | undefined;
  let refusal: Promise<MongoRefusal | undefined> | undefined;
  let session: Promise<Session | undefined> | undefined;
  const first = firstReach();
  const waiting = (what: string | undefined): void => run.observer?.waitingOn?.(target.display, what);
  const context: MongoContext = {
    target,
    run,
    limitedView: undefined,
    survey() {
      surveyed ??= survey(target, connectDeadline(run.deadline), VERSION, { ...first.hooks, waiting }).then((result) => {
        context.target = result.target;
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
    async close(deadline) {
      if (session) await closeSession(await session, deadline);
    },
  };
  return context;
}
