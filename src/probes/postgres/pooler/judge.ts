import { formatMs } from '../../../text/duration.js';
import type { ConnectionTrace, ServerError } from '../connect.js';
import { describeBackendListener } from './backend.js';
import { poolerErrorOf } from './recognise.js';
import { consoleOf, localOf, logFileOf, poolLimits, settingOf, workingServers, type PoolerView, type PoolLimit } from './view.js';

/**
 * What the evidence says about the database behind the pooler, decided once for the steps that
 * report it (accepting, pool, auth) and for the context's decision. The client side alone is
 * often ambiguous — PgBouncer holds a login, or says "server login has been failing", alike for a
 * database that is down, one that refuses its login, one that came back within server_login_retry,
 * and a pool that may not open a connection because other pools hold a limit — so every other
 * source is weighed first, and what stays ambiguous is said as such:
 *
 *   the console      SHOW DATABASES / POOLS / SERVERS: a limit held by other pools, server
 *                    connections still logging in;
 *   the address      the [databases] line (console, or the configuration file on this machine),
 *                    what answers there (refused, silent, another program, PostgreSQL);
 *   PgBouncer's log  on this machine: its last login to the database for this pool, and the
 *                    database's own words when that login was refused.
 */
export type BackendJudgement =
  /** Nothing says the pooler cannot serve the pool. */
  | { readonly kind: 'serving' }
  /** PgBouncer may not open a server connection for this pool: a limit that other pools hold. */
  | { readonly kind: 'at-limit'; readonly limit: PoolLimit; readonly known: 'console' | 'configuration'; readonly reasons: readonly string[] }
  /** The database refused PgBouncer's login, in its own words (from PgBouncer's log). */
  | { readonly kind: 'refuses-login'; readonly words: string; readonly at: string; readonly logFile: string; readonly reasons: readonly string[] }
  | { readonly kind: 'down'; readonly how: DownHow; readonly reasons: readonly string[] };

/**
 * unreachable    the address refuses or does not answer (or PgBouncer's log says "connect failed");
 * not-postgres   another program answers at the address;
 * not-answering  the address takes connections but sends no PostgreSQL answer;
 * broke          a server connection broke under a query, or PgBouncer says it cannot connect;
 * came-back      the database answers now, but PgBouncer's last login failed to connect: it waits
 *                server_login_retry before trying again, and heals by itself;
 * logins-fail    the database answers, and PgBouncer's logins fail without its log to say why;
 * unknown        nothing beyond the client side: down, refusing, or at a limit.
 */
export type DownHow = 'unreachable' | 'not-postgres' | 'not-answering' | 'broke' | 'came-back' | 'logins-fail' | 'unknown';

/** What the pooler said, and to whom: the login, our first query, or a second client. */
export interface PoolerSaid {
  readonly error: ServerError;
  readonly to: 'login' | 'the first query' | 'a second client';
}

export function poolerSaid(trace: ConnectionTrace, view: PoolerView | undefined): PoolerSaid | undefined {
  if (trace.serverError) return { error: trace.serverError, to: 'login' };
  const confirmation = view?.confirmation;
  if (confirmation?.kind === 'turned-away') return { error: confirmation.error, to: confirmation.by === 'the query' ? 'the first query' : 'a second client' };
  return undefined;
}

/** PgBouncer's words that its logins to the database fail, which fit a database that is down and one that refuses it alike. */
export const AMBIGUOUS_WORDS = /^(server login has been failing, try again later|client_login_timeout \(server down\))/;

export function judgeBackend(view: PoolerView, trace: ConnectionTrace): BackendJudgement {
  const said = poolerSaid(trace, view);
  const saysDown = said !== undefined && poolerErrorOf(said.error)?.cause === 'pooler_backend_down' && !/cached error: /.test(said.error.message);
  const ambiguous = said !== undefined && AMBIGUOUS_WORDS.test(said.error.message);
  const { pool } = view;
  const noServer = !pool || workingServers(pool) === 0;
  const reach = view.backendReach?.outcome;
  // Held: the login was let in and then held; or our query waited in the queue and a second
  // client's login was held as well (PgBouncer had not failed a login yet when the second came,
  // so it neither turned it away nor let it in). A pool merely busy lets a second client log in.
  const held = view.signs.includes('silent-after-authentication') || secondLoginHeld(view);
  const heldBefore = view.signs.includes('held-before-authentication');
  const lost = view.confirmation?.kind === 'lost';
  const pgbouncer = view.admin.state === 'read' || view.name.startsWith('PgBouncer') || heldBefore || localOf(view) !== undefined;
  const unreached = noServer && reach !== undefined && reach !== 'answers';
  if (!saysDown && !unreached && !(held && pgbouncer) && !heldBefore && !lost) return { kind: 'serving' };

  const told = toldByTheClient(view, trace, said, heldBefore, lost);
  const limit = limitHeldByOthers(view);
  if (limit && noServer && (!saysDown || ambiguous) && reach !== 'refused' && reach !== 'unreachable') {
    return { kind: 'at-limit', limit: limit.limit, known: limit.known, reasons: [...told, limit.words] };
  }
  const last = view.lastLogin;
  const logFile = logFileOf(view);
  if (last?.kind === 'login-failed' && logFile && reach !== 'refused' && reach !== 'unreachable' && (!saysDown || ambiguous)) {
    return {
      kind: 'refuses-login',
      words: last.words,
      at: last.at,
      logFile,
      reasons: [...told, `PgBouncer's log (${logFile}) says its last login to the database for this pool, at ${last.at}, was refused: "${last.words}"`],
    };
  }
  const addressed = view.backend ? `${view.backendReach?.address.host ?? view.backend.host}:${view.backend.port}` : 'the database address';
  const from = view.admin.state === 'read' ? '' : localOf(view) ? ` (from ${localOf(view)?.configFile})` : '';
  switch (reach) {
    case 'refused':
      return { kind: 'down', how: 'unreachable', reasons: [...told, `the database address${from} refuses connections from here too (nothing listens there)`] };
    case 'unreachable':
      return { kind: 'down', how: 'unreachable', reasons: [...told, `the database address${from} does not answer from here either`] };
    case 'foreign':
    case 'silent':
    case 'closed':
      if (view.backendReach) {
        return {
          kind: 'down',
          how: reach === 'foreign' ? 'not-postgres' : 'not-answering',
          reasons: [...told, `at ${addressed}, where PgBouncer sends the database${from}, ${describeBackendListener(view.backendReach)}`],
        };
      }
      break;
    default:
      break;
  }
  if (saysDown && !ambiguous) return { kind: 'down', how: 'broke', reasons: told };
  if (lost) return { kind: 'down', how: 'broke', reasons: told };
  if (last?.kind === 'connect-failed') {
    return reach === 'answers'
      ? {
          kind: 'down',
          how: 'came-back',
          reasons: [
            ...told,
            `the database answers at ${addressed} now, but PgBouncer's last login to it failed to connect (its log, at ${last.at}): it tries again server_login_retry (${retryWords(view)}) after a failure, and heals by itself once it does`,
          ],
        }
      : { kind: 'down', how: 'unreachable', reasons: [...told, `PgBouncer's log says its last login to the database failed to connect (at ${last.at})`] };
  }
  // PgBouncer's words alone fit a database that is down and one that refuses it alike (before 1.24).
  const both = ambiguous ? ["PgBouncer before 1.24 says this both when the database is down and when it refuses PgBouncer's login"] : [];
  if (reach === 'answers') {
    const configured = configuredLimit(view);
    if (configured && (held || view.confirmation?.kind === 'queued') && !ambiguous) {
      return {
        kind: 'at-limit',
        limit: configured.limit,
        known: 'configuration',
        reasons: [
          ...told,
          `PostgreSQL answers at ${addressed}${from} and PgBouncer is not failing its logins, so a limit is likely what holds it: ${configured.words} (its console would say whether other pools hold it)`,
        ],
      };
    }
    return {
      kind: 'down',
      how: 'logins-fail',
      reasons: [
        ...told,
        ...both,
        `PostgreSQL answers at ${addressed}${from} (it answered an SSLRequest from here), so PgBouncer's logins to it fail — refused (PgBouncer's log says why), or it came back less than server_login_retry (${retryWords(view)}) ago`,
      ],
    };
  }
  return { kind: 'down', how: 'unknown', reasons: [...told, ...both, unknownWords(view, held || heldBefore)] };
}

/** A second client's login was held too: the pooler neither turned it away nor let it in. */
function secondLoginHeld(view: PoolerView): boolean {
  return view.confirmation?.kind === 'queued' && view.confirmation.second?.outcome === 'login-held';
}

/** The pooler's side of the story, as the client saw it. */
function toldByTheClient(view: PoolerView, trace: ConnectionTrace, said: PoolerSaid | undefined, heldBefore: boolean, lost: boolean): string[] {
  const reasons: string[] = [];
  if (said) reasons.push(saidWords(said, view));
  if (heldBefore) {
    const authQuery = settingOf(view, 'auth_query');
    reasons.push(
      `it held the login for ${formatMs(trace.durationMs)} before asking for a password${authQuery ? ' (auth_query, run as auth_user, needs the database to check the password)' : ''}`,
    );
  }
  if (view.signs.includes('silent-after-authentication'))
    reasons.push(`it accepted the login, then held it without a server connection for ${formatMs(trace.budgetMs)}`);
  if (lost && view.confirmation?.kind === 'lost')
    reasons.push(
      `it closed the session under the first query without a word (${view.confirmation.message}): the server connection it had given the query broke`,
    );
  if (secondLoginHeld(view) && view.confirmation?.kind === 'queued') {
    const first = view.signs.includes('silent-after-authentication')
      ? ''
      : `it let the login in from its cache and held the first query in its queue (${formatMs(view.confirmation.waitedMs)}); `;
    reasons.push(`${first}a second client's login was held too`);
  }
  const { pool } = view;
  if (pool) {
    const loggingIn = pool.sv_login > 0 ? `; ${pool.sv_login} server connection(s) still logging in (sv_login)` : '';
    reasons.push(
      `it holds no working server connection for ${pool.database}/${pool.user}${pool.cl_waiting > 0 ? ` and ${pool.cl_waiting} client(s) wait` : ''}${loggingIn}`,
    );
  }
  return reasons;
}

function saidWords(said: PoolerSaid, view: PoolerView): string {
  const words = `"${said.error.message}"`;
  switch (said.to) {
    case 'login':
      return `it says ${words}`;
    case 'the first query':
      return `it let the login in from its cache, then answered the first query with ${words}`;
    default:
      if (view.signs.includes('silent-after-authentication')) return `it turned a second client away with ${words}`;
      return `it let the login in from its cache and held the first query in its queue${view.confirmation && 'waitedMs' in view.confirmation ? ` (${formatMs(view.confirmation.waitedMs)})` : ''}, then turned a second client away with ${words}`;
  }
}

/** A limit across pools that other pools hold (the console's counts): this pool gets no server connection. */
function limitHeldByOthers(view: PoolerView): { readonly limit: PoolLimit; readonly known: 'console'; readonly words: string } | undefined {
  const limits = poolLimits(view);
  if (limits?.binding !== 'max_db_connections' && limits?.binding !== 'max_user_connections') return undefined;
  const what = limits.binding === 'max_db_connections' ? `database "${view.database?.name ?? '?'}"` : `user "${view.pool?.user ?? '?'}"`;
  return {
    limit: limits.binding,
    known: 'console',
    words: `its console shows ${limits.binding} = ${limits.allowed} for ${what}, all ${limits.held} held by other pools (SHOW DATABASES / SHOW POOLS): PgBouncer opens no server connection for this pool until one is released`,
  };
}

/** Without the console: a limit across pools written in the configuration file here. */
function configuredLimit(view: PoolerView): { readonly limit: PoolLimit; readonly words: string } | undefined {
  if (consoleOf(view)) return undefined;
  const local = localOf(view);
  if (!local) return undefined;
  const line = local.databases[view.database?.name ?? ''] ?? {};
  const perDatabase = Number(line.max_db_connections ?? local.settings.max_db_connections ?? 0);
  if (perDatabase > 0) return { limit: 'max_db_connections', words: `max_db_connections = ${perDatabase} is set in ${local.configFile}` };
  const perUser = Number(local.settings.max_user_connections ?? 0);
  if (perUser > 0) return { limit: 'max_user_connections', words: `max_user_connections = ${perUser} is set in ${local.configFile}` };
  return undefined;
}

function retryWords(view: PoolerView): string {
  const seconds = Number(settingOf(view, 'server_login_retry') ?? 15);
  return `${Number.isFinite(seconds) ? seconds : 15} s`;
}

function unknownWords(view: PoolerView, held: boolean): string {
  const limit = held ? ', or (its logins held) a limit such as max_db_connections that other pools hold keeps it from opening a connection for this pool' : '';
  const console =
    view.admin.state === 'read'
      ? ''
      : `its console is not open to this user${localOf(view) ? '' : ', and PgBouncer does not run on this machine (or is not readable) for its configuration and log'}`;
  return `not confirmed from here: the database is down, or refuses PgBouncer's login${limit}${console ? ` (${console})` : ''}`;
}
