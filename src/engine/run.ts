import { SCHEMA_VERSION, type EnvironmentReport, type RunReport, type TargetReport, type TargetStatus } from './schema.js';

import { EXIT_CODES, exitForStatus } from './exit.js';

export { EXIT_CODES };

const RANK = { healthy: 0, degraded: 1, unhealthy: 2 } as const satisfies Record<TargetStatus, number>;

export function worstStatus(statuses: readonly TargetStatus[]): TargetStatus {
  return statuses.reduce<TargetStatus>((worst, status) => (RANK[status] > RANK[worst] ? status : worst), 'healthy');
}

export function runReport(targets: TargetReport[], durationMs: number, version: string, environment?: EnvironmentReport): RunReport {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'dbdoctor', version },
    status: worstStatus(targets.map((target) => target.status)),
    durationMs: Math.round(durationMs),
    ...(environment ? { environment } : {}),
    targets,
  };
}

export function exitCodeFor(report: RunReport): number {
  return exitForStatus(report.status);
}
