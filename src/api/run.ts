import type { Environment } from '../config/environment.js';
import type { ConfigFile } from '../config/file.js';
import type { LabelledTarget } from '../config/targets.js';
import type { BudgetSource, Deadline } from '../engine/deadline.js';
import type { EnvironmentView, RunContext, StepObserver, StepSelection } from '../engine/probe.js';
import type { EnvironmentReport, TargetReport } from '../engine/schema.js';
import type { StepId } from '../engine/steps.js';
import type { Thresholds } from '../engine/thresholds.js';
import { knownNames, type KnownName } from '../host/names.js';
import { detectPlatform, type Platform, type PlatformInfo } from '../host/platform.js';

/**
 * What diagnose and wait share, for the CLI and the API alike: where targets come from
 * (arguments, a config file, or everything the environment points at), the environment, the
 * thresholds and step selection, and running every target concurrently under one deadline.
 */
export interface RunOptions {
  readonly envFile: { readonly path: string; readonly required: boolean } | undefined;
  readonly platform: Platform | undefined;
  readonly configFile: string | undefined;
  readonly thresholds: Thresholds;
  readonly steps: StepSelection | undefined;
}

/** What a run reads from its process: the variables and the working directory (the CLI's own, or the ones an API call passes). */
export interface RunHost {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** A target given in code: its URL (or libpq conninfo string) and what a config file would say beside it. */
export interface TargetEntry {
  readonly url: string;
  readonly label?: string;
  /** This target's own deadline, in milliseconds (the run's timeout still bounds it). */
  readonly timeoutMs?: number;
  readonly thresholds?: Partial<Thresholds>;
  readonly only?: readonly StepId[];
  readonly skip?: readonly StepId[];
}

/** A target as the CLI's arguments give it (a URL or conninfo string), or as code does (an entry). */
export type TargetInput = string | TargetEntry;

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

export async function prepareRun(inputs: readonly TargetInput[], options: RunOptions, io: RunHost): Promise<PreparedRun> {
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
    Promise.all(
      inputs.map(async (input, index): Promise<PlannedTarget> =>
        typeof input === 'string'
          ? { target: await resolveTarget(input, env), thresholds: options.thresholds, ...stepsOf(options.steps) }
          : objectTarget(input, index, options, env, resolveTarget),
      ),
    ),
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

async function objectTarget(
  entry: TargetEntry,
  index: number,
  options: RunOptions,
  env: Environment,
  resolveTarget: (input: string, env: Environment, source?: string) => Promise<LabelledTarget['target']>,
): Promise<PlannedTarget> {
  const name = entry.label ?? `targets[${index}]`;
  const only = entry.only ?? options.steps?.only;
  const skip = entry.skip ?? options.steps?.skip;
  const steps = only || skip ? { ...(only ? { only: [...only] } : {}), ...(skip ? { skip: [...skip] } : {}) } : undefined;
  return {
    target: await resolveTarget(entry.url, env, entry.label ? `target ${entry.label}` : undefined),
    ...(entry.label ? { label: entry.label } : {}),
    ...(entry.timeoutMs ? { timeoutMs: entry.timeoutMs, timeoutFrom: `the timeoutMs of ${name}` } : {}),
    thresholds: { ...options.thresholds, ...entry.thresholds },
    ...(steps ? { steps } : {}),
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
        if (!url)
          throw new InputError(
            `${options.configFile ?? 'config'}: ${name}: the variable ${entry.urlFrom} is not set`,
            `set ${entry.urlFrom}, or give url: instead of urlFrom:`,
          );
      }
      let target: LabelledTarget['target'];
      try {
        target = await resolveTarget(url ?? '', env, entry.urlFrom ? (env.sourceOf(entry.urlFrom) ?? `env ${entry.urlFrom}`) : `config ${name}`);
      } catch (error) {
        // A URL's problem, said with where the URL is: the file and the target (its label), or the variable.
        if (error instanceof InputError)
          throw new InputError(`${options.configFile ?? 'config'}: ${name}${entry.urlFrom ? ` (${entry.urlFrom})` : ''}: ${error.message}`, error.hint);
        throw error;
      }
      if (entry.engine && entry.engine !== target.engine)
        throw new InputError(
          `${options.configFile ?? 'config'}: ${name}: engine ${entry.engine} does not match the URL (${target.engine})`,
          'remove engine:, or fix the URL',
        );
      const only = entry.only ?? defaults.only ?? options.steps?.only;
      const skip = entry.skip ?? defaults.skip ?? options.steps?.skip;
      const steps = only || skip ? { ...(only ? { only } : {}), ...(skip ? { skip } : {}) } : undefined;
      const timeout = entry.timeout ?? defaults.timeout;
      const minInterval = entry.minInterval ?? defaults.minInterval;
      return {
        target,
        ...(entry.label ? { label: entry.label } : {}),
        ...(timeout
          ? { timeoutMs: timeout * 1000, timeoutFrom: `${options.configFile ?? 'config'}: ${entry.timeout ? `timeout of ${name}` : 'defaults.timeout'}` }
          : {}),
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
  const [{ engineOf }, { diagnoseTarget }] = await Promise.all([import('../engines/registry.js'), import('../engine/walk.js')]);
  return Promise.all(
    prepared.targets.map(async (planned) => {
      // The registry names the target's engine; its module loads the probe (and nothing of another
      // engine) and its hints; the engine's runner drives the walk.
      const engine = engineOf(planned.target);
      const [probe, hints] = await Promise.all([engine.probe(), engine.hints?.(prepared.env, planned.target) ?? []]);
      const context: RunContext = {
        deadline: planned.timeoutMs ? deadline.limit(planned.timeoutMs, 'run', timeoutSourceOf(planned)) : deadline,
        thresholds: planned.thresholds,
        env: prepared.env.toRecord(),
        environment: prepared.environment,
        hints,
        ...((override ?? planned.steps) ? { steps: mergeSelection(planned.steps, override) } : {}),
        ...(observer ? { observer } : {}),
      };
      const report = await diagnoseTarget(probe, planned.target, context);
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
