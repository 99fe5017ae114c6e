import { createHash } from 'node:crypto';
import type { ExporterOptions } from '../cli/exporter.js';
import type { CliIO } from '../cli/io.js';
import { diagnoseAll, prepareRun, timeoutSourceOf, type PlannedTarget, type PreparedRun } from '../api/run.js';
import { InputError } from '../config/errors.js';
import { endpointOf } from './metrics.js';
import { createLogger, type Logger } from './log.js';
import { MIN_DIAGNOSIS_MS, Scheduler, type ScheduledTarget } from './scheduler.js';
import { startServer, type RunningServer } from './server.js';
import { loadWebConfig, type WebConfig } from './webconfig.js';

/**
 * Wires the exporter together: the targets from the config file (resolved at start: URLs,
 * variables and password files are read then, and bad input stops the start with exit 3), the
 * scheduler that runs their diagnoses, the web config, and the server. On SIGHUP the config file
 * and the web config are read again, as Prometheus and its exporters do: what changed is logged and
 * applied, and a file that no longer reads is logged and the running config kept.
 */
export interface RunningExporter {
  readonly url: string;
  readonly log: Logger;
  shutdown(reason: string): Promise<void>;
  /** Reads the config file and the web config again; never throws (a bad file is logged, and the running config kept). */
  reload(): Promise<void>;
}

interface Loaded {
  readonly prepared: PreparedRun;
  readonly byName: ReadonlyMap<string, NamedTarget>;
  readonly web: WebConfig;
}

export async function serveExporter(options: ExporterOptions, io: CliIO, version: string): Promise<RunningExporter> {
  const log = createLogger((line) => void io.err(line), options.logFormat, options.logLevel);
  const configFile = options.configFile ?? '';
  const load = async (): Promise<Loaded> => {
    const [preparing, loadingWeb] = await Promise.allSettled([
      prepareRun([], options, io),
      options.webConfigFile ? loadWebConfig(options.webConfigFile) : Promise.resolve<WebConfig>({ headers: {} }),
    ]);
    // Both read at once; when both are wrong, the web config's problem is said first, whichever was
    // read first (it was a race: a start with both wrong said one or the other).
    if (loadingWeb.status === 'rejected') throw loadingWeb.reason;
    if (preparing.status === 'rejected') throw preparing.reason;
    const prepared = preparing.value;
    return { prepared, byName: namedTargets(prepared.targets, configFile), web: loadingWeb.value };
  };
  let current = await load();
  const scheduled = (byName: Loaded['byName']): ScheduledTarget[] =>
    [...byName.values()].map((planned) => ({
      name: planned.label,
      minIntervalMs: planned.minIntervalMs ?? options.minIntervalMs,
      ...(planned.timeoutMs !== undefined ? { timeout: { ms: planned.timeoutMs, source: timeoutSourceOf(planned) } } : {}),
    }));
  const scheduler = new Scheduler(
    scheduled(current.byName),
    async (name, deadline) => {
      const { prepared, byName } = current;
      const planned = byName.get(name);
      if (!planned) throw new Error(`not a configured target: ${name}`);
      const [report] = await diagnoseAll({ ...prepared, targets: [planned] }, deadline);
      if (!report) throw new Error(`no report for ${name}`);
      return report;
    },
    options.maxConcurrent,
    Date.now,
    Math.min(MIN_DIAGNOSIS_MS, options.timeoutMs),
  );
  const { web } = current;
  const server: RunningServer = await startServer(
    { host: options.listen.host, port: options.listen.port, configFile, version, timeoutMs: options.timeoutMs, timeoutOffsetMs: options.timeoutOffsetMs, web },
    scheduler,
    log,
  );
  log.info('listening', {
    url: server.url,
    targets: current.byName.size,
    tls: web.tls !== undefined,
    basic_auth: web.users !== undefined,
    ...intervalFields(scheduled(current.byName)),
    max_concurrent: options.maxConcurrent,
    version,
  });
  const describeTargets = (byName: Loaded['byName']): void => {
    for (const planned of byName.values())
      log.debug('target', {
        target: planned.label,
        engine: planned.target.engine,
        endpoint: endpointOf({ target: planned.target.display }),
        min_interval_ms: planned.minIntervalMs ?? options.minIntervalMs,
      });
  };
  describeTargets(current.byName);

  let reloading: Promise<void> = Promise.resolve();
  const reloadOnce = async (): Promise<void> => {
    let next: Loaded;
    try {
      next = await load();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error('reload failed: keeping the running config', { error: message, ...(error instanceof InputError && error.hint ? { hint: error.hint } : {}) });
      return;
    }
    const changes = compareTargets(current.byName, next.byName);
    const webKept = server.reconfigure(next.web);
    current = { ...next, web: webKept === undefined ? next.web : current.web };
    scheduler.update(scheduled(next.byName), new Set(changes.changed));
    server.targetsChanged();
    log.info('reloaded', {
      targets: next.byName.size,
      added: changes.added.join(',') || undefined,
      removed: changes.removed.join(',') || undefined,
      changed: changes.changed.join(',') || undefined,
      ...intervalFields(scheduled(next.byName)),
      ...(options.webConfigFile ? { web_config: webKept === undefined ? 'applied' : `kept: ${webKept}` } : {}),
    });
    if (webKept !== undefined) log.warn('web config not applied', { reason: webKept, file: options.webConfigFile });
    describeTargets(next.byName);
  };
  const reload = (): Promise<void> => {
    // One reload at a time, in the order the signals came.
    reloading = reloading.then(reloadOnce);
    return reloading;
  };
  return { url: server.url, log, shutdown: (reason) => server.shutdown(reason), reload };
}

type NamedTarget = PlannedTarget & { readonly label: string };

/** Every target by its label: the name /probe?target= takes. Unlabelled or repeated names stop the start. */
function namedTargets(targets: readonly PlannedTarget[], configFile: string): Map<string, NamedTarget> {
  const byName = new Map<string, NamedTarget>();
  targets.forEach((planned, index) => {
    const { label } = planned;
    if (label === undefined)
      throw new InputError(
        `${configFile}: targets[${index}] (${planned.target.display}) has no label: the exporter probes targets by label`,
        'give every target a label: it is the name in /probe?target=<label>',
      );
    if (byName.has(label))
      throw new InputError(
        `${configFile}: the label "${label}" is given to more than one target`,
        'give every target its own label: /probe?target=<label> must name one target',
      );
    byName.set(label, { ...planned, label });
  });
  return byName;
}

/**
 * Which labels were added, removed, or now mean something else: another URL (a password too, which
 * is compared as a hash and never shown), other thresholds, steps, timeout or interval. A changed
 * target's last result was about the old one, so it is dropped.
 */
export function compareTargets(
  before: ReadonlyMap<string, PlannedTarget>,
  after: ReadonlyMap<string, PlannedTarget>,
): { added: string[]; removed: string[]; changed: string[] } {
  const fingerprint = (planned: PlannedTarget): string => createHash('sha256').update(JSON.stringify(planned)).digest('hex');
  return {
    added: [...after.keys()].filter((name) => !before.has(name)),
    removed: [...before.keys()].filter((name) => !after.has(name)),
    changed: [...after.entries()]
      .filter(([name, planned]) => {
        const old = before.get(name);
        return old !== undefined && fingerprint(old) !== fingerprint(planned);
      })
      .map(([name]) => name),
  };
}

/** The minimum interval the targets get (the config file's, or --min-interval): one figure, or the shortest and the longest. */
export function intervalFields(targets: readonly ScheduledTarget[]): { min_interval_ms?: number; min_interval_longest_ms?: number } {
  const intervals = targets.map((target) => target.minIntervalMs);
  if (intervals.length === 0) return {};
  const shortest = Math.min(...intervals);
  const longest = Math.max(...intervals);
  return shortest === longest ? { min_interval_ms: shortest } : { min_interval_ms: shortest, min_interval_longest_ms: longest };
}
