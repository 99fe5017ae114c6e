import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildEnvironment } from '../../src/config/environment.js';
import { databaseVariables } from '../../src/config/inventory.js';
import { configMismatches } from '../../src/config/postgres/mismatches.js';
import { resolvePostgresTarget } from '../../src/config/postgres/target.js';
import { composeNames, editDistance, hostsIn, knownNames, suggestNames } from '../../src/host/names.js';
import { detectPlatform, rootFilesystem } from '../../src/host/platform.js';
import { hostsDatabases, ordered } from '../../src/net/dns.js';
import { hostsFileAddresses, namesTried, parseResolvConf } from '../../src/net/resolver.js';
import { addressFor, explainTcpRefusal } from '../../src/probes/common/refusal.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'dbdoctor-env-'));

/** A fake filesystem root with the given files, for platform detection. */
function root(files: Record<string, string>): string {
  const base = dir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(base, path, '..'), { recursive: true });
    writeFileSync(join(base, path), text);
  }
  return base;
}

describe('where dbdoctor runs', () => {
  const ext4 = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n';
  const overlay = '611 480 0:53 / / rw,relatime master:280 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X\n';
  test.each([
    ['a plain host', {}, {}, 'host', false],
    ['a docker container (/.dockerenv and an overlay root)', { '.dockerenv': '', 'proc/self/mountinfo': overlay }, {}, 'container', true],
    ['a VM image built from a container (/.dockerenv on ext4): not a container', { '.dockerenv': '', 'proc/self/mountinfo': ext4 }, {}, 'host', false],
    ['podman (/run/.containerenv)', { 'run/.containerenv': '' }, {}, 'container', true],
    ['a cgroup naming a runtime', { 'proc/self/cgroup': '0::/kubepods/burstable/pod1234/abcd\n' }, {}, 'container', true],
    [
      'a Kubernetes pod',
      { 'run/.containerenv': '', 'var/run/secrets/kubernetes.io/serviceaccount/namespace': 'shop' },
      { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      'kubernetes',
      true,
    ],
    ['systemd as PID 1', { 'proc/1/comm': 'systemd\n' }, {}, 'systemd', false],
  ] as const)('%s', async (_name, files, env, platform, inContainer) => {
    const info = await detectPlatform({ env, cwd: dir(), root: root(files) });
    expect(info.platform).toBe(platform);
    expect(info.inContainer).toBe(inContainer);
  });

  test('a compose file in the working directory means compose, and is named', async () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'compose.yaml'), 'services: {}\n');
    const info = await detectPlatform({ env: {}, cwd, root: root({}) });
    expect(info).toMatchObject({ platform: 'compose', composeFile: 'compose.yaml' });
  });

  test('--platform wins and says so', async () => {
    expect(await detectPlatform({ env: {}, cwd: dir(), root: root({}), override: 'kubernetes' })).toMatchObject({ platform: 'kubernetes', chosen: 'flag' });
  });

  test('the root filesystem from mountinfo', () => {
    expect(rootFilesystem(overlay)).toBe('overlay');
    expect(rootFilesystem(ext4)).toBe('ext4');
  });
});

describe('names this environment knows, and "did you mean"', () => {
  test('seed 000: db does not resolve; this environment knows mes-db from its service variables', async () => {
    const names = await knownNames({
      env: { MES_DB_SERVICE_HOST: '10.0.0.202', MES_DB_SERVICE_PORT: '5432', KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      cwd: dir(),
      hostsFile: '/nonexistent',
    });
    expect(suggestNames('db', names)[0]).toMatchObject({ name: 'mes-db', kind: 'kubernetes-service', port: 5432 });
  });

  test.each([
    ['db', 'mes-db'],
    ['postgress', 'postgres'],
    ['orders-db', 'orders-postgres'],
    ['db', 'postgresql'],
    ['mongodb', 'mongo-db'],
  ])('%s → %s', (wanted, known) => {
    expect(suggestNames(wanted, [{ name: known, origin: 'test', kind: 'hosts-file' }])[0]?.name).toBe(known);
  });

  test.each([
    ['orders-db', 'payments-api'],
    ['db', 'redis'],
    ['cassandra', 'kafka'],
  ])('%s does not suggest %s', (wanted, known) => {
    expect(suggestNames(wanted, [{ name: known, origin: 'test', kind: 'hosts-file' }])).toEqual([]);
  });

  test('the very name, known as a compose service, is reported first', () => {
    const suggestions = suggestNames('db', [
      { name: 'dbx', origin: 'hosts', kind: 'hosts-file' },
      { name: 'db', origin: 'compose.yaml service', kind: 'compose-service', publishedPort: 5433 },
    ]);
    expect(suggestions[0]).toMatchObject({ name: 'db', kind: 'compose-service' });
  });

  test('compose services, their aliases and published ports', async () => {
    const cwd = dir();
    writeFileSync(
      join(cwd, 'docker-compose.yml'),
      'services:\n  postgresql:\n    image: postgres:15\n    ports: ["127.0.0.1:5433:5432"]\n    networks:\n      back:\n        aliases: [pg-main]\n  cache:\n    image: redis\n    container_name: cache-1\n',
    );
    const names = await composeNames(join(cwd, 'docker-compose.yml'), 'docker-compose.yml');
    expect(names).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'postgresql', port: 5432, publishedPort: 5433 }),
        expect.objectContaining({ name: 'pg-main', origin: 'docker-compose.yml service postgresql (alias)' }),
        expect.objectContaining({ name: 'cache-1' }),
      ]),
    );
  });

  test('hosts inside URL- and host-valued variables', () => {
    expect(hostsIn('postgresql://u:p@db-1:5432,db-2:5433/app')).toEqual(['db-1', 'db-2']);
    expect(hostsIn('cassandra-a,cassandra-b:9042')).toEqual(['cassandra-a', 'cassandra-b']);
    expect(hostsIn('localhost')).toEqual([]);
    expect(hostsIn('localhost', { includeLocalhost: true })).toEqual(['localhost']);
    expect(hostsIn('not a host name')).toEqual([]);
  });

  test('edit distance counts a swap as one', () => {
    expect(editDistance('postgres', 'postgers')).toBe(1);
    expect(editDistance('db', 'mes-db')).toBe(4);
  });
});

describe('the resolver, as glibc reads it', () => {
  const kubernetes = parseResolvConf('search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5 timeout:2\n');
  test('resolv.conf', () => {
    expect(kubernetes).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeoutSeconds: 2,
      attempts: 2,
    });
  });
  test('fewer dots than ndots: the search domains first', () => {
    expect(namesTried('mes-db', kubernetes)).toEqual(['mes-db.shop.svc.cluster.local', 'mes-db.svc.cluster.local', 'mes-db.cluster.local', 'mes-db']);
    expect(namesTried('db.example.com.', kubernetes)).toEqual(['db.example.com.']);
    expect(namesTried('a.b.c.d.e.f', kubernetes)[0]).toBe('a.b.c.d.e.f');
  });
  test('/etc/hosts and nsswitch', () => {
    expect(hostsFileAddresses('127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.0.0.5 db db.local # x\n', 'db')).toEqual(['10.0.0.5']);
    expect(hostsDatabases('hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname\n')).toEqual(['files', 'dns']);
    expect(hostsDatabases('hosts: dns files\n')).toEqual(['dns', 'files']);
    expect(hostsDatabases('')).toEqual(['files', 'dns']);
  });
  test('address order: the loopback ::1 first, like getaddrinfo', () => {
    expect(
      ordered([
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ]).map((entry) => entry.address),
    ).toEqual(['::1', '127.0.0.1']);
  });
});

describe('settings that disagree', () => {
  const target = async (url: string, env: Record<string, string>) => {
    const environment = buildEnvironment({ HOME: dir(), ...env });
    return { environment, target: await resolvePostgresTarget({ text: url, source: 'url' }, environment) };
  };

  test('seed 002: diagnosing localhost while DATABASE_URL points at postgresql', async () => {
    const { environment, target: resolved } = await target('postgresql://user:pass@localhost:5432/main_db', {
      DATABASE_URL: 'postgresql://user:pass@postgresql:5432/main_db',
    });
    const [hint] = configMismatches(environment, resolved);
    expect(hint).toMatchObject({ step: 'network', finding: { status: 'warn', cause: 'config_mismatch' } });
    expect(hint?.finding.summary).toContain('DATABASE_URL in this environment points at postgresql');
  });

  test('two host settings that disagree with each other', async () => {
    const { environment, target: resolved } = await target('postgresql://db-a/app', { DATABASE_URL: 'postgresql://u@db-a/app', POSTGRES_HOST: 'db-b' });
    expect(configMismatches(environment, resolved)[0]?.finding.summary).toContain('DATABASE_URL=db-a, POSTGRES_HOST=db-b');
  });

  test('settings that agree: no hint', async () => {
    const { environment, target: resolved } = await target('postgresql://db/app', { DATABASE_URL: 'postgresql://u@db/app', POSTGRES_HOST: 'db' });
    expect(configMismatches(environment, resolved)).toEqual([]);
  });

  test('every database-looking variable is listed, secrets masked', () => {
    const environment = buildEnvironment({
      DATABASE_URL: 'postgresql://u:hunter2x@db/app',
      POSTGRES_PASSWORD: 'hunter2x',
      PGHOST: 'db',
      CASSANDRA_HOSTS: 'c1',
      MONGO_URL: 'mongodb://m',
      HOME: '/root',
      PATH: '/bin',
    });
    expect(databaseVariables(environment).map((variable) => `${variable.name}=${variable.value}`)).toEqual([
      'CASSANDRA_HOSTS=c1',
      'DATABASE_URL=postgresql://u:****@db/app',
      'MONGO_URL=mongodb://m',
      'PGHOST=db',
      'POSTGRES_PASSWORD=****',
    ]);
  });
});

describe('a refusal, told from what listens here', () => {
  test('a listener on exactly this address and port: a firewall rejected it', () => {
    expect(explainTcpRefusal({ addresses: ['127.0.0.1'], port: 5432 }, { running: true, tcp: [{ address: '0.0.0.0', port: 5432 }] })).toMatchObject({
      cause: 'firewall_rejected',
    });
  });
  test('another address and another port: a port no server here uses (wrong_port), not not_listening; the same port on another address stays not_listening', () => {
    const tcp = [{ address: '127.0.0.1', port: 54329 }];
    expect(explainTcpRefusal({ addresses: ['::1'], port: 5432 }, { running: true, tcp })).toEqual({ cause: 'wrong_port', ports: [54329] });
    expect(explainTcpRefusal({ addresses: ['127.0.0.2'], port: 5432 }, { running: true, tcp })).toEqual({ cause: 'wrong_port', ports: [54329] });
    expect(explainTcpRefusal({ addresses: ['::1'], port: 54329 }, { running: true, tcp })).toMatchObject({
      cause: 'not_listening',
      listening: ['127.0.0.1:54329'],
    });
    // A socket file names the refused port: something of the engine's uses it, somewhere.
    expect(explainTcpRefusal({ addresses: ['::1'], port: 5432 }, { running: true, tcp, portHints: [5432] })).toMatchObject({ cause: 'not_listening' });
  });
  test("a fix names an address the server is bound to, when the target's is not one of them", () => {
    const tcp = [
      { address: '127.0.0.1', port: 54329 },
      { address: '0.0.0.0', port: 6000 },
    ];
    expect(addressFor('::1', 54329, tcp)).toBe('127.0.0.1');
    expect(addressFor('127.0.0.2', 54329, tcp)).toBe('127.0.0.1');
    expect(addressFor('127.0.0.1', 54329, tcp)).toBe('127.0.0.1');
    expect(addressFor('127.0.0.2', 6000, tcp)).toBe('127.0.0.2');
    expect(addressFor('localhost', 54329, tcp)).toBe('localhost');
    expect(addressFor('::1', 7000, tcp)).toBe('::1');
  });
  test('loopback refused inside a container with nothing running: localhost_in_container', () => {
    expect(explainTcpRefusal({ addresses: ['::1', '127.0.0.1'], port: 5432 }, { running: false, tcp: [] }, { inContainer: true })).toEqual({
      cause: 'localhost_in_container',
    });
    expect(explainTcpRefusal({ addresses: ['10.0.0.5'], port: 5432 }, { running: false, tcp: [] }, { inContainer: true })).toEqual({ cause: 'not_running' });
    expect(explainTcpRefusal({ addresses: ['127.0.0.1'], port: 5432 }, { running: false, tcp: [] }, { inContainer: false })).toEqual({ cause: 'not_running' });
  });
});
