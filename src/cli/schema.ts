import { Command } from 'commander';
import type { CliIO } from './io.js';

const SCHEMA_HELP = `
Example:
  dbdoctor schema > dbdoctor-report.schema.json

Exit codes:
  0  printed`;

/** `dbdoctor schema`: the JSON Schema of the --json output. */
export function schemaCommand(io: CliIO): Command {
  return new Command('schema')
    .description('print the JSON Schema of the --json report')
    .addHelpText('after', SCHEMA_HELP)
    .action(async () => {
      const { reportJsonSchema } = await import('../docs/schema.js');
      await io.out(reportJsonSchema());
    });
}
