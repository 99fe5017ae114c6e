import type { MongoTarget } from '../../../config/mongodb/target.js';
import { osOf } from '../../../host/platform.js';
import { whereItListens } from '../../common/refusal.js';
import { defineStep, type StepIO } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { formatMs } from '../../../text/duration.js';
import { describeServer, judgeSecondary, judgeTopology, SECONDARY_OK } from '../classify.js';
import { advertisedSeed, mongoshAsUser, mongoshPing, urlWith } from '../commands.js';
import type { MongoContext } from '../context.js';
import { helloEvidence, isSocketPath, protocolEvidence, whereOf } from '../evidence.js';
import { describeLocalServer, MONGODB_PROCESSES } from '../local.js';
import { findLocalServers } from '../../../host/servers.js';
import {
  connectionResetRemedies,
  lookAtPort,
  wrongProtocolRemedies,
  type EngineIdentity,
  type EngineListener,
  type WrongProtocolSeen,
} from '../../common/listener.js';
import { advertisedMembers, isWritablePrimary, memberKey, parseMember, type SeedProbe, type Survey } from '../survey.js';
import type { Document } from 'bson';
import { urlLine } from '../../../text/url.js';
import { raw, sh, sudoUnlessRoot, waitUpTo } from '../../../text/shell.js';
import { connectShareNote } from '../../../engine/budget.js';

const whoOwnsThePort = (port: number): Remediation => ({
  text: 'On the server, see which process owns the port:',
  command: sudoUnlessRoot(sh`sudo ss -tlnp ${`sport = :${port}`}`),
  language: 'shell',
});
const readTheLog: Remediation = {
  text: 'Read the server log for the reason:',
  command: sudoUnlessRoot('sudo tail -n 50 /var/log/mongodb/mongod.log'),
  language: 'shell',
};
const listMembers = (target: MongoTarget): Remediation => ({
  text: 'See each member’s state as the replica set reports it:',
  command: mongoshAsUser(target, 'rs.status().members.map(m => m.name + " " + m.stateStr)', { remove: ['replicaSet'], set: { directConnection: 'true' } }),
  language: 'shell',
});

/** The connection string without replicaSet=, and where the set's own name is: reused by name by explain. */
export const withoutReplicaSet = (target: MongoTarget): string => urlWith(target, { remove: ['replicaSet'] });
export const showSetName = (target: MongoTarget): Remediation => ({
  text: 'The set’s own name is in its configuration:',
  command: mongoshAsUser(target, 'rs.conf()._id', { remove: ['replicaSet'], set: { directConnection: 'true' } }),
  language: 'shell',
});

/** The primary a secondary names is what the server said: a URL holds it only when it is a host and port. */
function primaryDirectly(target: MongoTarget, primary: string): Remediation {
  const seed = advertisedSeed(primary);
  return seed
    ? { text: `Or connect directly to the primary, ${primary}:`, command: urlLine(urlWith(target, { hosts: [seed] })) }
    : { text: `The server names "${primary}" as the primary, which is not a host and port: check the replica set configuration (rs.conf()).` };
}

const remedies = {
  connection_reset: (port: number): Remediation[] => connectionResetRemedies('MongoDB', port),
  not_listening: (listening: readonly string[], attempted: string): Remediation[] => [
    isSocketPath(attempted)
      ? // mongod makes its socket in net.unixDomainSocket.pathPrefix (default /tmp), named mongodb-<port>.sock.
        {
          text: `The server listens on ${listening.join(', ') || 'other addresses'} only. Connect to one of those, or make it create its socket where you look: set net.unixDomainSocket.pathPrefix in mongod.conf to the directory of ${attempted} (the file is mongodb-<port>.sock) and restart it.`,
        }
      : {
          text: `The server listens on ${listening.join(', ') || 'other addresses'} only. Connect to one of those, or make it listen on this address too: set net.bindIp in mongod.conf (e.g. bindIp: 127.0.0.1,10.0.0.5, or bindIpAll: true) and restart it.`,
        },
  ],
  no_response: (target: MongoTarget, closed: boolean, port: number): Remediation[] => [
    {
      text: closed
        ? 'Something accepted the TCP connection and hung up without a word: typically a proxy, load balancer or port-forward with nothing healthy behind it. mongod itself does this when it has reached net.maxIncomingConnections.'
        : 'Something accepted the TCP connection but never answered hello: a hung server, or a proxy whose backend does not answer.',
    },
    whoOwnsThePort(port),
    { text: 'Check again once it answers:', command: mongoshPing(target), language: 'shell' },
  ],
  wrong_protocol: (what: string, port: number, seen?: WrongProtocolSeen & { readonly target: MongoTarget; readonly host: string }): Remediation[] =>
    seen
      ? wrongProtocolRemedies(mongoIdentity(seen.target), seen.host, port, what, seen)
      : [{ text: `Port ${port} is served by ${what}. Check the port in the connection string: MongoDB usually listens on 27017.` }, whoOwnsThePort(port)],
  tls_required: (target: MongoTarget): Remediation[] => [
    {
      text: 'The server accepts only TLS connections (net.tls.mode: requireTLS). Connect with TLS:',
      command: urlLine(urlWith(target, { set: { tls: 'true' } })),
    },
    { text: 'If the server certificate is signed by a private authority, give it too: tlsCAFile=/path/to/ca.pem.' },
  ],
  tls_unsupported: (target: MongoTarget): Remediation[] => [
    {
      text: 'The connection string asks for TLS (tls=true, or mongodb+srv:// which turns it on), but this server does not speak TLS. Turn TLS on at the server (net.tls in mongod.conf), or, on a trusted network only, connect without it:',
      command: urlLine(urlWith(target, { set: { tls: 'false' }, remove: ['ssl'] })),
    },
  ],
  tls_verify_failed: (target: MongoTarget, problem: string, altNames: string): Remediation[] =>
    problem === 'hostname_mismatch'
      ? [
          {
            text: `The certificate is for ${altNames || 'another name'}. Connect using a name it carries, or reissue it with this host name in subjectAltName.`,
          },
        ]
      : [
          {
            text: 'The server certificate is not trusted by this client. Give the authority that signed it:',
            command: urlLine(urlWith(target, { set: { tlsCAFile: '/path/to/ca.pem' } })),
          },
          {
            text: 'Check the certificate’s issuer and dates on the server:',
            command: 'openssl x509 -noout -issuer -subject -dates -in /etc/ssl/mongodb.pem',
            language: 'shell',
          },
        ],
  tls_handshake_failed: (): Remediation[] => [
    {
      text: 'Compare the TLS versions and ciphers both sides allow (server: net.tls.disabledProtocols; client: its TLS library), and whether the server requires a client certificate (tlsCertificateKeyFile).',
    },
    readTheLog,
  ],
  shutting_down: (target: MongoTarget): Remediation[] => [
    {
      text: 'The server is shutting down (or stepping down in quiesce mode). Find out who asked for it, then start it again once it has stopped:',
      command: sudoUnlessRoot('sudo grep -i -E "shutdown|quiesce" /var/log/mongodb/mongod.log | tail -n 20; sudo systemctl start mongod'),
      language: 'shell',
    },
    {
      text: 'Wait until it answers (or use this as a readiness check):',
      command: waitUpTo(120, sh`${raw(mongoshPing(target))} >/dev/null 2>&1`),
      language: 'shell',
    },
  ],
  not_accepting: (): Remediation[] => [readTheLog],
  replica_set_mismatch: (target: MongoTarget, expected: string, actual: string | undefined): Remediation[] => [
    actual
      ? {
          text: `The server belongs to replica set "${actual}", not "${expected}". Fix the name in the connection string:`,
          command: urlLine(urlWith(target, { set: { replicaSet: actual } })),
        }
      : {
          text: `The server is not a member of any replica set, so replicaSet=${expected} can never match. Drop the option (or point the string at the replica set's members):`,
          command: urlLine(withoutReplicaSet(target)),
        },
    showSetName(target),
  ],
  no_primary: (target: MongoTarget): Remediation[] => [
    {
      text: 'No member is primary: an election is in progress (it settles within seconds), or a majority of the voting members is down or cannot see each other, so none can be elected.',
    },
    listMembers(target),
    {
      text: 'Bring the missing members back (or fix the network between them). For reads only, a read preference that accepts secondaries works without a primary:',
      command: urlLine(urlWith(target, { set: { readPreference: 'secondaryPreferred' } })),
    },
  ],
  replication_stopped: (target: MongoTarget, stoppedPrimary?: string): Remediation[] => [
    stoppedPrimary
      ? {
          text: `The primary this secondary follows, ${stoppedPrimary}, refuses connections: start it (on its host). Meanwhile, if a majority of the voting members is up, they elect another primary within seconds; if not, the set takes no writes.`,
        }
      : {
          text: 'The replica set has no primary, so no member receives writes: an election is under way (it settles within seconds), or too few voting members are up to elect one.',
        },
    listMembers(target),
    { text: 'Bring the missing members back, or fix the network between them; rs.status() on a member shows which it cannot reach.' },
  ],
  replication_lag: (target: MongoTarget): Remediation[] => [
    {
      text: 'See how far each secondary is behind the primary:',
      command: mongoshAsUser(target, 'rs.printSecondaryReplicationInfo()', { remove: ['replicaSet'], set: { directConnection: 'true' } }),
      language: 'shell',
    },
    {
      text: 'A secondary falls behind when it cannot apply writes as fast as the primary takes them (disk, CPU, an index build) or when its oplog fetching is slow over the network; its log and serverStatus().metrics.repl say which.',
    },
  ],
  standby: (target: MongoTarget, primary: string | undefined): Remediation[] => [
    {
      text: 'directConnection=true pins the client to this one server, which is a secondary: reads work, every write fails with "not primary". Let the driver find the primary: drop directConnection and list the members (or name the set):',
      command: urlLine(urlWith(target, { remove: ['directConnection'] })),
    },
    ...(primary ? [primaryDirectly(target, primary)] : []),
  ],
};

/** Step 2: does the server accept connections, speak MongoDB, and belong to the set we asked for? */
export const acceptingStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'accepting',
  checks:
    'Sends hello (OP_MSG) on each seed’s own socket and tells apart: a MongoDB answer, silence, a hang-up, another protocol, TLS mismatches; then checks the replica set: its name, and that it has a primary.',
  remedies,
  manual: [
    {
      text: 'Does it answer hello, and as what (primary, secondary, which set)?',
      command: "mongosh 'mongodb://<host>:<port>/?directConnection=true' --quiet --eval 'JSON.stringify(db.hello())'",
      language: 'shell',
    },
    {
      text: 'The replica set as its members see it:',
      command: "mongosh 'mongodb://<host>:<port>/?directConnection=true' --quiet --eval 'rs.status().members.map(m => [m.name, m.stateStr])'",
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const decision = await ctx.decision();
    const surveyed = await ctx.survey();
    const { target } = surveyed;
    if (decision.kind === 'refused') {
      const refusal = await ctx.refusal();
      if (refusal?.cause === 'firewall_rejected') return io.skip('the connection was rejected before it reached the server (see network)');
      if (refusal?.cause !== 'not_listening') return io.skip('no connection was made (see process)');
      const listens = whereItListens(refusal.listening, refusal.servers, { os: osOf(ctx.run.environment.platform), processName: 'mongo', none: 'no address' });
      return io.found(
        'not_listening',
        `a MongoDB server runs here but does not listen at ${refusal.attempted}; ${listens.words}`,
        [...listens.fixes, ...remedies.not_listening(refusal.listening, refusal.attempted)],
        {
          attempted: refusal.attempted,
          listeningOn: listens.listeningOn,
          localServers: refusal.servers.map(describeLocalServer),
        },
      );
    }
    if (decision.kind === 'srv' || (decision.kind === 'failure' && decision.step === 'network')) return io.skip('no connection was made (see network)');
    if (decision.kind === 'failure') {
      const seed = decision.seed;
      const where = whereOf(seed);
      const port = seed?.port ?? 27017;
      const evidence = seed ? protocolEvidence(seed) : {};
      const what = decision.answeredBy?.description ?? 'a server that does not speak the MongoDB protocol';
      switch (decision.cause) {
        case 'wrong_protocol': {
          const look = await lookAtPort(mongoIdentity(target), localMongoListeners, seed ?? {}, io.deadline, osOf(ctx.run.environment.platform));
          return io.found(
            'wrong_protocol',
            look.wrongProtocol(where, decision.answeredBy),
            remedies.wrong_protocol(what, port, { target, host: seed?.host ?? 'localhost', ...look.seen(decision.answeredBy) }),
            { ...evidence, ...(decision.answeredBy ? { answeredBy: { ...decision.answeredBy } } : {}), ...look.evidence },
          );
        }
        case 'tls_required':
          return io.found(
            'tls_required',
            `${where} accepts only TLS: it hung up on a plain hello, and answers hello over TLS`,
            remedies.tls_required(target),
            evidence,
          );
        case 'tls_unsupported':
          return io.found(
            'tls_unsupported',
            `TLS is on for this connection, but ${where} does not speak TLS (the handshake failed; a plain hello is answered)`,
            remedies.tls_unsupported(target),
            evidence,
          );
        case 'tls_verify_failed': {
          const problem = seed?.tls?.problem ?? 'other';
          return io.found(
            'tls_verify_failed',
            `the server certificate of ${where} was rejected: ${problem.replace(/_/g, ' ')} [${seed?.tls?.code ?? 'unknown'}]`,
            remedies.tls_verify_failed(target, problem, seed?.tls?.certificate?.altNames ?? ''),
            evidence,
          );
        }
        case 'tls_handshake_failed':
          return io.found(
            'tls_handshake_failed',
            `the TLS handshake with ${where} failed: ${seed?.tls?.message ?? 'unknown error'}`,
            remedies.tls_handshake_failed(),
            evidence,
          );
        case 'shutting_down':
          return io.found('shutting_down', `${where} is shutting down: ${serverWords(seed)}`, remedies.shutting_down(target), evidence);
        case 'not_accepting':
          return io.found('not_accepting', `${where} refused hello: ${serverWords(seed)}`, remedies.not_accepting(), evidence);
        case 'connection_reset':
          return io.found(
            'connection_reset',
            `${where} accepted the TCP connection, then reset it (RST) before answering hello (ECONNRESET)`,
            remedies.connection_reset(port),
            evidence,
          );
        default: {
          const closed = seed?.hello?.outcome === 'closed' || seed?.hello?.outcome === 'error';
          const look = await lookAtPort(mongoIdentity(target), localMongoListeners, seed ?? {}, io.deadline, osOf(ctx.run.environment.platform));
          const summary = closed
            ? `${where} accepted the TCP connection, then closed it without answering hello`
            : `${where} accepted the TCP connection but did not answer hello within ${formatMs(seed?.hello?.durationMs ?? surveyed.durationMs)} ${connectShareNote(surveyed.budgetMs)}`;
          return io.found('no_response', `${summary}${look.ownerNote}`, remedies.no_response(target, closed, port), { ...evidence, ...look.evidence });
        }
      }
    }
    const { seed, reply } = decision;
    const evidence = protocolEvidence(seed);
    const problem = judgeTopology(target, surveyed);
    switch (problem?.cause) {
      case 'replica_set_mismatch':
        return io.found(
          'replica_set_mismatch',
          `the connection string asks for replica set "${problem.expected}", but ${whereOf(seed)} is ${problem.found}: the driver will never select it`,
          remedies.replica_set_mismatch(target, problem.expected, typeof reply.setName === 'string' ? reply.setName : undefined),
          evidence,
        );
      case 'no_primary':
        return io.found(
          'no_primary',
          `replica set "${problem.setName}" has no primary: no member answered as primary or named one (read preference: ${target.readPreference})`,
          remedies.no_primary(target),
          {
            ...evidence,
            seeds: surveyed.seeds.map((candidate) =>
              candidate.hello?.outcome === 'reply' ? helloEvidence(candidate.hello.reply) : { server: whereOf(candidate) },
            ),
          },
        );
      case 'standby':
        return [
          io.warn(
            'standby',
            `directConnection=true pins the client to ${whereOf(seed)}, a secondary of "${problem.setName}"${problem.primary ? ` (its primary is ${problem.primary})` : ''}: reads work, every write fails with "not primary"`,
            remedies.standby(target, problem.primary),
            evidence,
          ),
          ...replicationFindings(target, io, reply, surveyed, ctx.run.thresholds.replicationLagMs, evidence),
        ];
      default:
        break;
    }
    const version =
      typeof seed.buildInfo?.version === 'string'
        ? `MongoDB ${seed.buildInfo.version}${typeof seed.buildInfo.ferretdbVersion === 'string' ? ` (FerretDB ${seed.buildInfo.ferretdbVersion})` : ''}`
        : 'the server';
    const role =
      typeof reply.setName === 'string'
        ? `, ${isWritablePrimary(reply) ? 'primary' : 'secondary'} of replica set "${reply.setName}" (${advertisedMembers(reply).length} members)`
        : `, ${describeServer(reply)}`;
    const tls = seed.tls?.outcome === 'established' ? `TLS ${seed.tls.protocol ?? ''}`.trim() : 'no TLS';
    const asked =
      !isWritablePrimary(reply) && typeof reply.setName === 'string' && SECONDARY_OK.has(target.readPreference)
        ? `, as readPreference=${target.readPreference} allows`
        : '';
    const unmeasured = unreachedPrimary(reply, surveyed);
    const note = unmeasured && !unmeasured.refused ? `; its lag was not measured: its primary ${unmeasured.name} does not answer from here` : '';
    const pass = io.pass(`${version} answers hello at ${whereOf(seed)} (${tls}${role}${asked})${note}`, evidence);
    const replication = replicationFindings(target, io, reply, surveyed, ctx.run.thresholds.replicationLagMs, evidence);
    return replication.length > 0 ? [pass, ...replication] : pass;
  },
});

/**
 * The primary a secondary names, when dbdoctor could not ask it (for the lag): refused means
 * nothing listens there — it is stopped, and the secondary follows no one until an election.
 */
function unreachedPrimary(reply: Document, surveyed: Survey): { readonly name: string; readonly refused: boolean } | undefined {
  if (isWritablePrimary(reply) || typeof reply.setName !== 'string' || typeof reply.primary !== 'string') return undefined;
  const named = parseMember(reply.primary);
  const probed = [...surveyed.seeds, ...(surveyed.namedPrimary ? [surveyed.namedPrimary] : [])].find(
    (candidate) => memberKey(candidate.host, candidate.port) === memberKey(named.host, named.port),
  );
  if (!probed || probed.hello?.outcome === 'reply') return undefined;
  const connects = probed.entry?.connects ?? [];
  return { name: reply.primary, refused: connects.length > 0 && connects.every((attempt) => attempt.outcome === 'refused') };
}

/** A secondary's replication, beside whatever the step found: no primary to follow, or lag behind it. */
function replicationFindings(
  target: MongoTarget,
  io: StepIO<keyof typeof remedies>,
  reply: Document,
  surveyed: Survey,
  lagThresholdMs: number,
  evidence: Evidence,
): Finding[] {
  const primaryReply = [...surveyed.seeds, ...(surveyed.namedPrimary ? [surveyed.namedPrimary] : [])].flatMap((candidate) =>
    candidate.hello?.outcome === 'reply' && isWritablePrimary(candidate.hello.reply) ? [candidate.hello.reply] : [],
  )[0];
  const unreached = unreachedPrimary(reply, surveyed);
  if (unreached?.refused) {
    return [
      io.found(
        'replication_stopped',
        `this secondary of "${String(reply.setName)}" names ${unreached.name} as its primary, which refuses connections from here: nothing listens there, the primary is stopped, and this secondary receives nothing new until the set elects another (its lag cannot be measured)`,
        remedies.replication_stopped(target, unreached.name),
        evidence,
      ),
    ];
  }
  const problem = judgeSecondary(reply, primaryReply, lagThresholdMs);
  if (!problem) return [];
  return problem.cause === 'replication_stopped'
    ? [io.found('replication_stopped', problem.summary, remedies.replication_stopped(target), evidence)]
    : [io.found('replication_lag', problem.summary, remedies.replication_lag(target), { ...evidence, lagSeconds: Math.round(problem.lagSeconds) })];
}

function mongoIdentity(target: MongoTarget): EngineIdentity {
  return {
    name: 'MongoDB',
    protocol: 'mongodb',
    defaultPort: 27017,
    urlFor: (host, port) => urlWith(target, { hosts: [`${host.includes(':') ? `[${host}]` : host}:${port}`] }),
  };
}

async function localMongoListeners(): Promise<EngineListener[]> {
  const { servers } = await findLocalServers({ name: 'mongodb', comm: (comm) => MONGODB_PROCESSES.includes(comm), topLevelOnly: true });
  return servers.flatMap((server) => server.tcp.map((listener) => ({ ...listener, pid: server.pid })));
}

function serverWords(seed: SeedProbe | undefined): string {
  const reply = seed?.hello?.outcome === 'reply' ? seed.hello.reply : undefined;
  if (!reply) return 'no reason given';
  return `"${String(reply.errmsg ?? 'no message')}"${reply.codeName ? ` [${String(reply.codeName)}${reply.code !== undefined ? ` ${String(reply.code)}` : ''}]` : ''}`;
}
export { remedies as acceptingRemedies };
