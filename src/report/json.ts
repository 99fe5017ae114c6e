import { RunReportSchema, type RunReport } from '../engine/schema.js';

/**
 * The machine-readable report: one JSON document, validated against the versioned schema before
 * it is written, so that what scripts parse is exactly what the schema promises.
 */
export function renderJson(report: RunReport): string {
  return `${JSON.stringify(RunReportSchema.parse(report), null, 2)}\n`;
}
