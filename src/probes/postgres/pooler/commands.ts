import type { PostgresTarget } from '../../../config/postgres/target.js';
import type { Remediation } from '../../../engine/schema.js';
import { raw, sh, shellQuote } from '../../../text/shell.js';
import { pgLiteral } from '../../../text/sql.js';
import { isInvisible } from '../../../text/visible.js';
import { ADMIN_DATABASE } from './admin.js';
import { localOf, logFileOf, settingOf, type PoolerView } from './view.js';

/**
 * Copy-paste remediation for PgBouncer. Its admin commands (RELOAD, RESUME, RECONNECT, …) change
 * a running pooler: dbdoctor prints them and never sends them. They run on the admin console as a
 * user listed in admin_users; SHOW commands also as one listed in stats_users.
 */
export function adminPsql(target: PostgresTarget, view: PoolerView | undefined, sql: string | readonly string[], needs: 'admin' | 'stats' = 'stats'): string {
  const endpoint = target.endpoints[0];
  // The diagnosed user may read the console when it just did; changes need one of admin_users,
  // named when the console showed them; else the console's own user, "pgbouncer".
  const admins = (view?.admin.state === 'read' ? (view.admin.console.config.admin_users ?? '') : '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const user = needs === 'stats' && view?.admin.state === 'read' ? target.user : (admins[0] ?? 'pgbouncer');
  // The console takes one command per query: one -c each. A list is taken as it is (a command
  // may name a database with a ";" in it); fixed text is split at its semicolons.
  const commands = typeof sql === 'string' ? sql.split(/(?<=;)\s*/).filter((command) => command.length > 0) : sql;
  const hostaddr = endpoint?.hostaddr ? sh`PGHOSTADDR=${endpoint.hostaddr} ` : '';
  return sh`${raw(hostaddr)}psql -h ${endpoint?.host ?? 'localhost'} -p ${endpoint?.port ?? 6432} -U ${user} ${ADMIN_DATABASE} ${raw(commands.map((command) => sh`-c ${command}`).join(' '))}`;
}

/**
 * A name on PgBouncer's admin console (RESUME db;) or as a [databases] key in pgbouncer.ini: bare
 * when it is letters, digits and "_", else "double-quoted" with "" for a quote, as PgBouncer reads
 * both. A line of pgbouncer.ini cannot hold a line break, and is printed to be copied: a control
 * or invisible character in it is undefined then (on the console, psql -c carries any of them).
 */
export function pgbouncerName(name: string, where: 'console' | 'ini' = 'console'): string | undefined {
  if (where === 'ini' && [...name].some(isInvisible)) return undefined;
  return /^[0-9A-Za-z_]+$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** A value in a [databases] connection string: bare when it has no space or quote, else '…' with '' (PgBouncer's rule). */
export function pgbouncerValue(value: string): string | undefined {
  if ([...value].some(isInvisible)) return undefined;
  return value !== '' && /^[^\s']+$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`;
}

export function onConsole(target: PostgresTarget, view: PoolerView | undefined, text: string, sql: string | readonly string[]): Remediation {
  return { text: `${text} (on PgBouncer's admin console, as a user in admin_users):`, command: adminPsql(target, view, sql, 'admin'), language: 'shell' };
}

export function showOnConsole(target: PostgresTarget, view: PoolerView | undefined, text: string, sql: string | readonly string[]): Remediation {
  return { text: `${text} (PgBouncer's admin console; admin_users or stats_users may read it):`, command: adminPsql(target, view, sql), language: 'shell' };
}

/** Where PgBouncer's files are when nothing says: Debian's package. */
export const CONFIG_FILE = 'pgbouncer.ini (/etc/pgbouncer/pgbouncer.ini on Debian)';
const DEBIAN_LOG = '/var/log/postgresql/pgbouncer.log';

/**
 * The files of this PgBouncer, named as it has them when dbdoctor could see: its configuration
 * file from its command line on this machine, its log and auth_file from SHOW CONFIG (or that
 * file); Debian's paths otherwise.
 */
export function configFileOf(view: PoolerView | undefined): string {
  const local = localOf(view);
  return local ? local.configFile : CONFIG_FILE;
}

/** The auth_file the console showed; without the console, the setting to look for and Debian's default (a made-up path would send someone to the wrong file). */
export function authFileOf(view: PoolerView | undefined): string {
  return settingOf(view, 'auth_file') || 'the file auth_file names in pgbouncer.ini, by default /etc/pgbouncer/userlist.txt on Debian';
}

/** PgBouncer's failed logins to the database, from its log (or the journal, when it logs there only). */
export function serverLoginLog(view: PoolerView | undefined): Remediation {
  const logFile = logFileOf(view);
  const grep = 'grep -E "server login|login failed|connect failed|closing because"';
  const known = logFile !== undefined || view?.admin.state === 'read' || localOf(view) !== undefined;
  return {
    text: 'PgBouncer\'s log names each failed login to the database ("connect failed", or the database\'s own words, e.g. a password or pg_hba.conf refusal):',
    command: logFile
      ? `sudo ${grep} ${shellQuote(logFile)} | tail -n 20`
      : known
        ? `sudo journalctl -t pgbouncer --since "-30min" --no-pager | ${grep} | tail -n 20`
        : `sudo ${grep} ${DEBIAN_LOG} | tail -n 20`,
    language: 'shell',
  };
}

/**
 * The auth_file line for a role, built on the database server from its stored secret. auth_file
 * fields are double-quoted with "" for a quote, which the query writes itself.
 */
export function authFileLine(target: PostgresTarget, view: PoolerView | undefined): Remediation {
  return {
    text: `Build the auth_file line for "${target.user}" from the role's stored secret (as a superuser on the database server), then put it in ${authFileOf(view)} in place of the old one:`,
    command: `SELECT format('"%s" "%s"', replace(rolname, '"', '""'), replace(rolpassword, '"', '""')) FROM pg_authid WHERE rolname = ${pgLiteral(target.user)};`,
    language: 'sql',
  };
}
