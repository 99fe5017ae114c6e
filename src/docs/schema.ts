import { zodToJsonSchema } from 'zod-to-json-schema';
import { RunReportSchema, SCHEMA_VERSION } from '../engine/schema.js';

/**
 * The JSON Schema of `--json` output, generated from the zod schema the output is validated
 * against. Checked in as schema/report.schema.json (npm run docs writes it; a test keeps it in sync).
 */
export function reportJsonSchema(): string {
  const schema = zodToJsonSchema(RunReportSchema, { name: 'DbdoctorReport', $refStrategy: 'none' });
  const document = {
    $id: `https://dbdoctor.dev/schema/report-v${SCHEMA_VERSION}.json`,
    title: `dbdoctor report, schema version ${SCHEMA_VERSION}`,
    ...schema,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
