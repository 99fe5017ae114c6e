import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { BLACK_HOLE, IsolatedHost, UNREACHABLE } from '../lab/isolated.js';
import { bannerPeer, hangUpPeer, httpPeer, silentPeer, tlsOnlyPeer, type Peer } from '../lab/servers.js';
import { selfSignedCertificate } from '../lab/tls.js';
import { pgPeer } from '../lab/pg-peer.js';

/** Network faults on an isolated host with its own resolver; protocol faults from scripted peers. */
describe('network faults, on an isolated host with its own DNS server', () => {
  let host: IsolatedHost;
  let deadResolverHost: IsolatedHost;

  beforeAll(async () => {
    host = await IsolatedHost.create({ hosts: ['10.99.0.3 blackhole.lab'] });
    await host.startDns({ 'db.lab': { A: ['127.0.0.1'] }, 'flaky.lab': 'SERVFAIL', 'slow.lab': 'SILENT' });
    deadResolverHost = await IsolatedHost.create();
  });
  afterAll(async () => {
    await host?.destroy();
    await deadResolverHost?.destroy();
  });

  test('unresolvable name: dns_not_found (NXDOMAIN)', async () => {
    const { code, report, target } = await diagnoseJson(['postgresql://app@db.invalid:5432/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_not_found');
    expect(code).toBe(2);
    expect(JSON.stringify(target.verdict.details)).toContain('ENOTFOUND');
    expect(target.verdict.details.endpoints).toEqual([
      expect.objectContaining({ dns: expect.objectContaining({ tried: [{ name: 'db.invalid', answer: 'ENOTFOUND' }] }) }),
    ]);
    expect(target.steps.find((step) => step.id === 'process')?.status).toBe('skip');
  });

  test('resolver unreachable: dns_temporary, not dns_not_found', async () => {
    const { code, report, target } = await diagnoseJson(['postgresql://app@mongodb:5432/app'], { prefix: deadResolverHost.prefix });
    expect(verdictOf(report)).toBe('network/dns_temporary');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('unreachable (ECONNREFUSED');
    // The advice follows the evidence: a resolver nobody runs is configuration, not a wait.
    const advice = target.verdict.remediation.map((fix) => `${fix.text} ${fix.command ?? ''}`).join('\n');
    expect(advice).toContain('/etc/resolv.conf');
    expect(advice).toContain('does not heal by waiting');
    expect(advice).not.toMatch(/often heals|often passes|until /);
  });

  test('resolver answers SERVFAIL: dns_temporary', async () => {
    const { report, target } = await diagnoseJson(['postgresql://app@flaky.lab:5432/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/dns_temporary');
    expect(target.verdict.message).toContain('SERVFAIL');
    // It may pass: a wait is offered, and it ends.
    const waits = target.verdict.remediation.flatMap((fix) => (fix.command?.includes('until ') ? [fix.command] : []));
    expect(waits.length).toBeGreaterThan(0);
    for (const wait of waits) expect(wait).toMatch(/^timeout \d+ sh -c /);
  });

  test('black-holed address: connect_timeout within the deadline', async () => {
    const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '2', `postgresql://app@${BLACK_HOLE}:5432/app`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/connect_timeout');
    expect(code).toBe(2);
    expect(target.durationMs).toBeLessThanOrEqual(2000);
    expect(wallMs).toBeLessThan(5000);
  });

  test('black hole reached through /etc/hosts: the name resolves, then connect_timeout', async () => {
    const { report, target } = await diagnoseJson(['--timeout', '1.5', 'postgresql://app@blackhole.lab:5432/app'], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/connect_timeout');
    expect(JSON.stringify(target.verdict.details)).toContain(BLACK_HOLE);
  });

  test('no route to host: host_unreachable', async () => {
    const { code, report, target } = await diagnoseJson([`postgresql://app@${UNREACHABLE}:5432/app`], { prefix: host.prefix });
    expect(verdictOf(report)).toBe('network/host_unreachable');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('EHOSTUNREACH');
  });
});

describe('protocol faults from scripted peers on loopback', () => {
  const peers: Peer[] = [];
  const track = async (peer: Promise<Peer>): Promise<Peer> => {
    const started = await peer;
    peers.push(started);
    return started;
  };
  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
  });

  test('a port that accepts and stays silent: no_response within --timeout', async () => {
    const peer = await track(silentPeer());
    const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '2', `postgresql://app@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/no_response');
    expect(code).toBe(2);
    expect(target.steps.find((step) => step.id === 'process')?.status).toBe('pass');
    expect(report.durationMs).toBeLessThanOrEqual(2000);
    expect(wallMs).toBeLessThan(5000);
    // Issue 14: besides the engine's own connection, one more bounded probe per foreign opening
    // (an HTTP request line, MongoDB's hello, CQL's OPTIONS) names what listens, within --timeout.
    expect(peer.connections).toBeGreaterThanOrEqual(2);
    expect(peer.connections).toBeLessThanOrEqual(4);
  });

  test('a port that accepts and hangs up: no_response, closed by the peer', async () => {
    const peer = await track(hangUpPeer());
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/no_response');
    expect(target.verdict.message).toContain('closed it');
  });

  test('an HTTP server on the port: wrong_protocol names HTTP', async () => {
    const peer = await track(httpPeer());
    const { code, report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.details.answeredBy).toMatchObject({ protocol: 'http' });
  });

  test('an HTTP server, without TLS negotiation (sslmode=disable): still wrong_protocol', async () => {
    const peer = await track(httpPeer());
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${peer.port}/app?sslmode=disable`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(target.verdict.details.answeredBy).toMatchObject({ protocol: 'http' });
  });

  test('a speak-first SSH banner: wrong_protocol names SSH, not a TLS "S"', async () => {
    const peer = await track(bannerPeer('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(target.verdict.details.answeredBy).toMatchObject({ protocol: 'ssh' });
  });

  test('a TLS-only endpoint: wrong_protocol names TLS', async () => {
    const cert = await selfSignedCertificate('localhost');
    const peer = await track(tlsOnlyPeer(cert.certFile, cert.keyFile));
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(target.verdict.details.answeredBy).toMatchObject({ protocol: 'tls' });
  });

  test('a PostgreSQL-speaking proxy refusing with its own SQLSTATE: not_accepting, with its words', async () => {
    const peer = await track(pgPeer({ kind: 'reject', sqlstate: '08004', message: 'server rejected the connection: maintenance window' }));
    const { code, report, target } = await diagnoseJson([`postgresql://app:pw-x1234@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/not_accepting');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ sqlstate: '08004', serverMessage: 'server rejected the connection: maintenance window' });
  });

  test('a server that logs in and then never answers: deadline_exceeded at pool, within --timeout', async () => {
    const peer = await track(pgPeer({ kind: 'silent-after-login' }));
    const { code, report, target, wallMs } = await diagnoseJson(['--timeout', '1.5', `postgresql://app:pw-x1234@127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('pool/deadline_exceeded');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ deadline: 'run' });
    expect(report.durationMs).toBeLessThanOrEqual(1500);
    expect(wallMs).toBeLessThan(4000);
    expect(target.steps.find((step) => step.id === 'auth')?.status).toBe('skip');
  });
});
