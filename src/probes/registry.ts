import type { Target } from '../config/targets.js';
import type { RunContext, StepDescription } from '../engine/probe.js';
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
    case 'mongodb': {
      const { mongoProbe } = await import('./mongodb/index.js');
      return diagnoseTarget(mongoProbe, target, run);
    }
    case 'cassandra': {
      const { cassandraProbe } = await import('./cassandra/index.js');
      return diagnoseTarget(cassandraProbe, target, run);
    }
  }
}

/** Engines that have a probe, with the name people use for them. */
export const ENGINES = { postgres: 'PostgreSQL', mongodb: 'MongoDB', cassandra: 'Cassandra' } as const;
export type EngineName = keyof typeof ENGINES;

export function isEngine(name: string): name is EngineName {
  return name in ENGINES;
}

/** A probe's step definitions, for runbooks and docs (loading the probe, never its driver). */
export async function stepsOf(engine: EngineName): Promise<readonly StepDescription[]> {
  switch (engine) {
    case 'postgres':
      return (await import('./postgres/index.js')).postgresProbe.steps;
    case 'mongodb':
      return (await import('./mongodb/index.js')).mongoProbe.steps;
    case 'cassandra':
      return (await import('./cassandra/index.js')).cassandraProbe.steps;
  }
}
