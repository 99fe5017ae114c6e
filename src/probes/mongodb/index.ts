import type { MongoTarget } from '../../config/mongodb/target.js';
import type { Probe } from '../../engine/probe.js';
import { createContext, type MongoContext } from './context.js';
import { acceptingStep } from './steps/accepting.js';
import { authStep } from './steps/auth.js';
import { networkStep } from './steps/network.js';
import { poolStep } from './steps/pool.js';
import { processStep } from './steps/process.js';
import { queriesStep } from './steps/queries.js';

/** MongoDB: hello spoken on our own sockets, then one small driver client, read by six steps. */
export const mongoProbe: Probe<MongoTarget, MongoContext> = {
  engine: 'mongodb',
  steps: [processStep, acceptingStep, networkStep, poolStep, authStep, queriesStep],
  open: (target, run) => createContext(target, run),
  close: (ctx, deadline) => ctx.close(deadline),
};
