import type { PostgresTarget } from '../../config/postgres/target.js';
import type { Probe } from '../../engine/probe.js';
import { createContext, type PgContext } from './context.js';
import { acceptingStep } from './steps/accepting.js';
import { authStep } from './steps/auth.js';
import { networkStep } from './steps/network.js';
import { poolStep } from './steps/pool.js';
import { processStep } from './steps/process.js';
import { queriesStep } from './steps/queries.js';

/** PostgreSQL: one connection, gathered lazily, read by six steps. */
export const postgresProbe: Probe<PostgresTarget, PgContext> = {
  engine: 'postgres',
  steps: [processStep, acceptingStep, networkStep, poolStep, authStep, queriesStep],
  open: (target, run) => createContext(target, run),
  close: (ctx, deadline) => ctx.close(deadline),
};
