import type { CauseCode } from '../../engine/causes.js';
import type { StepIO } from '../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../engine/schema.js';
import { formatMs } from '../../engine/walk.js';
import type { ReachFailure } from '../../net/classify.js';
import type { Connected, EndpointTrace } from '../../net/reach.js';

/**
 * The network step, the same for every engine: name resolution, silence and routing are not a
 * database's business, so their findings and remediation live here once. A probe supplies what
 * it reached, how it got there, and an engine-specific "check it again" command.
 */
export type NetworkCause = 'dns_not_found' | 'dns_temporary' | 'connect_timeout' | 'host_unreachable';

export interface NetworkView {
  readonly entries: readonly EndpointTrace[];
  readonly connected: Connected | undefined;
  /** The reach failure, when nothing connected; undefined when something did. */
  readonly failure: ReachFailure | undefined;
}

export interface NetworkContext {
  /** Where the host setting came from ("url", "env PGHOST", …), to name it in the fix. */
  readonly hostSource: string;
  /** The engine's own way to check reachability again (pg_isready, mongosh --eval ping, …). */
  readonly recheck: Remediation;
}

export const NETWORK_CHECKS =
  'Resolves each host with the system resolver (getaddrinfo, as drivers do) and connects to each address in turn, telling apart: name not found, resolver failure, silence (timeout) and no route.';

export const networkRemedies = {
  dns_not_found: (host: string, source: string): Remediation[] => [
    { text: `The name "${host}" does not exist for this machine's resolver. Check its spelling, and where it came from (${source}).` },
    { text: 'See what this machine resolves (it reads /etc/hosts, then DNS, as your application does):', command: `getent ahosts ${host}`, language: 'shell' },
    { text: 'In Kubernetes or docker compose, use the service name exactly as declared (kubectl get svc / docker compose config --services).' },
  ],
  dns_temporary: (host: string): Remediation[] => [
    { text: 'The resolver could not answer right now: it is unreachable, overloaded, or not ready yet (common at pod start). This often heals; clients should retry with backoff.' },
    { text: 'Check which resolver this machine uses, and retry the lookup:', command: `cat /etc/resolv.conf; getent ahosts ${host}`, language: 'shell' },
    { text: 'Wait for the name before starting the application (e.g. in an init container):', command: `until getent hosts ${host}; do sleep 2; done`, language: 'shell' },
  ],
  connect_timeout: (host: string, port: number): Remediation[] => [
    { text: 'Nothing answered, not even a refusal: packets are being dropped by a firewall, a cloud security group or network policy, or the host is down.' },
    { text: 'Test the path from this machine:', command: `nc -vz -w 3 ${host} ${port}`, language: 'shell' },
    { text: `Check that the firewall or security group admits this machine on port ${port}, and that the host is up.` },
  ],
  host_unreachable: (host: string, recheck: Remediation): Remediation[] => [
    { text: 'The network reported that no route leads to the host: a wrong address, a missing route or VPN, or the host is down.' },
    { text: 'See the route this machine would use:', command: `ip route get ${host}`, language: 'shell' },
    recheck,
  ],
} satisfies Record<NetworkCause, (...input: never[]) => Remediation[]>;

export function endpointEvidence(entry: EndpointTrace): Evidence {
  return {
    host: entry.host,
    port: entry.port,
    transport: entry.transport,
    ...(entry.socketPath ? { socketPath: entry.socketPath } : {}),
    ...(entry.dns
      ? {
          dns:
            entry.dns.outcome === 'resolved'
              ? { addresses: entry.dns.addresses.map((address) => address.address), literal: entry.dns.literal, durationMs: entry.dns.durationMs }
              : { outcome: entry.dns.outcome, code: entry.dns.code, message: entry.dns.message, durationMs: entry.dns.durationMs },
        }
      : {}),
    connects: entry.connects.map((attempt) => ({ ...attempt })),
  };
}

export function reachEvidence(entries: readonly EndpointTrace[], connected: Connected | undefined): Evidence {
  return { endpoints: entries.map(endpointEvidence), ...(connected ? { connectedTo: connected.address } : {}) };
}

/** The network step's finding: a failure of its own, a pass with timings, or a skip. */
export function judgeNetwork(view: NetworkView, io: StepIO<NetworkCause>, context: NetworkContext): Finding {
  const evidence = reachEvidence(view.entries, view.connected);
  const entry = view.entries[0];
  const host = entry?.host ?? 'the host';
  const cause: CauseCode | undefined = view.failure?.kind === 'failure' ? view.failure.cause : undefined;
  const dns = entry?.dns && entry.dns.outcome !== 'resolved' ? entry.dns : undefined;
  switch (cause) {
    case 'dns_not_found':
      return io.found('dns_not_found', `the host name "${host}" does not resolve${dns ? ` (${dns.code})` : ''}`, networkRemedies.dns_not_found(host, context.hostSource), evidence);
    case 'dns_temporary':
      return io.found('dns_temporary', `name resolution for "${host}" failed temporarily${dns ? ` (${dns.code}: ${dns.message})` : ''}`, networkRemedies.dns_temporary(host), evidence);
    case 'connect_timeout':
      return io.found('connect_timeout', timeoutSummary(view.entries), networkRemedies.connect_timeout(host, entry?.port ?? 0), evidence);
    case 'host_unreachable': {
      const failed = entry?.connects.find((attempt) => attempt.outcome !== 'connected');
      return io.found('host_unreachable', `no route to ${failed?.address ?? host} (${failed?.code ?? 'unreachable'})`, networkRemedies.host_unreachable(host, context.recheck), evidence);
    }
    default:
      break;
  }
  if (!view.connected) return io.skip(view.failure?.kind === 'refused' ? 'the host answered (it refused the connection): see process' : 'no connection was attempted', evidence);
  if (view.connected.transport === 'unix') return io.pass('a local Unix socket: no network involved', evidence);
  const used = view.entries.find((candidate) => candidate.host === view.connected?.host);
  const resolved = used?.dns?.outcome === 'resolved' && !used.dns.literal ? `${used.host} resolved to ${view.connected.address} in ${formatMs(used.dns.durationMs)}; ` : '';
  const connect = used?.connects.find((attempt) => attempt.outcome === 'connected');
  return io.pass(`${resolved}TCP connected in ${formatMs(connect?.durationMs ?? 0)}`, evidence);
}

function timeoutSummary(entries: readonly EndpointTrace[]): string {
  const entry = entries[0];
  const attempts = entry?.connects ?? [];
  const addresses = attempts.map((attempt) => attempt.address).join(', ') || entry?.host || 'the host';
  const waited = Math.max(0, ...attempts.map((attempt) => attempt.durationMs));
  return `no answer from ${addresses} port ${entry?.port ?? ''} within ${formatMs(waited)}: packets are dropped (firewall, black hole) or the host is down`;
}
