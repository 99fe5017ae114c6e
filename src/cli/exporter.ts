import { Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../config/errors.js';
import { EXIT_CODES, exitForSignal } from '../engine/exit.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../exporter/log.js';
import { DEFAULT_TIMEOUT_SECONDS } from './diagnose.js';
import { parseCount, parseDuration, parseSeconds, parseSecondsOrZero } from './duration.js';
import type { CliIO } from './io.js';
import { addRunFlags, runOptions, type RunFlags, type RunOptions } from './prepare.js';

/**
 * `dbdoctor exporter --config targets.yaml`: a long-running Prometheus exporter that diagnoses a
 * target named in the config file when Prometheus scrapes /probe?target=<name>. The options, as a
 * plain struct, then the run (src/exporter/ holds the server, the cache and the metrics).
 */
export const EXPORTER_DEFAULTS = { listen: '127.0.0.1:9187', minIntervalMs: 15_000, maxConcurrent: 16, timeoutOffsetSeconds: 0.5 } as const;

export interface ListenAddress {
  /** undefined: every interface (":9187"). */
  readonly host: string | undefined;
  readonly port: number;
}

export interface ExporterOptions extends RunOptions {
  readonly listen: ListenAddress;
  readonly webConfigFile: string | undefined;
  readonly timeoutMs: number;
  readonly timeoutOffsetMs: number;
  readonly minIntervalMs: number;
  readonly maxConcurrent: number;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
}

interface ExporterFlags extends RunFlags {
  listen: ListenAddress;
  'web.config.file'?: string;
  timeout: number;
  timeoutOffset: number;
  minInterval: number;
  maxConcurrent: number;
  logFormat: ExporterOptions['logFormat'];
  logLevel: ExporterOptions['logLevel'];
}

/** host:port, [v6 address]:port, or :port for every interface. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535)
    throw new InvalidArgumentError('expected host:port, [ipv6]:port or :port (every interface), e.g. 127.0.0.1:9187');
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}

export function toExporterOptions(flags: ExporterFlags): ExporterOptions {
  if (flags.config === undefined)
    throw new InputError(
      'dbdoctor exporter needs --config <file>: the targets it may diagnose, each with a label',
      'write a config file (see "Fleet monitoring" in the README) and pass it with --config',
    );
  return {
    ...runOptions(flags),
    listen: flags.listen,
    webConfigFile: flags['web.config.file'],
    timeoutMs: flags.timeout * 1000,
    timeoutOffsetMs: flags.timeoutOffset * 1000,
    minIntervalMs: flags.minInterval,
    maxConcurrent: flags.maxConcurrent,
    logFormat: flags.logFormat,
    logLevel: flags.logLevel,
  };
}

export function exporterCommand(onRun: (options: ExporterOptions) => Promise<void>): Command {
  const command = new Command('exporter')
    .description("serve Prometheus metrics: /probe?target=<name> diagnoses a target named in --config; /metrics is the exporter's own health")
    .addOption(
      new Option('--listen <address>', 'where to listen (loopback unless told otherwise; :9187 is every interface)')
        .argParser(parseListen)
        .default(parseListen(EXPORTER_DEFAULTS.listen), EXPORTER_DEFAULTS.listen),
    )
    .option('--web.config.file <file>', 'TLS and basic authentication, in the Prometheus exporter-toolkit web config format')
    .addOption(
      new Option('-t, --timeout <seconds>', "the longest one diagnosis may take (a scrape's own timeout lowers it)")
        .argParser(parseSeconds)
        .default(DEFAULT_TIMEOUT_SECONDS),
    )
    .addOption(
      new Option('--timeout-offset <seconds>', "taken off the scrape's timeout (X-Prometheus-Scrape-Timeout-Seconds) for the answer's way back; 0 for none")
        .argParser(parseSecondsOrZero)
        .default(EXPORTER_DEFAULTS.timeoutOffsetSeconds),
    )
    .addOption(
      new Option('--min-interval <duration>', 'diagnose a target at most this often; scrapes in between get the last result (config: minInterval)')
        .argParser(parseDuration)
        .default(EXPORTER_DEFAULTS.minIntervalMs, '15s'),
    )
    .addOption(
      new Option('--max-concurrent <count>', 'diagnoses running at once, across all targets (one per target at most)')
        .argParser(parseCount)
        .default(EXPORTER_DEFAULTS.maxConcurrent),
    )
    .addOption(new Option('--log-format <format>', 'log lines as').choices(LOG_FORMATS).default('logfmt'))
    .addOption(new Option('--log-level <level>', 'the least important log lines to write').choices(LOG_LEVELS).default('info'));
  return addRunFlags(command, { stepFlags: true }).action(async (flags: ExporterFlags) => onRun(toExporterOptions(flags)));
}

/**
 * Runs until SIGTERM or SIGINT, then finishes the diagnoses in flight and exits 0; a second one
 * while it does stops at once (exit 128 + the signal's number, as a shell reports it). SIGHUP reads
 * the config file and the web config again (serve.ts), as Prometheus and its exporters do.
 */
export async function runExporter(options: ExporterOptions, io: CliIO, version: string): Promise<number> {
  const { serveExporter } = await import('../exporter/serve.js');
  const running = await serveExporter(options, io, version);
  const reload = (): void => {
    running.log.info('reloading', { reason: 'SIGHUP' });
    void running.reload();
  };
  process.on('SIGHUP', reload);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const again = (second: 'SIGINT' | 'SIGTERM'): void => {
    running.log.warn('stopping now', { reason: `a second ${second} while shutting down`, diagnoses: 'abandoned' });
    process.exit(exitForSignal(second));
  };
  process.on('SIGTERM', () => again('SIGTERM'));
  process.on('SIGINT', () => again('SIGINT'));
  await running.shutdown(signal);
  process.off('SIGHUP', reload);
  return EXIT_CODES.stopped;
}
