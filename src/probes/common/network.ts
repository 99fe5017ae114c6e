import type { CauseCode } from '../../engine/causes.js';
import { urlLine } from '../../text/url.js';
import type { RunContext, StepIO, StepOutcome } from '../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../engine/schema.js';
import { formatMs } from '../../text/duration.js';
import { suggestNames, type Suggestion } from '../../host/names.js';
import type { ReachFailure } from '../../net/classify.js';
import type { Connected, EndpointTrace } from '../../net/reach.js';
import { isHostName } from '../../net/hostname.js';
import { resolverContext, type ResolverContext } from '../../net/resolver.js';
import { spokenSource } from '../../config/source.js';
import { sh, waitUpTo } from '../../text/shell.js';
import { platformFixes, type EngineWords } from './platform.js';
import { connectCheckCommand, firewallCommand, resolveCommand, resolverConfigCommand, routeCommand } from './oscommands.js';
import { osOf, type HostOs } from '../../host/platform.js';
import { connectShareNote } from '../../engine/budget.js';

/**
 * The network step, the same for every engine: name resolution, silence and routing are not a
 * database's business, so their findings and remediation live here once. A probe supplies what
 * it reached, how it got there, and its engine's words for the fixes.
 */
export type NetworkCause = 'dns_not_found' | 'dns_temporary' | 'connect_timeout' | 'host_unreachable' | 'firewall_rejected' | 'ipv6_mismatch';

export interface NetworkView {
  readonly entries: readonly EndpointTrace[];
  readonly connected: Connected | undefined;
  /** The reach failure, when nothing connected (or a firewall rejected it); undefined otherwise. */
  readonly failure: ReachFailure | undefined;
}

/**
 * What the network step judges, from an engine's connection decision: a firewall's rejection
 * (told from a refusal by what listens here), a refusal (the host answered: process's business),
 * or a failure the decision put in the network step; nothing otherwise.
 */
export function networkFailureOf(
  decision: { readonly kind: string; readonly step?: string; readonly cause?: CauseCode },
  refusal: { readonly cause: string } | undefined,
): ReachFailure | undefined {
  if (refusal?.cause === 'firewall_rejected') return { kind: 'failure', cause: 'firewall_rejected' };
  if (decision.kind === 'refused') return { kind: 'refused' };
  if (decision.kind === 'failure' && decision.step === 'network' && decision.cause) return { kind: 'failure', cause: decision.cause };
  return undefined;
}

export interface NetworkContext {
  readonly run: RunContext;
  readonly engine: EngineWords;
  /** Where the host setting came from ("url", "env PGHOST", …), to name it in the fix. */
  readonly hostSource: string;
  /** The engine's own way to check reachability again (pg_isready, mongosh --eval ping, …). */
  readonly recheck: Remediation;
}

export const NETWORK_CHECKS =
  'Resolves each host with the system resolver (getaddrinfo, as drivers do; A and AAAA) and connects to each address in turn, telling apart: name not found, resolver failure or silence, no answer (timeout), no route, a firewall rejection, and a first address that refuses where a later one works.';

/**
 * A host as an operand of getent, nc or ip: a quoted word. A name that is not a host (a pasted
 * message's words, which `dbdoctor explain` reads) is the placeholder instead: a word starting
 * with "-" would be an option to these programs, whatever the quoting.
 */
const hostOperand = (host: string): string => (isHostName(host) ? host : '<host>');

export const networkRemedies = {
  dns_not_found: (host: string, source: string, suggestions: readonly Suggestion[], engine: EngineWords, port: number, os: HostOs = 'linux'): Remediation[] => [
    ...suggestions
      .filter((suggestion) => suggestion.name !== host)
      .slice(0, 1)
      .map((suggestion) => ({
        text: `This environment knows "${suggestion.name}" (${suggestion.origin}). If that is the database, use it:`,
        command: urlLine(engine.urlFor(suggestion.name, suggestion.port ?? port)),
      })),
    {
      text: `The name "${host}" does not exist for this machine's resolver. Check its spelling, and where it came from (${spokenSource(source, 'the connection URL')}).`,
    },
    {
      text: `See what this machine resolves (it reads ${os === 'windows' ? 'the hosts file' : '/etc/hosts'}, then DNS, as your application does):`,
      ...resolveCommand(os, hostOperand(host)),
    },
  ],
  /**
   * The advice follows what the resolver did: nothing answering DNS at the configured server
   * (ECONNREFUSED) or a refusal to serve this client (REFUSED) is configuration, and waiting does
   * not change it; a timeout or SERVFAIL may pass (a resolver starting, an upstream outage).
   */
  dns_temporary: (host: string, code?: string, os: HostOs = 'linux'): Remediation[] => {
    const check: Remediation = {
      text: 'See which DNS server this machine is configured with, and retry the lookup:',
      ...resolverConfigCommand(os, hostOperand(host)),
    };
    if (code === 'ECONNREFUSED' || code === 'EREFUSED') {
      return [
        {
          text:
            code === 'ECONNREFUSED'
              ? `Nothing answers DNS at the server this machine is configured to ask: it is not running there, or ${os === 'linux' ? '/etc/resolv.conf names' : 'the network settings name'} the wrong address. This does not heal by waiting.`
              : 'The DNS server refuses to answer this machine (its access rules). This does not heal by waiting.',
        },
        check,
        {
          text:
            os === 'macos'
              ? 'Fix the resolver configuration: the DNS servers of the active network service (System Settings › Network › Details › DNS, or networksetup -setdnsservers), or the VPN client that sets them, or start the local resolver they name.'
              : os === 'windows'
                ? 'Fix the resolver configuration: the DNS servers of the active adapter (Get-DnsClientServerAddress shows them; Set-DnsClientServerAddress sets them), or the VPN client that sets them.'
                : 'Fix the resolver configuration: point the nameserver line of /etc/resolv.conf (or the DHCP/systemd-resolved/container setting that writes it) at a DNS server that answers, or start the local resolver it names.',
        },
      ];
    }
    return [
      {
        text: 'The DNS server did not answer in time (or answered SERVFAIL): it is overloaded, not ready yet (common at pod start), or its upstream is failing. This often passes; clients should retry with backoff.',
      },
      check,
      // timeout and getent are Linux's (and every container's); a Mac or a Windows desktop retries instead.
      os === 'linux'
        ? {
            text: 'Wait for the name before starting the application (e.g. in an init container), at most 60 s:',
            command: waitUpTo(60, sh`getent hosts ${hostOperand(host)} >/dev/null`),
            language: 'shell',
          }
        : { text: 'Have the application retry the lookup with a backoff, or wait for the name before starting it (dbdoctor wait does, bounded by --timeout).' },
    ];
  },
  connect_timeout: (host: string, port: number | string, os: HostOs = 'linux'): Remediation[] => [
    { text: 'Nothing answered, not even a refusal: packets are being dropped by a firewall, a cloud security group or network policy, or the host is down.' },
    { text: 'Test the path from this machine:', ...connectCheckCommand(os, hostOperand(host), port) },
    { text: `Check that the firewall or security group admits this machine on port ${port}, and that the host is up.` },
  ],
  host_unreachable: (host: string, recheck: Remediation, os: HostOs = 'linux'): Remediation[] => [
    { text: 'The network reported that no route leads to the host: a wrong address, a missing route or VPN, or the host is down.' },
    { text: 'See the route this machine would use:', ...routeCommand(os, hostOperand(host)) },
    recheck,
  ],
  firewall_rejected: (port: number | string, recheck: Remediation, os: HostOs = 'linux'): Remediation[] => [
    { text: `The server listens, but a firewall rule answers in its place. List the rules that match port ${port}:`, ...firewallCommand(os, port) },
    { text: 'Remove or narrow the REJECT rule for this client, then check again.' },
    recheck,
  ],
  ipv6_mismatch: (host: string, refused: string, working: string, engine: EngineWords, port: number): Remediation[] => [
    { text: `Use the address that works, so clients that try only the first one succeed:`, command: urlLine(engine.urlFor(working, port)) },
    { text: `Or make the server listen on ${refused} too, or stop "${host}" resolving to it first (/etc/hosts, or Node's --dns-result-order=ipv4first).` },
  ],
} satisfies Record<NetworkCause, (...input: never[]) => Remediation[]>;

export function endpointEvidence(entry: EndpointTrace): Evidence {
  return {
    host: entry.host,
    port: entry.port,
    transport: entry.transport,
    ...(entry.socketPath ? { socketPath: entry.socketPath } : {}),
    // libpq's hostaddr: the address connected to as written; the host only names the server.
    ...(entry.hostaddr ? { hostaddr: entry.hostaddr } : {}),
    ...(entry.dns
      ? {
          dns:
            entry.dns.outcome === 'resolved'
              ? {
                  addresses: entry.dns.addresses.map((address) => address.address),
                  literal: entry.dns.literal,
                  ...(entry.dns.source ? { source: entry.dns.source } : {}),
                  ...(entry.dns.tried ? { tried: entry.dns.tried.map((attempt) => ({ ...attempt })) } : {}),
                  durationMs: entry.dns.durationMs,
                }
              : {
                  outcome: entry.dns.outcome,
                  code: entry.dns.code,
                  message: entry.dns.message,
                  ...(entry.dns.tried ? { tried: entry.dns.tried.map((attempt) => ({ ...attempt })) } : {}),
                  durationMs: entry.dns.durationMs,
                },
        }
      : {}),
    connects: entry.connects.map((attempt) => ({ ...attempt })),
  };
}

export function reachEvidence(entries: readonly EndpointTrace[], connected: Connected | undefined): Evidence {
  return { endpoints: entries.map(endpointEvidence), ...(connected ? { connectedTo: connected.address } : {}) };
}

/** The network step's findings: a failure of its own, a pass with timings (maybe with a warning), or a skip. */
export async function judgeNetwork(view: NetworkView, io: StepIO<NetworkCause>, context: NetworkContext): Promise<StepOutcome> {
  const evidence = reachEvidence(view.entries, view.connected);
  const entry = view.entries[0];
  const host = entry?.host ?? 'the host';
  const port = entry?.port ?? 0;
  const { platform } = context.run.environment;
  const cause: CauseCode | undefined = view.failure?.kind === 'failure' ? view.failure.cause : undefined;
  const dns = entry?.dns && entry.dns.outcome !== 'resolved' ? entry.dns : undefined;
  switch (cause) {
    case 'dns_not_found': {
      const resolver = await resolverContext(host);
      const suggestions = suggestNames(host, await context.run.environment.knownNames());
      const itself = suggestions.find((suggestion) => suggestion.name.toLowerCase() === host.toLowerCase());
      const others = suggestions.filter((suggestion) => suggestion !== itself);
      const known = itself
        ? `; it is a ${itself.kind === 'compose-service' ? `service in ${itself.origin.replace(/ service.*$/, '')}, and a compose service name resolves only inside its compose network` : `Kubernetes service (${itself.origin}), whose name resolves only through the cluster's DNS`}`
        : others.length > 0
          ? `; this environment knows ${others.map((suggestion) => `"${suggestion.name}"`).join(', ')}`
          : '';
      // Search domains explain many lookups: "db" in a pod is asked as db.<namespace>.svc.cluster.local first.
      const searched = resolver.triedNames.length > 1 ? ` (asked as ${resolver.triedNames.join(', ')})` : '';
      return io.found(
        'dns_not_found',
        `the host name "${host}" does not resolve${dns ? ` (${dns.code})` : ''}${searched}${known}`,
        [
          ...networkRemedies.dns_not_found(host, context.hostSource, suggestions, context.engine, port, osOf(platform)),
          ...platformFixes('dns_not_found', platform, context.engine, { host, port, suggestions }),
        ],
        {
          ...evidence,
          resolver: resolverEvidence(resolver),
          suggestions: suggestions.map(({ name, origin, port: known }) => ({ name, origin, ...(known ? { port: known } : {}) })),
        },
      );
    }
    case 'dns_temporary': {
      const resolver = await resolverContext(host);
      const summary = `name resolution for "${host}" failed temporarily: ${dns?.message ?? 'the resolver did not answer'}`;
      return io.found(
        'dns_temporary',
        summary,
        [...networkRemedies.dns_temporary(host, dns?.code, osOf(platform)), ...platformFixes('dns_temporary', platform, context.engine, { host, port })],
        {
          ...evidence,
          resolver: resolverEvidence(resolver),
        },
      );
    }
    case 'connect_timeout':
      return io.found(
        'connect_timeout',
        timeoutSummary(view.entries),
        [...networkRemedies.connect_timeout(host, port, osOf(platform)), ...platformFixes('connect_timeout', platform, context.engine, { host, port })],
        evidence,
      );
    case 'host_unreachable': {
      const failed = entry?.connects.find((attempt) => attempt.outcome !== 'connected');
      return io.found(
        'host_unreachable',
        `no route to ${failed?.address ?? host} (${failed?.code ?? 'unreachable'})`,
        networkRemedies.host_unreachable(host, context.recheck, osOf(platform)),
        evidence,
      );
    }
    case 'firewall_rejected': {
      const refused = entry?.connects.find((attempt) => attempt.outcome === 'refused');
      return io.found(
        'firewall_rejected',
        `${refused?.address ?? host}:${port} refused the connection although ${context.engine.name} listens there: a firewall rule rejects it`,
        networkRemedies.firewall_rejected(port, context.recheck, osOf(platform)),
        evidence,
      );
    }
    default:
      break;
  }
  if (!view.connected)
    return io.skip(view.failure?.kind === 'refused' ? 'the host answered (it refused the connection): see process' : 'no connection was attempted', evidence);
  if (view.connected.transport === 'unix') return io.pass('a local Unix socket: no network involved', evidence);
  // The endpoint that connected (several may share a host name, on other ports).
  const used = view.entries.find(
    (candidate) => candidate.port === view.connected?.port && candidate.connects.some((attempt) => attempt.outcome === 'connected'),
  );
  const resolved = used?.hostaddr
    ? `hostaddr ${used.hostaddr} given, no name lookup ("${used.host}" only names the server); `
    : used?.dns?.outcome === 'resolved' && !used.dns.literal
      ? `${used.host} resolved to ${used.dns.addresses.map((address) => address.address).join(', ')} in ${formatMs(used.dns.durationMs)}; `
      : '';
  const connect = used?.connects.find((attempt) => attempt.outcome === 'connected');
  const pass = io.pass(`${resolved}TCP connected to ${view.connected.address} in ${formatMs(connect?.durationMs ?? 0)}`, evidence);
  const refusedFirst = used?.connects.filter((attempt) => attempt.outcome === 'refused') ?? [];
  const firstRefused = refusedFirst[0];
  if (!firstRefused || !used) return pass;
  const warning: Finding = io.found(
    'ipv6_mismatch',
    `"${used.host}" resolves to ${firstRefused.address} first, which refuses; ${view.connected.address} works. Clients that try only the first address fail with ECONNREFUSED ${firstRefused.address}:${used.port}`,
    networkRemedies.ipv6_mismatch(used.host, firstRefused.address, view.connected.address, context.engine, used.port),
    evidence,
  );
  return [pass, warning];
}

function resolverEvidence(resolver: ResolverContext): Evidence {
  return {
    nameservers: [...resolver.config.nameservers],
    search: [...resolver.config.search],
    ndots: resolver.config.ndots,
    triedNames: [...resolver.triedNames],
    inHostsFile: [...resolver.hostsFile],
  };
}

function timeoutSummary(entries: readonly EndpointTrace[]): string {
  const entry = entries[0];
  const attempts = entry?.connects ?? [];
  const addresses = attempts.map((attempt) => attempt.address).join(', ') || entry?.host || 'the host';
  const waited = Math.max(0, ...attempts.map((attempt) => attempt.durationMs));
  return `no answer from ${addresses} port ${entry?.port ?? ''} within ${formatMs(waited)} ${connectShareNote(waited)}: packets are dropped (firewall, black hole) or the host is down`;
}
