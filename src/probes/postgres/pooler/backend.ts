import { isSocketHost, socketPathOf } from '../../../config/postgres/target.js';
import type { Deadline } from '../../../engine/deadline.js';
import type { Evidence } from '../../../engine/schema.js';
import { describeOwner, ownerOfListener, type OwnerLookup } from '../../../host/owner.js';
import { identifyListener, isForeign, listenerEvidence, type ListenerIdentity } from '../../../net/identify.js';
import { reachFirst, type Connected, type EndpointSpec, type EndpointTrace } from '../../../net/reach.js';
import { identifyProtocol, type ProtocolGuess } from '../../../net/sniff.js';
import { requestSsl } from '../wire.js';
import { reachEvidence } from '../../common/network.js';
import type { DatabaseRow } from './admin.js';

/**
 * The database behind the pooler, seen from here: where PgBouncer sends this database (its
 * [databases] line, from SHOW DATABASES or its configuration file on this machine) and what
 * answers at that address. A connect, then PostgreSQL's SSLRequest (8 bytes; PostgreSQL answers
 * "S" or "N" at once and logs nothing when the client then leaves), closed without a login: no
 * backend logs in. A port that takes the connection is not yet a database that answers — it may
 * be silent (a hung server: PgBouncer's own connection to it sits in sv_login) or another program
 * altogether (the [databases] line points at a Redis): what answers is named, as for a URL that
 * points at it directly. Done only when the pooler holds no working server connection for the pool.
 */
export interface BackendAddress {
  /** Host names or a socket directory, as PgBouncer has them (comma-separated for several). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly transport: 'tcp' | 'unix';
}

export interface BackendReach {
  readonly address: BackendAddress;
  /**
   * answers: PostgreSQL (or a pooler) answered its SSLRequest; silent: the port took the
   * connection and said nothing; foreign: another protocol answered (named); closed: it hung up.
   */
  readonly outcome: 'answers' | 'silent' | 'foreign' | 'closed' | 'refused' | 'unreachable';
  readonly entries: EndpointTrace[];
  /** What answers there, when it is not PostgreSQL, and who owns the port on this machine. */
  readonly answeredBy?: ProtocolGuess;
  readonly owner?: OwnerLookup;
  readonly identity?: ListenerIdentity;
}

/** PgBouncer connects over its own unix_socket_dir when a [databases] line names no host. */
export function backendAddress(row: Pick<DatabaseRow, 'host' | 'port' | 'database' | 'name'>, unixSocketDir: string | undefined): BackendAddress | undefined {
  const host = row.host ?? unixSocketDir;
  if (!host) return undefined;
  return { host, port: row.port || 5432, database: row.database ?? row.name, transport: isSocketHost(host) ? 'unix' : 'tcp' };
}

/** How long the database's address may take to answer the SSLRequest. */
const ANSWER_MS = 800;

export async function reachBackend(address: BackendAddress, deadline: Deadline): Promise<BackendReach> {
  const specs: EndpointSpec[] = address.host
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host.length > 0)
    .map((host) => (isSocketHost(host) ? { host, port: address.port, socketPath: socketPathOf(host, address.port) } : { host, port: address.port }));
  const { entries, reached } = await reachFirst(specs, deadline);
  if (!reached?.socket || !reached.connected) {
    const refused =
      entries.length > 0 &&
      entries.every((entry) => entry.connects.length > 0 && entry.connects.every((attempt) => attempt.outcome === 'refused' || attempt.outcome === 'missing'));
    return { address, outcome: refused ? 'refused' : 'unreachable', entries };
  }
  const connected = reached.connected;
  const reply = await requestSsl(reached.socket, deadline.limit(ANSWER_MS, 'the database answers'));
  reached.socket.destroy();
  if (reply.reply === 'S' || reply.reply === 'N') return { address, outcome: 'answers', entries };
  if (reply.reply === 'other') {
    const answeredBy = identifyProtocol(reply.bytes);
    return { address, outcome: answeredBy.protocol === 'postgres' ? 'answers' : 'foreign', entries, answeredBy, ...(await ownerOf(connected, deadline)) };
  }
  // Silence or a hang-up: other openings on new connections may name what listens (a Redis waits
  // for a newline, a web server for its request line); the port's owner is looked up meanwhile.
  const [identity, owner] = await Promise.all([
    connected.transport === 'tcp' ? identifyListener(connected.address, connected.port, 'postgres', deadline) : undefined,
    ownerOf(connected, deadline),
  ]);
  const named = isForeign(identity, 'postgres') ? identity.answeredBy : undefined;
  return {
    address,
    outcome: named ? 'foreign' : reply.reply === 'closed' ? 'closed' : 'silent',
    entries,
    ...(named ? { answeredBy: named } : {}),
    ...(identity ? { identity } : {}),
    ...owner,
  };
}

async function ownerOf(connected: Connected, deadline: Deadline): Promise<{ owner?: OwnerLookup }> {
  if (connected.transport !== 'tcp') return {};
  const owner = await deadline.race(ownerOfListener(connected.address, connected.port)).catch(() => undefined);
  return owner && owner.state !== 'remote' ? { owner } : {};
}

export function backendEvidence(reach: BackendReach): Evidence {
  return {
    ...reach.address,
    seenFromHere: reach.outcome,
    ...reachEvidence(reach.entries, undefined),
    ...(reach.answeredBy ? { answeredBy: { ...reach.answeredBy } } : {}),
    ...(reach.owner?.state === 'found'
      ? { portOwner: { pid: reach.owner.owner.pid, process: reach.owner.owner.comm, listensOn: reach.owner.owner.listensOn } }
      : {}),
    ...(reach.identity ? { otherOpenings: listenerEvidence(reach.identity) } : {}),
  };
}

/** What answers at the database's address, in a clause: "redis-server (pid 42) listens there, not PostgreSQL: …". */
export function describeBackendListener(reach: BackendReach): string {
  const owner = reach.owner?.state === 'found' ? describeOwner(reach.owner.owner) : 'something';
  switch (reach.outcome) {
    case 'foreign':
      return `${owner} listens, not PostgreSQL: ${reach.answeredBy?.description ?? 'another protocol'} answers`;
    case 'silent':
      return `${owner} takes the connection but sends no PostgreSQL answer (a hung server, or a port forward to nowhere)`;
    case 'closed':
      return `${owner} takes the connection and hangs up without a PostgreSQL answer`;
    default:
      return '';
  }
}

export function describeBackend(address: BackendAddress): string {
  const where = address.transport === 'unix' ? socketPathOf(address.host, address.port) : `${address.host}:${address.port}`;
  return `${where} (database "${address.database}")`;
}
