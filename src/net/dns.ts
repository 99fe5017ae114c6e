import { readFile } from 'node:fs/promises';
import { ipFamily } from '../text/ip.js';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../engine/deadline.js';
import { hostsFileAddresses, namesTried, parseResolvConf } from './resolver.js';

/**
 * Name resolution the way glibc's getaddrinfo does it for applications — /etc/hosts, then DNS
 * with the search list and ndots of /etc/resolv.conf, A and AAAA — but done with c-ares queries
 * that can be cancelled. getaddrinfo cannot: a lookup stuck on a silent resolver keeps one of
 * libuv's four pool threads busy for resolv.conf's whole timeout, and process exit waits for it
 * (measured: a 1.5 s --timeout run took 10 s to exit). Every name tried and its answer is kept.
 */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** One name asked of the DNS, and what came back: addresses, or the resolver's error code. */
export interface DnsAttempt {
  readonly name: string;
  readonly answer: 'addresses' | 'ENOTFOUND' | 'ENODATA' | string;
}

export type Resolution =
  | {
      readonly outcome: 'resolved';
      readonly host: string;
      readonly addresses: readonly ResolvedAddress[];
      readonly literal: boolean;
      /** Where the answer came from. */
      readonly source?: 'literal' | 'hosts-file' | 'dns' | 'builtin';
      readonly tried?: readonly DnsAttempt[];
      readonly durationMs: number;
    }
  | {
      /** not_found: the name does not exist; temporary: the resolver failed or did not answer. */
      readonly outcome: 'not_found' | 'temporary';
      readonly host: string;
      readonly code: string;
      readonly message: string;
      readonly tried?: readonly DnsAttempt[];
      readonly durationMs: number;
    };

export interface ResolverFiles {
  readonly hosts?: string;
  readonly resolvConf?: string;
  readonly nsswitch?: string;
}

/** Answers that mean "this name does not exist" (or exists with no address). */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

export async function resolveHost(host: string, deadline: Deadline, files: ResolverFiles = {}): Promise<Resolution> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  const family = ipFamily(host);
  if (family === 4 || family === 6) {
    return { outcome: 'resolved', host, addresses: [{ address: host, family }], literal: true, source: 'literal', durationMs: 0 };
  }
  const [hostsText, resolvConfText, nsswitchText] = await Promise.all([
    read(files.hosts ?? '/etc/hosts'),
    read(files.resolvConf ?? '/etc/resolv.conf'),
    read(files.nsswitch ?? '/etc/nsswitch.conf'),
  ]);
  const name = host.replace(/\.$/, '');
  for (const database of hostsDatabases(nsswitchText)) {
    if (database === 'files') {
      const listed = hostsFileAddresses(hostsText, name);
      if (listed.length > 0)
        return { outcome: 'resolved', host, addresses: ordered(toAddresses(listed)), literal: false, source: 'hosts-file', durationMs: elapsed() };
    }
    if (database === 'dns') {
      const answer = await queryDns(host, parseResolvConf(resolvConfText), deadline);
      if (answer.outcome === 'resolved' || answer.outcome === 'temporary') return { ...answer, durationMs: elapsed() };
      // Like systemd's nss-myhostname and RFC 6761: localhost is always the loopback.
      if (isLocalhostName(name))
        return { outcome: 'resolved', host, addresses: ordered(toAddresses(['::1', '127.0.0.1'])), literal: false, source: 'builtin', durationMs: elapsed() };
      return { ...answer, durationMs: elapsed() };
    }
  }
  return { outcome: 'not_found', host, code: 'ENOTFOUND', message: `no hosts database in /etc/nsswitch.conf answered for ${host}`, durationMs: elapsed() };
}

/** A Resolution before it is timed (Omit distributed over the union). */
type Untimed<T> = T extends unknown ? Omit<T, 'durationMs'> : never;

async function queryDns(host: string, config: ReturnType<typeof parseResolvConf>, deadline: Deadline): Promise<Untimed<Resolution>> {
  const servers = config.nameservers.length > 0 ? config.nameservers : ['127.0.0.1'];
  // Loaded when a name goes to DNS, not by a run for an address or a name in /etc/hosts (issue 15).
  const { Resolver } = await import('node:dns/promises');
  const resolver = new Resolver({ timeout: config.timeoutSeconds * 1000, tries: Math.max(1, config.attempts) });
  resolver.setServers(servers.map((server) => (ipFamily(server) === 6 ? `[${server}]:53` : `${server}:53`)));
  const tried: DnsAttempt[] = [];
  const onAbort = (): void => resolver.cancel();
  deadline.onExpired(onAbort);
  try {
    let temporary: DnsAttempt | undefined;
    for (const candidate of namesTried(host, config)) {
      if (deadline.expired) break;
      const [v6, v4] = await Promise.all([resolver.resolve6(candidate).then(ok, failed), resolver.resolve4(candidate).then(ok, failed)]);
      const addresses = [
        ...v6.addresses.map((address): ResolvedAddress => ({ address, family: 6 })),
        ...v4.addresses.map((address): ResolvedAddress => ({ address, family: 4 })),
      ];
      if (addresses.length > 0) {
        tried.push({ name: candidate, answer: 'addresses' });
        return { outcome: 'resolved', host, addresses: ordered(addresses), literal: false, source: 'dns', tried };
      }
      // Both families failed: the more telling error is the one that is not "no such name".
      const code = [v4.code, v6.code].find((error) => error !== undefined && !ABSENT.has(error)) ?? v4.code ?? v6.code ?? 'ENOTFOUND';
      const attempt = { name: candidate, answer: code === 'ECANCELLED' ? 'ETIMEOUT' : code };
      tried.push(attempt);
      // glibc goes on through the search list after a failure, and answers "try again" at the end.
      if (!ABSENT.has(attempt.answer)) temporary ??= attempt;
    }
    if (deadline.expired) {
      return {
        outcome: 'temporary',
        host,
        code: 'ETIMEOUT',
        message: `the resolver (${servers.join(', ')}) gave no answer within ${deadline.budgetMs} ms`,
        tried,
      };
    }
    if (temporary) return { outcome: 'temporary', host, code: temporary.answer, message: describeFailure(temporary, servers), tried };
    return {
      outcome: 'not_found',
      host,
      code: 'ENOTFOUND',
      message: `no such name: ${tried.map((attempt) => attempt.name).join(', ')} (asked ${servers.join(', ')})`,
      tried,
    };
  } finally {
    deadline.signal.removeEventListener('abort', onAbort);
    resolver.cancel();
  }
}

function describeFailure(attempt: DnsAttempt, servers: readonly string[]): string {
  const asked = servers.join(', ');
  switch (attempt.answer) {
    case 'ECONNREFUSED':
      return `the resolver ${asked} is unreachable (ECONNREFUSED: nothing answers DNS there)`;
    case 'ETIMEOUT':
      return `the resolver ${asked} gave no answer for ${attempt.name} in time`;
    case 'ESERVFAIL':
      return `the resolver ${asked} answered SERVFAIL for ${attempt.name}`;
    case 'EREFUSED':
      return `the resolver ${asked} refused the query for ${attempt.name} (REFUSED)`;
    default:
      return `${attempt.answer} from ${asked} for ${attempt.name}`;
  }
}

function ok(addresses: string[]): { addresses: string[]; code?: undefined } {
  return { addresses };
}

function failed(error: unknown): { addresses: string[]; code: string } {
  return { addresses: [], code: error instanceof Error && 'code' in error ? String(error.code) : 'EUNKNOWN' };
}

/** The hosts line of nsswitch.conf, reduced to what we implement; glibc's default is "files dns". */
export function hostsDatabases(nsswitch: string): ('files' | 'dns')[] {
  const line = /^\s*hosts:\s*(.*)$/m.exec(nsswitch)?.[1];
  const databases = (line ?? 'files dns').split(/\s+/).filter((word): word is 'files' | 'dns' => word === 'files' || word === 'dns');
  return databases.length > 0 ? databases : ['files', 'dns'];
}

function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

function toAddresses(addresses: readonly string[]): ResolvedAddress[] {
  return addresses.flatMap((address): ResolvedAddress[] => {
    const family = ipFamily(address);
    return family === 4 || family === 6 ? [{ address, family }] : [];
  });
}

/**
 * The order getaddrinfo returns addresses in (RFC 6724, as glibc applies it): IPv6 first when it
 * is the loopback or when this machine has a global IPv6 address, else IPv4 first. Applications
 * that try only the first address depend on exactly this order.
 */
export function ordered(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const v6 = addresses.filter((entry) => entry.family === 6);
  const v4 = addresses.filter((entry) => entry.family === 4);
  const v6First = v6.length > 0 && (v6.every((entry) => entry.address === '::1') || hasGlobalIPv6());
  const unique = (list: ResolvedAddress[]): ResolvedAddress[] =>
    list.filter((entry, index) => list.findIndex((other) => other.address === entry.address) === index);
  return unique(v6First ? [...v6, ...v4] : [...v4, ...v6]);
}

function hasGlobalIPv6(): boolean {
  return Object.values(networkInterfaces()).some((entries) =>
    (entries ?? []).some((entry) => entry.family === 'IPv6' && !entry.internal && !entry.address.startsWith('fe80')),
  );
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}
