import type { PostgresTarget } from '../../../config/postgres/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../engine/walk.js';
import { pgIsReady } from '../commands.js';
import type { ConnectionTrace } from '../connect.js';
import type { PgContext } from '../context.js';
import { reachEvidence } from '../evidence.js';

const hostOf = (target: PostgresTarget): string => target.endpoints[0]?.host ?? 'the host';
const portOf = (target: PostgresTarget): number => target.endpoints[0]?.port ?? 5432;

const remedies = {
  dns_not_found: (target: PostgresTarget, source: string): Remediation[] => [
    { text: `The name "${hostOf(target)}" does not exist for this machine's resolver. Check its spelling, and where it came from (${source}).` },
    { text: 'See what this machine resolves (it reads /etc/hosts, then DNS, as your application does):', command: `getent ahosts ${hostOf(target)}`, language: 'shell' },
    { text: 'In Kubernetes or docker compose, use the service name exactly as declared (kubectl get svc / docker compose config --services).' },
  ],
  dns_temporary: (target: PostgresTarget): Remediation[] => [
    { text: 'The resolver could not answer right now: it is unreachable, overloaded, or not ready yet (common at pod start). This often heals; clients should retry with backoff.' },
    { text: 'Check which resolver this machine uses, and retry the lookup:', command: `cat /etc/resolv.conf; getent ahosts ${hostOf(target)}`, language: 'shell' },
    { text: 'Wait for the name before starting the application (e.g. in an init container):', command: `until getent hosts ${hostOf(target)}; do sleep 2; done`, language: 'shell' },
  ],
  connect_timeout: (target: PostgresTarget): Remediation[] => [
    { text: 'Nothing answered, not even a refusal: packets are being dropped by a firewall, a cloud security group or network policy, or the host is down.' },
    { text: 'Test the path from this machine:', command: `nc -vz -w 3 ${hostOf(target)} ${portOf(target)}`, language: 'shell' },
    { text: `Check that the firewall or security group admits this machine on port ${portOf(target)}, and that the host is up.` },
  ],
  host_unreachable: (target: PostgresTarget): Remediation[] => [
    { text: 'The network reported that no route leads to the host: a wrong address, a missing route or VPN, or the host is down.' },
    { text: 'See the route this machine would use:', command: `ip route get ${hostOf(target)}`, language: 'shell' },
    { text: 'Then check again:', command: pgIsReady(target), language: 'shell' },
  ],
};

/** Step 3: can this machine reach the server (resolution, routing)? */
export const networkStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'network',
  checks: 'Resolves the host with the system resolver (getaddrinfo, as libpq does) and connects to each address in turn, telling apart: name not found, resolver failure, silence (timeout) and no route.',
  remedies,
  async run(ctx, io) {
    const { trace } = await ctx.connection();
    const decision = await ctx.decision();
    const evidence = reachEvidence(trace);
    const target = ctx.target;
    if (decision.kind === 'failure' && decision.step === 'network') {
      const entry = trace.endpoints[0];
      const dns = entry?.dns;
      switch (decision.cause) {
        case 'dns_not_found':
          return io.found(
            'dns_not_found',
            `the host name "${entry?.host ?? ''}" does not resolve${dns && dns.outcome !== 'resolved' ? ` (${dns.code})` : ''}`,
            remedies.dns_not_found(target, target.sources.host ?? 'the URL'),
            evidence,
          );
        case 'dns_temporary':
          return io.found(
            'dns_temporary',
            `name resolution for "${entry?.host ?? ''}" failed temporarily${dns && dns.outcome !== 'resolved' ? ` (${dns.code}: ${dns.message})` : ''}`,
            remedies.dns_temporary(target),
            evidence,
          );
        case 'connect_timeout':
          return io.found('connect_timeout', timeoutSummary(trace), remedies.connect_timeout(target), evidence);
        default: {
          const failed = entry?.connects.find((attempt) => attempt.outcome !== 'connected');
          return io.found('host_unreachable', `no route to ${failed?.address ?? entry?.host ?? 'the host'} (${failed?.code ?? 'unreachable'})`, remedies.host_unreachable(target), evidence);
        }
      }
    }
    if (!trace.connected) return io.skip('no connection was attempted past the process check');
    if (trace.connected.transport === 'unix') return io.pass('a local Unix socket: no network involved', evidence);
    const entry = trace.endpoints.find((candidate) => candidate.host === trace.connected?.host);
    const resolved = entry?.dns?.outcome === 'resolved' && !entry.dns.literal ? `${entry.host} resolved to ${trace.connected.address} in ${formatMs(entry.dns.durationMs)}; ` : '';
    const connect = entry?.connects.find((attempt) => attempt.outcome === 'connected');
    return io.pass(`${resolved}TCP connected in ${formatMs(connect?.durationMs ?? 0)}`, evidence);
  },
});

function timeoutSummary(trace: ConnectionTrace): string {
  const entry = trace.endpoints[0];
  const attempts = entry?.connects ?? [];
  const addresses = attempts.map((attempt) => attempt.address).join(', ') || entry?.host || 'the host';
  const waited = Math.max(0, ...attempts.map((attempt) => attempt.durationMs));
  return `no answer from ${addresses} port ${entry?.port ?? ''} within ${formatMs(waited)}: packets are dropped (firewall, black hole) or the host is down`;
}
