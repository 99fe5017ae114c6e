import type { Document } from 'bson';
import type { MongoTarget } from '../../config/mongodb/target.js';
import type { CauseCode } from '../../engine/causes.js';
import { decideUnreached } from '../../net/classify.js';
import { identifyProtocol, isVague, type ProtocolGuess } from '../../net/sniff.js';
import { isForeign } from '../../net/identify.js';
import { advertisedMembers, answeringSeed, isWritablePrimary, memberKey, parseMember, type MemberProbe, type SeedProbe, type Survey } from './survey.js';

/**
 * What the survey means, decided once and read by every step. Layers, in order: MongoDB's own
 * error codes (a hello or command reply's `code`), then the socket's errno (net/classify), then
 * message text, last, for servers and proxies that send no code.
 */
export type Decision =
  /** The mongodb+srv:// records are missing, unanswered or malformed. */
  | { readonly kind: 'srv'; readonly cause: 'dns_not_found' | 'dns_temporary' | 'srv_invalid'; readonly record: 'SRV' | 'TXT' }
  /** Every seed refused: the process step looks at this machine to say why. */
  | { readonly kind: 'refused' }
  | {
      readonly kind: 'failure';
      readonly step: 'network' | 'accepting';
      readonly cause: CauseCode;
      readonly seed?: SeedProbe;
      readonly answeredBy?: ProtocolGuess;
    }
  /** A seed answered hello as MongoDB. */
  | { readonly kind: 'answered'; readonly seed: SeedProbe; readonly reply: Document };

/** MongoDB error codes a server may answer hello (or any command) with before it serves. */
export const BY_CODE: Readonly<Record<number, CauseCode>> = {
  91: 'shutting_down', // ShutdownInProgress
  11600: 'shutting_down', // InterruptedAtShutdown
  18: 'auth_failed', // AuthenticationFailed
  334: 'auth_mechanism', // MechanismUnavailable
  13: 'permission_denied', // Unauthorized
  11: 'role_missing', // UserNotFound
  10107: 'standby', // NotWritablePrimary (NotMaster): a write reached a secondary
  13435: 'standby', // NotPrimaryNoSecondaryOk (NotMasterNoSlaveOk): a read reached a secondary without secondaryOk
  189: 'no_primary', // PrimarySteppedDown
  11602: 'no_primary', // InterruptedDueToReplStateChange
  133: 'no_primary', // FailedToSatisfyReadPreference
};

/** The same codes by name, with the names older servers used (NotMaster, NotMasterNoSlaveOk). */
export const BY_CODE_NAME: Readonly<Record<string, CauseCode>> = {
  ShutdownInProgress: 'shutting_down',
  InterruptedAtShutdown: 'shutting_down',
  AuthenticationFailed: 'auth_failed',
  MechanismUnavailable: 'auth_mechanism',
  Unauthorized: 'permission_denied',
  UserNotFound: 'role_missing',
  NotWritablePrimary: 'standby',
  NotMaster: 'standby',
  NotPrimaryNoSecondaryOk: 'standby',
  NotMasterNoSlaveOk: 'standby',
  PrimarySteppedDown: 'no_primary',
  InterruptedDueToReplStateChange: 'no_primary',
  FailedToSatisfyReadPreference: 'no_primary',
};

/** For servers and proxies whose errors carry no (or a generic) code. */
export const BY_MESSAGE: readonly (readonly [RegExp, CauseCode])[] = [
  [
    /unsupported authentication mechanism|mechanism .* (is )?not (supported|enabled)|without any SCRAM-SHA-\S+ credentials|Unable to use SCRAM|auth mechanism .* not supported/i,
    'auth_mechanism',
  ],
  [/requires authentication/i, 'password_missing'],
  [/authentication failed|auth failed|bad auth/i, 'auth_failed'],
  [/not authorized|unauthorized/i, 'permission_denied'],
  [/shutdown in progress|shutting down|quiesce mode/i, 'shutting_down'],
  [/too many (open )?connections|connection refused because too many/i, 'too_many_connections'],
];

export interface ServerErrorFields {
  readonly code?: number | undefined;
  readonly codeName?: string | undefined;
  readonly message: string;
}

/** A server error → cause: message text first where it is more specific than the code. */
export function causeOfServerError(error: ServerErrorFields): CauseCode | undefined {
  const byText = BY_MESSAGE.find(([pattern]) => pattern.test(error.message))?.[1];
  // FerretDB answers an unsupported mechanism with code 18, and "requires authentication" comes
  // as code 13: the words are more precise than the code in both cases.
  if (byText === 'auth_mechanism' || byText === 'password_missing') return byText;
  const byCode = (error.code !== undefined ? BY_CODE[error.code] : undefined) ?? (error.codeName ? BY_CODE_NAME[error.codeName] : undefined);
  return byCode ?? byText;
}

export function decide(survey: Survey): Decision {
  const { srv } = survey;
  if (srv) {
    if (srv.srv.outcome !== 'found') return { kind: 'srv', cause: srv.srv.outcome === 'not_found' ? 'dns_not_found' : 'dns_temporary', record: 'SRV' };
    if (srv.problem) return { kind: 'srv', cause: 'srv_invalid', record: srv.problem.record };
    if (srv.txt.outcome === 'temporary') return { kind: 'srv', cause: 'dns_temporary', record: 'TXT' };
  }
  const answering = answeringSeed(survey.seeds);
  if (answering) return { kind: 'answered', seed: answering, reply: answering.hello.reply };
  const seed = survey.seeds.find((candidate) => candidate.connected);
  if (!seed) {
    const unreached = decideUnreached(survey.seeds.map((candidate) => candidate.entry));
    return unreached.kind === 'refused' ? unreached : { kind: 'failure', step: 'network', cause: unreached.cause };
  }
  return { kind: 'failure', step: 'accepting', seed, ...judgeConnectedSeed(seed) };
}

/** A seed that connected but did not answer hello as MongoDB: why not. */
export function judgeConnectedSeed(seed: SeedProbe): { cause: CauseCode; answeredBy?: ProtocolGuess } {
  const { tls, hello, otherWay } = seed;
  if (tls?.outcome === 'verify_failed') return { cause: 'tls_verify_failed' };
  if (tls && tls.outcome !== 'established') {
    if (otherWay?.answer === 'mongodb') return { cause: 'tls_unsupported' };
    if (isForeign(seed.listener, 'mongodb')) return { cause: 'wrong_protocol', answeredBy: seed.listener.answeredBy };
    if (otherWay?.answeredBy) return { cause: 'wrong_protocol', answeredBy: otherWay.answeredBy };
    return { cause: tls.outcome === 'timeout' ? 'no_response' : 'tls_handshake_failed' };
  }
  if (otherWay?.tried === 'tls' && otherWay.answer === 'mongodb') return { cause: 'tls_required' };
  // Silence, a hang-up or a vague answer on hello, and another protocol named on a new connection.
  if (isForeign(seed.listener, 'mongodb') && !(hello?.outcome === 'foreign' && isVague(seed.listener.answeredBy)))
    return { cause: 'wrong_protocol', answeredBy: seed.listener.answeredBy };
  if (otherWay?.tried === 'tls' && otherWay.answer === 'tls-only') {
    return {
      cause: 'wrong_protocol',
      answeredBy: { protocol: 'tls', description: 'a TLS-only endpoint that does not answer MongoDB’s hello even over TLS', sample: '' },
    };
  }
  if (!hello) return { cause: 'no_response' };
  switch (hello.outcome) {
    case 'reply': {
      const error = { code: numberOf(hello.reply.code), codeName: stringOf(hello.reply.codeName), message: stringOf(hello.reply.errmsg) ?? '' };
      const cause = causeOfServerError(error);
      return { cause: cause === 'shutting_down' ? cause : 'not_accepting' };
    }
    case 'foreign':
      return { cause: 'wrong_protocol', answeredBy: identifyProtocol(hello.bytes) };
    case 'closed':
      return hello.bytes.length > 0 ? { cause: 'wrong_protocol', answeredBy: identifyProtocol(hello.bytes) } : { cause: 'no_response' };
    case 'error':
      return { cause: hello.code === 'ECONNRESET' ? 'connection_reset' : 'no_response' };
    default:
      return { cause: 'no_response' };
  }
}

/** Replica-set checks at the accepting step: the right set, and a primary when one is needed. */
export type TopologyProblem =
  | { readonly cause: 'replica_set_mismatch'; readonly expected: string; readonly found: string }
  | { readonly cause: 'no_primary'; readonly setName: string }
  /** A direct connection to a secondary while the read preference wants the primary: reads work, writes fail. */
  | { readonly cause: 'standby'; readonly setName: string; readonly primary?: string };

export function describeServer(reply: Document): string {
  if (reply.msg === 'isdbgrid') return 'a mongos router (sharded cluster)';
  if (typeof reply.setName === 'string') return `a member of replica set "${reply.setName}"`;
  return 'a standalone server (no replica set)';
}

export function judgeTopology(target: MongoTarget, survey: Survey): TopologyProblem | undefined {
  const replies = survey.seeds.flatMap((seed) => (seed.hello?.outcome === 'reply' && seed.hello.reply.ok === 1 ? [seed.hello.reply] : []));
  const first = replies[0];
  if (!first) return undefined;
  if (target.replicaSet !== undefined && replies.every((reply) => reply.setName !== target.replicaSet)) {
    return { cause: 'replica_set_mismatch', expected: target.replicaSet, found: describeServer(first) };
  }
  const setName = typeof first.setName === 'string' ? first.setName : undefined;
  if (setName === undefined || target.readPreference !== 'primary') return undefined;
  if (target.directConnection === true) {
    // A direct connection never looks for the primary: writes to a secondary fail ("not primary").
    if (!isWritablePrimary(first)) return { cause: 'standby', setName, ...(typeof first.primary === 'string' ? { primary: first.primary } : {}) };
    return undefined;
  }
  if (!replies.some((reply) => isWritablePrimary(reply) || typeof reply.primary === 'string')) return { cause: 'no_primary', setName };
  return undefined;
}

/** Read preferences that accept a secondary: a secondary reached with one of them was asked for. */
export const SECONDARY_OK = new Set(['secondary', 'secondaryPreferred', 'nearest', 'primaryPreferred']);

export type MongoReplicationProblem =
  | { readonly cause: 'replication_stopped'; readonly summary: string }
  | { readonly cause: 'replication_lag'; readonly summary: string; readonly lagSeconds: number };

/**
 * A secondary's own health, from hello: a set that names no primary receives no writes at all;
 * a secondary whose last write is older than the primary's by more than the threshold lags
 * (both dates from hello's lastWrite, the same clock: the primary's).
 */
export function judgeSecondary(reply: Document, primaryReply: Document | undefined, lagThresholdMs: number): MongoReplicationProblem | undefined {
  if (isWritablePrimary(reply) || typeof reply.setName !== 'string') return undefined;
  if (typeof reply.primary !== 'string') {
    return {
      cause: 'replication_stopped',
      summary: `replica set "${reply.setName}" names no primary: this secondary receives no new writes (an election is under way, or too few members are up to elect one)`,
    };
  }
  const own = lastWriteDate(reply);
  const primaries = primaryReply ? lastWriteDate(primaryReply) : undefined;
  if (own === undefined || primaries === undefined) return undefined;
  const lagSeconds = Math.max(0, (primaries.getTime() - own.getTime()) / 1000);
  if (lagSeconds * 1000 <= lagThresholdMs) return undefined;
  return {
    cause: 'replication_lag',
    lagSeconds,
    summary: `this secondary's last write is ${Math.round(lagSeconds)} s behind its primary ${reply.primary}'s (hello lastWrite.lastWriteDate; threshold ${Math.round(lagThresholdMs / 1000)} s)`,
  };
}

function lastWriteDate(reply: Document): Date | undefined {
  const lastWrite: unknown = reply.lastWrite;
  if (typeof lastWrite !== 'object' || lastWrite === null || !('lastWriteDate' in lastWrite)) return undefined;
  const date = lastWrite.lastWriteDate;
  return date instanceof Date ? date : undefined;
}

/** The primary a replica set names: from `primary`, else the writable seed's own name (`me`). */
export function primaryName(reply: Document): string | undefined {
  if (typeof reply.primary === 'string') return reply.primary;
  if (!isWritablePrimary(reply)) return undefined;
  if (typeof reply.me === 'string') return reply.me;
  const members = advertisedMembers(reply);
  return members.length === 1 ? members[0] : undefined;
}

/** The network step's replica-set check: can the members the driver will use be reached? */
export function unreachableMember(target: MongoTarget, survey: Survey): { member: MemberProbe; role: 'primary' | 'every member' } | undefined {
  if (survey.members.length === 0) return undefined;
  const answering = answeringSeed(survey.seeds);
  const primary = answering ? primaryName(answering.hello.reply) : undefined;
  if (primary && target.readPreference === 'primary') {
    const { host, port } = parseMember(primary);
    const member = survey.members.find((candidate) => memberKey(candidate.host, candidate.port) === memberKey(host, port));
    if (member && !member.reachable) return { member, role: 'primary' };
  }
  const first = survey.members[0];
  if (first && survey.members.every((member) => !member.reachable)) return { member: first, role: 'every member' };
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
