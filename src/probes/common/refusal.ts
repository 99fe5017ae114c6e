import type { Evidence, Remediation } from '../../engine/schema.js';
import { bindingCovers, isLoopback } from '../../host/local.js';
import type { KnownName, Suggestion } from '../../host/names.js';
import type { HostSight } from '../../host/servers.js';
import type { PlatformInfo } from '../../host/platform.js';
import type { HostOs } from '../../host/platform.js';
import { listenersOfCommand } from './oscommands.js';
import { platformFixes, type EngineWords } from './platform.js';
import { urlLine } from '../../text/url.js';
import { ipFamily } from '../../text/ip.js';

/**
 * Why a TCP connection was refused, told from where this engine's servers listen on this machine:
 *   not_running             no server of this engine runs here (or the host is remote)
 *   localhost_in_container  loopback refused inside a container: loopback is the container itself
 *   wrong_port              one listens on an address that covers the target, but on another port
 *   not_listening           one runs, but not on this address (its listen setting excludes it)
 *   firewall_rejected       one listens on exactly this address and port: something else refused
 */
export type TcpRefusal =
  | { readonly cause: 'not_running' }
  | { readonly cause: 'localhost_in_container' }
  | { readonly cause: 'wrong_port'; readonly ports: readonly number[] }
  | { readonly cause: 'not_listening'; readonly listening: readonly string[] }
  | { readonly cause: 'firewall_rejected'; readonly listening: readonly string[] };

/**
 * Where a running server that refused listens, for a not_listening finding: the addresses seen,
 * or — when the host backend could not read its sockets (another user's server under lsof, netstat
 * refused) — that this was not seen, and how to look. A server whose sockets were not read is not
 * one that listens nowhere.
 */
export function whereItListens(
  listening: readonly string[],
  servers: readonly { readonly seenVia: string }[],
  look: { readonly os: HostOs; readonly processName: string; readonly none: string },
): { readonly words: string; readonly fixes: Remediation[]; readonly listeningOn: readonly string[] | 'not read' } {
  const unread = listening.length === 0 && servers.some((server) => server.seenVia === 'nothing readable');
  return unread
    ? {
        words: 'where it listens could not be read (its sockets are not visible to this user: run as root, or look by hand)',
        fixes: [{ text: 'See where it listens:', ...listenersOfCommand(look.os, look.processName) }],
        listeningOn: 'not read',
      }
    : { words: `it listens on ${listening.join(', ') || look.none}`, fixes: [], listeningOn: [...listening] };
}

export interface RefusedTcp {
  /** The addresses that refused. */
  readonly addresses: readonly string[];
  readonly port: number;
}

export interface EngineListeners {
  /** Whether any server process of this engine runs here at all. */
  readonly running: boolean;
  readonly tcp: readonly { readonly address: string; readonly port: number }[];
  /** Ports known in use by this engine without an address (e.g. from a socket file's name). */
  readonly portHints?: readonly number[];
  /** Other places it listens (Unix sockets), to list in the finding. */
  readonly elsewhere?: readonly string[];
}

export function explainTcpRefusal(refused: RefusedTcp, engine: EngineListeners, where: { readonly inContainer: boolean } = { inContainer: false }): TcpRefusal {
  const covering = engine.tcp.filter((listener) => refused.addresses.some((address) => bindingCovers(listener.address, address)));
  const describe = (listeners: readonly { address: string; port: number }[]): string[] =>
    unique(listeners.map((listener) => `${listener.address.includes(':') ? `[${listener.address}]` : listener.address}:${listener.port}`));
  const exact = covering.filter((listener) => listener.port === refused.port);
  if (exact.length > 0) return { cause: 'firewall_rejected', listening: describe(exact) };
  if (!engine.running && engine.tcp.length === 0 && (engine.portHints ?? []).length === 0) {
    const loopback = refused.addresses.length > 0 && refused.addresses.every((address) => isLoopback(address));
    return where.inContainer && loopback ? { cause: 'localhost_in_container' } : { cause: 'not_running' };
  }
  const otherPorts = unique(covering.map((listener) => listener.port).filter((port) => port !== refused.port));
  if (otherPorts.length > 0) return { cause: 'wrong_port', ports: otherPorts };
  const hinted = unique((engine.portHints ?? []).filter((port) => port !== refused.port));
  if (engine.tcp.length === 0 && hinted.length > 0 && !(engine.portHints ?? []).includes(refused.port)) return { cause: 'wrong_port', ports: hinted };
  // Nothing of the engine's uses this port, at any address: a port no server here uses (not
  // not_listening, which is this port on another address). Its fix names an address the server is
  // bound to (addressFor).
  if (engine.tcp.length > 0 && !engine.tcp.some((listener) => listener.port === refused.port) && !(engine.portHints ?? []).includes(refused.port))
    return { cause: 'wrong_port', ports: unique(engine.tcp.map((listener) => listener.port)) };
  return { cause: 'not_listening', listening: unique([...describe(engine.tcp), ...(engine.elsewhere ?? [])]) };
}

/**
 * The host to name with `port` in a fix: the target's own, unless it is an address that no listener
 * on that port is bound to (127.0.0.2 or ::1 for a server bound to 127.0.0.1), then one the server
 * is bound to. A name is kept: it may resolve to where the server listens.
 */
export function addressFor(host: string, port: number, listeners: readonly { readonly address: string; readonly port: number }[]): string {
  if (ipFamily(host) === 0) return host;
  const onPort = listeners.filter((listener) => listener.port === port);
  const bound = onPort[0];
  if (!bound || onPort.some((listener) => bindingCovers(listener.address, host))) return host;
  return bound.address;
}

/** The fix for localhost inside a container: the database's service name, in the platform's words. */
export function localhostInContainerRemedies(engine: EngineWords, platform: PlatformInfo, suggestions: readonly Suggestion[], port: number): Remediation[] {
  const service = suggestions[0];
  return [
    {
      text: `Inside a container, localhost is the container itself. ${engine.name} runs in another container or host: connect to its service name${service ? ` ("${service.name}", from ${service.origin})` : ''}. (Unless it is a sidecar in this pod, which shares localhost: then it is not up yet.)`,
      ...(service ? { command: urlLine(engine.urlFor(service.name, service.port ?? port)) } : {}),
    },
    ...platformFixes('localhost_in_container', platform, engine, { host: 'localhost', port, suggestions }),
  ];
}

/** Names that look like where a database lives, for a container's localhost. */
export function serviceSuggestions(known: readonly KnownName[], engineWords: readonly string[]): Suggestion[] {
  const words = new RegExp(`(^|[-_.])(${['db', 'database', ...engineWords].join('|')})($|[-_.])`, 'i');
  return known
    .filter((entry) => words.test(entry.name) || entry.kind === 'compose-service' || entry.kind === 'kubernetes-service')
    .map((entry): Suggestion => ({ ...entry, score: words.test(entry.name) ? 1 : 0.5 }))
    .sort((a, b) => b.score - a.score);
}

/** The first few suggestions, for a finding's summary: '; this environment knows "db", "postgres"' (nothing when there are none). */
export function knownServicesNote(suggestions: readonly Suggestion[]): string {
  return suggestions.length > 0
    ? `; this environment knows ${suggestions
        .slice(0, 3)
        .map((suggestion) => `"${suggestion.name}"`)
        .join(', ')}`
    : '';
}

/** Why this machine's processes could not be read, in one clause. */
export function unseenReason(sight: HostSight | undefined): string {
  return sight?.unread.join('; ') ?? 'nothing readable';
}

/** What the host backend read and could not, as evidence (hostView). */
export function sightEvidence(sight: HostSight): Evidence {
  return { backend: sight.backend, read: [...sight.read], unread: [...sight.unread] };
}

export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
