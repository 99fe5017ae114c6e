import type { TargetReport } from '../engine/schema.js';

/** How a target is named in machine formats: its label, else the (masked) target. */
export function targetName(target: TargetReport): string {
  return target.label ?? target.target;
}

/** The share of the connection limit in use, when the pool step measured it. */
export function connectionsUsedRatio(target: TargetReport): number | undefined {
  const pool = target.steps.find((step) => step.id === 'pool');
  const percent = pool?.evidence.usedPercent;
  if (typeof percent === 'number') return Math.round(percent * 10) / 1000;
  const ratio = pool?.evidence.usedRatio;
  return typeof ratio === 'number' ? ratio : undefined;
}

export const STATUS_WORD = { healthy: 'OK', degraded: 'WARNING', unhealthy: 'CRITICAL' } as const;
