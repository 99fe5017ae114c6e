import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { BLACK_HOLE, IsolatedHost, UNREACHABLE } from '../lab/isolated.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';

/**
 * Network faults for MongoDB, on isolated hosts with their own resolver (the test DNS server,
 * with SRV and TXT records), and a real FerretDB inside for the seed list and replica-set cases.
 */
const PASSWORD = 'ferret-net-pass-9';

describe('mongodb network step, on isolated hosts', () => {
  let host: IsolatedHost;
  let deadResolverHost: IsolatedHost;
  let server: Ferret;
  let trap: Ferret;

  beforeAll(async () => {
    host = await IsolatedHost.create();
    await host.startDns({
      '_mongodb._tcp.cluster.lab': { SRV: [{ port: 27017, target: 'db0.cluster.lab' }] },
      'cluster.lab': { TXT: ['authSource=admin'] },
      'db0.cluster.lab': { A: ['127.0.0.1'] },
      '_mongodb._tcp.flaky.lab': 'SERVFAIL',
      '_mongodb._tcp.evil.lab': { SRV: [{ port: 27017, target: 'db0.attacker.example' }] },
      '_mongodb._tcp.txt.lab': { SRV: [{ port: 27017, target: 'db0.txt.lab' }] },
      'txt.lab': { TXT: ['authSource=admin&ssl=false'] },
    });
    deadResolverHost = await IsolatedHost.create();
    server = await Ferret.start({ prefix: host.prefix, listen: '127.0.0.1:27017', adminPassword: PASSWORD });
    // The classic trap: the set advertises a name only the server itself can resolve.
    trap = await Ferret.start({ prefix: host.prefix, listen: 'mongo-0.mongo.svc:27018', hosts: ['127.0.0.1 mongo-0.mongo.svc'], replSetName: 'rs0' });
  });
  afterAll(async () => {
    await server?.destroy();
    await trap?.destroy();
    await host?.destroy();
    await deadResolverHost?.destroy();
  });

  test('seed 004: "mongodb:27017: [Errno -3] Temporary failure in name resolution" is dns_temporary, with an init container', async () => {
    const { code, report, target } = await diagnoseJson(['mongodb://mongodb:27017/focus'], { prefix: deadResolverHost.prefix });
    expect(verdictOf(report)).toBe('network/dns_temporary');
    expect(code).toBe(2);
    expect(JSON.stringify(target.verdict.details)).toContain('ECONNREFUSED');
    const commands = target.verdict.remediation.map((fix) => fix.command ?? '').join('\n');
    expect(commands).toContain('initContainers:');
    expect(commands).toContain('until nslookup mongodb');
  });

  test('a name that does not exist: dns_not_found', async () => {
    const { code, report } = await diagnoseJson(['mongodb://app:pw-1234@db.invalid:27017/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_not_found');
    expect(code).toBe(2);
  });

  test('a black-holed seed: connect_timeout within the deadline', async () => {
    const { code, report, wallMs } = await diagnoseJson(['--timeout', '2', `mongodb://${BLACK_HOLE}:27017/app`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/connect_timeout');
    expect(code).toBe(2);
    expect(report.durationMs).toBeLessThanOrEqual(2000);
    expect(wallMs).toBeLessThan(5000);
  });

  test('no route to the seed: host_unreachable', async () => {
    const { code, report } = await diagnoseJson([`mongodb://${UNREACHABLE}:27017/app`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/host_unreachable');
    expect(code).toBe(2);
  });

  test('mongodb+srv: the SRV and TXT records lead to the real server, healthy', async () => {
    const { code, report, target } = await diagnoseJson([`mongodb+srv://${ADMIN_USER}:${PASSWORD}@cluster.lab/app?tls=false`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'auth')?.summary).toContain('authSource admin');
  });

  test('mongodb+srv: no SRV record: dns_not_found names the record', async () => {
    const { code, report, target } = await diagnoseJson(['mongodb+srv://nosuch.lab/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_not_found');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('_mongodb._tcp.nosuch.lab');
  });

  test('mongodb+srv: the resolver fails (SERVFAIL): dns_temporary', async () => {
    const { report } = await diagnoseJson(['mongodb+srv://flaky.lab/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_temporary');
  });

  test('mongodb+srv: a host outside the parent domain: srv_invalid names the SRV record', async () => {
    const { code, report, target } = await diagnoseJson(['mongodb+srv://evil.lab/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/srv_invalid');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('db0.attacker.example');
  });

  test('mongodb+srv: a TXT record with an option it may not set: srv_invalid names the TXT record', async () => {
    const { report, target } = await diagnoseJson(['mongodb+srv://txt.lab/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/srv_invalid');
    expect(target.verdict.message).toContain('TXT');
    expect(target.verdict.message).toContain('ssl');
  });

  test('the replica set advertises a member this client cannot resolve: member_unreachable', async () => {
    const { code, report, target } = await diagnoseJson(['mongodb://127.0.0.1:27018/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/member_unreachable');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('mongo-0.mongo.svc:27018');
    expect(target.verdict.message).toContain('does not resolve');
    expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain('directConnection=true');
  });

  test('the same server with directConnection=true: the driver skips discovery, healthy', async () => {
    const { code, report } = await diagnoseJson(['mongodb://127.0.0.1:27018/app?directConnection=true'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
  });
});
