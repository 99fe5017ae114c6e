import { Resolver } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../../engine/deadline.js';

/**
 * The DNS seed list behind a mongodb+srv:// name, looked up as the driver does (c-ares through
 * node:dns, reading /etc/resolv.conf): the SRV record `_mongodb._tcp.<host>` lists the hosts, an
 * optional TXT record on `<host>` adds options. Every answer is kept, and the rules the driver
 * enforces ("Initial DNS Seedlist Discovery" specification) are checked here so that a record it
 * would reject is named, instead of a parse error after the fact.
 */
export interface SrvTarget {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export type DnsAnswer<T> =
  | { readonly outcome: 'found'; readonly records: readonly T[]; readonly durationMs: number }
  | { readonly outcome: 'not_found' | 'temporary'; readonly code: string; readonly message: string; readonly durationMs: number };

export interface SrvLookup {
  /** The name asked for SRV, e.g. _mongodb._tcp.cluster0.example.com. */
  readonly srvName: string;
  /** The name asked for TXT: the host itself. */
  readonly host: string;
  readonly srv: DnsAnswer<SrvTarget>;
  readonly txt: DnsAnswer<string>;
  /** Why the driver would refuse these records, when it would. */
  readonly problem?: { readonly record: 'SRV' | 'TXT'; readonly reason: string };
  /** Options the TXT record sets (only authSource, replicaSet, loadBalanced are allowed). */
  readonly txtOptions: Readonly<Record<string, string>>;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA']);
export const TXT_OPTIONS = ['authSource', 'replicaSet', 'loadBalanced'] as const;

export async function lookupSeedList(host: string, serviceName: string, deadline: Deadline): Promise<SrvLookup> {
  const srvName = `_${serviceName}._tcp.${host}`;
  // One resolver per query, so that cancelling one on the deadline does not cancel the other.
  const [srv, txt] = await Promise.all([
    ask(deadline, (resolver) => resolver.resolveSrv(srvName)),
    ask(deadline, async (resolver) => (await resolver.resolveTxt(host)).map((chunks) => chunks.join(''))),
  ]);
  const txtOptions = txt.outcome === 'found' && txt.records.length === 1 ? Object.fromEntries(new URLSearchParams(txt.records[0] ?? '')) : {};
  const problem = judgeRecords(host, srv, txt);
  return { srvName, host, srv, txt, txtOptions, ...(problem ? { problem } : {}) };
}

async function ask<T>(deadline: Deadline, query: (resolver: Resolver) => Promise<T[]>): Promise<DnsAnswer<T>> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  const resolver = new Resolver({ timeout: Math.max(1, deadline.remainingMs()), tries: 1 });
  const cancel = (): void => resolver.cancel();
  deadline.onExpired(cancel);
  try {
    return { outcome: 'found', records: await query(resolver), durationMs: elapsed() };
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'EUNKNOWN';
    const message =
      code === 'ECANCELLED' ? `the resolver gave no answer within ${deadline.budgetMs} ms` : error instanceof Error ? error.message : String(error);
    return { outcome: NOT_FOUND.has(code) ? 'not_found' : 'temporary', code: code === 'ECANCELLED' ? 'ETIMEOUT' : code, message, durationMs: elapsed() };
  } finally {
    deadline.signal.removeEventListener('abort', cancel);
  }
}

/** The driver's rules for the records, in its order. */
export function judgeRecords(host: string, srv: DnsAnswer<SrvTarget>, txt: DnsAnswer<string>): SrvLookup['problem'] {
  if (srv.outcome === 'found') {
    if (srv.records.length === 0) return { record: 'SRV', reason: 'the SRV record lists no hosts' };
    for (const record of srv.records) {
      const reason = parentDomainProblem(record.name, host);
      if (reason) return { record: 'SRV', reason: `${record.name}: ${reason}` };
    }
  }
  if (txt.outcome === 'found') {
    if (txt.records.length > 1) return { record: 'TXT', reason: `${txt.records.length} TXT records; at most one is allowed` };
    const options = new URLSearchParams(txt.records[0] ?? '');
    const unknown = [...options.keys()].filter((key) => !(TXT_OPTIONS as readonly string[]).includes(key));
    if (unknown.length > 0) return { record: 'TXT', reason: `it sets ${unknown.join(', ')}; a TXT record may only set ${TXT_OPTIONS.join(', ')}` };
    const empty = [...options.entries()].filter(([, value]) => value === '').map(([key]) => key);
    if (empty.length > 0) return { record: 'TXT', reason: `${empty.join(', ')} is empty` };
  }
  return undefined;
}

/**
 * A host listed by the SRV record must lie in the parent domain of the SRV name (for a name of
 * fewer than three labels: below the name itself), so that DNS cannot send a client elsewhere.
 */
export function parentDomainProblem(address: string, srvHost: string): string | undefined {
  const target = address.replace(/\.$/, '');
  const host = srvHost.replace(/\.$/, '');
  const short = host.split('.').length < 3;
  const targetDomain = `.${target.replace(/^.*?\./, '')}`;
  const hostDomain = short ? `.${host}` : `.${host.replace(/^.*?\./, '')}`;
  if (short && target.split('.').length <= host.split('.').length) return `it does not have at least one more domain level than ${host}`;
  if (!targetDomain.endsWith(hostDomain)) return `it is not in the domain ${hostDomain.slice(1)}`;
  return undefined;
}
