import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsolatedHost } from './isolated.js';
import { ADMIN_USER, Ferret } from './mongo.js';
import { Cluster } from './postgres.js';
import { dripPeer, resetPeer, type Peer } from './servers.js';
import { expiredCertificate } from './tls.js';

/**
 * The fault lab: each scenario builds a real fault with what Linux offers (network and PID
 * namespaces, veth links, iptables, a resolver of our own, real PostgreSQL servers), says how to
 * run dbdoctor against it, and what dbdoctor must answer. The tests run every scenario
 * (test/integration/lab.test.ts); people set one up with `npm run lab -- <name>`.
 */
export interface Expectation {
  /** "step/cause", as verdictOf() prints it. */
  readonly verdict: string;
  readonly exit: number;
  /** Text the verdict (message, details, remediation) must contain: its key evidence. */
  readonly mentions?: readonly string[];
  /** Causes that must be among the target's warnings. */
  readonly warnings?: readonly string[];
  /** The verdict must arrive within the run's --timeout (checked for black holes and silent peers). */
  readonly withinTimeoutSeconds?: number;
}

export interface LabRun {
  /** What this run shows, in a few words. */
  readonly title: string;
  /** `dbdoctor diagnose` arguments. */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Runs dbdoctor inside the scenario's host (nsenter / ip netns exec). */
  readonly prefix?: readonly string[];
  readonly cwd?: string;
  /** Changes the fault before this run (e.g. start the server). */
  readonly before?: () => Promise<void>;
  readonly expect: Expectation;
}

export interface LabSetup {
  readonly runs: readonly LabRun[];
  teardown(): Promise<void>;
}

export interface LabScenario {
  readonly name: string;
  readonly title: string;
  /** The verdicts its runs show, in order (documented in the README; the test checks them). */
  readonly shows: readonly string[];
  setup(): Promise<LabSetup>;
}

const KUBERNETES_ENV = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' } as const;

/** Tears down whatever was set up, in reverse order, even when a step of the setup failed. */
class Stack {
  private readonly undo: (() => Promise<unknown>)[] = [];
  push<T>(value: T, teardown: (value: T) => Promise<unknown>): T {
    this.undo.push(() => teardown(value));
    return value;
  }
  async teardown(): Promise<void> {
    for (const step of this.undo.reverse()) await step().catch(() => undefined);
  }
  /** Runs `build`; if it throws, what it had set up is torn down before the error goes on. */
  async build(build: (stack: Stack) => Promise<readonly LabRun[]>): Promise<LabSetup> {
    try {
      const runs = await build(this);
      return { runs, teardown: () => this.teardown() };
    } catch (error) {
      await this.teardown();
      throw error;
    }
  }
}

function directory(files: Readonly<Record<string, string>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-lab-cwd-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A PostgreSQL cluster with an application role and database, inside a lab host. */
async function databaseIn(
  stack: Stack,
  host: IsolatedHost,
  options: {
    listen: string;
    port?: number;
    user: string;
    password: string;
    database: string;
    settings?: Record<string, string | number>;
    hbaFirst?: readonly string[];
  },
): Promise<Cluster> {
  const cluster = stack.push(
    await Cluster.create('lab', {
      prefix: host.prefix,
      port: options.port ?? 5432,
      listen: options.listen,
      hbaFirst: ['host all all 10.0.0.0/8 scram-sha-256', ...(options.hbaFirst ?? [])],
      ...(options.settings ? { settings: options.settings } : {}),
    }),
    (made) => made.destroy(),
  );
  await cluster.sql(`CREATE ROLE "${options.user}" LOGIN PASSWORD '${options.password}'`);
  await cluster.sql(`CREATE DATABASE "${options.database}" OWNER "${options.user}"`);
  return cluster;
}

async function host(stack: Stack, options: Parameters<typeof IsolatedHost.create>[0] = {}): Promise<IsolatedHost> {
  return stack.push(await IsolatedHost.create(options), (made) => made.destroy());
}

async function loopbackPeer(stack: Stack, start: () => Promise<Peer>): Promise<Peer> {
  return stack.push(await start(), (made) => made.close());
}

export const SCENARIOS: readonly LabScenario[] = [
  {
    name: 'seed-000-k8s-wrong-service-name',
    title: 'Seed 000: a pod connects to "db", but the Kubernetes service is "mes-db"',
    shows: ['network/dns_not_found', 'none/healthy'],
    setup: () =>
      new Stack().build(async (stack) => {
        const pod = await host(stack);
        await pod.startDns({ 'mes-db': { A: ['10.99.0.1'] } });
        await databaseIn(stack, pod, { listen: '127.0.0.1,10.99.0.1', user: 'user', password: 'password', database: 'mes_db' });
        const env = {
          ...KUBERNETES_ENV,
          MES_DB_SERVICE_HOST: '10.99.0.1',
          MES_DB_SERVICE_PORT: '5432',
          MES_API_SERVICE_HOST: '10.96.0.20',
          MES_API_SERVICE_PORT: '8000',
        };
        return [
          {
            title: "app.py's hard-coded URL",
            args: ['postgresql://user:password@db:5432/mes_db'],
            env,
            prefix: pod.prefix,
            expect: {
              verdict: 'network/dns_not_found',
              exit: 2,
              mentions: ['this environment knows "mes-db"', 'MES_DB_SERVICE_HOST', 'kubectl set env', 'postgresql://user@mes-db:5432/mes_db'],
            },
          },
          {
            title: 'the service name it suggests',
            args: ['postgresql://user:password@mes-db:5432/mes_db'],
            env,
            prefix: pod.prefix,
            expect: { verdict: 'none/healthy', exit: 0 },
          },
        ];
      }),
  },
  {
    name: 'seed-001-startup-race',
    title: 'Seed 001: the application starts before PostgreSQL (compose): not running, then starting up',
    shows: ['process/not_running', 'accepting/starting_up'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack, { pid: true });
        const cluster = await databaseIn(stack, machine, { listen: '127.0.0.1', user: 'user', password: 'password', database: 'oxygen_platform' });
        await cluster.stop('fast');
        const fifo = join(cluster.root, 'restore.fifo');
        const cwd = directory({
          'docker-compose.yml':
            'services:\n  user-service:\n    image: flow/user-service\n    depends_on: [postgres]\n  postgres:\n    image: postgres:15\n    ports: ["5432:5432"]\n',
        });
        const env = { DATABASE_URL: 'postgresql://user:password@localhost:5432/oxygen_platform' };
        return [
          {
            title: 'before PostgreSQL started',
            args: [],
            env,
            cwd,
            prefix: machine.prefix,
            expect: { verdict: 'process/not_running', exit: 2, mentions: ['docker compose ps', 'condition: service_healthy'] },
          },
          {
            title: 'while it replays WAL',
            args: [],
            env,
            cwd,
            prefix: machine.prefix,
            before: async () => {
              const { execFileSync } = await import('node:child_process');
              execFileSync('runuser', ['-u', 'postgres', '--', 'mkfifo', fifo]);
              cluster.markStandby();
              cluster.configure({ hot_standby: 'on', restore_command: `'cat ${fifo} > /dev/null; false'` });
              await cluster.startNoWait();
              await new Promise((resolve) => setTimeout(resolve, 1500));
            },
            expect: { verdict: 'accepting/starting_up', exit: 2, mentions: ['the database system is starting up', 'condition: service_healthy', 'pg_isready'] },
          },
        ];
      }),
  },
  {
    name: 'seed-002-localhost-in-container',
    title: 'Seed 002: code inside a container uses localhost; compose provided DATABASE_URL with host "postgresql"',
    shows: ['process/localhost_in_container', 'none/healthy'],
    setup: () =>
      new Stack().build(async (stack) => {
        const app = await host(stack, { container: true });
        const db = await host(stack);
        const addresses = await IsolatedHost.link(app, db);
        await app.startDns({ postgresql: { A: [addresses.b] } });
        await databaseIn(stack, db, { listen: `127.0.0.1,${addresses.b}`, user: 'user', password: 'pass', database: 'main_db' });
        const cwd = directory({
          'docker-compose.dev.yml': [
            'services:',
            '  back-postgres-service:',
            '    environment:',
            '      - DATABASE_URL=postgresql://user:pass@postgresql:5432/main_db',
            '  postgresql:',
            '    image: postgres:15',
            '  back-cassandra:',
            '    environment:',
            '      - CASSANDRA_CONTACT_POINTS=cassandra',
            '  cassandra:',
            '    image: cassandra:4',
            '',
          ].join('\n'),
        });
        const env = { DATABASE_URL: 'postgresql://user:pass@postgresql:5432/main_db', COMPOSE_PROJECT_NAME: 'tools-dashboard' };
        return [
          {
            title: "the URL the code built from POSTGRES_HOST's default",
            args: ['postgresql://user:pass@localhost:5432/main_db'],
            env,
            cwd,
            prefix: app.prefix,
            expect: {
              verdict: 'process/localhost_in_container',
              exit: 2,
              mentions: ['localhost there is the container itself', '"postgresql"', 'postgresql://user@postgresql:5432/main_db'],
              warnings: ['config_mismatch'],
            },
          },
          { title: 'DATABASE_URL, as compose provides it', args: [], env, cwd, prefix: app.prefix, expect: { verdict: 'none/healthy', exit: 0 } },
        ];
      }),
  },
  {
    name: 'seed-004-dns-temporary-at-start',
    title: 'Seed 004: a pod starts before cluster DNS answers: "mongodb:27017: Temporary failure in name resolution"',
    shows: ['network/dns_temporary', 'none/healthy'],
    setup: () =>
      new Stack().build(async (stack) => {
        const pod = await host(stack);
        const mongo = stack.push(await Ferret.start({ listen: '10.99.0.1:27017', adminPassword: 'focus-pw-1', prefix: pod.prefix }), (made) => made.destroy());
        const env = { ...KUBERNETES_ENV, MONGODB_URI: `mongodb://${ADMIN_USER}:focus-pw-1@mongodb:27017/focus?authSource=admin` };
        return [
          {
            title: 'at pod start, the resolver does not answer yet',
            args: [],
            env,
            prefix: pod.prefix,
            expect: { verdict: 'network/dns_temporary', exit: 2, mentions: ['failed temporarily', 'initContainers:', '"wait"'] },
          },
          {
            title: 'once cluster DNS answers',
            args: [],
            env,
            prefix: pod.prefix,
            before: async () => pod.startDns({ mongodb: { A: [mongo.host] } }),
            expect: { verdict: 'none/healthy', exit: 0 },
          },
        ];
      }),
  },
  {
    name: 'firewall-drop',
    title: 'A firewall silently drops packets to a running PostgreSQL (iptables DROP)',
    shows: ['network/connect_timeout'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack);
        await databaseIn(stack, machine, { listen: '127.0.0.1', user: 'app', password: 'app-pw-1', database: 'app' });
        await machine.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '5432', '--syn', '-j', 'DROP']);
        return [
          {
            title: 'connect through the firewall',
            args: ['--timeout', '2', 'postgresql://app:app-pw-1@127.0.0.1:5432/app'],
            prefix: machine.prefix,
            expect: { verdict: 'network/connect_timeout', exit: 2, mentions: ['packets are dropped'], withinTimeoutSeconds: 2 },
          },
        ];
      }),
  },
  {
    name: 'firewall-icmp-unreachable',
    title: 'A firewall rejects with ICMP host-unreachable (iptables REJECT)',
    shows: ['network/host_unreachable'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack);
        await databaseIn(stack, machine, { listen: '127.0.0.1', user: 'app', password: 'app-pw-1', database: 'app' });
        await machine.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '5432', '-j', 'REJECT', '--reject-with', 'icmp-host-unreachable']);
        return [
          {
            title: 'connect through the firewall',
            args: ['postgresql://app:app-pw-1@127.0.0.1:5432/app'],
            prefix: machine.prefix,
            expect: { verdict: 'network/host_unreachable', exit: 2, mentions: ['EHOSTUNREACH'] },
          },
        ];
      }),
  },
  {
    name: 'firewall-tcp-reset',
    title: 'A firewall answers with a TCP reset while PostgreSQL listens (iptables REJECT --reject-with tcp-reset)',
    shows: ['network/firewall_rejected'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack, { pid: true });
        await databaseIn(stack, machine, { listen: '127.0.0.1', user: 'app', password: 'app-pw-1', database: 'app' });
        await machine.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '5432', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
        return [
          {
            title: 'connect through the firewall',
            args: ['postgresql://app:app-pw-1@127.0.0.1:5432/app'],
            prefix: machine.prefix,
            expect: { verdict: 'network/firewall_rejected', exit: 2, mentions: ['a firewall rule rejects it', 'iptables -S'] },
          },
        ];
      }),
  },
  {
    name: 'localhost-ipv6-trap',
    title: '"localhost" resolves to ::1 first, PostgreSQL listens on 127.0.0.1 only',
    shows: ['network/ipv6_mismatch'],
    setup: () =>
      new Stack().build(async (stack) => {
        // Like Debian's own /etc/hosts, the lab host lists localhost as 127.0.0.1 and ::1; glibc
        // returns ::1 first (RFC 6724 precedence).
        const machine = await host(stack);
        await databaseIn(stack, machine, { listen: '127.0.0.1', user: 'app', password: 'app-pw-1', database: 'app' });
        return [
          {
            title: 'localhost',
            args: ['postgresql://app:app-pw-1@localhost:5432/app'],
            prefix: machine.prefix,
            expect: { verdict: 'network/ipv6_mismatch', exit: 1, mentions: ['::1', 'ECONNREFUSED ::1:5432', 'postgresql://app@127.0.0.1:5432/app'] },
          },
        ];
      }),
  },
  {
    name: 'resolver-silent',
    title: 'The resolver never answers (a dead or firewalled DNS server)',
    shows: ['network/dns_temporary'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack, { resolvConf: 'nameserver 127.0.0.53\noptions timeout:5 attempts:2\n' });
        await machine.startDns({ 'db.lab': 'SILENT' });
        return [
          {
            title: 'a name the resolver sits on',
            args: ['--timeout', '1.5', 'postgresql://app@db.lab:5432/app'],
            prefix: machine.prefix,
            expect: { verdict: 'network/dns_temporary', exit: 2, mentions: ['gave no answer', '127.0.0.53'], withinTimeoutSeconds: 1.5 },
          },
        ];
      }),
  },
  {
    name: 'hosts-file-typo',
    title: 'A name that does not resolve, close to one in /etc/hosts',
    shows: ['network/dns_not_found'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack, { hosts: ['10.99.0.1 orders-postgres'] });
        await machine.startDns({});
        return [
          {
            title: 'orders-db',
            args: ['postgresql://app@orders-db:5432/orders'],
            prefix: machine.prefix,
            expect: { verdict: 'network/dns_not_found', exit: 2, mentions: ['this environment knows "orders-postgres"', '/etc/hosts'] },
          },
        ];
      }),
  },
  {
    name: 'compose-service-from-host',
    title: 'A compose service name used from the host, where only its published port is reachable',
    shows: ['network/dns_not_found'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack);
        await machine.startDns({});
        const cwd = directory({
          'compose.yaml': 'services:\n  db:\n    image: postgres:16\n    ports:\n      - "5433:5432"\n  api:\n    image: example/api\n',
        });
        return [
          {
            title: 'the service name',
            args: ['postgresql://app@db:5432/app'],
            cwd,
            prefix: machine.prefix,
            expect: {
              verdict: 'network/dns_not_found',
              exit: 2,
              mentions: ['resolves only inside the compose network', 'postgresql://app@localhost:5433/app'],
            },
          },
        ];
      }),
  },
  {
    name: 'systemd-not-running',
    title: 'PostgreSQL stopped on a systemd host (--platform systemd)',
    shows: ['process/not_running'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack, { pid: true });
        return [
          {
            title: 'nothing running',
            args: ['--platform', 'systemd', 'postgresql://app@127.0.0.1:5432/app'],
            prefix: machine.prefix,
            expect: { verdict: 'process/not_running', exit: 2, mentions: ['systemctl status postgresql', 'journalctl -u postgresql'] },
          },
        ];
      }),
  },
  {
    name: 'reset-during-handshake',
    title: 'Something accepts the connection and resets it during the handshake',
    shows: ['accepting/connection_reset'],
    setup: () =>
      new Stack().build(async (stack) => {
        const peer = await loopbackPeer(stack, resetPeer);
        return [
          {
            title: 'a killing proxy',
            args: [`postgresql://app@127.0.0.1:${peer.port}/app`],
            expect: { verdict: 'accepting/connection_reset', exit: 2, mentions: ['ECONNRESET'] },
          },
        ];
      }),
  },
  {
    name: 'drip-server',
    title: 'A server that drips one byte at a time and never speaks PostgreSQL',
    shows: ['accepting/wrong_protocol'],
    setup: () =>
      new Stack().build(async (stack) => {
        const peer = await loopbackPeer(stack, () => dripPeer());
        return [
          {
            title: 'the drip',
            args: ['--timeout', '2', `postgresql://app@127.0.0.1:${peer.port}/app`],
            expect: { verdict: 'accepting/wrong_protocol', exit: 2, withinTimeoutSeconds: 2 },
          },
        ];
      }),
  },
  {
    name: 'tls-expired-certificate',
    title: 'The server certificate expired in 2020 (sslmode=verify-full)',
    shows: ['accepting/tls_verify_failed'],
    setup: () =>
      new Stack().build(async (stack) => {
        const machine = await host(stack);
        const cert = await expiredCertificate('localhost');
        await databaseIn(stack, machine, {
          listen: '127.0.0.1,::1',
          user: 'app',
          password: 'app-pw-1',
          database: 'app',
          settings: { ssl: 'on', ssl_cert_file: `'${cert.certFile}'`, ssl_key_file: `'${cert.keyFile}'` },
          hbaFirst: ['host all all ::1/128 scram-sha-256'],
        });
        return [
          {
            title: 'verify-full',
            args: [`postgresql://app:app-pw-1@localhost:5432/app?sslmode=verify-full&sslrootcert=${cert.caFile}`],
            prefix: machine.prefix,
            expect: {
              verdict: 'accepting/tls_verify_failed',
              exit: 2,
              mentions: ['the certificate has expired', 'CERT_HAS_EXPIRED', 'Feb  1 00:00:00 2020 GMT'],
            },
          },
        ];
      }),
  },
];

export function scenario(name: string): LabScenario | undefined {
  return SCENARIOS.find((candidate) => candidate.name === name);
}
