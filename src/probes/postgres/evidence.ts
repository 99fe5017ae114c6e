import type { ServiceManager } from '../../host/managers.js';
import type { Evidence, SessionEvidence } from '../../engine/schema.js';
import type { ConnectionTrace } from './connect.js';
import { reachEvidence } from '../common/network.js';
import { hostPort } from '../../text/address.js';
import type { PgLocalServer, PgStandalone } from './local.js';

/** Slices of the connection trace, shaped as evidence for the step that talks about them. */
/** A session another one names (a waiter, a blocker), as the report lists it: its pid, and its user and application when known. */
export function namedSession(
  role: string,
  session: { readonly pid: number; readonly user?: string | null | undefined; readonly applicationName?: string | null | undefined },
): SessionEvidence {
  return {
    role,
    pid: session.pid,
    ...(session.user ? { user: session.user } : {}),
    ...(session.applicationName ? { application: session.applicationName } : {}),
  };
}

export function reachEvidenceOf(trace: ConnectionTrace): Evidence {
  return reachEvidence(trace.endpoints, trace.connected);
}

export function serverErrorEvidence(trace: ConnectionTrace): Evidence {
  if (!trace.serverError) return {};
  const { code, severity, message, detail, hint } = trace.serverError;
  return { sqlstate: code, severity, serverMessage: message, ...(detail ? { detail } : {}), ...(hint ? { hint } : {}) };
}

export function protocolEvidence(trace: ConnectionTrace): Evidence {
  return {
    phase: trace.phase,
    encryption: trace.encryption,
    ...(trace.sslReply ? { sslRequestReply: trace.sslReply } : {}),
    ...(trace.tls ? { tls: { ...trace.tls } } : {}),
    ...(trace.answeredBy ? { answeredBy: { ...trace.answeredBy } } : {}),
    bytesReceived: trace.bytesReceived,
    ...(trace.closedByPeer ? { closedByPeer: true } : {}),
    ...(trace.timedOut ? { timedOut: true, budgetMs: Math.round(trace.budgetMs) } : {}),
    ...(trace.clientError ? { driverError: { ...trace.clientError } } : {}),
    ...(trace.serverParams.server_version ? { serverVersion: trace.serverParams.server_version } : {}),
  };
}

/** " (pid 123, /var/lib/postgresql/15/main and 2 more)": the servers a summary line names. */
export function describeServers(servers: readonly PgLocalServer[]): string {
  // The one named is one that listens: a process named postgres without a socket (a stopped
  // cluster's leftover, or anything else called so) is no answer to "which server is that port".
  const first = servers.find((server) => server.tcp.length > 0 || server.sockets.length > 0) ?? servers[0];
  if (!first) return '';
  const more = servers.length > 1 ? ` and ${servers.length - 1} more` : '';
  return ` (pid ${first.pid}${first.dataDir ? `, ${first.dataDir}` : ''}${more})`;
}

export function serverSummary(server: PgLocalServer): Evidence {
  return {
    pid: server.pid,
    ...(server.dataDir ? { dataDir: server.dataDir } : {}),
    ...(server.version ? { version: server.version } : {}),
    ...(server.status ? { status: server.status } : {}),
    listensOn: [...server.tcp.map((listener) => `${listener.address}:${listener.port}`), ...server.sockets],
    seenVia: server.seenVia,
    ...(server.startedBy ? { startedBy: describeManager(server.startedBy) } : {}),
  };
}

/** "Homebrew postgresql@16 (/opt/homebrew)", "Postgres.app 16", "Windows service postgresql-x64-16". */
export function describeManager(manager: ServiceManager): string {
  switch (manager.kind) {
    case 'homebrew':
      return `Homebrew ${manager.formula} (${manager.prefix})`;
    case 'postgres.app':
      return `Postgres.app${manager.version ? ` ${manager.version}` : ''}`;
    default:
      return `Windows service ${manager.service}`;
  }
}

/** "127.0.0.1:5432" or "/var/run/postgresql/.s.PGSQL.5432": where we connected or tried to. */
export function whereOf(trace: ConnectionTrace): string {
  if (trace.connected) return trace.connected.transport === 'unix' ? trace.connected.address : hostPort(trace.connected.host, trace.connected.port);
  const entry = trace.endpoints[0];
  if (!entry) return 'the server';
  return entry.transport === 'unix' ? (entry.socketPath ?? entry.host) : hostPort(entry.host, entry.port);
}

/** "; a single-user postgres (pid 42, /srv/pg) holds the data directory for port 5432 …": why that server cannot start. */
export function describeHolder(heldBy: PgStandalone | undefined): string {
  if (!heldBy) return '';
  return `; ${holderName(heldBy)} (pid ${heldBy.pid}${heldBy.dataDir ? `, ${heldBy.dataDir}` : ''}) holds the data directory for port ${heldBy.port ?? '?'}, so its server cannot start until that process exits`;
}

/** What a standalone backend is, in a sentence: "a single-user postgres" or "initdb's bootstrap postgres". */
export function holderName(heldBy: PgStandalone): string {
  return heldBy.mode === 'bootstrap' ? "initdb's bootstrap postgres" : 'a single-user postgres';
}

export function holderEvidence(heldBy: PgStandalone | undefined): Evidence {
  return heldBy
    ? { heldBy: { pid: heldBy.pid, mode: heldBy.mode, ...(heldBy.dataDir ? { dataDir: heldBy.dataDir } : {}), ...(heldBy.port ? { port: heldBy.port } : {}) } }
    : {};
}
