import { Command } from 'commander';
import type { CliIO } from './io.js';

/** `dbdoctor schema`: the JSON Schema of the --json output. */
export function schemaCommand(io: CliIO): Command {
  return new Command('schema').description('print the JSON Schema of the --json report').action(async () => {
    const { reportJsonSchema } = await import('../docs/schema.js');
    await io.out(reportJsonSchema());
  });
}
