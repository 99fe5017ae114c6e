import { readFile } from 'node:fs/promises';

/**
 * The resolver's side of a DNS answer: which nameservers were asked, which names were really
 * tried (search domains and ndots turn "db" into "db.default.svc.cluster.local" first), and what
 * /etc/hosts says. Reported when a name does not resolve, because that is usually where the
 * explanation is.
 */
export interface ResolverConfig {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly ndots: number;
  readonly timeoutSeconds: number;
  readonly attempts: number;
}

export interface ResolverContext {
  readonly config: ResolverConfig;
  /** The names the resolver tries, in order, for this host. */
  readonly triedNames: readonly string[];
  /** /etc/hosts addresses for this host, if it is listed there. */
  readonly hostsFile: readonly string[];
}

export function parseResolvConf(text: string): ResolverConfig {
  const nameservers: string[] = [];
  let search: string[] = [];
  let ndots = 1;
  let timeoutSeconds = 5;
  let attempts = 2;
  for (const raw of text.split('\n')) {
    const [keyword, ...values] = raw
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (keyword === 'nameserver' && values[0]) nameservers.push(values[0]);
    // The last of "search" and "domain" wins, as in glibc.
    if (keyword === 'search' || keyword === 'domain') search = values;
    if (keyword === 'options') {
      for (const option of values) {
        const [name, value] = option.split(':');
        const number = Number(value);
        if (name === 'ndots' && Number.isInteger(number)) ndots = Math.min(number, 15);
        if (name === 'timeout' && Number.isInteger(number)) timeoutSeconds = number;
        if (name === 'attempts' && Number.isInteger(number)) attempts = number;
      }
    }
  }
  return { nameservers, search, ndots, timeoutSeconds, attempts };
}

/** The order glibc tries names in: with fewer dots than ndots, search domains come first. */
export function namesTried(host: string, config: ResolverConfig): string[] {
  if (host.endsWith('.')) return [host];
  const dots = host.split('.').length - 1;
  const searched = config.search.map((domain) => `${host}.${domain}`);
  return dots < config.ndots ? [...searched, host] : [host, ...searched];
}

export function hostsFileAddresses(text: string, host: string): string[] {
  const wanted = host.toLowerCase();
  return text.split('\n').flatMap((line) => {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    return address && names.some((name) => name.toLowerCase() === wanted) ? [address] : [];
  });
}

export async function resolverContext(host: string, files: { resolvConf?: string; hosts?: string } = {}): Promise<ResolverContext> {
  const [resolvConf, hosts] = await Promise.all([read(files.resolvConf ?? '/etc/resolv.conf'), read(files.hosts ?? '/etc/hosts')]);
  const config = parseResolvConf(resolvConf);
  return { config, triedNames: namesTried(host, config), hostsFile: hostsFileAddresses(hosts, host) };
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}
