import type { CassandraTarget } from '../../../config/cassandra/target.js';
import { osOf } from '../../../host/platform.js';
import { hostPort } from '../../../text/address.js';
import { defineStep } from '../../../engine/probe.js';
import type { Evidence, Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../text/duration.js';
import { DRIVER_MAX_VERSION, type HostTrace } from '../handshake.js';
import { cqlsh, environmentEvidence, hostsEvidence, nodeSummary, urlWith, waitForCql } from '../commands.js';
import type { CqlContext } from '../context.js';
import { scanLocalCassandra, type CassandraNode, type TransportState } from '../local.js';
import {
  connectionResetRemedies,
  lookAtPort,
  wrongProtocolRemedies,
  type EngineIdentity,
  type EngineListener,
  type WrongProtocolSeen,
} from '../../common/listener.js';
import { urlLine } from '../../../text/url.js';
import { pathOperand, raw, sh, sudoUnlessRoot } from '../../../text/shell.js';

const portOf = (target: CassandraTarget): number => target.contactPoints[0]?.port ?? 9042;
const whoOwns = (target: CassandraTarget): Remediation => ({
  text: 'On the host, see which process owns the port:',
  command: sudoUnlessRoot(sh`sudo ss -tlnp ${`sport = :${portOf(target)}`}`),
  language: 'shell',
});
const nodetool = (command: string): string => `nodetool ${command}`;

const remedies = {
  connection_reset: (port: number): Remediation[] => connectionResetRemedies('CQL', port),
  not_listening: (listening: readonly string[]): Remediation[] => [
    {
      text: `Cassandra listens for CQL clients on ${listening.join(', ') || 'another address'}. Connect there, or set rpc_address (or rpc_interface) in cassandra.yaml to an address clients can reach, then restart the node.`,
    },
    {
      text: 'See what the node binds to:',
      command: 'nodetool info | grep -i -E "native|rpc"; grep -E "^(rpc_address|native_transport_port)" /etc/cassandra/cassandra.yaml',
      language: 'shell',
    },
  ],
  starting_up: (target: CassandraTarget, node: CassandraNode | undefined): Remediation[] => [
    {
      text: 'The node is starting: it opens its CQL port last, after replaying the commit log and joining the ring. Clients should retry with backoff. Wait for it:',
      command: waitForCql(target),
      language: 'shell',
    },
    { text: 'Follow its progress in the log:', command: sh`tail -f ${pathOperand(node?.logFile ?? '/var/log/cassandra/system.log')}`, language: 'shell' },
    {
      text: 'If it stays closed long after start, the native transport may have been switched off: check, and turn it on:',
      command: `${nodetool('statusbinary')}; ${nodetool('enablebinary')}`,
      language: 'shell',
    },
  ],
  native_transport_disabled: (node: CassandraNode | undefined, byConfig: boolean): Remediation[] => [
    { text: 'Turn the native transport (the CQL port) back on, on that node:', command: nodetool('enablebinary'), language: 'shell' },
    ...(byConfig
      ? [
          {
            text: `It is off in the configuration: set start_native_transport: true in ${node?.configFile ?? 'cassandra.yaml'} so that it stays on after a restart.`,
          },
        ]
      : [{ text: 'Someone ran nodetool disablebinary (often before maintenance or a drain). Check that the maintenance is over before turning it on.' }]),
    { text: 'Check:', command: nodetool('statusbinary'), language: 'shell' },
  ],
  no_response: (target: CassandraTarget, closed: boolean): Remediation[] => [
    {
      text: closed
        ? 'Something accepted the TCP connection and hung up without a CQL answer: a proxy or port-forward with nothing behind it, or a Cassandra node at its native_transport_max_concurrent_connections limit (it closes new connections).'
        : 'Something accepted the TCP connection but never answered: a hung or overloaded node (long GC pauses), or a proxy whose backend does not answer.',
    },
    whoOwns(target),
    {
      text: 'On the node, check its state and the client limits:',
      command: 'nodetool info; nodetool tpstats | head -30; grep -E "native_transport_max_concurrent_connections" /etc/cassandra/cassandra.yaml',
      language: 'shell',
    },
  ],
  wrong_protocol: (target: CassandraTarget, what: string, seen?: WrongProtocolSeen): Remediation[] =>
    wrongProtocolRemedies(cassandraIdentity(target), target.contactPoints[0]?.host ?? 'localhost', portOf(target), what, seen),
  tls_required: (target: CassandraTarget): Remediation[] => [
    { text: 'The port only speaks TLS (client_encryption_options enabled, not optional). Connect with TLS:', command: urlLine(urlWith(target, { tls: true })) },
    { text: 'cqlsh needs --ssl too:', command: sh`${raw(cqlsh({ ...target, tls: false }))} --ssl`, language: 'shell' },
  ],
  tls_unsupported: (): Remediation[] => [
    {
      text: 'The node answers in plain CQL: client encryption is off. Either connect without TLS, or enable client_encryption_options in cassandra.yaml (with a keystore) and restart the node.',
    },
  ],
  tls_handshake_failed: (): Remediation[] => [
    {
      text: 'Compare the TLS versions and cipher suites both sides allow (client_encryption_options: protocol, cipher_suites), and read the node log for the handshake error.',
    },
  ],
  protocol_version: (target: CassandraTarget, offered: readonly number[]): Remediation[] => {
    const common = offered.filter((version) => version <= DRIVER_MAX_VERSION).sort((a, b) => b - a)[0];
    return [
      target.protocolVersion !== undefined && common !== undefined
        ? {
            text: `The client is pinned to protocol v${target.protocolVersion}; the server offers ${offered.map((version) => `v${version}`).join(', ')}. Pin a version both speak, or let the driver negotiate (remove the pin):`,
            command: urlLine(urlWith(target, { protocolVersion: 'negotiate' })),
          }
        : {
            text: `The server offers ${offered.map((version) => `v${version}`).join(', ') || 'no version this client knows'}; this driver speaks v1–v${DRIVER_MAX_VERSION}. Upgrade the driver (or the server) so that they share a version.`,
          },
    ];
  },
  not_accepting: (): Remediation[] => [
    {
      text: 'The node answered the handshake with an error dbdoctor does not recognise; its words are in the evidence. Read the node log:',
      command: sudoUnlessRoot('sudo tail -n 50 /var/log/cassandra/system.log'),
      language: 'shell',
    },
  ],
};

function describeTransport(transport: TransportState): string {
  switch (transport.state) {
    case 'disabled_by_nodetool':
      return `its log says the CQL port was switched off (nodetool disablebinary): "${transport.line.replace(/^.* - /, '')}"`;
    case 'disabled_by_config':
      return `the native transport is off in its configuration (${transport.line.replace(/^.* - /, '')})`;
    case 'starting':
      return 'it is still starting (its log shows no "Starting listening for CQL clients" since it started); if this lasts, the native transport may be switched off';
    default:
      return 'it is starting, or its native transport was switched off (its log could not be read to tell which)';
  }
}

/** OpenSSL's error line, down to its reason ("wrong version number"). */
function tlsReason(message: string | undefined): string {
  return /:([^:]+):[^:]*:\d+:?\s*$/.exec(message ?? '')?.[1] ?? message?.trim() ?? 'the handshake failed';
}

function serverWords(trace: HostTrace): string {
  return trace.serverError ? `: "${trace.serverError.message}" [0x${trace.serverError.code.toString(16).padStart(4, '0')}]` : '';
}

/** Step 2: does the node take CQL clients (the right protocol, version and encryption)? */
export const acceptingStep = defineStep<CqlContext, keyof typeof remedies>({
  id: 'accepting',
  checks:
    'Sends the CQL native protocol OPTIONS and STARTUP on a raw connection to each contact point, and tells apart: accepting, starting up, native transport switched off, silent, another protocol, TLS mismatches, no common protocol version.',
  remedies,
  manual: [
    {
      text: 'Does the node take CQL clients (the binary protocol may be switched off, or still starting)?',
      command: 'nodetool statusbinary; nodetool info | grep -E "Native Transport|Gossip"',
      language: 'shell',
    },
    { text: 'Switch the binary protocol back on, if it was switched off:', command: 'nodetool enablebinary', language: 'shell' },
  ],
  async run(ctx, io) {
    const target = ctx.target;
    const hosts = await ctx.hosts();
    const { trace, decision } = await ctx.primary();
    io.evidence.contactPoints = hostsEvidence(hosts);
    Object.assign(io.evidence, environmentEvidence(target));
    const where = hostPort(trace.host, trace.port);
    if (decision.kind === 'refused') {
      const refusal = await ctx.refusal();
      if (refusal?.cause === 'not_listening') {
        return io.found(
          'not_listening',
          `Cassandra runs here but does not take CQL clients at ${where}; it listens on ${refusal.listening.join(', ')}`,
          remedies.not_listening(refusal.listening),
          { listeningOn: [...refusal.listening], localNodes: refusal.nodes.map(nodeSummary) },
        );
      }
      if (refusal?.cause === 'transport_closed') {
        const evidence: Evidence = { localNodes: [nodeSummary(refusal.node)], nativeTransport: { ...refusal.transport } };
        const summary = `a Cassandra JVM runs here (pid ${refusal.node.pid}) but nothing listens on its CQL port ${where}: ${describeTransport(refusal.transport)}`;
        if (refusal.transport.state === 'disabled_by_nodetool' || refusal.transport.state === 'disabled_by_config') {
          return io.found(
            'native_transport_disabled',
            summary,
            remedies.native_transport_disabled(refusal.node, refusal.transport.state === 'disabled_by_config'),
            evidence,
          );
        }
        return io.found('starting_up', summary, remedies.starting_up(target, refusal.node), evidence);
      }
      if (refusal?.cause === 'firewall_rejected') return io.skip('the connection was rejected before it reached the node (see network)');
      return io.skip('no connection was made (see process)');
    }
    if (decision.kind === 'failure' && decision.step === 'network') return io.skip('no connection was made (see network)');
    if (decision.kind === 'failure' && decision.step === 'accepting') {
      switch (decision.cause) {
        case 'starting_up':
          return io.found(
            'starting_up',
            `${where} is bootstrapping and does not take queries yet${serverWords(trace)}`,
            remedies.starting_up(target, undefined),
          );
        case 'connection_reset':
          return io.found(
            'connection_reset',
            `${where} accepted the TCP connection, then reset it (RST) before a CQL answer (ECONNRESET)`,
            remedies.connection_reset(trace.port),
          );
        case 'no_response': {
          const look = await lookAtPort(cassandraIdentity(target), localCassandraListeners, trace, io.deadline, osOf(ctx.run.environment.platform));
          const summary = trace.closedByPeer
            ? `${where} accepted the TCP connection, then closed it without a CQL answer`
            : `${where} accepted the TCP connection but sent no CQL answer within ${formatMs(trace.durationMs)}`;
          return io.found('no_response', `${summary}${look.ownerNote}`, remedies.no_response(target, trace.closedByPeer), look.evidence);
        }
        case 'wrong_protocol': {
          const look = await lookAtPort(cassandraIdentity(target), localCassandraListeners, trace, io.deadline, osOf(ctx.run.environment.platform));
          const what = trace.answeredBy?.description ?? 'something that does not speak CQL';
          return io.found('wrong_protocol', look.wrongProtocol(where, trace.answeredBy), remedies.wrong_protocol(target, what, look.seen(trace.answeredBy)), {
            ...(trace.answeredBy ? { answeredBy: { ...trace.answeredBy } } : {}),
            ...look.evidence,
          });
        }
        case 'tls_required':
          return io.found(
            'tls_required',
            `${where} speaks TLS only${trace.tlsOnly ? ' (it hung up on a plain CQL frame, then completed a TLS handshake)' : ' (it answered a plain CQL frame with TLS)'}, and the client does not use TLS`,
            remedies.tls_required(target),
          );
        case 'tls_unsupported':
          return io.found(
            'tls_unsupported',
            `the client requires TLS (ssl=true), but ${where} answers in plain CQL (${tlsReason(trace.tls?.message)})`,
            remedies.tls_unsupported(),
          );
        case 'tls_handshake_failed':
          return io.found(
            'tls_handshake_failed',
            `the TLS handshake with ${where} failed: ${trace.tls?.message ?? 'unknown error'}`,
            remedies.tls_handshake_failed(),
          );
        case 'protocol_version': {
          const offered = trace.versionsOffered ?? [];
          const asked = target.protocolVersion ?? DRIVER_MAX_VERSION;
          return io.found(
            'protocol_version',
            `${where} does not speak CQL native protocol v${asked}${offered.length > 0 ? `; it offers ${offered.map((version) => `v${version}`).join(', ')}` : ''}${serverWords(trace)}`,
            remedies.protocol_version(target, offered),
            { versionAsked: asked, versionsOffered: offered },
          );
        }
        default:
          return io.found('not_accepting', `${where} refused the CQL handshake${serverWords(trace)}`, remedies.not_accepting());
      }
    }
    if (decision.kind !== 'ok') return io.skip('the handshake ended before the accepting step could judge it');
    // The driver may still fail where the raw handshake passed (a version it cannot negotiate).
    const session = await ctx.session();
    if (session.kind === 'failed' && (session.failure.step === 'accepting' || session.failure.step === 'process')) {
      const { failure } = session;
      const hostsEvidence = { driverError: failure.error, hosts: failure.hosts };
      if (failure.cause === 'protocol_version') {
        return io.found(
          'protocol_version',
          `the driver could not agree a protocol version with ${where}: ${failure.telling.message}`,
          remedies.protocol_version(target, trace.versionsOffered ?? []),
          hostsEvidence,
        );
      }
      return io.found('not_accepting', `the driver could not open a session: ${failure.telling.message}`, remedies.not_accepting(), hostsEvidence);
    }
    const tls = trace.tls?.outcome === 'established' ? `TLS ${trace.tls.protocol ?? ''}`.trim() : 'no TLS';
    const offered = trace.versionsOffered ? `, server offers ${trace.versionsOffered.map((version) => `v${version}`).join(', ')}` : '';
    const okCount = hosts.filter((outcome) => outcome.decision.kind === 'ok').length;
    const others = hosts.length > 1 ? ` (${okCount} of ${hosts.length} contact points answered)` : '';
    return io.pass(`${where} speaks CQL native protocol v${trace.version ?? '?'} (${tls}${offered})${others}`, {
      protocolVersion: trace.version,
      ...(session.kind === 'session' && session.version ? { driverProtocolVersion: session.version } : {}),
    });
  },
});
function cassandraIdentity(target: CassandraTarget): EngineIdentity {
  return {
    name: 'Cassandra',
    protocol: 'cassandra',
    defaultPort: 9042,
    portNote: ' for CQL clients (7000 is its inter-node port, 7199 JMX)',
    urlFor: (host, port) => urlWith(target, { host, port }),
  };
}

async function localCassandraListeners(): Promise<EngineListener[]> {
  return (await scanLocalCassandra()).nodes.flatMap((node) =>
    node.tcp.filter((listener) => listener.port === node.nativePort).map((listener) => ({ ...listener, pid: node.pid })),
  );
}

export { remedies as acceptingRemedies };
