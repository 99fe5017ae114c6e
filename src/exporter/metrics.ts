import { MASK } from '../config/secrets.js';
import { CAUSES } from '../engine/causes.js';
import type { StepReport, TargetReport } from '../engine/schema.js';
import { TargetStatusSchema } from '../engine/schema.js';
import { exposition, family, labelSafeText, type Labels, type MetricSpec, type Sample } from './exposition.js';

/**
 * What `/probe?target=<name>` answers: one diagnosis of a named target as metrics. Every series
 * carries the target's name, engine and endpoint (its URL without the password); label values are
 * bounded (steps, statuses and cause codes from the catalogue) except on dbdoctor_verdict_info,
 * which holds words for alert annotations, one series per target. Its words are chosen so that
 * the series changes when the verdict does, not from scrape to scrape: the cause's title from the
 * catalogue (the verdict's own message carries counts and durations that move with every
 * diagnosis), and the first remediation line, which names only what the fix is about (the
 * target's host and settings, a port, the sessions to look at) and so changes with the problem.
 *
 * These names are the exporter's. The `--format prometheus` file format (src/report/prometheus.ts,
 * for the textfile collector) keeps its own names, which are a contract of their own; the README's
 * "Fleet monitoring" section maps one to the other.
 */
export const PROBE_METRICS = {
  up: { name: 'dbdoctor_up', type: 'gauge', help: 'Whether the target is usable: 1 when the diagnosis found it healthy or degraded, 0 when unhealthy.' },
  status: { name: 'dbdoctor_target_status', type: 'gauge', help: "The target's status, one series per status: 1 for the current one, 0 for the others." },
  verdict: {
    name: 'dbdoctor_verdict',
    type: 'gauge',
    help: 'The verdict: the step that decided it (none when healthy) and its cause code from the catalogue; always 1.',
  },
  verdictInfo: {
    name: 'dbdoctor_verdict_info',
    type: 'gauge',
    help: "The verdict in words for alert annotations: the cause's title from the catalogue (message) and the first remediation line (free text: join on target, never aggregate by it); always 1.",
  },
  warning: { name: 'dbdoctor_warning', type: 'gauge', help: 'Each warning the diagnosis found (a degraded finding), by step and cause; always 1.' },
  stepDuration: { name: 'dbdoctor_step_duration_seconds', type: 'gauge', help: 'How long each step of the decision tree took (steps that ran).' },
  inUse: {
    name: 'dbdoctor_connections_in_use',
    type: 'gauge',
    help: 'Connections in use on the server, as the pool step read them (PgBouncer: its clients; Cassandra: the fullest node).',
  },
  maxConnections: {
    name: 'dbdoctor_max_connections',
    type: 'gauge',
    help: "The server's connection limit, as the pool step read it (PgBouncer: max_client_conn; Cassandra: the fullest node's).",
  },
  lockWaits: {
    name: 'dbdoctor_lock_waits',
    type: 'gauge',
    help: 'Sessions or operations waiting on a lock for longer than the lock-wait threshold (at most 20 are read).',
  },
  lockWaitLongest: { name: 'dbdoctor_lock_wait_longest_seconds', type: 'gauge', help: 'The longest of those lock waits.' },
  longRunning: {
    name: 'dbdoctor_long_running_queries',
    type: 'gauge',
    help: 'Statements or operations active for longer than the long-running threshold (at most 20 are read).',
  },
  duration: { name: 'dbdoctor_probe_duration_seconds', type: 'gauge', help: 'How long the diagnosis took.' },
  timestamp: {
    name: 'dbdoctor_probe_timestamp_seconds',
    type: 'gauge',
    help: 'When the diagnosis these figures come from ended (Unix time): older than the scrape when served from the cache.',
  },
} as const satisfies Record<string, MetricSpec>;

export const TARGET_STATUSES = TargetStatusSchema.options;

/** The endpoint label: the target as shown, its masked password taken out entirely. */
export function endpointOf(report: Pick<TargetReport, 'target'>): string {
  return report.target.replace(`:${MASK}@`, '@');
}

export interface ProbeResult {
  readonly name: string;
  readonly report: TargetReport;
  /** Unix milliseconds when the diagnosis ended. */
  readonly endedAt: number;
}

export function renderProbe(result: ProbeResult): string {
  const { report } = result;
  const base: Labels = { target: result.name, engine: report.engine, endpoint: endpointOf(report) };
  const one = (extra: Labels = {}, value = 1): Sample => ({ labels: { ...base, ...extra }, value });
  const verdict = { step: report.verdict.step ?? 'none', cause: report.verdict.cause };
  const first = report.verdict.remediation[0];
  const warnings = new Map(report.warnings.map((warning) => [`${warning.step}/${warning.cause}`, { step: warning.step, cause: warning.cause }]));
  const ran = report.steps.filter((step) => step.status !== 'skip');
  const figures = figuresOf(report);
  const figure = (spec: MetricSpec, value: number | undefined): string[] => family(spec, value === undefined ? [] : [one({}, value)]);
  return exposition([
    family(PROBE_METRICS.up, [one({}, report.status === 'unhealthy' ? 0 : 1)]),
    family(
      PROBE_METRICS.status,
      TARGET_STATUSES.map((status) => one({ status }, status === report.status ? 1 : 0)),
    ),
    family(PROBE_METRICS.verdict, [one(verdict)]),
    family(PROBE_METRICS.verdictInfo, [
      one({
        ...verdict,
        message: CAUSES[report.verdict.cause].title,
        remediation: first ? labelSafeText(first.command ? `${first.text} ${first.command}` : first.text) : '',
      }),
    ]),
    family(
      PROBE_METRICS.warning,
      [...warnings.values()].map((warning) => one(warning)),
    ),
    family(
      PROBE_METRICS.stepDuration,
      ran.map((step) => one({ step: step.id }, seconds(step.durationMs))),
    ),
    figure(PROBE_METRICS.inUse, figures.inUse),
    figure(PROBE_METRICS.maxConnections, figures.maxConnections),
    figure(PROBE_METRICS.lockWaits, figures.lockWaits),
    figure(PROBE_METRICS.lockWaitLongest, figures.lockWaitLongestSeconds),
    figure(PROBE_METRICS.longRunning, figures.longRunning),
    family(PROBE_METRICS.duration, [one({}, seconds(report.durationMs))]),
    family(PROBE_METRICS.timestamp, [one({}, result.endedAt / 1000)]),
  ]);
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

export interface Figures {
  readonly inUse?: number;
  readonly maxConnections?: number;
  readonly lockWaits?: number;
  readonly lockWaitLongestSeconds?: number;
  readonly longRunning?: number;
}

/**
 * The numbers the steps measured, read from their evidence by the names each engine's probe gives
 * them; a figure a step did not measure (it failed, was skipped, or had a limited view) is left out
 * rather than reported as 0.
 */
export function figuresOf(report: TargetReport): Figures {
  const pool = evidenceOf(report.steps, 'pool');
  const queries = evidenceOf(report.steps, 'queries');
  const connections = poolFigures(pool);
  const blocked = Array.isArray(queries?.blocked) ? (queries.blocked as unknown[]) : undefined;
  const longRunning = Array.isArray(queries?.longRunning) ? (queries.longRunning as unknown[]) : undefined;
  const waits = (blocked ?? [])
    .map((row) => numberIn(row, 'waiting_seconds') ?? msToSeconds(numberIn(row, 'lockWaitMs')))
    .filter((value): value is number => value !== undefined);
  return {
    ...connections,
    ...(blocked ? { lockWaits: blocked.length } : {}),
    ...(waits.length > 0 ? { lockWaitLongestSeconds: Math.max(...waits) } : blocked ? { lockWaitLongestSeconds: 0 } : {}),
    ...(longRunning ? { longRunning: longRunning.length } : {}),
  };
}

function evidenceOf(steps: readonly StepReport[], id: StepReport['id']): Record<string, unknown> | undefined {
  const step = steps.find((entry) => entry.id === id);
  return step && step.status !== 'skip' ? step.evidence : undefined;
}

function poolFigures(evidence: Record<string, unknown> | undefined): Pick<Figures, 'inUse' | 'maxConnections'> {
  if (!evidence) return {};
  // Through PgBouncer: its clients against max_client_conn (SHOW LISTS, SHOW CONFIG), the limit
  // that refuses this URL's clients (pooler_client_limit). The step's evidence also holds
  // PostgreSQL's own figures behind it, but a series that meant one limit or the other depending
  // on what the step found would mean neither; without the console, no figure.
  if (typeof evidence.pooler === 'object' && evidence.pooler !== null) {
    const clients: unknown = 'clients' in evidence.pooler ? evidence.pooler.clients : undefined;
    const used = numberIn(clients, 'used');
    const max = numberIn(clients, 'maxClientConn');
    return used === undefined ? {} : { inUse: used, ...(max !== undefined && max > 0 ? { maxConnections: max } : {}) };
  }
  // PostgreSQL (pg_stat_activity and max_connections)
  const pg = { inUse: numberIn(evidence, 'inUse'), max: numberIn(evidence, 'maxConnections') };
  if (pg.inUse !== undefined) return { inUse: pg.inUse, ...(pg.max !== undefined ? { maxConnections: pg.max } : {}) };
  // MongoDB (serverStatus.connections: current + available = the limit)
  const mongo = { inUse: numberIn(evidence, 'current'), max: numberIn(evidence, 'limit') };
  if (mongo.inUse !== undefined) return { inUse: mongo.inUse, ...(mongo.max !== undefined ? { maxConnections: mongo.max } : {}) };
  // PgBouncer's own client limit, when that is what the step measured
  const pooler = { inUse: numberIn(evidence, 'usedClients'), max: numberIn(evidence, 'maxClientConn') };
  if (pooler.inUse !== undefined) return { inUse: pooler.inUse, ...(pooler.max !== undefined ? { maxConnections: pooler.max } : {}) };
  // Cassandra: per node; the limit is per node, so the fullest node is the one that refuses first.
  if (Array.isArray(evidence.nodes)) {
    const nodes = (evidence.nodes as unknown[])
      .map((node) => ({ connected: numberIn(node, 'connected'), limit: numberIn(node, 'limit') }))
      .filter((node): node is { connected: number; limit: number | undefined } => node.connected !== undefined);
    const limited = nodes.filter((node): node is { connected: number; limit: number } => node.limit !== undefined && node.limit > 0);
    if (limited.length > 0) {
      const fullest = limited.reduce((worst, node) => (node.connected / node.limit > worst.connected / worst.limit ? node : worst));
      return { inUse: fullest.connected, maxConnections: fullest.limit };
    }
    if (nodes.length > 0) return { inUse: Math.max(...nodes.map((node) => node.connected)) };
  }
  return {};
}

function numberIn(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const found: unknown = (value as Record<string, unknown>)[key];
  return typeof found === 'number' && Number.isFinite(found) ? found : undefined;
}

function msToSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** Every metric name the exporter may write, /probe's and /metrics' (the dashboard and rules tests check against it). */
export function metricNames(): string[] {
  return [...Object.values(PROBE_METRICS), ...Object.values(SELF_METRICS)].map((spec) => spec.name);
}

/** What `/metrics` answers: the exporter's own health. */
export const SELF_METRICS = {
  build: { name: 'dbdoctor_exporter_build_info', type: 'gauge', help: 'The dbdoctor version and Node.js version the exporter runs; always 1.' },
  targets: { name: 'dbdoctor_exporter_targets', type: 'gauge', help: 'Targets named in the config file.' },
  requests: {
    name: 'dbdoctor_exporter_probe_requests_total',
    type: 'counter',
    help: 'Probe requests, by how they were answered: fresh (a diagnosis ran), cached (within the minimum interval), shared (joined a diagnosis in flight), or why not (too_short: the scrape timeout leaves less than a diagnosis needs).',
  },
  diagnoses: { name: 'dbdoctor_exporter_diagnoses_total', type: 'counter', help: 'Diagnoses run, by target.' },
  inFlight: { name: 'dbdoctor_exporter_diagnoses_in_flight', type: 'gauge', help: 'Diagnoses running now.' },
  waiting: { name: 'dbdoctor_exporter_diagnoses_waiting', type: 'gauge', help: 'Diagnoses waiting for a free slot (--max-concurrent).' },
  cpu: { name: 'process_cpu_seconds_total', type: 'counter', help: 'Total user and system CPU time spent in seconds.' },
  rss: { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.' },
  heap: { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'V8 heap in use, in bytes.' },
  start: { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since unix epoch in seconds.' },
  fds: { name: 'process_open_fds', type: 'gauge', help: 'Number of open file descriptors.' },
} as const satisfies Record<string, MetricSpec>;

export const REQUEST_OUTCOMES = ['fresh', 'cached', 'shared', 'unknown_target', 'invalid', 'timed_out', 'too_short', 'shutting_down'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

export interface SelfState {
  readonly version: string;
  readonly targets: readonly string[];
  readonly requests: Readonly<Record<RequestOutcome, number>>;
  readonly diagnoses: ReadonlyMap<string, number>;
  readonly inFlight: number;
  readonly waiting: number;
  readonly process: {
    readonly cpuSeconds: number;
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
    readonly startSeconds: number;
    readonly openFds: number | undefined;
  };
}

export function renderSelf(state: SelfState): string {
  return exposition([
    family(SELF_METRICS.build, [{ labels: { version: state.version, nodejs: process.version }, value: 1 }]),
    family(SELF_METRICS.targets, [{ value: state.targets.length }]),
    family(
      SELF_METRICS.requests,
      REQUEST_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: state.requests[outcome] })),
    ),
    family(
      SELF_METRICS.diagnoses,
      state.targets.map((target) => ({ labels: { target }, value: state.diagnoses.get(target) ?? 0 })),
    ),
    family(SELF_METRICS.inFlight, [{ value: state.inFlight }]),
    family(SELF_METRICS.waiting, [{ value: state.waiting }]),
    family(SELF_METRICS.cpu, [{ value: state.process.cpuSeconds }]),
    family(SELF_METRICS.rss, [{ value: state.process.rssBytes }]),
    family(SELF_METRICS.heap, [{ value: state.process.heapUsedBytes }]),
    family(SELF_METRICS.start, [{ value: state.process.startSeconds }]),
    family(SELF_METRICS.fds, state.process.openFds === undefined ? [] : [{ value: state.process.openFds }]),
  ]);
}
