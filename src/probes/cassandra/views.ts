import type { Client } from 'cassandra-driver';
type Host = ReturnType<Client['hosts']['values']>[number];
import type { Deadline } from '../../engine/deadline.js';
import { query, type Row } from './driver.js';
import { ERROR_CODES } from './frame.js';

/**
 * Virtual tables (system_views, Cassandra 4.0+) describe one node each: they are read from every
 * node the driver holds up. A role that may not read one, or a version without it, narrows the
 * view; that is reported, never fatal.
 */
export type NodeRows = { readonly node: string; readonly rows: Row[] };

export type ViewResult = { readonly kind: 'rows'; readonly perNode: readonly NodeRows[] } | { readonly kind: 'hidden'; readonly reason: string };

export function upHosts(client: Client): Host[] {
  return client.hosts.values().filter((host) => host.isUp());
}

export async function readPerNode(client: Client, table: string, cql: string, deadline: Deadline): Promise<ViewResult> {
  const perNode: NodeRows[] = [];
  for (const host of upHosts(client)) {
    try {
      perNode.push({ node: host.address, rows: await query(client, cql, [], deadline, { host }) });
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? error.code : undefined;
      if (code === ERROR_CODES.unauthorized) return { kind: 'hidden', reason: `this role may not read ${table}` };
      if (code === ERROR_CODES.invalid || code === ERROR_CODES.syntaxError)
        return { kind: 'hidden', reason: `${table} does not exist on this Cassandra version (4.0+ has it)` };
      throw error;
    }
  }
  return { kind: 'rows', perNode };
}
