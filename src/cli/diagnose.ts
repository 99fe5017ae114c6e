import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { Deadline } from '../engine/deadline.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../engine/thresholds.js';
import type { CliIO } from './io.js';
import { parseDuration, parsePercent, parseSeconds } from './duration.js';

/** `dbdoctor diagnose [target…]`: the options, as a plain struct, then the run. */
export interface DiagnoseOptions {
  readonly timeoutMs: number;
  readonly format: 'human' | 'json';
  readonly verbose: boolean;
  readonly color: boolean;
  /** undefined: no .env at all; required=false: ./.env if present. */
  readonly envFile: { readonly path: string; readonly required: boolean } | undefined;
  readonly thresholds: Thresholds;
}

export const DEFAULT_TIMEOUT_SECONDS = 10;

interface RawFlags {
  timeout: number;
  json?: boolean;
  format?: 'human' | 'json';
  verbose?: boolean;
  color: boolean;
  envFile: string | false | undefined;
  longRunning: number;
  lockWait: number;
  idleInTransaction: number;
  idle: number;
  nearLimit: number;
}

export function toOptions(flags: RawFlags, io: Pick<CliIO, 'env' | 'stdoutIsTTY'>): DiagnoseOptions {
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const forceColor = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0';
  return {
    timeoutMs: flags.timeout * 1000,
    format: flags.json ? 'json' : (flags.format ?? 'human'),
    verbose: flags.verbose === true,
    color: flags.color && !noColor && (forceColor || io.stdoutIsTTY),
    envFile: flags.envFile === false ? undefined : { path: flags.envFile ?? '.env', required: flags.envFile !== undefined },
    thresholds: {
      longRunningMs: flags.longRunning,
      lockWaitMs: flags.lockWait,
      idleInTransactionMs: flags.idleInTransaction,
      idleMs: flags.idle,
      nearLimitPercent: flags.nearLimit,
    },
  };
}

export function diagnoseCommand(io: CliIO, onRun: (inputs: string[], options: DiagnoseOptions) => Promise<void>): Command {
  return new Command('diagnose')
    .description('walk the decision tree for each target and print one verdict with its evidence and fix')
    .argument('[targets...]', 'postgres:// or cassandra:// URLs, or libpq "key=value" strings; none: DATABASE_URL, the PG* or CASSANDRA_* variables, or libpq defaults')
    .addOption(new Option('-t, --timeout <seconds>', 'deadline for the whole run').argParser(parseSeconds).default(DEFAULT_TIMEOUT_SECONDS))
    .option('--json', 'print the JSON report (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json']))
    .option('-v, --verbose', 'show every step\'s evidence')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('--env-file <path>', 'read settings from this .env file (default: ./.env when present)')
    .option('--no-env-file', 'do not read any .env file')
    .addOption(new Option('--long-running <duration>', 'statements active longer than this are long_running').argParser(parseDuration).default(DEFAULT_THRESHOLDS.longRunningMs, '5m'))
    .addOption(new Option('--lock-wait <duration>', 'lock waits longer than this are blocked').argParser(parseDuration).default(DEFAULT_THRESHOLDS.lockWaitMs, '10s'))
    .addOption(new Option('--idle-in-transaction <duration>', 'sessions idle in a transaction longer than this are idle_in_transaction').argParser(parseDuration).default(DEFAULT_THRESHOLDS.idleInTransactionMs, '5m'))
    .addOption(new Option('--idle <duration>', 'sessions idle longer than this count towards idle_connections').argParser(parseDuration).default(DEFAULT_THRESHOLDS.idleMs, '30m'))
    .addOption(new Option('--near-limit <percent>', 'share of max_connections in use that makes near_limit').argParser(parsePercent).default(DEFAULT_THRESHOLDS.nearLimitPercent))
    .action(async (inputs: string[], flags: RawFlags) => onRun(inputs, toOptions(flags, io)));
}

export async function runDiagnose(inputs: readonly string[], options: DiagnoseOptions, io: CliIO, version: string): Promise<number> {
  const started = performance.now();
  // The run's one deadline starts before anything is read, so nothing can wait past --timeout.
  const deadline = Deadline.within(options.timeoutMs, 'run');
  // Loaded here, not at the top: `--version` and `--help` should not pay for them.
  const [{ loadDotEnv }, { buildEnvironment }, { resolveTargets }, { exitCodeFor, runReport }] = await Promise.all([
    import('../config/dotenv.js'),
    import('../config/environment.js'),
    import('../config/targets.js'),
    import('../engine/run.js'),
  ]);
  const dotenv = options.envFile ? await loadDotEnv(options.envFile.path, options.envFile.required) : undefined;
  const env = buildEnvironment(io.env, dotenv);
  const targets = await resolveTargets(inputs, env);
  const { diagnose } = await import('../probes/registry.js');
  const reports = await Promise.all(targets.map((target) => diagnose(target, { deadline, thresholds: options.thresholds, env: env.toRecord() })));
  const report = runReport(reports, performance.now() - started, version);
  if (options.format === 'json') {
    const { renderJson } = await import('../report/json.js');
    await io.out(renderJson(report));
  } else {
    const { renderHuman } = await import('../report/human.js');
    await io.out(renderHuman(report, { verbose: options.verbose, color: options.color }));
  }
  return exitCodeFor(report);
}

