import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Document } from 'bson';
import type { MongoTarget } from '../../config/mongodb/target.js';
import type { Deadline } from '../../engine/deadline.js';
import { reachEndpoint, type Connected, type EndpointTrace, type Reached, type ReachHooks } from '../../net/reach.js';
import { hostPort } from '../../text/address.js';
import { identifyProtocol, isVague, type ProtocolGuess } from '../../net/sniff.js';
import { connectTcp } from '../../net/tcp.js';
import { tlsFailureTrace, upgradeToTls, type CertificateSummary, type TlsUpgrade, type VerifyMode } from '../../net/tls.js';
import { watchForSilence, type ListenerIdentity, type SilenceWatch } from '../../net/identify.js';
import { lookupSeedList, type SrvLookup } from './srv.js';
import { WireConversation, type Exchange } from './wire.js';

/**
 * Everything dbdoctor learns before any driver is involved: the DNS seed list (for +srv), then
 * for every seed, in parallel: resolve, connect, TLS when asked for, and `hello` spoken by us on
 * that one socket; then, for a replica set, whether each member it advertises can be reached
 * from here under the name it advertises (the driver connects to those names, not the seeds).
 * Every socket is closed again at once: the diagnosis's session comes later, from the driver.
 */
export interface TlsTrace {
  readonly outcome: 'established' | 'verify_failed' | 'handshake_failed' | 'timeout';
  readonly verify: VerifyMode;
  readonly protocol?: string;
  readonly problem?: string;
  readonly code?: string;
  readonly message?: string;
  readonly certificate?: CertificateSummary;
}

/** A second connection made to settle a TLS question: did the other way work? */
export interface OtherWay {
  readonly tried: 'tls' | 'plain';
  /** mongodb: it answered hello that way; tls-only: TLS completed but no MongoDB answer; nothing: neither. */
  readonly answer: 'mongodb' | 'tls-only' | 'nothing';
  /** What answered instead, when another protocol did. */
  readonly answeredBy?: ProtocolGuess;
}

export interface SeedProbe {
  readonly host: string;
  readonly port: number;
  readonly entry: EndpointTrace;
  readonly connected?: Connected;
  readonly tls?: TlsTrace;
  readonly hello?: Exchange;
  readonly buildInfo?: Document;
  /** hello's saslSupportedMechs for admin.<user>, asked when the user is looked up elsewhere. */
  readonly adminMechanisms?: readonly string[] | 'none';
  readonly otherWay?: OtherWay;
  /** What answered other openings on new connections, when hello got silence or a hang-up. */
  readonly listener?: ListenerIdentity;
}

export interface MemberProbe {
  /** "host:port" as the replica set advertises it. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly entry?: EndpointTrace;
  readonly reachable: boolean;
  /** Reached already as a seed under the same name. */
  readonly viaSeed: boolean;
}

export interface Survey {
  /** The target with what the TXT record set (authSource, replicaSet) where the URL left them out. */
  readonly target: MongoTarget;
  readonly srv?: SrvLookup;
  readonly seeds: readonly SeedProbe[];
  readonly members: readonly MemberProbe[];
  /**
   * The primary a secondary seed names, when no seed is that primary: asked hello too, so that the
   * secondary's last write can be compared with the primary's (replication lag).
   */
  readonly namedPrimary?: SeedProbe;
  readonly budgetMs: number;
  readonly durationMs: number;
}

export async function survey(given: MongoTarget, deadline: Deadline, version: string, hooks: ReachHooks = {}): Promise<Survey> {
  const started = performance.now();
  let srv: SrvLookup | undefined;
  let specs = given.hosts;
  let target = given;
  if (given.srv) {
    srv = await lookupSeedList(given.hosts[0]?.host ?? '', given.srvServiceName, deadline);
    if (srv.srv.outcome !== 'found' || srv.problem || srv.txt.outcome === 'temporary') {
      return { target, srv, seeds: [], members: [], budgetMs: deadline.budgetMs, durationMs: elapsedSince(started) };
    }
    specs = srv.srv.records.map((record) => ({ host: record.name.replace(/\.$/, ''), port: record.port }));
    target = withTxtOptions(given, srv);
  }
  const seeds = await Promise.all(specs.map((spec) => probeSeed(target, spec, deadline, version, hooks)));
  const [members, namedPrimary] = await Promise.all([probeMembers(target, seeds, deadline), probeNamedPrimary(target, seeds, deadline, version)]);
  return {
    target,
    ...(srv ? { srv } : {}),
    seeds,
    members,
    ...(namedPrimary ? { namedPrimary } : {}),
    budgetMs: deadline.budgetMs,
    durationMs: elapsedSince(started),
  };
}

/** hello on the primary a secondary names, when the seeds do not include it (a direct connection to a secondary). */
async function probeNamedPrimary(target: MongoTarget, seeds: readonly SeedProbe[], deadline: Deadline, version: string): Promise<SeedProbe | undefined> {
  const answering = answeringSeed(seeds);
  const named =
    answering && !isWritablePrimary(answering.hello.reply) && typeof answering.hello.reply.primary === 'string'
      ? parseMember(answering.hello.reply.primary)
      : undefined;
  if (!named || seeds.some((seed) => memberKey(seed.host, seed.port) === memberKey(named.host, named.port))) return undefined;
  return probeSeed(target, named, deadline.limit(Math.min(1500, deadline.remainingMs() / 2), 'primary'), version);
}

/** The driver takes authSource and replicaSet from the TXT record when the URL does not set them. */
export function withTxtOptions(target: MongoTarget, srv: SrvLookup): MongoTarget {
  const from = `TXT record of ${srv.host}`;
  const { authSource, replicaSet } = srv.txtOptions;
  const sources = { ...target.sources };
  let changed = target;
  if (authSource && target.user !== undefined && sources.authSource?.startsWith('default')) {
    changed = { ...changed, authSource };
    sources.authSource = from;
  }
  if (replicaSet && changed.replicaSet === undefined) {
    changed = { ...changed, replicaSet };
    sources.replicaSet = from;
  }
  return changed === target ? target : { ...changed, sources };
}

function elapsedSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** The hello dbdoctor sends: identified, and asking which mechanisms the user has (no auth needed). */
export function helloCommand(target: MongoTarget, version: string, first: boolean, mechanismsFor?: string): Document {
  return {
    hello: 1,
    helloOk: true,
    ...(first
      ? {
          client: {
            application: { name: 'dbdoctor' },
            driver: { name: 'dbdoctor', version },
            os: { type: process.platform === 'linux' ? 'Linux' : process.platform },
          },
        }
      : {}),
    ...(mechanismsFor ? { saslSupportedMechs: mechanismsFor } : target.user ? { saslSupportedMechs: `${target.authSource}.${target.user}` } : {}),
    $db: 'admin',
  };
}

async function probeSeed(
  target: MongoTarget,
  spec: { host: string; port: number },
  deadline: Deadline,
  version: string,
  hooks: ReachHooks = {},
): Promise<SeedProbe> {
  // A seed may be a Unix socket (its path, as the driver gives it).
  const reached = await reachEndpoint(spec.host.startsWith('/') ? { ...spec, socketPath: spec.host } : spec, deadline);
  const base = { host: spec.host, port: spec.port, entry: reached.entry };
  if (!reached.socket || !reached.connected) return base;
  hooks.reached?.(reached.connected);
  hooks.waiting?.(`MongoDB's hello at ${hostPort(spec.host, spec.port)}`);
  const watch = watchForSilence(reached.socket, reached.connected, deadline, 'mongodb');
  try {
    return await withListener(
      await speakTo(target, spec, { ...reached, socket: reached.socket, connected: reached.connected }, watch?.deadline ?? deadline, deadline, version),
      watch,
    );
  } finally {
    watch?.stop();
  }
}

/** hello got silence or a hang-up, and nothing else answered: what answers other openings names the listener. */
async function withListener(seed: SeedProbe, watch: SilenceWatch | undefined): Promise<SeedProbe> {
  if (!watch || seed.otherWay?.answer === 'mongodb' || seed.otherWay?.answer === 'tls-only' || seed.otherWay?.answeredBy) return seed;
  const hello = seed.hello;
  const wordless =
    hello === undefined ? seed.tls?.outcome === 'timeout' : (hello.outcome === 'silent' || hello.outcome === 'closed') && hello.bytes.length === 0;
  // A vague answer (text, an HTML page without headers) may be named better by another opening.
  const vague = hello?.outcome === 'foreign' && isVague(identifyProtocol(hello.bytes));
  if (!wordless && !vague) return seed;
  return { ...seed, listener: await (watch.result() ?? watch.identify()) };
}

/**
 * TLS when asked for, then hello on the seed's own socket. `deadline` ends early when the
 * listener was named on another connection; `outer` is the seed's own, for the second tries.
 */
async function speakTo(
  target: MongoTarget,
  spec: { host: string; port: number },
  reached: Reached & { socket: Socket; connected: Connected },
  deadline: Deadline,
  outer: Deadline,
  version: string,
): Promise<SeedProbe> {
  const base = { host: spec.host, port: spec.port, entry: reached.entry };
  const connected = reached.connected;
  let socket: Socket = reached.socket;
  let tls: TlsTrace | undefined;
  if (target.tls) {
    // Half of what is left, so that a handshake a plain server never answers leaves time to ask
    // it in plain text on a second connection (tls_unsupported).
    const outcome = await upgradeToTls(socket, tlsOptions(target, spec.host), deadline.limit(deadline.remainingMs() / 2, 'tls'));
    const verify = verifyModeOf(target);
    if (outcome.outcome !== 'established') {
      socket.destroy();
      tls = tlsFailureTrace(outcome, verify);
      const otherWay = outcome.outcome === 'verify_failed' ? undefined : await askOtherWay('plain', connected, spec.host, target, outer, version);
      return { ...base, connected, tls, ...(otherWay ? { otherWay } : {}) };
    }
    tls = { outcome: 'established', verify, protocol: outcome.protocol, ...(outcome.certificate ? { certificate: outcome.certificate } : {}) };
    socket = outcome.socket;
  }
  const conversation = new WireConversation(socket);
  try {
    const hello = await conversation.command(helloCommand(target, version, true), deadline);
    if (hello.outcome === 'reply' && hello.reply.ok === 1) {
      const info = await conversation.command({ buildInfo: 1, $db: 'admin' }, deadline);
      const buildInfo = info.outcome === 'reply' && info.reply.ok === 1 ? info.reply : undefined;
      const adminMechanisms = target.user && target.authSource !== 'admin' ? await mechanismsIn(conversation, target, version, deadline) : undefined;
      return { ...base, connected, ...(tls ? { tls } : {}), hello, ...(buildInfo ? { buildInfo } : {}), ...(adminMechanisms ? { adminMechanisms } : {}) };
    }
    // A plain hello that gets hung up on (or a TLS alert back) is what a TLS-only port does:
    // one TLS handshake on a second connection tells it from a proxy with nothing behind it.
    const looksLikeTls = hello.outcome === 'closed' || (hello.outcome === 'foreign' && (hello.bytes[0] === 0x15 || hello.bytes[0] === 0x16));
    const otherWay = !target.tls && looksLikeTls ? await askOtherWay('tls', connected, spec.host, target, outer, version) : undefined;
    return { ...base, connected, ...(tls ? { tls } : {}), hello, ...(otherWay ? { otherWay } : {}) };
  } finally {
    socket.destroy();
  }
}

async function mechanismsIn(
  conversation: WireConversation,
  target: MongoTarget,
  version: string,
  deadline: Deadline,
): Promise<readonly string[] | 'none' | undefined> {
  const exchange = await conversation.command(helloCommand(target, version, false, `admin.${target.user ?? ''}`), deadline);
  if (exchange.outcome !== 'reply' || exchange.reply.ok !== 1) return undefined;
  const mechanisms: unknown = exchange.reply.saslSupportedMechs;
  return Array.isArray(mechanisms) ? mechanisms.map(String) : 'none';
}

async function askOtherWay(
  tried: 'tls' | 'plain',
  connected: Connected,
  host: string,
  target: MongoTarget,
  deadline: Deadline,
  version: string,
): Promise<OtherWay> {
  const tcp = await connectTcp(connected.address, connected.port, deadline);
  if (tcp.outcome !== 'connected') return { tried, answer: 'nothing' };
  let socket: Socket = tcp.socket;
  try {
    if (tried === 'tls') {
      const secured = await upgradeToTls(socket, { host, verify: 'none' }, deadline);
      if (secured.outcome !== 'established') return { tried, answer: 'nothing' };
      socket = secured.socket;
    }
    const hello = await new WireConversation(socket).command(helloCommand(target, version, true), deadline);
    if (hello.outcome === 'reply') return { tried, answer: 'mongodb' };
    if (hello.outcome === 'foreign') return { tried, answer: tried === 'tls' ? 'tls-only' : 'nothing', answeredBy: identifyProtocol(hello.bytes) };
    return { tried, answer: tried === 'tls' ? 'tls-only' : 'nothing' };
  } finally {
    socket.destroy();
  }
}

function verifyModeOf(target: MongoTarget): VerifyMode {
  if (target.tlsAllowInvalidCertificates) return 'none';
  return target.tlsAllowInvalidHostnames ? 'ca' : 'full';
}

function tlsOptions(target: MongoTarget, host: string): TlsUpgrade {
  const pem = target.tlsCertificateKeyFile && existsSync(target.tlsCertificateKeyFile) ? readFileSync(target.tlsCertificateKeyFile) : undefined;
  return {
    host,
    verify: verifyModeOf(target),
    ca: target.tlsCAFile && existsSync(target.tlsCAFile) ? readFileSync(target.tlsCAFile) : undefined,
    // A MongoDB client certificate file holds the certificate and its key together.
    cert: pem,
    key: pem,
  };
}

/** "host:port" or "[v6]:port", as hello lists members. */
export function parseMember(name: string): { host: string; port: number } {
  const match = /^\[?(.*?)\]?(?::(\d+))?$/.exec(name.trim());
  return { host: match?.[1] ?? name, port: Number(match?.[2] ?? 27017) };
}

export function memberKey(host: string, port: number): string {
  return `${host.toLowerCase()}:${port}`;
}

/** Every member a replica set advertises (hosts, passives, arbiters), as the driver will use them. */
export function advertisedMembers(reply: Document): string[] {
  const lists = [reply.hosts, reply.passives, reply.arbiters].filter((list): list is unknown[] => Array.isArray(list));
  return [...new Set(lists.flat().map(String))];
}

/** The first seed that answered hello as MongoDB; the primary among them when there is one. */
export function answeringSeed(seeds: readonly SeedProbe[]): (SeedProbe & { hello: Extract<Exchange, { outcome: 'reply' }> }) | undefined {
  const answered = seeds.filter(
    (seed): seed is SeedProbe & { hello: Extract<Exchange, { outcome: 'reply' }> } => seed.hello?.outcome === 'reply' && seed.hello.reply.ok === 1,
  );
  return answered.find((seed) => isWritablePrimary(seed.hello.reply)) ?? answered[0];
}

export function isWritablePrimary(reply: Document): boolean {
  return reply.isWritablePrimary === true || reply.ismaster === true;
}

async function probeMembers(target: MongoTarget, seeds: readonly SeedProbe[], deadline: Deadline): Promise<MemberProbe[]> {
  const answering = answeringSeed(seeds);
  if (!answering || target.directConnection === true || target.loadBalanced || answering.hello.reply.setName === undefined) return [];
  const reachedSeeds = new Set(seeds.filter((seed) => seed.connected).map((seed) => memberKey(seed.host, seed.port)));
  return Promise.all(
    advertisedMembers(answering.hello.reply).map(async (name): Promise<MemberProbe> => {
      const { host, port } = parseMember(name);
      if (reachedSeeds.has(memberKey(host, port))) return { name, host, port, reachable: true, viaSeed: true };
      const reached = await reachEndpoint({ host, port }, deadline);
      reached.socket?.destroy();
      return { name, host, port, entry: reached.entry, reachable: reached.socket !== undefined, viaSeed: false };
    }),
  );
}
