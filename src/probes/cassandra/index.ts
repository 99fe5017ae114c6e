import type { CassandraTarget } from '../../config/cassandra/target.js';
import type { Probe } from '../../engine/probe.js';
import { cqlsh } from './commands.js';
import { createContext, type CqlContext } from './context.js';
import { acceptingStep } from './steps/accepting.js';
import { authStep } from './steps/auth.js';
import { networkStep } from './steps/network.js';
import { poolStep } from './steps/pool.js';
import { processStep } from './steps/process.js';
import { queriesStep } from './steps/queries.js';

/** Cassandra: a raw CQL handshake per contact point, then one driver session, read by six steps. */
export const cassandraProbe: Probe<CassandraTarget, CqlContext> = {
  engine: 'cassandra',
  steps: [processStep, acceptingStep, networkStep, poolStep, authStep, queriesStep],
  // cqlsh prompts for the password when -u is given without -p.
  statementCommand: (target, statement) => cqlsh(target, statement),
  open: (target, run) => createContext(target, run),
  close: (ctx, deadline) => ctx.close(deadline),
};
