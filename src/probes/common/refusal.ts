import { bindingCovers } from '../../host/local.js';

/**
 * Why a TCP connection was refused, told from where this engine's servers listen on this machine:
 *   not_running    no server of this engine runs here (or the host is remote: nothing listens there)
 *   wrong_port     one listens on an address that covers the target, but on another port
 *   not_listening  one runs, but not on this address (its listen setting excludes it)
 */
export type TcpRefusal =
  | { readonly cause: 'not_running' }
  | { readonly cause: 'wrong_port'; readonly ports: readonly number[] }
  | { readonly cause: 'not_listening'; readonly listening: readonly string[] };

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

export function explainTcpRefusal(refused: RefusedTcp, engine: EngineListeners): TcpRefusal {
  if (!engine.running && engine.tcp.length === 0 && (engine.portHints ?? []).length === 0) return { cause: 'not_running' };
  const covering = engine.tcp.filter((listener) => refused.addresses.some((address) => bindingCovers(listener.address, address)));
  const otherPorts = unique(covering.map((listener) => listener.port).filter((port) => port !== refused.port));
  if (otherPorts.length > 0) return { cause: 'wrong_port', ports: otherPorts };
  const hinted = unique((engine.portHints ?? []).filter((port) => port !== refused.port));
  if (engine.tcp.length === 0 && hinted.length > 0 && !(engine.portHints ?? []).includes(refused.port)) return { cause: 'wrong_port', ports: hinted };
  const listening = unique([...engine.tcp.map((listener) => `${listener.address.includes(':') ? `[${listener.address}]` : listener.address}:${listener.port}`), ...(engine.elsewhere ?? [])]);
  return { cause: 'not_listening', listening };
}

export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
