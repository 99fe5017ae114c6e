import type { PostgresTarget } from '../../config/postgres/target.js';
import type { Probe } from '../../engine/probe.js';
import { psqlStatement } from './commands.js';
import { createContext, type PgContext } from './context.js';
import { networkStep } from './steps/network.js';
import { processStep } from './steps/process.js';
import { poolerAcceptingStep } from './pooler/accepting.js';
import { poolerAuthStep } from './pooler/auth.js';
import { poolerPoolStep } from './pooler/pool.js';
import { poolerQueriesStep } from './pooler/queries.js';

/**
 * PostgreSQL: one connection, gathered lazily, read by six steps. Four of them also know
 * connection poolers (pooler/): each runs PostgreSQL's step unchanged when no pooler shows.
 */
export const postgresProbe: Probe<PostgresTarget, PgContext> = {
  engine: 'postgres',
  steps: [processStep, poolerAcceptingStep, networkStep, poolerPoolStep, poolerAuthStep, poolerQueriesStep],
  statementCommand: (target, statement, cause) => psqlStatement(target, statement, cause),
  open: (target, run) => createContext(target, run),
  close: (ctx, deadline) => ctx.close(deadline),
};
