import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { Deadline } from '../engine/deadline.js';
import { EXIT_CODES } from '../engine/exit.js';
import { parseSeconds } from './duration.js';
import type { CliIO } from './io.js';
import { addRunFlags, runOptions, type RunFlags, type RunOptions } from './prepare.js';
import { FORMATS, widthFor, type Format } from './render.js';

/** `dbdoctor diagnose [target…]`: the options, as a plain struct, then the run. */
export interface DiagnoseOptions extends RunOptions {
  readonly timeoutMs: number;
  readonly format: Format;
  readonly verbose: boolean;
  readonly color: boolean;
}

export const DEFAULT_TIMEOUT_SECONDS = 10;

interface DiagnoseFlags extends RunFlags {
  timeout: number;
  json?: boolean;
  format?: Format;
  verbose?: boolean;
  color: boolean;
}

export function colorWanted(enabled: boolean, io: Pick<CliIO, 'env' | 'stdoutIsTTY'>): boolean {
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const forceColor = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0';
  return enabled && !noColor && (forceColor || io.stdoutIsTTY);
}

/** The live progress line (cli/progress.ts, loaded only then): a terminal, the human format, not CI. */
export function wantsProgress(io: Pick<CliIO, 'stderrIsTTY' | 'env'>, format: Format): boolean {
  const ci = io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false' && io.env.CI !== '0';
  return io.stderrIsTTY && format === 'human' && !ci && io.env.TERM !== 'dumb';
}

export function toOptions(flags: DiagnoseFlags, io: Pick<CliIO, 'env' | 'stdoutIsTTY'>): DiagnoseOptions {
  return {
    ...runOptions(flags),
    timeoutMs: flags.timeout * 1000,
    format: flags.json ? 'json' : (flags.format ?? 'human'),
    verbose: flags.verbose === true,
    color: colorWanted(flags.color, io),
  };
}

/**
 * Exit codes, the same in every format; said in --help so a script author need not guess. Each
 * command lists its own (explain's 4 and wait's "the command's own code" apply to them only); the
 * top-level help lists them all. Every help text fits 80 columns (test/unit/cli.test.ts).
 */
const DIAGNOSE_EXIT_CODES = `
Exit codes:
  ${EXIT_CODES.healthy}  healthy     ${EXIT_CODES.degraded}  degraded (a warning)     ${EXIT_CODES.unhealthy}  unhealthy
  ${EXIT_CODES.usage}  bad input, or dbdoctor could not run`;

export const EXIT_CODES_HELP = `${DIAGNOSE_EXIT_CODES}
  ${EXIT_CODES.notRecognised}  explain only: the text was not recognised`;

const DIAGNOSE_HELP = `
Examples:
  dbdoctor diagnose 'postgresql://app@db.internal:5432/orders'
  # what the environment points at ($DATABASE_URL, PGHOST, …):
  dbdoctor diagnose
  dbdoctor diagnose --json \\
    'mongodb://app@mongo:27017/app?authSource=admin'
  dbdoctor diagnose 'host=/var/run/postgresql dbname=orders' --timeout 30
  dbdoctor diagnose --config targets.yaml --format junit > dbdoctor.xml
${DIAGNOSE_EXIT_CODES}`;

export function diagnoseCommand(io: CliIO, onRun: (inputs: string[], options: DiagnoseOptions) => Promise<void>): Command {
  const command = new Command('diagnose')
    .description(
      'find out why an application cannot reach its database: is the server running, accepting connections, reachable, is a connection slot free, may the user log in, is anything stuck; one verdict, its evidence and the fix',
    )
    .argument('[targets...]', 'postgres://, mongodb:// or cassandra:// URLs, or libpq "key=value" strings; none: everything the environment points at')
    .addOption(new Option('-t, --timeout <seconds>', 'deadline for the whole run').argParser(parseSeconds).default(DEFAULT_TIMEOUT_SECONDS))
    .option('--json', 'print the JSON report (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS))
    .option('-v, --verbose', "show every step's evidence")
    .option('--no-color', 'no colours (also: NO_COLOR=1)');
  command.addHelpText('after', DIAGNOSE_HELP);
  return addRunFlags(command, { stepFlags: true }).action(async (inputs: string[], flags: DiagnoseFlags) => onRun(inputs, toOptions(flags, io)));
}

export async function runDiagnose(inputs: readonly string[], options: DiagnoseOptions, io: CliIO, version: string): Promise<number> {
  const started = performance.now();
  // The run's one deadline starts before anything is read, so nothing can wait past --timeout.
  const deadline = Deadline.within(options.timeoutMs, 'run');
  // The API's path (api/run.ts, api/diagnose.ts); the CLI adds the progress line, the format and the exit code.
  const [{ prepareRun }, { diagnoseRun }] = await Promise.all([import('../api/run.js'), import('../api/diagnose.js')]);
  const prepared = await prepareRun(inputs, options, io);
  const progress = wantsProgress(io, options.format) ? (await import('./progress.js')).progressLine(io, options.timeoutMs) : undefined;
  const report = await diagnoseRun(prepared, { deadline, version, started, ...(progress ? { observer: progress.observer } : {}) }).finally(() =>
    progress?.clear(),
  );
  const [{ exitCodeFor }, { render }] = await Promise.all([import('../engine/run.js'), import('./render.js')]);
  await io.out(await render(report, { ...options, width: widthFor(io) }));
  return exitCodeFor(report);
}
