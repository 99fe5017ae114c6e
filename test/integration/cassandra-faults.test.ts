import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { BLACK_HOLE, IsolatedHost, UNREACHABLE } from '../lab/isolated.js';
import { httpPeer, silentPeer, tlsOnlyPeer, type Peer } from '../lab/servers.js';
import { selfSignedCertificate } from '../lab/tls.js';
import { startCqlPeer } from '../lab/cql-peer.js';

/**
 * Network faults and seed 002 on isolated hosts (own network and PID namespaces, own resolver:
 * no Cassandra runs there); protocol faults from scripted peers. The scripted CQL node speaks the
 * real native protocol to the real cassandra-driver, for what one real node cannot show.
 */
describe('cassandra: network faults and seed 002, on isolated hosts', () => {
  let host: IsolatedHost;
  beforeAll(async () => {
    host = await IsolatedHost.create({ pid: true });
    await host.startDns({ 'cassandra.lab': { A: ['127.0.0.1'] }, 'flaky.lab': 'SERVFAIL' });
  });
  afterAll(async () => {
    await host?.destroy();
  });

  test('unresolvable contact point: dns_not_found', async () => {
    const { code, report, target } = await diagnoseJson(['cassandra://app:pw@gone.lab:9042/?dc=dc1'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_not_found');
    expect(code).toBe(2);
    expect(JSON.stringify(target.verdict.details)).toContain('ENOTFOUND');
  });

  test('resolver answering SERVFAIL: dns_temporary', async () => {
    const { report } = await diagnoseJson(['cassandra://flaky.lab:9042/'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_temporary');
  });

  test('black-holed contact point: connect_timeout within the deadline', async () => {
    const { code, report, target } = await diagnoseJson(['--timeout', '2', `cassandra://${BLACK_HOLE}:9042/`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/connect_timeout');
    expect(code).toBe(2);
    expect(target.durationMs).toBeLessThanOrEqual(2000);
  });

  test('no route to the contact point: host_unreachable', async () => {
    const { report } = await diagnoseJson([`cassandra://${UNREACHABLE}:9042/`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/host_unreachable');
  });

  test('two contact points, one unresolvable and one refusing: one finding per host, the refusal is the verdict', async () => {
    const { report, target } = await diagnoseJson(['cassandra://gone.lab:9042,cassandra.lab:9042/'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('process/not_running');
    const endpoints = target.verdict.details.endpoints as { host: string }[];
    expect(endpoints.map((endpoint) => endpoint.host).sort()).toEqual(['cassandra.lab', 'gone.lab']);
  });

  test('seed 002: localhost inside a container, CASSANDRA_HOSTS set and CASSANDRA_CONTACT_POINTS not', async () => {
    const { code, report, target } = await diagnoseJson([], { prefix: host.prefix, env: { CASSANDRA_HOSTS: 'localhost' } });
    expect(verdictOf(report)).toBe('process/not_running');
    expect(code).toBe(2);
    expect(target.verdict.details.environment).toEqual(['found CASSANDRA_HOSTS, but not CASSANDRA_CONTACT_POINTS']);
    expect(target.verdict.message).toContain('found CASSANDRA_HOSTS, but not CASSANDRA_CONTACT_POINTS');
    expect(target.verdict.remediation[0]?.text).toContain('inside a container');
  });

  test('seed 002: the app used localhost while the deployment set CASSANDRA_CONTACT_POINTS=cassandra', async () => {
    const { report, target } = await diagnoseJson(['cassandra://localhost:9042/'], { prefix: host.prefix, env: { CASSANDRA_CONTACT_POINTS: 'cassandra' } });
    expect(verdictOf(report)).toBe('process/not_running');
    expect(target.verdict.details.environment).toEqual(['found CASSANDRA_CONTACT_POINTS, but not CASSANDRA_HOSTS']);
    expect(target.verdict.remediation.map((fix) => fix.command ?? '')).toContain('export CASSANDRA_HOSTS=cassandra');
  });

  test('a node advertising an address this machine cannot reach: peer_unreachable, degraded', async () => {
    const peer = await startCqlPeer({ dc: 'dc1', peers: [{ peer: '10.98.0.5', native: UNREACHABLE }] }, host.prefix);
    try {
      const { code, report, target } = await diagnoseJson([`cassandra://127.0.0.1:${peer.port}/?dc=dc1`], { prefix: host.prefix });
      expect(verdictOf(report)).toBe('network/peer_unreachable');
      expect(code).toBe(1);
      expect(target.verdict.message).toContain(`${UNREACHABLE}:${peer.port} (host_unreachable)`);
    } finally {
      peer.stop();
    }
  });
});

describe('cassandra: protocol faults from scripted peers on loopback', () => {
  const peers: Peer[] = [];
  const stops: (() => void)[] = [];
  afterAll(async () => {
    stops.forEach((stop) => stop());
    await Promise.all(peers.map((peer) => peer.close()));
  });
  const track = async (started: Promise<Peer>): Promise<Peer> => {
    const peer = await started;
    peers.push(peer);
    return peer;
  };

  test('a port that accepts and stays silent: no_response within --timeout', async () => {
    const peer = await track(silentPeer());
    const { code, report, wallMs } = await diagnoseJson(['--timeout', '2', `cassandra://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/no_response');
    expect(code).toBe(2);
    expect(wallMs).toBeLessThan(6000);
  });

  test('an HTTP server on the port: wrong_protocol', async () => {
    const peer = await track(httpPeer());
    const { report, target } = await diagnoseJson([`cassandra://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(target.verdict.message).toContain('HTTP');
  });

  test('a TLS-only port and a plain client: tls_required', async () => {
    const { certFile, keyFile } = await selfSignedCertificate('localhost');
    const peer = await track(tlsOnlyPeer(certFile, keyFile));
    const { report } = await diagnoseJson([`cassandra://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/tls_required');
  });

  test('a node answering Overloaded: overloaded', async () => {
    const peer = await startCqlPeer({ overloaded: true });
    stops.push(peer.stop);
    const { code, report } = await diagnoseJson([`cassandra://127.0.0.1:${peer.port}/?dc=dc1`]);
    expect(verdictOf(report)).toBe('pool/overloaded');
    expect(code).toBe(2);
  });

  test('a peer that refuses connections: nodes_down, degraded, naming it', async () => {
    const peer = await startCqlPeer({ dc: 'dc1', peers: [{ peer: '127.0.0.2', native: '127.0.0.2' }] });
    stops.push(peer.stop);
    const { code, report, target } = await diagnoseJson([`cassandra://127.0.0.1:${peer.port}/?dc=dc1`]);
    expect(verdictOf(report)).toBe('network/nodes_down');
    expect(code).toBe(1);
    expect(target.verdict.message).toContain('127.0.0.2');
  });

  test('a request running for minutes in system_views.queries: long_running', async () => {
    const peer = await startCqlPeer({ dc: 'dc1', queries: [{ task: 'SELECT * FROM shop.orders WHERE item = ? ALLOW FILTERING', runningMicros: 420_000_000 }] });
    stops.push(peer.stop);
    const { code, report, target } = await diagnoseJson([`cassandra://127.0.0.1:${peer.port}/?dc=dc1`]);
    expect(verdictOf(report)).toBe('queries/long_running');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('ALLOW FILTERING');
  });
});
