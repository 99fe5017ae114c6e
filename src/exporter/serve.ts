import type { ExporterOptions } from '../cli/exporter.js';
import type { CliIO } from '../cli/io.js';
import { diagnoseAll, prepareRun, type PlannedTarget } from '../cli/prepare.js';
import { InputError } from '../config/errors.js';
import { endpointOf } from './metrics.js';
import { createLogger } from './log.js';
import { MIN_DIAGNOSIS_MS, Scheduler, type ScheduledTarget } from './scheduler.js';
import { startServer, type RunningServer } from './server.js';
import { loadWebConfig, type WebConfig } from './webconfig.js';

/**
 * Wires the exporter together: the targets from the config file (resolved once, at start: URLs,
 * variables and password files are read then, and bad input stops the start with exit 3), the
 * scheduler that runs their diagnoses, the web config, and the server.
 */
export async function serveExporter(options: ExporterOptions, io: CliIO, version: string): Promise<RunningServer> {
  const log = createLogger((line) => void io.err(line), options.logFormat, options.logLevel);
  const configFile = options.configFile ?? '';
  const [prepared, web] = await Promise.all([prepareRun([], options, io), options.webConfigFile ? loadWebConfig(options.webConfigFile) : Promise.resolve<WebConfig>({ headers: {} })]);
  const byName = namedTargets(prepared.targets, configFile);
  const scheduled = [...byName.values()].map((planned) => ({ name: planned.label, minIntervalMs: planned.minIntervalMs ?? options.minIntervalMs }));
  const scheduler = new Scheduler(
    scheduled,
    async (name, deadline) => {
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
  const server = await startServer(
    { host: options.listen.host, port: options.listen.port, configFile, version, timeoutMs: options.timeoutMs, timeoutOffsetMs: options.timeoutOffsetMs, web },
    scheduler,
    log,
  );
  log.info('listening', {
    url: server.url,
    targets: byName.size,
    tls: web.tls !== undefined,
    basic_auth: web.users !== undefined,
    ...intervalFields(scheduled),
    max_concurrent: options.maxConcurrent,
    version,
  });
  for (const planned of byName.values()) log.debug('target', { target: planned.label, engine: planned.target.engine, endpoint: endpointOf({ target: planned.target.display }), min_interval_ms: planned.minIntervalMs ?? options.minIntervalMs });
  return server;
}

type NamedTarget = PlannedTarget & { readonly label: string };

/** Every target by its label: the name /probe?target= takes. Unlabelled or repeated names stop the start. */
function namedTargets(targets: readonly PlannedTarget[], configFile: string): Map<string, NamedTarget> {
  const byName = new Map<string, NamedTarget>();
  targets.forEach((planned, index) => {
    const { label } = planned;
    if (label === undefined) throw new InputError(`${configFile}: targets[${index}] (${planned.target.display}) has no label: the exporter probes targets by label`, 'give every target a label: it is the name in /probe?target=<label>');
    if (byName.has(label)) throw new InputError(`${configFile}: the label "${label}" is given to more than one target`, 'give every target its own label: /probe?target=<label> must name one target');
    byName.set(label, { ...planned, label });
  });
  return byName;
}

/** The minimum interval the targets get (the config file's, or --min-interval): one figure, or the shortest and the longest. */
export function intervalFields(targets: readonly ScheduledTarget[]): { min_interval_ms?: number; min_interval_longest_ms?: number } {
  const intervals = targets.map((target) => target.minIntervalMs);
  if (intervals.length === 0) return {};
  const shortest = Math.min(...intervals);
  const longest = Math.max(...intervals);
  return shortest === longest ? { min_interval_ms: shortest } : { min_interval_ms: shortest, min_interval_longest_ms: longest };
}
