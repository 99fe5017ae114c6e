import type { PostgresTarget } from '../../config/postgres/target.js';
import { shellQuote } from '../../text/shell.js';

/**
 * Building blocks for copy-paste remediation. Commands never carry a password: psql asks for it,
 * or reads PGPASSWORD / ~/.pgpass as the operator's own setup has it.
 */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function endpointFlags(target: PostgresTarget): string {
  const endpoint = target.endpoints[0];
  if (!endpoint) return '';
  return `-h ${shellQuote(endpoint.host)} -p ${endpoint.port}`;
}

/** psql as the diagnosed user, to the diagnosed database. */
export function psqlAsUser(target: PostgresTarget, sql?: string): string {
  const base = `psql ${endpointFlags(target)} -U ${shellQuote(target.user)} -d ${shellQuote(target.database)}`;
  return sql ? `${base} -c ${shellQuote(sql)}` : base;
}

/** psql as a superuser (the conventional "postgres" role), for fixes that need one. */
export function psqlAsAdmin(target: PostgresTarget, sql?: string, database = 'postgres'): string {
  const base = `psql ${endpointFlags(target)} -U postgres -d ${shellQuote(database)}`;
  return sql ? `${base} -c ${shellQuote(sql)}` : base;
}

export function pgIsReady(target: PostgresTarget): string {
  return `pg_isready ${endpointFlags(target)}`;
}

/** A URL for the same target with one part changed, password left out. */
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
  const user = encodeURIComponent(change.user ?? target.user);
  const database = encodeURIComponent(change.database ?? target.database);
  const params: string[] = [];
  const sslmode = change.sslmode ?? (target.sslmode !== 'prefer' ? target.sslmode : undefined);
  if (sslmode) params.push(`sslmode=${sslmode}`);
  if (change.sslrootcert) params.push(`sslrootcert=${change.sslrootcert}`);
  if (change.targetSessionAttrs) params.push(`target_session_attrs=${change.targetSessionAttrs}`);
  const hosts = change.hosts?.filter((entry, index, all) => !entry.host.startsWith('/') && all.findIndex((other) => other.host === entry.host && other.port === entry.port) === index);
  if (hosts && hosts.length > 0) {
    const authorities = hosts.map((entry) => (entry.host.includes(':') ? `[${entry.host}]:${entry.port}` : `${entry.host}:${entry.port}`));
    return `postgresql://${user}@${authorities.join(',')}/${database}${params.length > 0 ? `?${params.join('&')}` : ''}`;
  }
  if (host.startsWith('/')) return `postgresql://${user}@/${database}?${[`host=${host}`, `port=${port}`, ...params].join('&')}`;
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return `postgresql://${user}@${authority}/${database}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}
