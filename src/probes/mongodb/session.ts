import { performance } from 'node:perf_hooks';
import type { Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { withoutOptions, type MongoTarget } from '../../config/mongodb/target.js';
import { isDeadlineExceeded, type Deadline } from '../../engine/deadline.js';
import { hostPort } from './commands.js';
import type { SrvLookup } from './srv.js';
import { bounded, MESSAGE_CHARS, NAME_CHARS } from '../../text/bound.js';

type ConnectionStringClass = typeof import('mongodb-connection-string-url').ConnectionString;

/**
 * The diagnosis's one driver client, for what needs a logged-in session (auth, serverStatus,
 * currentOp). The survey has already found the server to talk to, so the client goes straight to
 * it (directConnection) with a pool of one, no retries, polling monitoring (no extra streaming
 * connection), and server-selection and connect timeouts cut from the run's deadline.
 */
export interface DriverError {
  readonly name: string;
  readonly message: string;
  readonly code?: number;
  readonly codeName?: string;
}

export type Session =
  | { readonly kind: 'ready'; readonly client: MongoClient; readonly address: string; readonly durationMs: number }
  | { readonly kind: 'failed'; readonly address: string; readonly error: DriverError; readonly durationMs: number }
  /** A user without a password, for a mechanism that needs one: nothing was sent. */
  | { readonly kind: 'password_missing' }
  | { readonly kind: 'timed_out'; readonly address: string; readonly budgetMs: number };

/** Mechanisms that take a password; the others (X.509, AWS, Kerberos, OIDC) bring their own credentials. */
const PASSWORD_MECHANISMS = new Set([undefined, 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN']);

export async function openSession(
  target: MongoTarget,
  server: { host: string; port: number },
  srv: SrvLookup | undefined,
  deadline: Deadline,
): Promise<Session> {
  if (target.user !== undefined && target.password === undefined && PASSWORD_MECHANISMS.has(target.authMechanism)) return { kind: 'password_missing' };
  const address = hostPort(server.host, server.port);
  const started = performance.now();
  const [{ MongoClient }, { ConnectionString }] = await Promise.all([import('mongodb'), import('mongodb-connection-string-url')]);
  const budget = Math.max(100, Math.floor(deadline.remainingMs()));
  const client = new MongoClient(directUri(ConnectionString, target, address, srv), {
    directConnection: true,
    maxPoolSize: 1,
    minPoolSize: 0,
    appName: 'dbdoctor',
    retryReads: false,
    retryWrites: false,
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 60_000,
    serverSelectionTimeoutMS: budget,
    connectTimeoutMS: budget,
    socketTimeoutMS: budget,
  });
  try {
    await deadline.race(client.connect());
    return { kind: 'ready', client, address, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    void client.close(true).catch(() => undefined);
    if (isDeadlineExceeded(error)) return { kind: 'timed_out', address, budgetMs: error.budgetMs };
    return { kind: 'failed', address, error: driverError(error), durationMs: Math.round(performance.now() - started) };
  }
}

/**
 * The user's connection string, pointed at one server: the driver's own parsing still applies to
 * every option (credentials, authSource, authMechanism, TLS files). For +srv, the options the TXT
 * record gave are written in, since the client no longer looks them up.
 */
export function directUri(ConnectionString: ConnectionStringClass, target: MongoTarget, address: string, srv: SrvLookup | undefined): string {
  const url = new ConnectionString(withoutOptions(target.uri.replace(/^mongodb\+srv:\/\//i, 'mongodb://'), target.ignoredParams));
  url.hosts = [address];
  for (const name of ['directConnection', 'loadBalanced', 'srvMaxHosts', 'srvServiceName']) url.searchParams.delete(name);
  if (target.srv) {
    if (!url.searchParams.has('tls') && !url.searchParams.has('ssl')) url.searchParams.set('tls', 'true');
    for (const [name, value] of Object.entries(srv?.txtOptions ?? {}))
      if (name !== 'loadBalanced' && !url.searchParams.has(name)) url.searchParams.set(name, value);
  }
  return url.toString();
}

export function driverError(error: unknown): DriverError {
  // A server's error message and code name are its own words: bounded (text/bound).
  if (!(error instanceof Error)) return { name: 'Error', message: bounded(String(error), MESSAGE_CHARS) };
  const code = 'code' in error && typeof error.code === 'number' ? error.code : undefined;
  const codeName = 'codeName' in error && typeof error.codeName === 'string' ? bounded(error.codeName, NAME_CHARS) : undefined;
  return {
    name: bounded(error.name, NAME_CHARS),
    message: bounded(error.message, MESSAGE_CHARS),
    ...(code !== undefined ? { code } : {}),
    ...(codeName ? { codeName } : {}),
  };
}

export type CommandOutcome = { readonly kind: 'ok'; readonly reply: Document } | { readonly kind: 'error'; readonly error: DriverError };

/** One command (on admin unless told); a deadline that fires first is thrown, as every step's wait is. */
export async function adminCommand(client: MongoClient, command: Document, deadline: Deadline, database = 'admin'): Promise<CommandOutcome> {
  try {
    return { kind: 'ok', reply: await deadline.race(client.db(database).command(command)) };
  } catch (error) {
    if (isDeadlineExceeded(error)) throw error;
    return { kind: 'error', error: driverError(error) };
  }
}

/** Closes the client within the deadline; past it, the deadline wins and the sockets go with the process. */
export async function closeSession(session: Session | undefined, deadline: Deadline): Promise<void> {
  if (session?.kind !== 'ready') return;
  try {
    await deadline.race(session.client.close(true));
  } catch {
    // the deadline came first: nothing more to wait for
  }
}
