import { Command, Option } from 'commander';
import { InputError } from '../config/errors.js';
import { ENGINE_NAMES } from '../engines/registry.js';
import type { CliIO } from './io.js';
import { widthFor } from './render.js';

const RUNBOOK_HELP = `
Examples:
  dbdoctor runbook postgres > runbook.md
  dbdoctor runbook cassandra --format human

Exit codes:
  0  printed     3  bad input (an engine dbdoctor does not know)`;

/** `dbdoctor runbook [engine]`: the decision tree as a runbook, from the steps themselves. */
export function runbookCommand(io: CliIO): Command {
  return new Command('runbook')
    .description('print the decision tree for an engine as a runbook: each step, what dbdoctor checks, and the commands to check it by hand')
    .argument('[engine]', `${ENGINE_NAMES.slice(0, -1).join(', ')} or ${ENGINE_NAMES.at(-1) ?? ''}`, ENGINE_NAMES[0])
    .addOption(new Option('-f, --format <format>', 'runbook format').choices(['markdown', 'human']).default('markdown'))

    .addHelpText('after', RUNBOOK_HELP)
    .action(async (engine: string, flags: { format: 'markdown' | 'human' }) => {
      const [{ ENGINES, isEngine, stepsOf }, { renderRunbook }] = await Promise.all([import('../engines/registry.js'), import('../docs/runbook.js')]);
      if (!isEngine(engine)) throw new InputError(`no runbook for "${engine}"`, `engines: ${Object.keys(ENGINES).join(', ')}`);
      await io.out(renderRunbook(engine, ENGINES[engine], await stepsOf(engine), flags.format, widthFor(io)));
    });
}
