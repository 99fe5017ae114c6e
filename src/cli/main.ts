import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError } from '../config/errors.js';
import { maskUrlPasswords } from '../config/secrets.js';
import { EXIT_CODES } from '../engine/exit.js';
import { diagnoseCommand, runDiagnose } from './diagnose.js';
import { explainCommand, runExplain } from './explain.js';
import { processIO, type CliIO } from './io.js';

export function toolVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/**
 * Parses argv, runs the command, and returns the exit code: 0 healthy, 1 degraded, 2 unhealthy,
 * 3 bad input (or dbdoctor could not run). Errors are one line, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const version = toolVersion();
  let exitCode: number = EXIT_CODES.healthy;
  // Commander's own messages go through our writers (redacted); errors are printed by us, once.
  const output = { writeOut: (text: string) => void io.out(text), writeErr: (text: string) => void io.err(text), outputError: () => undefined };
  const program = new Command('dbdoctor')
    .description('Diagnoses database connectivity: one verdict, its evidence, and the fix.')
    .version(version, '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput(output);
  program.addCommand(
    diagnoseCommand(io, async (inputs, options) => {
      exitCode = await runDiagnose(inputs, options, io, version);
    }),
    { isDefault: true },
  );
  program.addCommand(explainCommand(io, async (options) => void (exitCode = await runExplain(options, io, version))));
  for (const command of program.commands) command.exitOverride().showSuggestionAfterError(true).configureOutput(output);

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

async function reportError(error: unknown, io: CliIO): Promise<number> {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_CODES.healthy;
    const message = error.message.replace(/^error: /, '');
    await io.err(`dbdoctor: ${maskUrlPasswords(message)}\n  run "dbdoctor --help" for usage\n`);
    return EXIT_CODES.usage;
  }
  if (error instanceof InputError) {
    await io.err(`dbdoctor: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    return EXIT_CODES.usage;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  await io.err(`dbdoctor: internal error: ${maskUrlPasswords(message)}\n  please report this with the command you ran (passwords are masked above)\n`);
  return EXIT_CODES.usage;
}
