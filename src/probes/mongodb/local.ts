import { findLocalServers, type LocalServer } from '../../host/servers.js';
import { isLocalAddress } from '../../host/local.js';
import { explainTcpRefusal, type TcpRefusal } from '../common/refusal.js';
import type { SeedProbe } from './survey.js';

/**
 * Why every seed refused, told from what runs on this machine: MongoDB's own server processes
 * (mongod, mongos) and FerretDB (a MongoDB wire-protocol server) with the ports they listen on.
 */
export const MONGODB_PROCESSES: readonly string[] = ['mongod', 'mongos', 'ferretdb'];

export type MongoRefusal = TcpRefusal & {
  /** "host:port" that refused. */
  readonly attempted: string;
  readonly where: 'local' | 'remote';
  readonly servers: readonly LocalServer[];
};

export async function explainMongoRefusal(seed: SeedProbe, where: { readonly inContainer: boolean } = { inContainer: false }): Promise<MongoRefusal> {
  const addresses = seed.entry.connects.map((attempt) => attempt.address);
  const attempted = `${seed.host}:${seed.port}`;
  if (!addresses.some((address) => isLocalAddress(address))) return { cause: 'not_running', attempted, where: 'remote', servers: [] };
  const { servers } = await findLocalServers({ comm: (comm) => MONGODB_PROCESSES.includes(comm), topLevelOnly: true });
  const refusal = explainTcpRefusal({ addresses, port: seed.port }, { running: servers.length > 0, tcp: servers.flatMap((server) => server.tcp) }, where);
  return { ...refusal, attempted, where: 'local', servers };
}

export function describeLocalServer(server: LocalServer): Record<string, unknown> {
  return {
    pid: server.pid,
    process: server.comm,
    listensOn: server.tcp.map((listener) => `${listener.address.includes(':') ? `[${listener.address}]` : listener.address}:${listener.port}`),
    seenVia: server.seenVia,
  };
}
