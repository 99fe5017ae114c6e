import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The host names this environment knows, for "did you mean": Kubernetes service variables
 * (MES_DB_SERVICE_HOST ⇒ service "mes-db"), /etc/hosts, the hosts inside URL- and host-valued
 * variables, and the services of a compose file in the working directory (with the ports they
 * publish). Seed 000's `db` vs `mes-db` is the case this exists for.
 */
export interface KnownName {
  readonly name: string;
  /** Where we learned it: "Kubernetes service variable MES_DB_SERVICE_HOST", "compose.yaml service". */
  readonly origin: string;
  /** The port it is known with (a Kubernetes service port, a compose published port). */
  readonly port?: number;
  /** For compose services: the port published on this host, when there is one. */
  readonly publishedPort?: number;
  readonly kind: 'kubernetes-service' | 'hosts-file' | 'variable' | 'compose-service';
}

export interface NamesProbe {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly composeFile?: string | undefined;
  /** For tests; default /etc/hosts. */
  readonly hostsFile?: string;
}

const HOST_VALUED = /(URL|URI|DSN|HOST|HOSTS|HOSTNAME|ADDR|ADDRESS|SERVER|SERVERS|CONTACT_POINTS|SEEDS)$/i;

export async function knownNames(probe: NamesProbe): Promise<KnownName[]> {
  const names: KnownName[] = [];
  for (const [variable, value] of Object.entries(probe.env)) {
    if (value === undefined) continue;
    const service = /^([A-Z0-9_]+)_SERVICE_HOST$/.exec(variable)?.[1];
    if (service) {
      const port = Number(probe.env[`${service}_SERVICE_PORT`]);
      names.push({
        name: service.toLowerCase().replace(/_/g, '-'),
        origin: `Kubernetes service variable ${variable}`,
        kind: 'kubernetes-service',
        ...(Number.isInteger(port) && port > 0 ? { port } : {}),
      });
    } else if (HOST_VALUED.test(variable) && !/_PORT_\d+_TCP/.test(variable)) {
      for (const host of hostsIn(value)) names.push({ name: host, origin: `variable ${variable}`, kind: 'variable' });
    }
  }
  names.push(...(await hostsFileNames(probe.hostsFile ?? '/etc/hosts')));
  if (probe.composeFile) names.push(...(await composeNames(join(probe.cwd, probe.composeFile), probe.composeFile)));
  const seen = new Set<string>();
  return names.filter((entry) => {
    const key = `${entry.name}|${entry.kind}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Host names inside a URL (one or several hosts), a host:port list, or a bare host. */
export function hostsIn(value: string, options: { includeLocalhost?: boolean } = {}): string[] {
  const text = value.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/?#]*)/i.exec(text);
  const hostPart = url ? (url[1] ?? '') : text;
  if (!url && /\s/.test(hostPart)) return [];
  return hostPart
    .split(',')
    .map((spec) =>
      spec
        .trim()
        .replace(/^\[([^\]]*)\].*$/, '$1')
        .replace(/:\d+$/, ''),
    )
    .filter((host) => /^[A-Za-z][A-Za-z0-9.-]*$/.test(host) && (options.includeLocalhost === true || host !== 'localhost'));
}

async function hostsFileNames(path: string): Promise<KnownName[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    return fields
      .slice(1)
      .filter((name) => name !== '' && !/^(localhost|ip6-)/.test(name))
      .map((name): KnownName => ({ name, origin: path, kind: 'hosts-file' }));
  });
}

/** Compose services, their hostnames and aliases, and the ports they publish. */
export async function composeNames(path: string, label: string): Promise<KnownName[]> {
  let document: unknown;
  try {
    const { parse } = await import('yaml');
    document = parse(await readFile(path, 'utf8'));
  } catch {
    return [];
  }
  const services = isRecord(document) && isRecord(document.services) ? document.services : {};
  const names: KnownName[] = [];
  for (const [service, definition] of Object.entries(services)) {
    const spec = isRecord(definition) ? definition : {};
    const { target, published } = firstPort(spec.ports);
    const ports = { ...(target ? { port: target } : {}), ...(published ? { publishedPort: published } : {}) };
    names.push({ name: service, origin: `${label} service`, kind: 'compose-service', ...ports });
    for (const alias of [spec.container_name, spec.hostname]) {
      if (typeof alias === 'string') names.push({ name: alias, origin: `${label} service ${service}`, kind: 'compose-service', ...ports });
    }
    if (isRecord(spec.networks)) {
      for (const network of Object.values(spec.networks)) {
        const aliases = isRecord(network) && Array.isArray(network.aliases) ? network.aliases : [];
        for (const alias of aliases)
          if (typeof alias === 'string') names.push({ name: alias, origin: `${label} service ${service} (alias)`, kind: 'compose-service', ...ports });
      }
    }
  }
  return names;
}

/** "5433:5432", "127.0.0.1:5433:5432", 5432, or { target, published }. */
function firstPort(ports: unknown): { target?: number; published?: number } {
  const first: unknown = Array.isArray(ports) ? ports[0] : undefined;
  if (typeof first === 'number') return { target: first };
  if (typeof first === 'string') {
    const parts = first.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts[parts.length - 1]);
    const published = parts.length > 1 ? Number(parts[parts.length - 2]) : Number.NaN;
    return { ...(Number.isInteger(target) ? { target } : {}), ...(Number.isInteger(published) ? { published } : {}) };
  }
  if (isRecord(first)) {
    const target = Number(first.target);
    const published = Number(first.published);
    return { ...(Number.isInteger(target) ? { target } : {}), ...(Number.isInteger(published) ? { published } : {}) };
  }
  return {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface Suggestion extends KnownName {
  /** Higher is closer. */
  readonly score: number;
}

/** Affixes that name the same database service in different words: db, pg, postgres… */
const DB_AFFIXES = /^(db|database|pg|postgres|postgresql|psql|mongo|mongodb|cassandra|cql|sql|rds)$/;

/**
 * The known names closest to `wanted`, best first: the same words around a database affix
 * ("db" ⊂ "mes-db"), small typos (edit distance), or one name containing the other.
 */
export function suggestNames(wanted: string, known: readonly KnownName[], limit = 3): Suggestion[] {
  const target = wanted.toLowerCase();
  // The very name, known as a service, is the most telling of all: a compose or Kubernetes
  // service name used where it does not resolve (from the host, or outside the cluster).
  const isService = (entry: KnownName): boolean => entry.kind === 'compose-service' || entry.kind === 'kubernetes-service';
  const scored = known
    .filter((entry) => entry.name.toLowerCase() !== target || isService(entry))
    .map((entry): Suggestion => ({ ...entry, score: entry.name.toLowerCase() === target ? 2 : similarity(target, entry.name.toLowerCase()) }))
    .filter((entry) => entry.score > 0);
  const best = new Map<string, Suggestion>();
  for (const entry of scored.sort((a, b) => b.score - a.score)) if (!best.has(entry.name)) best.set(entry.name, entry);
  return [...best.values()].slice(0, limit);
}

export function similarity(wanted: string, candidate: string): number {
  const distance = editDistance(wanted, candidate);
  const longest = Math.max(wanted.length, candidate.length);
  let score = 0;
  // A typo: at most a third of the letters differ.
  if (distance <= Math.max(1, Math.floor(longest / 3))) score = Math.max(score, 1 - distance / longest);
  const wantedWords = words(wanted);
  const candidateWords = words(candidate);
  // The same service word: "db" in "mes-db", "postgres" in "app-postgres".
  if (wantedWords.some((word) => candidateWords.includes(word))) score = Math.max(score, 0.6);
  // The same core around database affixes: "orders-db" ~ "orders-postgres".
  const wantedCore = wantedWords.filter((word) => !DB_AFFIXES.test(word)).join('-');
  const candidateCore = candidateWords.filter((word) => !DB_AFFIXES.test(word)).join('-');
  if (wantedCore !== '' && wantedCore === candidateCore) score = Math.max(score, 0.8);
  // A database-ish name for a database-ish name ("db" → "postgresql").
  if (wantedWords.every((word) => DB_AFFIXES.test(word)) && candidateWords.some((word) => DB_AFFIXES.test(word))) score = Math.max(score, 0.4);
  return score;
}

function words(name: string): string[] {
  return name.split(/[-_.]+/).filter((word) => word !== '');
}

/** Damerau–Levenshtein (optimal string alignment) distance. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] ?? [];
      const previous = d[i - 1] ?? [];
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] ?? 0, (d[i - 2]?.[j - 2] ?? 0) + 1);
    }
  }
  return d[a.length]?.[b.length] ?? 0;
}
