import { Cluster, freePort } from '../test/lab/postgres.js';
import { IsolatedHost } from '../test/lab/isolated.js';
import { silentPeer, type Peer } from '../test/lab/servers.js';
import { BIN, emptyHome } from '../test/lab/dbdoctor.js';
import { baseEnv, type Command } from './measure.js';

/**
 * What every measurement shares: one throw-away PostgreSQL 15 cluster (an application role and
 * database, and ten more role/database pairs for the fleet), an isolated network namespace with a
 * black-holed address and a lab DNS server (a silent name, an NXDOMAIN name), and a silent TCP
 * peer on loopback. Nothing outside loopback and our own namespaces is ever contacted.
 */
export const APP = { user: 'app', password: 'app-bench-pass', database: 'appdb' };
export const FLEET_SIZE = 10;

export interface Lab {
  readonly cluster: Cluster;
  /** The healthy application URL. */
  readonly url: string;
  /** Healthy URLs with different roles and databases (fleet01/fleet01db …). */
  readonly fleetUrls: readonly string[];
  /** A loopback port where nothing listens. */
  readonly refusedPort: number;
  readonly silent: Peer;
  readonly host: IsolatedHost;
  /** An empty HOME, so that no ~/.pgpass or config file of the machine leaks in. */
  readonly home: string;
  destroy(): Promise<void>;
}

export async function createLab(): Promise<Lab> {
  const cluster = await Cluster.create('bench', { settings: { max_connections: 200, log_connections: 'on' } });
  try {
    await cluster.sql(`CREATE ROLE ${APP.user} LOGIN PASSWORD '${APP.password}'`);
    await cluster.sql(`CREATE DATABASE ${APP.database} OWNER ${APP.user}`);
    // check_postgres reads pg_stat_activity and pg_locks: the same view for both tools.
    await cluster.sql(`GRANT pg_monitor TO ${APP.user}`);
    const fleetUrls: string[] = [];
    for (let index = 1; index <= FLEET_SIZE; index += 1) {
      const name = `fleet${String(index).padStart(2, '0')}`;
      await cluster.sql(`CREATE ROLE ${name} LOGIN PASSWORD '${name}-pass'`);
      await cluster.sql(`CREATE DATABASE ${name}db OWNER ${name}`);
      fleetUrls.push(cluster.url(name, `${name}-pass`, `${name}db`));
    }
    // A resolv.conf with glibc's defaults (timeout 5 s, 2 attempts), as a real machine has.
    const host = await IsolatedHost.create({ resolvConf: 'nameserver 127.0.0.53\n' });
    await host.startDns({ 'slow.lab': 'SILENT', 'gone.lab': 'NXDOMAIN' });
    const silent = await silentPeer();
    const refusedPort = await freePort();
    return {
      cluster,
      url: cluster.url(APP.user, APP.password, APP.database),
      fleetUrls,
      refusedPort,
      silent,
      host,
      home: emptyHome(),
      destroy: async () => {
        await silent.close();
        await host.destroy();
        await cluster.destroy();
      },
    };
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

/** The environment dbdoctor runs in: an empty HOME, no colour, no PG* variables. */
export function dbdoctorEnv(lab: Pick<Lab, 'home'>, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return baseEnv({ HOME: lab.home, NO_COLOR: '1', ...extra });
}

/** `dbdoctor diagnose --json …` as a whole process (inside `prefix`, if given). */
export function diagnose(
  lab: Pick<Lab, 'home'>,
  args: readonly string[],
  options: { prefix?: readonly string[]; env?: Readonly<Record<string, string>>; killAfterMs?: number } = {},
): Command {
  return {
    argv: [...(options.prefix ?? []), process.execPath, BIN, 'diagnose', '--json', ...args],
    env: dbdoctorEnv(lab, options.env),
    ...(options.killAfterMs ? { killAfterMs: options.killAfterMs } : {}),
  };
}

/** "step/cause" of the first target of a JSON report, or what went wrong reading it. */
export function verdict(stdout: string): string {
  try {
    const report = JSON.parse(stdout) as { targets?: { verdict?: { step?: string; cause?: string } }[] };
    const first = report.targets?.[0]?.verdict;
    return `${first?.step ?? 'none'}/${first?.cause ?? '?'}`;
  } catch {
    return 'no JSON';
  }
}

/** Statuses of every target of a JSON report, counted: "60 healthy, 40 unhealthy". */
export function statuses(stdout: string): string {
  try {
    const report = JSON.parse(stdout) as { targets?: { status?: string }[] };
    const counts = new Map<string, number>();
    for (const target of report.targets ?? []) counts.set(target.status ?? '?', (counts.get(target.status ?? '?') ?? 0) + 1);
    return [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
  } catch {
    return 'no JSON';
  }
}

/** A markdown section of RESULTS.md and the lines it contributes to the headline. */
export interface Section {
  readonly title: string;
  readonly body: string;
  readonly headline: readonly string[];
}

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
