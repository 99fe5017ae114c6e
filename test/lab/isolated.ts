import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A separate test host made of Linux namespaces, with real network faults and nothing outside
 * this machine: its own loopback, an optional veth link whose far side black-holes packets
 * (a static neighbour entry for an address nobody owns), an `unreachable` route, its own
 * /etc/resolv.conf and /etc/hosts, and optionally its own PID namespace so that /proc shows
 * only the processes started inside it.
 */
const run = promisify(execFile);

export const BLACK_HOLE = '10.99.0.3';
export const UNREACHABLE = '10.98.0.5';

export interface HostOptions {
  /** Isolate processes too (for /proc-based checks). */
  readonly pid?: boolean;
  /**
   * Look like a container from inside: a private /run holding /run/.containerenv, the marker
   * podman writes when a container starts. Implies `pid` (it needs the host's own mount namespace).
   */
  readonly container?: boolean;
  /** resolv.conf content; default: a nameserver on the namespace's loopback where nothing listens. */
  readonly resolvConf?: string;
  /** Extra /etc/hosts lines. */
  readonly hosts?: readonly string[];
}

export function requireRoot(what: string): void {
  if (userInfo().uid !== 0) {
    throw new Error(`${what} needs root (network and PID namespaces); run the test command from the README as root, as CI does`);
  }
}

export interface SrvRecord {
  readonly priority?: number;
  readonly weight?: number;
  readonly port: number;
  readonly target: string;
}

export type DnsTable = Readonly<
  Record<string, { A?: readonly string[]; AAAA?: readonly string[]; SRV?: readonly SrvRecord[]; TXT?: readonly string[] } | 'NXDOMAIN' | 'SERVFAIL' | 'SILENT'>
>;

const DNS_SERVER = join(dirname(fileURLToPath(import.meta.url)), 'dns-server.mjs');

export class IsolatedHost {
  private sleeper: ChildProcess | undefined;
  private sleeperPid: number | undefined;
  private readonly children: ChildProcess[] = [];

  private constructor(readonly name: string) {}

  static async create(options: HostOptions = {}): Promise<IsolatedHost> {
    requireRoot('an isolated test host');
    const host = new IsolatedHost(`dbd-${randomBytes(4).toString('hex')}`);
    const etc = `/etc/netns/${host.name}`;
    mkdirSync(etc, { recursive: true });
    writeFileSync(`${etc}/resolv.conf`, options.resolvConf ?? 'nameserver 127.0.0.53\noptions timeout:1 attempts:1\n');
    writeFileSync(`${etc}/hosts`, ['127.0.0.1 localhost', '::1 localhost ip6-localhost', ...(options.hosts ?? [])].join('\n') + '\n');
    // Another machine has no PostgreSQL clusters of this one's: `ip netns exec` binds each entry
    // of /etc/netns/<name> over /etc, so an empty directory hides Debian's /etc/postgresql (where
    // the postgresql package's stopped 15/main cluster would otherwise be seen from inside).
    if (existsSync('/etc/postgresql')) mkdirSync(`${etc}/postgresql`);
    await run('ip', ['netns', 'add', host.name]);
    const inside = (args: string[]): Promise<unknown> => run('ip', ['netns', 'exec', host.name, ...args]);
    await inside(['ip', 'link', 'set', 'lo', 'up']);
    await run('ip', ['link', 'add', `${host.name}a`, 'netns', host.name, 'type', 'veth', 'peer', 'name', `${host.name}b`, 'netns', host.name]);
    await inside(['ip', 'addr', 'add', '10.99.0.1/24', 'dev', `${host.name}a`]);
    await inside(['ip', 'link', 'set', `${host.name}a`, 'up']);
    await inside(['ip', 'link', 'set', `${host.name}b`, 'up']);
    // Frames for BLACK_HOLE go to a MAC nobody has: the peer drops them, no ICMP, no RST.
    await inside(['ip', 'neigh', 'add', BLACK_HOLE, 'lladdr', '02:00:00:00:00:99', 'dev', `${host.name}a`, 'nud', 'permanent']);
    await inside(['ip', 'route', 'add', 'unreachable', '10.98.0.0/24']);
    if (options.pid || options.container) await host.isolateProcesses();
    if (options.container) {
      await host.exec('mount', ['-t', 'tmpfs', 'tmpfs', '/run']);
      await host.exec('touch', ['/run/.containerenv']);
    }
    return host;
  }

  /** Links two hosts with a veth pair: `a` gets .1 and `b` gets .2 of a fresh /24. */
  static async link(a: IsolatedHost, b: IsolatedHost): Promise<{ readonly a: string; readonly b: string }> {
    const subnet = `10.77.${1 + Math.floor(Math.random() * 250)}`;
    const [ifA, ifB] = [`${a.name}l`, `${b.name}l`];
    await run('ip', ['link', 'add', ifA, 'netns', a.name, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name]);
    await run('ip', ['netns', 'exec', a.name, 'ip', 'addr', 'add', `${subnet}.1/24`, 'dev', ifA]);
    await run('ip', ['netns', 'exec', b.name, 'ip', 'addr', 'add', `${subnet}.2/24`, 'dev', ifB]);
    await run('ip', ['netns', 'exec', a.name, 'ip', 'link', 'set', ifA, 'up']);
    await run('ip', ['netns', 'exec', b.name, 'ip', 'link', 'set', ifB, 'up']);
    return { a: `${subnet}.1`, b: `${subnet}.2` };
  }

  /** Adds an iptables rule inside this host (e.g. ["-A", "INPUT", "-p", "tcp", "--dport", "5432", "-j", "DROP"]). */
  async iptables(rule: readonly string[]): Promise<void> {
    await run('ip', ['netns', 'exec', this.name, 'iptables', ...rule]);
  }

  private async isolateProcesses(): Promise<void> {
    const sleeper = spawn('ip', ['netns', 'exec', this.name, 'unshare', '--pid', '--fork', '--mount-proc', '--kill-child', 'sleep', 'infinity'], {
      stdio: 'ignore',
    });
    this.sleeper = sleeper;
    const parent = sleeper.pid;
    if (parent === undefined) throw new Error('could not start the PID namespace');
    for (let attempt = 0; attempt < 100 && this.sleeperPid === undefined; attempt += 1) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
        if (children) this.sleeperPid = Number(children.split(/\s+/)[0]);
      } catch {
        // not forked yet
      }
      if (this.sleeperPid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.sleeperPid === undefined) throw new Error('the PID namespace did not start');
  }

  /** The command prefix that runs something inside this host. */
  get prefix(): string[] {
    return this.sleeperPid !== undefined ? ['nsenter', '-t', String(this.sleeperPid), '-p', '-m', '-n', '--'] : ['ip', 'netns', 'exec', this.name];
  }

  /** Starts this host's resolver (127.0.0.53, the nameserver in its resolv.conf). */
  async startDns(table: DnsTable): Promise<void> {
    const [file, ...rest] = [...this.prefix, process.execPath, DNS_SERVER, JSON.stringify(table)];
    const child = spawn(file ?? process.execPath, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the test DNS server exited (${code})`)));
      child.stdout?.once('data', () => resolve());
    });
  }

  async exec(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    const [file, ...rest] = [...this.prefix, command, ...args];
    return run(file ?? command, rest, { env: { ...process.env, LC_ALL: 'C' } });
  }

  async destroy(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    this.sleeper?.kill('SIGKILL');
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
  }
}
