import { Command, Option } from 'commander';
import { UNTIL, WAIT_DEFAULTS, type Until, type WaitLoopOptions, type WaitProgress } from '../api/wait.js';
import { Deadline } from '../engine/deadline.js';
import type { RunReport } from '../engine/schema.js';
import { EXIT_CODES, exitOfCommand } from '../engine/exit.js';
import { colorWanted } from './diagnose.js';
import { parseCount, parseDuration, parseSeconds } from './duration.js';
import { safeOutput, type CliIO } from './io.js';
import { addRunFlags, runOptions, type RunFlags, type RunOptions } from './prepare.js';
import { FORMATS, widthFor, type Format } from './render.js';
import { visible } from '../text/visible.js';

/**
 * `dbdoctor wait <target…> [-- command…]`: diagnose until every target is ready, with exponential
 * backoff and jitter, then exit 0 (or run the command). On timeout, or on a cause that waiting
 * cannot heal, exit 2 and print the last full diagnosis, so a failed init container's log says why.
 */
export { nextInterval, selectionFor, UNTIL, WAIT_DEFAULTS, type Until } from '../api/wait.js';

export interface WaitOptions extends RunOptions, WaitLoopOptions {
  readonly quiet: boolean;
  readonly format: Format;
  /** Whether a format was asked for: then the last diagnosis is printed on success too. */
  readonly formatChosen: boolean;
  readonly color: boolean;
  /** The command to run once ready (everything after "--"). */
  readonly command: readonly string[];
}

interface WaitFlags extends RunFlags {
  until: Until;
  timeout: number;
  interval: number;
  maxInterval: number;
  attemptTimeout: number;
  failFast: boolean;
  retries: number;
  quiet?: boolean;
  json?: boolean;
  format?: Format;
  color: boolean;
}

export function toWaitOptions(flags: WaitFlags, command: readonly string[], io: Pick<CliIO, 'env' | 'stdoutIsTTY'>): WaitOptions {
  return {
    ...runOptions(flags),
    until: flags.until,
    timeoutMs: flags.timeout * 1000,
    intervalMs: flags.interval,
    maxIntervalMs: Math.max(flags.interval, flags.maxInterval),
    attemptTimeoutMs: flags.attemptTimeout,
    failFast: flags.failFast,
    retries: flags.retries,
    quiet: flags.quiet === true,
    format: flags.json ? 'json' : (flags.format ?? 'human'),
    formatChosen: flags.json === true || flags.format !== undefined,
    color: colorWanted(flags.color, io),
    command,
    originMs: 0,
  };
}

const WAIT_HELP = `
Examples:
  dbdoctor wait --timeout 120 "$DATABASE_URL" -- npm start
  # as pg_isready, with the reason:
  dbdoctor wait --until accepting 'postgresql://app@db:5432/app'
  dbdoctor wait -t 300 -q 'mongodb://mongo:27017/app' && ./migrate

--timeout counts from the moment dbdoctor starts: wait gives up only when that
time has passed, or at once when waiting cannot heal the cause (a wrong
password; --no-fail-fast waits anyway).

Exit codes:
  ${EXIT_CODES.healthy}  ready (with a command after --: the command's own exit code)
  ${EXIT_CODES.unhealthy}  gave up (the last diagnosis is printed)
  ${EXIT_CODES.usage}  bad input`;

export function waitCommand(io: CliIO, command: readonly string[], onRun: (inputs: string[], options: WaitOptions) => Promise<void>): Command {
  const wait = new Command('wait')
    .description('wait until every target is ready (an init container, a CI job), then exit 0 or run a command: dbdoctor wait <target> -- <command…>')
    .argument('[targets...]', 'URLs as for diagnose; none: everything the environment points at')
    .addOption(
      new Option('--until <step>', 'ready means: accepting (answers its protocol), auth (logs in), ready (logs in and runs a query)')
        .choices(UNTIL)
        .default('ready'),
    )
    .addOption(new Option('-t, --timeout <seconds>', 'give up after this long').argParser(parseSeconds).default(WAIT_DEFAULTS.timeoutSeconds))
    .addOption(
      new Option('--interval <duration>', 'first wait between attempts (then doubling, with jitter)')
        .argParser(parseDuration)
        .default(WAIT_DEFAULTS.intervalMs, '500ms'),
    )
    .addOption(new Option('--max-interval <duration>', 'longest wait between attempts').argParser(parseDuration).default(WAIT_DEFAULTS.maxIntervalMs, '5s'))
    .addOption(new Option('--attempt-timeout <duration>', 'deadline of each attempt').argParser(parseDuration).default(WAIT_DEFAULTS.attemptTimeoutMs, '10s'))
    .option('--no-fail-fast', 'keep waiting through causes that waiting cannot heal (a wrong password, another protocol…)')
    .addOption(
      new Option('--retries <count>', 'attempts in a row before a cause such as dns_not_found is taken as final')
        .argParser(parseCount)
        .default(WAIT_DEFAULTS.retries),
    )
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--json', 'print the last diagnosis as JSON when giving up (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'format of the diagnosis printed when giving up').choices(FORMATS))
    .option('--no-color', 'no colours (also: NO_COLOR=1)');
  wait.addHelpText('after', WAIT_HELP);
  return addRunFlags(wait, { stepFlags: false }).action(async (inputs: string[], flags: WaitFlags) => onRun(inputs, toWaitOptions(flags, command, io)));
}

export async function runWait(inputs: readonly string[], options: WaitOptions, io: CliIO, version: string): Promise<number> {
  // --timeout is a promise to the caller (an init container, a CI step): it counts from the moment
  // the process started, and wait gives up only when it has passed, unless the cause cannot heal.
  const deadline = Deadline.after(options.originMs, options.timeoutMs, 'wait', { name: 'the --timeout' });
  const [{ prepareRun }, { waitUntilReady }] = await Promise.all([import('../api/run.js'), import('../api/wait.js')]);
  const prepared = await prepareRun(inputs, options, io);
  // The report handed over before the last watch is rendered while the port is watched, so that
  // it is out the moment the deadline comes.
  let rendered: { report: RunReport; text: Promise<string> } | undefined;
  const progress: WaitProgress = {
    ...progressWriter(io, options.quiet),
    lastReport: (report) => void (rendered = { report, text: renderLast(report, options, io) }),
  };
  const { outcome, report } = await waitUntilReady(prepared, options, deadline, version, progress);
  if (outcome === 'ready') {
    // With --format or --json, the final diagnosis is kept on success too (a CI artifact).
    if (options.formatChosen) await io.out(await renderLast(report, options, io));
    return options.command.length > 0 ? runCommand(options.command) : EXIT_CODES.healthy;
  }
  await io.out(await (rendered?.report === report ? rendered.text : renderLast(report, options, io)));
  return EXIT_CODES.unhealthy;
}

/** The last full diagnosis of every target, as --format asks. */
async function renderLast(report: RunReport, options: WaitOptions, io: CliIO): Promise<string> {
  const { render } = await import('./render.js');
  return render(report, { format: options.format, verbose: false, color: options.color, width: widthFor(io) });
}

/**
 * One line per attempt on stderr, or a single live line on a terminal; nothing with --quiet. The
 * live line is cut to the terminal's width less one column: a line that wraps leaves its first
 * rows behind, since "\r\e[2K" clears only the row the cursor is on.
 */
export function progressWriter(io: Pick<CliIO, 'err' | 'stderrIsTTY' | 'stderrColumns' | 'columns' | 'env'>, quiet: boolean): WaitProgress {
  if (quiet) return { line: () => undefined, done: () => undefined };
  const live = io.stderrIsTTY;
  const width = (io.stderrColumns ?? widthFor(io)) - 1;
  return {
    line: (text) => void io.err(live ? `\r\u001b[2K${fitLine(text, width)}` : `dbdoctor wait: ${text}\n`),
    done: (text) => void io.err(live ? `\r\u001b[2K${text}\n` : `dbdoctor wait: ${text}\n`),
  };
}

/** The text cut to `width` columns, an ellipsis marking the cut. */
export function fitLine(text: string, width: number): string {
  const characters = [...text];
  return characters.length <= width ? text : `${characters.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Runs the command once ready, as wait-for-it does, passing signals on and exiting with its code. */
async function runCommand(command: readonly string[]): Promise<number> {
  const [file, ...args] = command;
  // node:child_process only when there is a command to run: every other command's start-up skips it (issue 15).
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(file ?? 'true', args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', (error) => {
      process.stderr.write(safeOutput(visible(`dbdoctor wait: cannot run ${file ?? ''}: ${error.message}`)) + '\n');
      resolve(EXIT_CODES.commandNotRun);
    });
    child.once('close', (code, signal) => resolve(exitOfCommand(code, signal)));
  });
}
