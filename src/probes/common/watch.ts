import type { Deadline } from '../../engine/deadline.js';
import type { Evidence } from '../../engine/schema.js';

/**
 * `dbdoctor wait` between attempts at a target that was refused: a TCP connect to the refused
 * port every 150 ms costs the server nothing while it is down (the kernel refuses it), and brings
 * the wait from "up to one backoff interval late" to about 150 ms after the server opens its port.
 *
 * Where a target was refused is in its verdict's network evidence, which every engine writes
 * with `reachEvidence` (network.ts): it is read back here, beside its writer, so that the wait
 * loop (api/wait.ts) never reads a probe's evidence nor opens a connection itself; it reaches
 * this through the registry.
 */
export interface PortWatch {
  /** How many TCP addresses are watched (a Unix socket is not: its file appears with the server). */
  readonly watched: number;
  /** Sleeps `sleepMs` under `deadline`, cut short when a watched port accepts a connection; says whether one did. */
  pause(deadline: Deadline, sleepMs: number): Promise<boolean>;
}

interface Address {
  readonly address: string;
  readonly port: number;
}

/** A watch on the TCP addresses each refused verdict's evidence names. */
export function watchRefused(refused: readonly Evidence[]): PortWatch {
  const addresses = refused.flatMap(refusedAt);
  return { watched: addresses.length, pause: (deadline, sleepMs) => sleepUntilListening(deadline, sleepMs, addresses) };
}

/** The addresses tried for each endpoint (reachEvidence: `endpoints[].connects[].address`), sockets left out. */
function refusedAt(evidence: Evidence): Address[] {
  const endpoints = evidence.endpoints;
  if (!Array.isArray(endpoints)) return [];
  return endpoints.flatMap((endpoint: unknown) => {
    if (typeof endpoint !== 'object' || endpoint === null || !('port' in endpoint) || !('connects' in endpoint) || !Array.isArray(endpoint.connects)) return [];
    const port = Number(endpoint.port);
    return endpoint.connects.flatMap((attempt: unknown) =>
      typeof attempt === 'object' && attempt !== null && 'address' in attempt && typeof attempt.address === 'string' && !attempt.address.startsWith('/')
        ? [{ address: attempt.address, port }]
        : [],
    );
  });
}

async function sleepUntilListening(deadline: Deadline, sleepMs: number, addresses: readonly Address[]): Promise<boolean> {
  if (addresses.length === 0) {
    await deadline.sleep(sleepMs);
    return false;
  }
  const pause = deadline.limit(sleepMs, 'pause');
  const { connectTcp } = await import('../../net/tcp.js');
  while (!pause.expired) {
    await pause.sleep(150);
    if (pause.expired) return false;
    for (const { address, port } of addresses) {
      const outcome = await connectTcp(address, port, pause.limit(500, 'watch'));
      if (outcome.outcome === 'connected') {
        outcome.socket.destroy();
        return true;
      }
    }
  }
  return false;
}
