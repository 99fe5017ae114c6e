import type { Client } from 'cassandra-driver';
import { bounded, MESSAGE_CHARS } from '../../text/bound.js';
type Host = ReturnType<Client['hosts']['values']>[number];
import type { CassandraEndpoint, CassandraTarget } from '../../config/cassandra/target.js';
import { isDeadlineExceeded, type Deadline } from '../../engine/deadline.js';

/**
 * The one cassandra-driver Client of a diagnosis, loaded only when a Cassandra target is
 * diagnosed. Everything it does is bounded: connect by the connect share of the run, each query
 * by its step's deadline, and shutdown is raced with the run's deadline (the driver's own
 * shutdown can wait on reconnection timers).
 */
type Driver = typeof import('cassandra-driver');
let driverModule: Promise<Driver> | undefined;

export function loadDriver(): Promise<Driver> {
  driverModule ??= import('cassandra-driver').then((module) => ('default' in module ? (module.default as Driver) : module));
  return driverModule;
}

/** A driver error, flattened: its name, the server's error code when it has one, and its words. */
export interface DriverError {
  readonly name: string;
  readonly message: string;
  /** The CQL error code (ResponseError) or errno (socket errors). */
  readonly code?: number | string;
  /** Unavailable / timeouts: what the server said about replicas. */
  readonly consistency?: number;
  readonly required?: number;
  readonly alive?: number;
  readonly received?: number;
  readonly blockFor?: number;
}

export interface HostError extends DriverError {
  /** "127.0.0.1:9042", as the driver keys NoHostAvailableError's innerErrors. */
  readonly host: string;
}

export type SessionOutcome =
  | { readonly kind: 'session'; readonly client: Client; readonly version: number | undefined }
  | { readonly kind: 'failed'; readonly error: DriverError; readonly hostErrors: readonly HostError[] }
  | { readonly kind: 'timeout'; readonly budgetMs: number };

export function flatten(error: unknown): DriverError {
  if (!(error instanceof Error)) return { name: 'Error', message: bounded(String(error), MESSAGE_CHARS) };
  const fields = error as Error & Record<string, unknown>;
  const numeric = (key: string): Record<string, number> => (typeof fields[key] === 'number' ? { [key]: fields[key] } : {});
  const code = typeof fields.code === 'number' || typeof fields.code === 'string' ? { code: fields.code } : {};
  // Keep the first line: the driver appends stack traces of inner errors to its messages.
  // A node's own words (ERROR frames carry them): bounded (text/bound).
  const message = bounded(error.message.split('\n')[0] ?? error.message, MESSAGE_CHARS);
  return {
    name: error.name,
    message,
    ...code,
    ...(typeof fields.consistencies === 'number' ? { consistency: fields.consistencies } : {}),
    ...numeric('required'),
    ...numeric('alive'),
    ...numeric('received'),
    ...numeric('blockFor'),
  };
}

/** NoHostAvailableError carries one error per host tried: one finding each. */
export function hostErrorsOf(error: unknown): HostError[] {
  if (!(error instanceof Error) || !('innerErrors' in error)) return [];
  const inner = (error as Error & { innerErrors?: Record<string, unknown> }).innerErrors ?? {};
  return Object.entries(inner).map(([host, cause]) => ({ host, ...flatten(cause) }));
}

export const hostKey = (point: CassandraEndpoint): string => (point.host.includes(':') ? `[${point.host}]:${point.port}` : `${point.host}:${point.port}`);

export async function openSession(target: CassandraTarget, deadline: Deadline, port: number): Promise<SessionOutcome> {
  const cassandra = await loadDriver();
  const timeoutMs = Math.max(200, deadline.remainingMs());
  const client = new cassandra.Client({
    contactPoints: target.contactPoints.map(hostKey),
    ...(target.localDc ? { localDataCenter: target.localDc } : {}),
    ...(target.username !== undefined ? { credentials: { username: target.username, password: target.password ?? '' } } : {}),
    applicationName: 'dbdoctor',
    // Peers are reached on the port the contact point answered on (system.peers has no port).
    protocolOptions: { port, ...(target.protocolVersion !== undefined ? { maxVersion: target.protocolVersion } : {}) },
    socketOptions: { connectTimeout: timeoutMs, readTimeout: timeoutMs, defunctReadTimeoutThreshold: 1 },
    // dbdoctor reads the schema tables it needs itself; no background schema fetches.
    isMetadataSyncEnabled: false,
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 1, [cassandra.types.distance.remote]: 0 } },
    policies: {
      reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(3_600_000),
      // cassandra-driver refuses to start without a local data centre; other drivers take the
      // contact point's. Without one, visit every node: the network step reports the data centres.
      ...(target.localDc ? {} : { loadBalancing: new cassandra.policies.loadBalancing.RoundRobinPolicy() }),
    },
    queryOptions: { consistency: cassandra.types.consistencies.localOne, prepare: false, isIdempotent: true },
    ...(target.tls ? { sslOptions: { rejectUnauthorized: false } } : {}),
  });
  client.on('log', () => undefined);
  try {
    await deadline.race(client.connect());
    const version = (client as unknown as { controlConnection?: { protocolVersion?: number } }).controlConnection?.protocolVersion;
    return { kind: 'session', client, version };
  } catch (error) {
    void shutdownQuietly(client);
    if (isDeadlineExceeded(error)) return { kind: 'timeout', budgetMs: error.budgetMs };
    return { kind: 'failed', error: flatten(error), hostErrors: hostErrorsOf(error) };
  }
}

export type Row = Record<string, unknown>;

/** One read-only statement under `deadline`, optionally on one node (virtual tables are per node). */
export async function query(
  client: Client,
  cql: string,
  params: unknown[],
  deadline: Deadline,
  options: { host?: Host | undefined; consistency?: number } = {},
): Promise<Row[]> {
  const result = await deadline.race(
    client.execute(cql, params, {
      prepare: false,
      isIdempotent: true,
      readTimeout: Math.max(100, deadline.remainingMs()),
      ...(options.host ? { host: options.host } : {}),
      ...(options.consistency !== undefined ? { consistency: options.consistency } : {}),
    }),
  );
  return result.rows.map((row) => ({ ...row }) as Row);
}

async function shutdownQuietly(client: Client): Promise<void> {
  try {
    await client.shutdown();
  } catch {
    // the client is abandoned either way
  }
}

/** Ends the session within `deadline`; what is still open when it fires is dropped with the process. */
export async function closeSession(client: Client, deadline: Deadline): Promise<void> {
  try {
    await deadline.race(client.shutdown());
  } catch {
    // best effort: the CLI exits right after its report
  }
}
