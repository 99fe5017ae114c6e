import { findLocalServers, type HostSight, type LocalServer } from '../../host/servers.js';
import { isLocalAddress } from '../../host/local.js';
import { explainTcpRefusal, type TcpRefusal } from '../common/refusal.js';
import { isSocketPath, whereOf } from './evidence.js';
import type { SeedProbe } from './survey.js';

/**
 * Why every seed refused, told from what runs on this machine: MongoDB's own server processes
 * (mongod, mongos) and FerretDB (a MongoDB wire-protocol server) with the ports they listen on.
 */
export const MONGODB_PROCESSES: readonly string[] = ['mongod', 'mongos', 'ferretdb'];

export type MongoRefusal = TcpRefusal & {
  /** "host:port" that refused. */
  readonly attempted: string;
  /** unseen: this machine, whose processes could not be read (sight says why). */
  readonly where: 'local' | 'remote' | 'unseen';
  readonly servers: readonly LocalServer[];
  readonly sight?: HostSight;
};

export async function explainMongoRefusal(
  seed: SeedProbe,
  where: { readonly inContainer: boolean } = { inContainer: false },
  signal?: AbortSignal,
): Promise<MongoRefusal> {
  const addresses = seed.entry.connects.map((attempt) => attempt.address);
  const attempted = whereOf(seed);
  const socket = isSocketPath(seed.host);
  if (!socket && !addresses.some((address) => isLocalAddress(address))) return { cause: 'not_running', attempted, where: 'remote', servers: [] };
  const { servers, sight } = await findLocalServers({ name: 'mongodb', comm: (comm) => MONGODB_PROCESSES.includes(comm), topLevelOnly: true }, { signal });
  // Processes not read: nothing may be concluded about a server elsewhere on this machine.
  const seen = sight.processes === 'seen' ? 'local' : 'unseen';
  // A socket is on this machine: a server runs, but not at this path; or none runs.
  if (socket)
    return {
      ...(servers.length > 0 ? { cause: 'not_listening', listening: servers.flatMap((server) => server.unix) } : { cause: 'not_running' }),
      attempted,
      where: seen,
      servers,
      sight,
    };
  const refusal = explainTcpRefusal({ addresses, port: seed.port }, { running: servers.length > 0, tcp: servers.flatMap((server) => server.tcp) }, where);
  return { ...refusal, attempted, where: seen, servers, sight };
}

export function describeLocalServer(server: LocalServer): Record<string, unknown> {
  return {
    pid: server.pid,
    process: server.comm,
    listensOn: [
      ...server.tcp.map((listener) => `${listener.address.includes(':') ? `[${listener.address}]` : listener.address}:${listener.port}`),
      ...server.unix,
    ],
    seenVia: server.seenVia,
  };
}
