import type { PostgresTarget } from '../../config/postgres/target.js';
import type { CauseCode } from '../../engine/causes.js';
import { asOsUser, raw, sh } from '../../text/shell.js';
import { pgIdent } from '../../text/sql.js';
import { isInvisible } from '../../text/visible.js';
import { urlHost, urlLine, urlPart, urlQueryValue } from '../../text/url.js';

/**
 * Building blocks for copy-paste remediation. Commands never carry a password: psql asks for it,
 * or reads PGPASSWORD / ~/.pgpass as the operator's own setup has it. Every value is quoted for the
 * language it lands in: a shell word (text/shell), an SQL identifier or literal (text/sql), a URL
 * part (text/url), and for psql -c, SQL inside a shell word.
 */

/** Kept for the callers that name it so (dbdoctor explain); new code uses shellWord from text/shell. */
export { shellWord as shellQuote } from '../../text/shell.js';

/** The names the probes merged from issues 13 and 14 use for text/sql's PostgreSQL quoting. */
export { pgIdent as quoteIdent, pgLiteral as quoteLiteral } from '../../text/sql.js';

function endpointFlags(target: PostgresTarget): string {
  const endpoint = target.endpoints[0];
  if (!endpoint) return '';
  return sh`-h ${endpoint.host} -p ${endpoint.port}`;
}

/**
 * A libpq program for the target's first endpoint, connecting as the diagnosis did: -h and -p,
 * and before it the settings that decide where it connects and whom it trusts, as libpq's own
 * variables — PGHOSTADDR (the address connected to; -h then only names the server), and for a
 * verifying sslmode (verify-ca, verify-full) PGSSLMODE with the root certificate, and the client
 * certificate and key when the target has them. Without them the pasted command would look the
 * name up, or trust any certificate, or fail where the application succeeds.
 */
export function libpqProgram(target: PostgresTarget, program: string): string {
  const endpoint = target.endpoints[0];
  const settings: [string, string | undefined][] = [
    ['PGHOSTADDR', endpoint?.hostaddr],
    ['PGSSLMODE', target.sslmode === 'verify-ca' || target.sslmode === 'verify-full' ? target.sslmode : undefined],
    ['PGSSLROOTCERT', target.sslrootcert],
    ['PGSSLCERT', target.sslcert],
    ['PGSSLKEY', target.sslkey],
  ];
  const prefix = settings.map(([name, value]) => (value ? sh`${raw(name)}=${value} ` : '')).join('');
  return `${prefix}${program} ${endpointFlags(target)}`;
}

/**
 * A database name as psql's -d reads it. libpq takes a -d value holding "=", or starting with
 * postgresql:// or postgres://, as a whole connection string (expand_dbname): a database named
 * "host=elsewhere" would connect elsewhere. Such a name is given as a connection string naming only
 * it, dbname='…' (' and \ escaped with \, libpq's rule). A leading "-" needs nothing: -d takes the
 * next word whatever it starts with.
 */
export function dbnameOperand(database: string): string {
  return database.includes('=') || /^postgres(ql)?:\/\//.test(database) ? `dbname='${database.replace(/[\\']/g, '\\$&')}'` : database;
}

/** psql as `user`, to `database`. */
export function psqlAs(target: PostgresTarget, user: string, database: string, sql?: string): string {
  const base = sh`${raw(libpqProgram(target, 'psql'))} -U ${user} -d ${dbnameOperand(database)}`;
  return sql ? sh`${raw(base)} -c ${sql}` : base;
}

/** psql as the diagnosed user, to the diagnosed database. */
export function psqlAsUser(target: PostgresTarget, sql?: string): string {
  return psqlAs(target, target.user, target.database, sql);
}

/** psql as a superuser (the conventional "postgres" role), for fixes that need one. */
export function psqlAsAdmin(target: PostgresTarget, sql?: string, database = 'postgres'): string {
  return psqlAs(target, 'postgres', database, sql);
}

/**
 * Causes for which the diagnosed address takes no session (nothing listens there, or the server
 * refuses new ones): a statement for them is run on the database host, over its own socket, as the
 * operating-system user that owns the cluster (peer authentication, Debian's default).
 */
const NO_SESSION_HERE: ReadonlySet<CauseCode> = new Set<CauseCode>([
  'not_running',
  'wrong_port',
  'not_listening',
  'shutting_down',
  'no_response',
  'connection_reset',
  'starting_up',
  'recovery',
  'not_accepting',
]);

/**
 * The psql line that runs a remedy's statement against the server the diagnosis reached, as a
 * superuser (the statements remedies print need one: other sessions' queries, pg_terminate_backend,
 * roles, pg_hba_file_rules), in the diagnosed database — or in "postgres" when that database is
 * what is missing. psql asks for the password or reads ~/.pgpass; none is ever on the line.
 */
export function psqlStatement(target: PostgresTarget, sql: string, cause: CauseCode | null): string {
  if (cause !== null && NO_SESSION_HERE.has(cause)) return asOsUser('postgres', sh`psql -p ${target.endpoints[0]?.port ?? 5432} -c ${sql}`);
  return psqlAsAdmin(target, sql, cause === 'database_missing' ? 'postgres' : target.database);
}

/**
 * Sets a role's password the way that leaves it nowhere: psql's \password asks for it twice on the
 * terminal and sends only its SCRAM hash, where ALTER ROLE … PASSWORD '…' would put it in shell
 * history, the process list and the server log. Run as a superuser; `before` are statements to run
 * first (CREATE ROLE …). `server` is where, when it is not the diagnosed endpoint (the database
 * behind a pooler).
 */
export function setPassword(
  target: PostgresTarget,
  role: string,
  before: readonly string[] = [],
  server?: { host: string; port: number; database: string },
): string {
  const commands = [...before, `\\password ${pgIdent(role)}`].map((command) => sh`-c ${command}`).join(' ');
  // At the diagnosed endpoint, psql connects as the diagnosis did (hostaddr, TLS files: libpqProgram).
  if (!server) return sh`${raw(psqlAs(target, 'postgres', 'postgres'))} ${raw(commands)}`;
  return sh`psql -h ${server.host} -p ${server.port} -U postgres -d ${server.database} ${raw(commands)}`;
}

export function pgIsReady(target: PostgresTarget): string {
  return libpqProgram(target, 'pg_isready');
}

/**
 * A URL for the same target with one part changed, password left out: every part percent-encoded,
 * a socket directory in ?host=. It is a value (for the application's settings); a remedy that
 * prints it alone prints it with `urlCommand`.
 */
export function urlWith(
  target: PostgresTarget,
  change: {
    port?: number;
    host?: string;
    sslmode?: string;
    database?: string;
    user?: string;
    sslrootcert?: string;
    /** Several hosts, in order (libpq tries each); replaces host and port. */
    hosts?: readonly { readonly host: string; readonly port: number }[];
    targetSessionAttrs?: string;
  },
): string {
  const endpoint = target.endpoints[0];
  const host = change.host ?? endpoint?.host ?? 'localhost';
  const port = change.port ?? endpoint?.port ?? 5432;
  const user = urlPart(change.user ?? target.user);
  const database = urlPart(change.database ?? target.database);
  const params: string[] = [];
  const sslmode = change.sslmode ?? (target.sslmode !== 'prefer' ? target.sslmode : undefined);
  if (sslmode) params.push(`sslmode=${urlQueryValue(sslmode)}`);
  // The certificates the target verifies and authenticates with stay (verify-ca without its root
  // certificate would fail, or, for require, stop verifying), unless TLS is what is turned off.
  const tls = sslmode !== 'disable';
  const sslrootcert = change.sslrootcert ?? (tls ? target.sslrootcert : undefined);
  if (sslrootcert) params.push(`sslrootcert=${urlQueryValue(sslrootcert)}`);
  if (tls && target.sslcert) params.push(`sslcert=${urlQueryValue(target.sslcert)}`);
  if (tls && target.sslkey) params.push(`sslkey=${urlQueryValue(target.sslkey)}`);
  const targetSessionAttrs = change.targetSessionAttrs ?? (target.targetSessionAttrs !== 'any' ? target.targetSessionAttrs : undefined);
  if (targetSessionAttrs) params.push(`target_session_attrs=${urlQueryValue(targetSessionAttrs)}`);
  if (target.connectTimeoutMs !== undefined) params.push(`connect_timeout=${target.connectTimeoutMs / 1000}`);
  // The rest the user gave (application_name, options, keepalives, …) stays, so the URL connects as
  // theirs does; TLS-only settings go with TLS (sslnegotiation=direct is an error with sslmode=disable).
  for (const [keyword, value] of target.otherParams ?? []) if (tls || !/^ssl/.test(keyword)) params.push(`${keyword}=${urlQueryValue(value)}`);
  const hosts = change.hosts?.filter(
    (entry, index, all) =>
      !entry.host.startsWith('/') && !entry.host.startsWith('@') && all.findIndex((other) => other.host === entry.host && other.port === entry.port) === index,
  );
  if (hosts && hosts.length > 0) {
    const authorities = hosts.map((entry) => `${urlHost(entry.host)}:${entry.port}`);
    return `postgresql://${user}@${authorities.join(',')}/${database}${params.length > 0 ? `?${params.join('&')}` : ''}`;
  }
  // The address connected to stays with its host (libpq's hostaddr), unless the host is what changes.
  if (change.host === undefined && endpoint?.hostaddr) params.push(`hostaddr=${urlQueryValue(endpoint.hostaddr)}`);
  if (host.startsWith('/') || host.startsWith('@'))
    return `postgresql://${user}@/${database}?${[`host=${urlQueryValue(host)}`, `port=${port}`, ...params].join('&')}`;
  return `postgresql://${user}@${urlHost(host)}:${port}/${database}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}

/** A URL printed on its own line, to paste into the application's settings (text/url: urlLine). */
export const urlCommand = urlLine;

/** A .pgpass field: ":" and "\" escaped with "\" (libpq's rule); a line break cannot be written at all. */
export function pgpassField(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return undefined;
  return value.replace(/[\\:]/g, '\\$&');
}

/** Words pg_hba.conf reads as keywords in its database, user and address fields. */
const HBA_KEYWORDS = /^(?:all|sameuser|samerole|samegroup|replication|samehost|samenet)$/;

/**
 * A pg_hba.conf token: bare when it is a plain word and no keyword, else "double-quoted" with ""
 * for a quote (quoting also keeps a leading + or @ or / from meaning a group, a file or a regular
 * expression). pg_hba.conf has no way to write a line break, and a control or invisible character
 * cannot be copied from a printed line: undefined then.
 */
export function hbaToken(value: string): string | undefined {
  // A line of the file, printed to copy: a character that would not show as itself cannot be copied.
  if (value === '' || [...value].some(isInvisible)) return undefined;
  if (/^[A-Za-z0-9_.-]+$/.test(value) && !HBA_KEYWORDS.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}

/**
 * Process ids as a server reported them, for a statement: only whole numbers are kept. The types
 * say number, but a row comes from whatever answered (a pooler, a proxy, a hostile peer), and a
 * "pid" of `1); DROP …` must never reach a printed statement.
 */
export function pidsOf(values: readonly unknown[]): number[] {
  return [...new Set(values.filter((value): value is number => typeof value === 'number' && Number.isSafeInteger(value)))];
}

/** A statement per pid (SELECT pg_cancel_backend(…); …) as a remedy's command; none without a pid. */
export function perPid(values: readonly unknown[], statement: (pid: number) => string): { command: string; language: 'sql' } | Record<string, never> {
  const pids = pidsOf(values);
  return pids.length > 0 ? { command: pids.map(statement).join(' '), language: 'sql' } : {};
}
