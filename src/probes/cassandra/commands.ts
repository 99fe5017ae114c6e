import type { CassandraTarget } from '../../config/cassandra/target.js';
import { displayOf } from '../../config/cassandra/target.js';
import type { Evidence } from '../../engine/schema.js';
import { reachEvidence } from '../common/network.js';
import type { HostOutcome } from './context.js';
import type { CassandraNode } from './local.js';
import { hostPort } from '../../text/address.js';
import { raw, sh, tcpCheck, waitUpTo } from '../../text/shell.js';
import { cqlIdent } from '../../text/sql.js';

/**
 * Building blocks for copy-paste remediation. Commands never carry a password: cqlsh prompts for
 * it when -u is given without -p. CQL given to cqlsh -e is one shell word; names inside it are CQL
 * identifiers (`cqlIdent`), values CQL literals (`cqlLiteral`, text/sql).
 */
export function cqlsh(target: CassandraTarget, cql?: string, host = target.contactPoints[0]): string {
  const user = target.username !== undefined ? sh` -u ${target.username}` : '';
  const tls = target.tls ? ' --ssl' : '';
  const base = sh`cqlsh ${host?.host ?? 'localhost'} ${host?.port ?? 9042}${raw(user)}${raw(tls)}`;
  return cql ? sh`${raw(base)} -e ${cql}` : base;
}

/** A CQL identifier, double-quoted when it is not a plain lower-case name (or is a reserved word). */
export const quoteName = cqlIdent;

/** The target's URL with one part changed, password left out (displayOf percent-encodes every part). */
export function urlWith(
  target: CassandraTarget,
  change: { host?: string; port?: number; localDc?: string; tls?: boolean; protocolVersion?: 'negotiate' },
): string {
  const first = target.contactPoints[0];
  const contactPoints =
    change.host !== undefined || change.port !== undefined
      ? [{ host: change.host ?? first?.host ?? 'localhost', port: change.port ?? first?.port ?? 9042 }]
      : target.contactPoints;
  const { password: _password, protocolVersion, ...rest } = target;
  return displayOf({
    ...rest,
    contactPoints,
    ...(change.localDc !== undefined ? { localDc: change.localDc } : {}),
    ...(change.tls !== undefined ? { tls: change.tls } : {}),
    ...(protocolVersion !== undefined && change.protocolVersion !== 'negotiate' ? { protocolVersion } : {}),
  });
}

/** How to wait for a node to take CQL clients (a readiness check). */
export function waitForCql(target: CassandraTarget): string {
  const point = target.contactPoints[0];
  return waitUpTo(300, tcpCheck(point?.host ?? 'localhost', point?.port ?? 9042));
}

export function reachEvidenceOf(hosts: readonly HostOutcome[]): Evidence {
  const connected = hosts.find((outcome) => outcome.trace.connected)?.trace.connected;
  return reachEvidence(
    hosts.map((outcome) => outcome.trace.entry),
    connected,
  );
}

/** One line per contact point: NoHostAvailableError's map, made readable. */
export function hostsEvidence(hosts: readonly HostOutcome[]): Evidence[] {
  return hosts.map(({ trace, decision }) => ({
    host: hostPort(trace.host, trace.port),
    outcome: decision.kind === 'failure' ? decision.cause : decision.kind,
    phase: trace.phase,
    ...(trace.versionsOffered ? { protocolVersionsOffered: trace.versionsOffered } : {}),
    ...(trace.version ? { protocolVersion: trace.version } : {}),
    ...(trace.authenticator ? { authenticator: trace.authenticator } : {}),
    ...(trace.serverError ? { serverError: { code: `0x${trace.serverError.code.toString(16).padStart(4, '0')}`, message: trace.serverError.message } } : {}),
    ...(trace.answeredBy ? { answeredBy: { ...trace.answeredBy } } : {}),
    ...(trace.tls ? { tls: { ...trace.tls } } : {}),
    ...(trace.tlsOnly ? { tlsOnly: true } : {}),
    ...(trace.closedByPeer ? { closedByPeer: true } : {}),
    ...(trace.timedOut ? { timedOut: true } : {}),
    bytesReceived: trace.bytesReceived,
    durationMs: trace.durationMs,
  }));
}

export function nodeSummary(node: CassandraNode): Evidence {
  return {
    pid: node.pid,
    listensOn: node.tcp.map((listener) => `${listener.address.includes(':') ? `[${listener.address}]` : listener.address}:${listener.port}`),
    nativeTransportPort: node.nativePort,
    ...(node.configFile ? { configFile: node.configFile } : {}),
    ...(node.logFile ? { logFile: node.logFile } : {}),
    seenVia: node.seenVia,
  };
}

/** Seed 002: which spelling of each setting the environment has, for every host-related finding. */
export function environmentEvidence(target: CassandraTarget): Evidence {
  return target.environmentNotes.length > 0 ? { environment: [...target.environmentNotes] } : {};
}
