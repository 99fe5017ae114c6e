import type { Target } from '../config/targets.js';
import type { RunContext } from '../engine/probe.js';
import type { TargetReport } from '../engine/schema.js';
import { diagnoseTarget } from '../engine/walk.js';

/**
 * Engines by name, each probe loaded only when a target of its engine is diagnosed: a
 * PostgreSQL-only run never loads another engine's driver.
 */
export async function diagnose(target: Target, run: RunContext): Promise<TargetReport> {
  switch (target.engine) {
    case 'postgres': {
      const { postgresProbe } = await import('./postgres/index.js');
      return diagnoseTarget(postgresProbe, target, run);
    }
    case 'cassandra': {
      const { cassandraProbe } = await import('./cassandra/index.js');
      return diagnoseTarget(cassandraProbe, target, run);
    }
  }
}
