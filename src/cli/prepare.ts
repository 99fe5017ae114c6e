import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RunOptions } from '../api/run.js';
import { STEP_ORDER, type StepId } from '../engine/steps.js';
import { DEFAULT_THRESHOLDS } from '../engine/thresholds.js';
import { PLATFORMS } from '../host/platform.js';
import { parseDuration, parsePercent } from './duration.js';

export { diagnoseAll, prepareRun, timeoutSourceOf, type PlannedTarget, type PreparedRun, type RunOptions } from '../api/run.js';

export interface RunFlags {
  envFile: string | false | undefined;
  platform?: string;
  config?: string;
  only?: StepId[];
  skip?: StepId[];
  longRunning: number;
  lockWait: number;
  idleInTransaction: number;
  idle: number;
  nearLimit: number;
  replicationLag: number;
}

export function runOptions(flags: RunFlags): RunOptions {
  return {
    envFile: flags.envFile === false ? undefined : { path: flags.envFile ?? '.env', required: flags.envFile !== undefined },
    platform: flags.platform === undefined ? undefined : flags.platform === 'k8s' ? 'kubernetes' : PLATFORMS.find((platform) => platform === flags.platform),
    configFile: flags.config,
    thresholds: {
      longRunningMs: flags.longRunning,
      lockWaitMs: flags.lockWait,
      idleInTransactionMs: flags.idleInTransaction,
      idleMs: flags.idle,
      nearLimitPercent: flags.nearLimit,
      replicationLagMs: flags.replicationLag,
    },
    steps: flags.only || flags.skip ? { ...(flags.only ? { only: flags.only } : {}), ...(flags.skip ? { skip: flags.skip } : {}) } : undefined,
  };
}

function parseSteps(text: string): StepId[] {
  const steps = text.split(',').map((step) => step.trim());
  const unknown = steps.find((step) => !STEP_ORDER.some((known) => known === step));
  if (unknown !== undefined) throw new InvalidArgumentError(`unknown step "${unknown}": the steps are ${STEP_ORDER.join(', ')}`);
  return STEP_ORDER.filter((known) => steps.includes(known));
}

/** The flags both diagnose and wait take. */
export function addRunFlags(command: Command, options: { stepFlags: boolean }): Command {
  command
    .option('--config <file>', 'read targets (labels, thresholds, timeouts) from a YAML or JSON file')
    .option('--env-file <path>', 'read settings from this .env file (default: ./.env when present)')
    .option('--no-env-file', 'do not read any .env file')
    .addOption(new Option('--platform <platform>', 'tailor fixes to this platform instead of the detected one').choices(['k8s', ...PLATFORMS]))
    .addOption(
      new Option('--long-running <duration>', 'statements active longer than this are long_running')
        .argParser(parseDuration)
        .default(DEFAULT_THRESHOLDS.longRunningMs, '5m'),
    )
    .addOption(
      new Option('--lock-wait <duration>', 'lock waits longer than this are blocked').argParser(parseDuration).default(DEFAULT_THRESHOLDS.lockWaitMs, '10s'),
    )
    .addOption(
      new Option('--idle-in-transaction <duration>', 'sessions idle in a transaction longer than this are idle_in_transaction')
        .argParser(parseDuration)
        .default(DEFAULT_THRESHOLDS.idleInTransactionMs, '5m'),
    )
    .addOption(
      new Option('--idle <duration>', 'sessions idle longer than this count towards idle_connections')
        .argParser(parseDuration)
        .default(DEFAULT_THRESHOLDS.idleMs, '30m'),
    )
    .addOption(
      new Option('--near-limit <percent>', 'share of the connection limit in use that makes near_limit')
        .argParser(parsePercent)
        .default(DEFAULT_THRESHOLDS.nearLimitPercent),
    )
    .addOption(
      new Option('--replication-lag <duration>', 'a standby replaying changes older than this is replication_lag')
        .argParser(parseDuration)
        .default(DEFAULT_THRESHOLDS.replicationLagMs, '1m'),
    );
  if (options.stepFlags) {
    command
      .addOption(new Option('--only <steps>', `run only these steps (comma-separated: ${STEP_ORDER.join(',')})`).argParser(parseSteps))
      .addOption(new Option('--skip <steps>', 'skip these steps (comma-separated)').argParser(parseSteps));
  }
  return command;
}
