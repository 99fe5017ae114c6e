import { describe, expect, test } from 'vitest';
import { lastSetting, portFromCommandLine, type PgCluster } from '../../src/probes/postgres/clusters.js';
import type { LocalScan, PgLocalServer } from '../../src/probes/postgres/local.js';
import { explainRefusal, type RefusedEndpoint } from '../../src/probes/postgres/refusal.js';

describe("reading a stopped cluster's port", () => {
  test.each([
    ['port = 5433', '5433'],
    ["port='5434' # comment", '5434'],
    ['#port = 5432\nport = 5435\nport = 5436', '5436'],
    ['  port 5437', '5437'],
    ['portx = 1', undefined],
    ['', undefined],
  ])('postgresql.conf %j → %s', (text, port) => {
    expect(lastSetting(text, 'port')).toBe(port);
  });

  test('quoted values keep their doubled quotes as one', () => {
    expect(lastSetting("cluster_name = 'it''s'", 'cluster_name')).toBe("it's");
  });

  test.each([
    ['/usr/lib/postgresql/15/bin/postgres "-D" "/srv/pg" "-p" "5440"', 5440],
    ['/usr/lib/postgresql/15/bin/postgres "-D" "/var/lib/postgresql/15/main" "-c" "config_file=/etc/postgresql/15/main/postgresql.conf"', undefined],
    ['postgres "-D" "/d" "-c" "port=6000"', 6000],
    ['postgres "--port=6001"', 6001],
    ['postgres "-p6002"', 6002],
  ])('postmaster.opts %s → %s', (text, port) => {
    expect(portFromCommandLine(text)).toBe(port);
  });
});

describe('a refusal when clusters are configured on this machine', () => {
  const endpoint: RefusedEndpoint = { transport: 'tcp', addresses: ['127.0.0.1'], port: 5432, attempted: '127.0.0.1:5432' };
  const other: PgLocalServer = { pid: 10, dataDir: '/srv/pg/other', tcp: [{ address: '127.0.0.1', port: 5433 }], sockets: [], seenVia: 'file descriptors' };
  const cluster = (overrides: Partial<PgCluster>): PgCluster => ({
    dataDir: '/srv/pg/main',
    port: 5432,
    portFrom: 'postgresql.conf',
    live: false,
    ...overrides,
  });
  const scan = (servers: PgLocalServer[], clusters: PgCluster[]): LocalScan => ({ servers, standalone: [], strayPorts: [], clusters, durationMs: 1 });

  test('another cluster runs on another port, the one for this port is stopped: not_running, naming both', () => {
    expect(explainRefusal(endpoint, scan([other], [cluster({})]))).toMatchObject({
      cause: 'not_running',
      stopped: [{ dataDir: '/srv/pg/main' }],
      others: [other],
    });
  });

  test('no cluster is configured for this port: wrong_port, as before', () => {
    expect(explainRefusal(endpoint, scan([other], [cluster({ port: 6000 })]))).toMatchObject({ cause: 'wrong_port', ports: [5433] });
  });

  test('the cluster for this port has a live postmaster with no socket yet: starting, whatever its pid file says so far', () => {
    expect(explainRefusal(endpoint, scan([other], [cluster({ live: true, postmasterPid: 42 })]))).toMatchObject({
      cause: 'in_transition',
      state: 'starting',
      server: { pid: 42, port: 5432 },
    });
  });

  test('a cluster for this port that listens elsewhere is not "starting": the usual judgement stands', () => {
    const elsewhere: PgLocalServer = {
      pid: 42,
      dataDir: '/srv/pg/main',
      tcp: [{ address: '127.0.0.1', port: 5439 }],
      sockets: [],
      seenVia: 'file descriptors',
    };
    expect(explainRefusal(endpoint, scan([elsewhere], [cluster({ live: true, postmasterPid: 42 })]))).toMatchObject({ cause: 'wrong_port', ports: [5439] });
  });

  test("a remote host is never judged from this machine's clusters", () => {
    expect(explainRefusal(endpoint, undefined)).toEqual({ cause: 'not_running', where: 'remote', attempted: '127.0.0.1:5432' });
  });
});
