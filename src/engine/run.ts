import { SCHEMA_VERSION, type RunReport, type TargetReport, type TargetStatus } from './schema.js';

/** Exit codes: the same for every output format. 3 also covers "dbdoctor could not run at all". */
export const EXIT_CODES = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
  usage: 3,
} as const satisfies Record<TargetStatus | 'usage', number>;

const RANK = { healthy: 0, degraded: 1, unhealthy: 2 } as const satisfies Record<TargetStatus, number>;

export function worstStatus(statuses: readonly TargetStatus[]): TargetStatus {
  return statuses.reduce<TargetStatus>((worst, status) => (RANK[status] > RANK[worst] ? status : worst), 'healthy');
}

export function runReport(targets: TargetReport[], durationMs: number, version: string): RunReport {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'dbdoctor', version },
    status: worstStatus(targets.map((target) => target.status)),
    durationMs: Math.round(durationMs),
    targets,
  };
}

export function exitCodeFor(report: RunReport): number {
  return EXIT_CODES[report.status];
}
