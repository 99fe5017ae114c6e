import { Command, CommanderError } from 'commander';
import { toolVersion } from '../api/version.js';
import { InputError } from '../config/errors.js';
import { maskUrlPasswords } from '../config/secrets.js';
import { EXIT_CODES } from '../engine/exit.js';
import { diagnoseCommand, EXIT_CODES_HELP, runDiagnose } from './diagnose.js';
import { explainCommand, runExplain } from './explain.js';
import { exporterCommand, runExporter } from './exporter.js';
import { processIO, type CliIO } from './io.js';
import { registerVocabulary } from './vocabulary.js';
import { completionCommand } from './completion.js';
import { runbookCommand } from './runbook.js';
import { schemaCommand } from './schema.js';
import { runWait, waitCommand } from './wait.js';
import { bounded } from '../text/bound.js';
import { visible } from '../text/visible.js';

export { toolVersion };

/**
 * Parses argv, runs the command, and returns the exit code: 0 healthy, 1 degraded, 2 unhealthy,
 * 3 bad input (or dbdoctor could not run). Errors are one line, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const version = toolVersion();
  registerVocabulary();
  // `dbdoctor wait <target> -- <command…>`: what follows "--" is the command, not targets.
  const separator = argv.indexOf('--');
  const command = separator >= 0 ? argv.slice(separator + 1) : [];
  const args = separator >= 0 ? argv.slice(0, separator) : argv;
  let exitCode: number = EXIT_CODES.healthy;
  // Commander's own messages go through our writers (redacted); errors are printed by us, once.
  // Help fits the terminal, 80 columns when there is none (a pipe, a CI log).
  const output = {
    writeOut: (text: string) => void io.out(text),
    writeErr: (text: string) => void io.err(text),
    outputError: () => undefined,
    getOutHelpWidth: () => io.columns ?? 80,
    getErrHelpWidth: () => io.columns ?? 80,
  };
  const program = new Command('dbdoctor')
    .description('Diagnoses database connectivity: one verdict, its evidence, and the fix.')
    .version(version, '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput(output)
    .addHelpText(
      'after',
      `
Examples:
  dbdoctor 'postgresql://app@db:5432/orders'   # diagnose, the default command
  dbdoctor wait -t 120 "$DATABASE_URL" -- ./start
  kubectl logs deploy/api | dbdoctor explain
${EXIT_CODES_HELP}`,
    );
  program.addCommand(
    diagnoseCommand(io, async (inputs, options) => {
      exitCode = await runDiagnose(inputs, options, io, version);
    }),
    { isDefault: true },
  );
  program.addCommand(
    waitCommand(io, command, async (inputs, options) => {
      exitCode = await runWait(inputs, options, io, version);
    }),
  );
  program.addCommand(explainCommand(io, async (options) => void (exitCode = await runExplain(options, io, version))));
  program.addCommand(exporterCommand(async (options) => void (exitCode = await runExporter(options, io, version))));
  program.addCommand(schemaCommand(io));
  program.addCommand(runbookCommand(io));
  program.addCommand(completionCommand(io, () => program));
  for (const command of program.commands) command.exitOverride().showSuggestionAfterError(true).configureOutput(output);

  try {
    await program.parseAsync([...args]);
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

async function reportError(error: unknown, io: CliIO): Promise<number> {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_CODES.healthy;
    const message = error.message.replace(/^error: /, '');
    await io.err(`dbdoctor: ${oneLine(maskUrlPasswords(message))}\n  run "dbdoctor --help" for usage\n`);
    return EXIT_CODES.usage;
  }
  if (error instanceof InputError) {
    await io.err(`dbdoctor: ${oneLine(error.message)}\n${error.hint ? `  ${oneLine(error.hint)}\n` : ''}`);
    return EXIT_CODES.usage;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  await io.err(`dbdoctor: internal error: ${oneLine(maskUrlPasswords(message))}\n  please report this with the command you ran (passwords are masked above)\n`);
  return EXIT_CODES.usage;
}

/**
 * Input echoed in an error may hold line breaks, control sequences or bidi overrides: shown
 * escaped, on one line, and bounded (an input can be as long as a file).
 */
function oneLine(text: string): string {
  return visible(bounded(text.trimEnd(), 2000)).replace(/\t/g, ' ');
}
