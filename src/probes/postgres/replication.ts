import { parseKeywordValue } from '../../config/postgres/conninfo.js';
import type { Deadline } from '../../engine/deadline.js';
import type { Evidence } from '../../engine/schema.js';
import { formatMs } from '../../text/duration.js';
import { reachFirst } from '../../net/reach.js';
import type { ReadOnlySession } from './session.js';

/**
 * What the server is, asked live through the session: its version and whether it is in recovery
 * (a standby), and for a standby how its replication stands. Asked rather than read from the
 * login's ParameterStatus because a pooler replays those from an earlier server connection
 * (PgBouncer caches them per pool), and PostgreSQL before 14 does not report in_hot_standby.
 *
 * What a role may see differs: any role sees pg_is_in_recovery(), the replay timestamps and LSNs
 * and whether a WAL receiver runs (its pid); its state and sender need pg_read_all_stats, and
 * primary_conninfo (which may hold a password: only its host and port are kept) needs
 * pg_read_all_settings or a superuser.
 */
export const ROLE_SQL = `SELECT current_setting('server_version') AS server_version, pg_is_in_recovery() AS in_recovery, current_setting('default_transaction_read_only') = 'on' AS default_read_only`;

/** PostgreSQL 10 renamed the xlog functions; sender_host arrived in 11, primary_conninfo as a setting in 12. */
export function replicationSql(majorVersion: number): string | undefined {
  if (majorVersion > 0 && majorVersion < 10) return undefined;
  const sender = majorVersion >= 11 || majorVersion === 0 ? "'senderHost', sender_host, 'senderPort', sender_port," : '';
  return `SELECT (SELECT json_build_object('pid', pid, 'status', status, ${sender}
                        'lastMessageSeconds', round(extract(epoch FROM now() - last_msg_receipt_time)::numeric, 1))
          FROM pg_stat_wal_receiver) AS receiver,
       round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 1)::float8 AS replay_age_seconds,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 AS replay_pending_bytes,
       pg_is_wal_replay_paused() AS replay_paused,
       CASE WHEN pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
            THEN current_setting('primary_conninfo', true) END AS primary_conninfo,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_stats,
       pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS reads_settings`;
}

interface RoleRow {
  server_version: string;
  in_recovery: boolean;
  default_read_only: boolean;
}

interface ReplicationRow {
  receiver: { pid: number | null; status: string | null; senderHost?: string | null; senderPort?: number | null; lastMessageSeconds: number | null } | null;
  replay_age_seconds: number | null;
  replay_pending_bytes: number | null;
  replay_paused: boolean | null;
  primary_conninfo: string | null;
  reads_stats: boolean | null;
  reads_settings: boolean | null;
}

export interface PrimaryAddress {
  readonly host: string;
  readonly port: number;
  /** Where the standby told us: its WAL receiver's sender, or its primary_conninfo. */
  readonly from: 'pg_stat_wal_receiver' | 'primary_conninfo';
}

export interface Replication {
  /**
   * The WAL receiver: `absent` when none runs (not streaming at all), `hidden` when one runs but
   * this role may not see its state, else its status ("streaming", "waiting", …).
   */
  readonly receiver:
    | { readonly state: 'absent' }
    | { readonly state: 'hidden' }
    | { readonly state: 'visible'; readonly status: string; readonly lastMessageSeconds: number | null };
  /** Seconds since the last replayed transaction committed on the primary; null before any. */
  readonly replayAgeSeconds: number | null;
  /** WAL received but not replayed yet, in bytes; null when nothing was ever streamed. */
  readonly replayPendingBytes: number | null;
  readonly replayPaused: boolean;
  /** The primary, when the standby shows it to this role. */
  readonly primary?: PrimaryAddress;
  /** Why the primary is not known, when it is not: in words that fit what this role may see. */
  readonly primaryUnknown?: string;
  /** Only when the receiver does not stream and the primary is known: does its port answer from here? */
  readonly primaryReach?: 'answers' | 'refused' | 'unreachable';
}

export interface ServerState {
  /** The version of the server that answered the query: behind a pooler, the database's own. */
  readonly serverVersion: string;
  readonly inRecovery: boolean;
  /** default_transaction_read_only: a primary can make every session read-only (libpq's read-write refuses it). */
  readonly defaultReadOnly?: boolean;
  readonly replication?: Replication;
  /** Why the replication state is not known, when it is not. */
  readonly replicationUnknown?: string;
}

/** One query for every server; a second one only on a standby. */
export async function readServerState(session: ReadOnlySession, deadline: Deadline): Promise<ServerState> {
  const [role] = await session.query<RoleRow>(ROLE_SQL, [], deadline);
  if (!role) throw new Error('pg_is_in_recovery() returned no row');
  const state = { serverVersion: role.server_version, inRecovery: role.in_recovery, defaultReadOnly: role.default_read_only };
  if (!role.in_recovery) return state;
  const sql = replicationSql(session.majorVersion);
  if (!sql) return { ...state, replicationUnknown: 'not checked before PostgreSQL 10' };
  const [row] = await session.query<ReplicationRow>(sql, [], deadline);
  if (!row) return { ...state, replicationUnknown: 'the replication functions returned nothing' };
  const replication = replicationOf(row);
  const streaming = replication.receiver.state === 'hidden' || (replication.receiver.state === 'visible' && replication.receiver.status === 'streaming');
  if (streaming || !replication.primary) return { ...state, replication };
  return { ...state, replication: { ...replication, primaryReach: await reachPrimary(replication.primary, deadline) } };
}

function replicationOf(row: ReplicationRow): Replication {
  const receiver: Replication['receiver'] =
    row.receiver === null || row.receiver.pid === null
      ? { state: 'absent' }
      : row.receiver.status === null
        ? { state: 'hidden' }
        : { state: 'visible', status: row.receiver.status, lastMessageSeconds: row.receiver.lastMessageSeconds };
  const sender = row.receiver?.senderHost
    ? { host: row.receiver.senderHost, port: row.receiver.senderPort ?? 5432, from: 'pg_stat_wal_receiver' as const }
    : undefined;
  const primary = sender ?? primaryFromConninfo(row.primary_conninfo);
  return {
    receiver,
    replayAgeSeconds: row.replay_age_seconds,
    replayPendingBytes: row.replay_pending_bytes,
    replayPaused: row.replay_paused === true,
    ...(primary ? { primary } : { primaryUnknown: whyPrimaryUnknown(receiver, row) }),
  };
}

/**
 * Where the primary would show, and why it does not here: the WAL receiver's sender (to
 * pg_read_all_stats, and only while a receiver runs) and primary_conninfo (to pg_read_all_settings).
 */
function whyPrimaryUnknown(receiver: Replication['receiver'], row: ReplicationRow): string {
  const stats = row.reads_stats === true;
  const settings = row.reads_settings === true;
  if (!stats && !settings)
    return "the standby does not show where its primary is: its WAL receiver's sender needs pg_read_all_stats and its primary_conninfo pg_read_all_settings, and this role has neither";
  const sender = stats
    ? receiver.state === 'absent'
      ? 'no WAL receiver runs to name its sender'
      : 'its WAL receiver names no sender'
    : "its WAL receiver's sender needs pg_read_all_stats, which this role lacks";
  const conninfo = settings ? 'it has no primary_conninfo' : 'primary_conninfo needs pg_read_all_settings, which this role lacks';
  return `the standby does not show where its primary is: ${sender}, and ${conninfo}`;
}

/** host and port of primary_conninfo; never its password, which is dropped here. */
export function primaryFromConninfo(conninfo: string | null): PrimaryAddress | undefined {
  if (!conninfo) return undefined;
  try {
    const { options } = parseKeywordValue(conninfo);
    const host = options.host?.split(',')[0] ?? options.hostaddr?.split(',')[0];
    if (!host) return undefined;
    return { host, port: Number(options.port?.split(',')[0] ?? 5432) || 5432, from: 'primary_conninfo' };
  } catch {
    return undefined;
  }
}

/** A TCP connect to the primary, closed at once (nothing sent, nothing in its log). */
async function reachPrimary(primary: PrimaryAddress, deadline: Deadline): Promise<Replication['primaryReach']> {
  if (primary.host.startsWith('/')) return undefined;
  const within = deadline.limit(Math.min(1500, deadline.remainingMs() / 2), 'primary');
  const { entries, reached } = await reachFirst([{ host: primary.host, port: primary.port }], within);
  reached?.socket?.destroy();
  if (reached?.connected) return 'answers';
  const refused = entries.every((entry) => entry.connects.length > 0 && entry.connects.every((attempt) => attempt.outcome === 'refused'));
  return refused ? 'refused' : 'unreachable';
}

/** "127.0.0.1:5432" */
export function describePrimary(primary: PrimaryAddress): string {
  return primary.host.includes(':') ? `[${primary.host}]:${primary.port}` : `${primary.host}:${primary.port}`;
}

export type ReplicationProblem =
  { readonly cause: 'replication_stopped'; readonly summary: string } | { readonly cause: 'replication_lag'; readonly summary: string };

/** The standby's own health: not receiving at all, or applying late. */
export function judgeReplication(replication: Replication, lagThresholdMs: number): ReplicationProblem | undefined {
  const { receiver, replayAgeSeconds, replayPendingBytes } = replication;
  const age =
    replayAgeSeconds === null ? 'it has replayed no transaction since it started' : `its last replayed transaction is ${formatSeconds(replayAgeSeconds)} old`;
  if (receiver.state === 'absent' || (receiver.state === 'visible' && receiver.status !== 'streaming')) {
    const what = receiver.state === 'absent' ? 'no WAL receiver runs' : `its WAL receiver is "${receiver.status}", not streaming`;
    const primary = replication.primary
      ? primaryWords(replication.primary, replication.primaryReach)
      : (replication.primaryUnknown ?? 'the standby does not show where its primary is');
    return { cause: 'replication_stopped', summary: `the standby receives nothing from its primary: ${what}; ${primary}; ${age}` };
  }
  const pending = replayPendingBytes ?? 0;
  // Behind only while WAL waits to be replayed: an idle primary sends no transactions, so an old
  // replay timestamp alone is no lag. Replay paused with WAL waiting falls behind by itself.
  const late = replayAgeSeconds !== null && replayAgeSeconds * 1000 > lagThresholdMs;
  if (pending > 0 && (late || replication.replayPaused)) {
    const paused = replication.replayPaused ? ' (replay is paused: pg_wal_replay_pause() was called)' : '';
    return {
      cause: 'replication_lag',
      summary: `the standby applies changes late: ${age}, with ${formatBytes(pending)} of WAL received and not replayed yet${paused} (threshold ${formatSeconds(lagThresholdMs / 1000)})`,
    };
  }
  return undefined;
}

function primaryWords(primary: PrimaryAddress, reach: Replication['primaryReach']): string {
  const where = `its primary is ${describePrimary(primary)} (from ${primary.from})`;
  switch (reach) {
    case 'refused':
      return `${where}, which refuses connections from here too: it is down`;
    case 'unreachable':
      return `${where}, which does not answer from here either`;
    case 'answers':
      return `${where}, whose port answers from here: the standby's replication login or its network path to the primary fails (the standby's log says which)`;
    default:
      return where;
  }
}

export function replicationEvidence(state: ServerState): Evidence {
  const { replication } = state;
  return {
    inRecovery: state.inRecovery,
    serverVersion: state.serverVersion,
    ...(state.replicationUnknown ? { replication: state.replicationUnknown } : {}),
    ...(replication
      ? {
          replication: {
            walReceiver:
              replication.receiver.state === 'visible'
                ? { status: replication.receiver.status, lastMessageSeconds: replication.receiver.lastMessageSeconds }
                : replication.receiver.state === 'hidden'
                  ? 'running (its state needs pg_read_all_stats)'
                  : 'none',
            replayAgeSeconds: replication.replayAgeSeconds,
            replayPendingBytes: replication.replayPendingBytes,
            replayPaused: replication.replayPaused,
            ...(replication.primary ? { primary: { ...replication.primary } } : {}),
            ...(replication.primaryReach ? { primarySeenFromHere: replication.primaryReach } : {}),
          },
        }
      : {}),
  };
}

function formatSeconds(seconds: number): string {
  return formatMs(seconds * 1000);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${Math.round(bytes / 1024 / 102.4) / 10} MB`;
}
