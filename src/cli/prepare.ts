import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Environment } from '../config/environment.js';
import type { ConfigFile } from '../config/file.js';
import type { LabelledTarget } from '../config/targets.js';
import type { BudgetSource, Deadline } from '../engine/deadline.js';
import type { EnvironmentView, RunContext, StepObserver, StepSelection } from '../engine/probe.js';
import type { EnvironmentReport, TargetReport } from '../engine/schema.js';
import { STEP_ORDER, type StepId } from '../engine/steps.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../engine/thresholds.js';
import { knownNames, type KnownName } from '../host/names.js';
import { detectPlatform, PLATFORMS, type Platform, type PlatformInfo } from '../host/platform.js';
import { parseDuration, parsePercent } from './duration.js';
import type { CliIO } from './io.js';

/**
 * What diagnose and wait share: where targets come from (arguments, a config file, or everything
 * the environment points at), the environment, the thresholds and step selection, and running
 * every target concurrently under one deadline.
 */
export interface RunOptions {
  readonly envFile: { readonly path: string; readonly required: boolean } | undefined;
  readonly platform: Platform | undefined;
  readonly configFile: string | undefined;
  readonly thresholds: Thresholds;
  readonly steps: StepSelection | undefined;
}

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
    .addOption(new Option('--long-running <duration>', 'statements active longer than this are long_running').argParser(parseDuration).default(DEFAULT_THRESHOLDS.longRunningMs, '5m'))
    .addOption(new Option('--lock-wait <duration>', 'lock waits longer than this are blocked').argParser(parseDuration).default(DEFAULT_THRESHOLDS.lockWaitMs, '10s'))
    .addOption(new Option('--idle-in-transaction <duration>', 'sessions idle in a transaction longer than this are idle_in_transaction').argParser(parseDuration).default(DEFAULT_THRESHOLDS.idleInTransactionMs, '5m'))
    .addOption(new Option('--idle <duration>', 'sessions idle longer than this count towards idle_connections').argParser(parseDuration).default(DEFAULT_THRESHOLDS.idleMs, '30m'))
    .addOption(new Option('--near-limit <percent>', 'share of the connection limit in use that makes near_limit').argParser(parsePercent).default(DEFAULT_THRESHOLDS.nearLimitPercent))
    .addOption(new Option('--replication-lag <duration>', 'a standby replaying changes older than this is replication_lag').argParser(parseDuration).default(DEFAULT_THRESHOLDS.replicationLagMs, '1m'));
  if (options.stepFlags) {
    command
      .addOption(new Option('--only <steps>', `run only these steps (comma-separated: ${STEP_ORDER.join(',')})`).argParser(parseSteps))
      .addOption(new Option('--skip <steps>', 'skip these steps (comma-separated)').argParser(parseSteps));
  }
  return command;
}

export interface PlannedTarget extends LabelledTarget {
  readonly timeoutMs?: number;
  /** Where timeoutMs was set, as a message names it when the budget runs out. */
  readonly timeoutFrom?: string;
  readonly thresholds: Thresholds;
  readonly steps?: StepSelection;
  /** `dbdoctor exporter`: the config file's minInterval for this target, when it gives one. */
  readonly minIntervalMs?: number;
}

export interface PreparedRun {
  readonly targets: readonly PlannedTarget[];
  readonly env: Environment;
  readonly environment: EnvironmentView;
  readonly environmentReport: EnvironmentReport;
}

export async function prepareRun(inputs: readonly string[], options: RunOptions, io: CliIO): Promise<PreparedRun> {
  const [{ loadDotEnv }, { buildEnvironment }, { resolveTarget, discoverTargets }, { databaseVariables }] = await Promise.all([
    import('../config/dotenv.js'),
    import('../config/environment.js'),
    import('../config/targets.js'),
    import('../config/inventory.js'),
  ]);
  const dotenv = options.envFile ? await loadDotEnv(options.envFile.path, options.envFile.required) : undefined;
  const env = buildEnvironment(io.env, dotenv);
  const config = options.configFile ? await (await import('../config/file.js')).loadConfigFile(options.configFile) : undefined;
  const [fromArguments, fromConfig, platform] = await Promise.all([
    Promise.all(inputs.map(async (input): Promise<PlannedTarget> => ({ target: await resolveTarget(input, env), thresholds: options.thresholds, ...stepsOf(options.steps) }))),
    config ? configTargets(config, options, env, resolveTarget) : Promise.resolve([]),
    detectPlatform({ env: env.toRecord(), cwd: io.cwd, override: options.platform }),
  ]);
  const targets =
    fromArguments.length + fromConfig.length > 0
      ? [...fromConfig, ...fromArguments]
      : (await discoverTargets(env)).map((entry): PlannedTarget => ({ ...entry, thresholds: options.thresholds, ...stepsOf(options.steps) }));
  return {
    targets,
    env,
    environment: environmentView(platform, env.toRecord(), io.cwd),
    environmentReport: { ...withoutOs(platform), signals: [...platform.signals], configuration: databaseVariables(env) },
  };
}

function stepsOf(steps: StepSelection | undefined): { steps?: StepSelection } {
  return steps ? { steps } : {};
}

async function configTargets(
  config: ConfigFile,
  options: RunOptions,
  env: Environment,
  resolveTarget: (input: string, env: Environment, source?: string) => Promise<LabelledTarget['target']>,
): Promise<PlannedTarget[]> {
  const { InputError } = await import('../config/errors.js');
  const { durationsToThresholds } = await import('./thresholds.js');
  const defaults = config.defaults ?? {};
  return Promise.all(
    config.targets.map(async (entry, index): Promise<PlannedTarget> => {
      const name = entry.label ?? `targets[${index}]`;
      let url = entry.url;
      if (entry.urlFrom) {
        url = env.get(entry.urlFrom);
        if (!url) throw new InputError(`${options.configFile ?? 'config'}: ${name}: the variable ${entry.urlFrom} is not set`, `set ${entry.urlFrom}, or give url: instead of urlFrom:`);
      }
      let target: LabelledTarget['target'];
      try {
        target = await resolveTarget(url ?? '', env, entry.urlFrom ? (env.sourceOf(entry.urlFrom) ?? `env ${entry.urlFrom}`) : `config ${name}`);
      } catch (error) {
        // A URL's problem, said with where the URL is: the file and the target (its label), or the variable.
        if (error instanceof InputError) throw new InputError(`${options.configFile ?? 'config'}: ${name}${entry.urlFrom ? ` (${entry.urlFrom})` : ''}: ${error.message}`, error.hint);
        throw error;
      }
      if (entry.engine && entry.engine !== target.engine) throw new InputError(`${options.configFile ?? 'config'}: ${name}: engine ${entry.engine} does not match the URL (${target.engine})`, 'remove engine:, or fix the URL');
      const only = entry.only ?? defaults.only ?? options.steps?.only;
      const skip = entry.skip ?? defaults.skip ?? options.steps?.skip;
      const steps = only || skip ? { ...(only ? { only } : {}), ...(skip ? { skip } : {}) } : undefined;
      const timeout = entry.timeout ?? defaults.timeout;
      const minInterval = entry.minInterval ?? defaults.minInterval;
      return {
        target,
        ...(entry.label ? { label: entry.label } : {}),
        ...(timeout ? { timeoutMs: timeout * 1000, timeoutFrom: `${options.configFile ?? 'config'}: ${entry.timeout ? `timeout of ${name}` : 'defaults.timeout'}` } : {}),
        ...(minInterval !== undefined ? { minIntervalMs: minInterval } : {}),
        thresholds: durationsToThresholds(options.thresholds, defaults.thresholds, entry.thresholds),
        ...(steps ? { steps } : {}),
      };
    }),
  );
}

/** A target's own timeout as a message names it when it runs out. */
export function timeoutSourceOf(planned: Pick<PlannedTarget, 'timeoutFrom'>): BudgetSource {
  return { name: 'the timeout', ...(planned.timeoutFrom ? { detail: planned.timeoutFrom } : {}) };
}

/** Diagnoses every planned target concurrently, each under its own limit within the run's deadline. */
export async function diagnoseAll(prepared: PreparedRun, deadline: Deadline, override?: StepSelection, observer?: StepObserver): Promise<TargetReport[]> {
  const [{ diagnose }, { configMismatches }] = await Promise.all([import('../probes/registry.js'), import('../config/inventory.js')]);
  return Promise.all(
    prepared.targets.map(async (planned) => {
      const context: RunContext = {
        deadline: planned.timeoutMs ? deadline.limit(planned.timeoutMs, 'run', timeoutSourceOf(planned)) : deadline,
        thresholds: planned.thresholds,
        env: prepared.env.toRecord(),
        environment: prepared.environment,
        hints: configMismatches(prepared.env, planned.target),
        ...((override ?? planned.steps) ? { steps: mergeSelection(planned.steps, override) } : {}),
        ...(observer ? { observer } : {}),
      };
      const report = await diagnose(planned.target, context);
      return planned.label ? { ...report, label: planned.label } : report;
    }),
  );
}

function mergeSelection(planned: StepSelection | undefined, override: StepSelection | undefined): StepSelection {
  return { ...planned, ...override, ...(planned?.skip || override?.skip ? { skip: [...(planned?.skip ?? []), ...(override?.skip ?? [])] } : {}) };
}

/** The environment as probes see it; known names are gathered only if a step asks. */
/** The report keeps its shape: the OS is this machine's, or the platform chosen with --platform. */
function withoutOs(platform: PlatformInfo): Omit<PlatformInfo, 'os'> {
  const { os: _os, ...rest } = platform;
  return rest;
}

function environmentView(platform: PlatformInfo, env: Readonly<Record<string, string | undefined>>, cwd: string): EnvironmentView {
  let names: Promise<readonly KnownName[]> | undefined;
  return {
    platform,
    knownNames: () => {
      names ??= knownNames({ env, cwd, composeFile: platform.composeFile });
      return names;
    },
  };
}

