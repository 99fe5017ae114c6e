import { afterAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { mongoPeer, type MongoPeerScript } from '../lab/mongo-peer.js';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { hangUpPeer, httpPeer, peer as servePeer, silentPeer, type Peer } from '../lab/servers.js';
import { selfSignedCertificate } from '../lab/tls.js';
import { freePort } from '../lab/postgres.js';

/**
 * MongoDB faults no server available here can be made to show on cue, from a scripted server
 * that speaks the real wire protocol (OP_QUERY handshake, OP_MSG, SCRAM-SHA-256) to the real
 * driver; and protocol faults from hostile peers on loopback.
 */
const peers: Peer[] = [];
async function start(script: MongoPeerScript): Promise<Peer> {
  const started = await mongoPeer(script);
  peers.push(started);
  return started;
}
async function track(started: Promise<Peer>): Promise<Peer> {
  const peer = await started;
  peers.push(peer);
  return peer;
}
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.close()));
});

const SECONDARY = { isWritablePrimary: false, ismaster: false, secondary: true, setName: 'rs0' };

describe('mongodb: scripted replica-set, pool and query faults', () => {
  test('a replica set whose members all answer as secondaries, none naming a primary: no_primary', async () => {
    const peer = await start({ hello: { ...SECONDARY, hosts: ['127.0.0.1:1'] } });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('accepting/no_primary');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('"rs0"');
  });

  test('a secondary behind directConnection=true: standby, a warning (reads work, writes would fail "not primary")', async () => {
    const peer = await start({ hello: { ...SECONDARY, hosts: [`127.0.0.1:1`], primary: 'db-primary.example:27017' } });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app?directConnection=true`]);
    expect(verdictOf(report)).toBe('accepting/standby');
    // Issue 14: like a PostgreSQL standby reached through a URL that asks for no role, degraded.
    expect(code).toBe(1);
    expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain('db-primary.example:27017');
  });

  test('a secondary asked for (readPreference=secondary, directConnection=true), its primary 5 min ahead: healthy but for replication_lag', async () => {
    const now = Date.now();
    const primaryPeer = await start({
      hello: { isWritablePrimary: true, ismaster: true, secondary: false, setName: 'rs0', lastWrite: { lastWriteDate: new Date(now) } },
    });
    const secondary = await start({
      hello: {
        ...SECONDARY,
        hosts: [`127.0.0.1:${primaryPeer.port}`],
        primary: `127.0.0.1:${primaryPeer.port}`,
        lastWrite: { lastWriteDate: new Date(now - 300_000) },
      },
    });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${secondary.port}/app?directConnection=true&readPreference=secondary`]);
    expect(verdictOf(report)).toBe('accepting/replication_lag');
    expect(code).toBe(1);
    expect(target.verdict.message).toContain(`300 s behind its primary 127.0.0.1:${primaryPeer.port}`);
    expect(target.verdict.details.lagSeconds).toBe(300);
  });

  test('a secondary asked for, in sync with its primary: healthy', async () => {
    const now = new Date();
    const primaryPeer = await start({
      hello: { isWritablePrimary: true, ismaster: true, secondary: false, setName: 'rs0', lastWrite: { lastWriteDate: now } },
    });
    const secondary = await start({
      hello: { ...SECONDARY, hosts: [`127.0.0.1:${primaryPeer.port}`], primary: `127.0.0.1:${primaryPeer.port}`, lastWrite: { lastWriteDate: now } },
    });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${secondary.port}/app?directConnection=true&readPreference=secondaryPreferred`]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.summary).toContain(
      'secondary of replica set "rs0" (1 members), as readPreference=secondaryPreferred allows',
    );
  });

  test('a secondary whose set names no primary, read with readPreference=secondary: replication_stopped', async () => {
    const peer = await start({ hello: { ...SECONDARY, hosts: ['127.0.0.1:1'] } });
    const { code, report } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app?directConnection=true&readPreference=secondary`]);
    expect(verdictOf(report)).toBe('accepting/replication_stopped');
    expect(code).toBe(1);
  });

  test('a secondary asked for, whose named primary is stopped (nothing listens at its address): replication_stopped, a warning that says the primary is down and the lag cannot be measured', async () => {
    const stopped = await freePort();
    const secondary = await start({
      hello: { ...SECONDARY, hosts: [`127.0.0.1:${stopped}`], primary: `127.0.0.1:${stopped}`, lastWrite: { lastWriteDate: new Date() } },
    });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${secondary.port}/app?directConnection=true&readPreference=secondary`]);
    expect(verdictOf(report)).toBe('accepting/replication_stopped');
    expect(code).toBe(1);
    expect(target.verdict.message).toContain(
      `names 127.0.0.1:${stopped} as its primary, which refuses connections from here: nothing listens there, the primary is stopped`,
    );
    expect(target.verdict.remediation[0]?.text).toContain(`The primary this secondary follows, 127.0.0.1:${stopped}, refuses connections: start it`);
  });

  test('a secondary asked for, whose named primary does not answer hello: healthy, and the summary says its lag was not measured', async () => {
    const silent = await track(silentPeer());
    const secondary = await start({
      hello: { ...SECONDARY, hosts: [`127.0.0.1:${silent.port}`], primary: `127.0.0.1:${silent.port}`, lastWrite: { lastWriteDate: new Date() } },
    });
    const { report, target } = await diagnoseJson([
      '--timeout',
      '6',
      `mongodb://127.0.0.1:${secondary.port}/app?directConnection=true&readPreference=secondary`,
    ]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(target.steps.find((step) => step.id === 'accepting')?.summary).toContain(
      `its lag was not measured: its primary 127.0.0.1:${silent.port} does not answer from here`,
    );
  });

  test('replicaSet=rs0, the primary the set advertises stopped (a refused loopback address): member_unreachable that says the member is stopped, not that its name must resolve', async () => {
    const stopped = await freePort();
    const secondary = await start({
      hello: { ...SECONDARY, hosts: [`127.0.0.1:${stopped}`], primary: `127.0.0.1:${stopped}`, lastWrite: { lastWriteDate: new Date() } },
    });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${secondary.port}/app?replicaSet=rs0`]);
    expect(verdictOf(report)).toBe('network/member_unreachable');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain(
      `its primary as 127.0.0.1:${stopped}, which refuses connections (ECONNREFUSED): nothing listens on port ${stopped} on this machine, so that member is stopped`,
    );
    const fixes = target.verdict.remediation.map((fix) => fix.text).join('\n');
    expect(fixes).toContain('that member (mongod) is stopped');
    expect(fixes).not.toContain('must resolve and be reachable');
  });

  test('the wrong replicaSet name: replica_set_mismatch names the real one', async () => {
    const peer = await start({ hello: { setName: 'rs-prod', hosts: [] } });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app?replicaSet=rs-test`]);
    expect(verdictOf(report)).toBe('accepting/replica_set_mismatch');
    expect(code).toBe(2);
    expect(target.verdict.remediation[0]?.command).toContain('replicaSet=rs-prod');
  });

  test('a hello answered with ShutdownInProgress: shutting_down', async () => {
    const peer = await start({ helloError: { code: 91, codeName: 'ShutdownInProgress', errmsg: 'The server is in quiesce mode and will shut down' } });
    const { code, report } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/shutting_down');
    expect(code).toBe(2);
  });

  test('a hello answered with an error the tree does not know: not_accepting, with the server’s words', async () => {
    const peer = await start({ helloError: { code: 9001, codeName: 'SocketException', errmsg: 'proxy: maintenance window' } });
    const { report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/not_accepting');
    expect(target.verdict.message).toContain('maintenance window');
  });

  test('no connection available on the server: too_many_connections', async () => {
    const peer = await start({ serverStatus: { connections: { current: 838, available: 0, totalCreated: 91_204 } } });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app?maxPoolSize=200`]);
    expect(verdictOf(report)).toBe('pool/too_many_connections');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ current: 838, available: 0, clientPool: { maxPoolSize: 200 } });
  });

  test('85 of 100 connections in use: near_limit, degraded', async () => {
    const peer = await start({ serverStatus: { connections: { current: 85, available: 15, totalCreated: 400 } } });
    const { code, report } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app`]);
    expect(verdictOf(report)).toBe('pool/near_limit');
    expect(code).toBe(1);
  });

  test('a small client pool is named as the likely limit, the server being fine', async () => {
    const peer = await start({ serverStatus: { connections: { current: 5, available: 795 } } });
    const { code, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/app?maxPoolSize=2&waitQueueTimeoutMS=50`]);
    expect(code).toBe(0);
    const pool = target.steps.find((step) => step.id === 'pool');
    expect(pool?.summary).toContain('maxPoolSize=2 with waitQueueTimeoutMS=50');
  });

  test('an operation running for an hour: long_running, with the killOp command printed (never run)', async () => {
    const peer = await start({
      inprog: [
        {
          desc: 'conn42',
          opid: 4242,
          active: true,
          op: 'query',
          ns: 'shop.orders',
          secs_running: 3600,
          microsecs_running: 3_600_000_000,
          client: '10.0.0.7:51234',
          command: { find: 'orders', filter: { total: { $gt: 0 } } },
        },
        { desc: 'ReplBatcher', opid: 7, active: true, op: 'none', ns: '', secs_running: 99_999 },
      ],
    });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/shop`]);
    expect(verdictOf(report)).toBe('queries/long_running');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('opid 4242');
    expect(target.verdict.remediation[0]?.command).toContain('killOp: 1, op: 4242');
    expect(JSON.stringify(target.verdict.details)).not.toContain('ReplBatcher');
  });

  test('an operation waiting 40 s for a lock: blocked, naming the running operation that holds it', async () => {
    const peer = await start({
      inprog: [
        {
          desc: 'conn7',
          opid: 700,
          active: true,
          op: 'command',
          ns: 'shop.orders',
          secs_running: 45,
          microsecs_running: 45_000_000,
          waitingForLock: false,
          command: { collMod: 'orders' },
        },
        {
          desc: 'conn9',
          opid: 900,
          active: true,
          op: 'update',
          ns: 'shop.orders',
          secs_running: 40,
          microsecs_running: 40_000_000,
          waitingForLock: true,
          lockStats: { Collection: { timeAcquiringMicros: { w: 40_000_000 } } },
        },
      ],
    });
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/shop`]);
    expect(verdictOf(report)).toBe('queries/blocked');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('opid 900');
    expect(target.verdict.remediation[0]?.command).toContain('op: 700');
  });

  test('a user that logs in but has no role on the database: permission_denied; serverStatus denied is only a limited view', async () => {
    const peer = await start({
      users: { 'admin.app': 'app-pass-1234' },
      privileges: [{ resource: { db: 'reports', collection: '' }, actions: ['find'] }],
      unauthorized: ['serverStatus'],
    });
    const { code, report, target } = await diagnoseJson([`mongodb://app:app-pass-1234@127.0.0.1:${peer.port}/shop?authSource=admin`]);
    expect(verdictOf(report)).toBe('auth/permission_denied');
    expect(code).toBe(2);
    const pool = target.steps.find((step) => step.id === 'pool');
    expect(pool?.status).toBe('pass');
    expect(pool?.summary).toContain('limited view');
  });

  test('serverStatus denied to a user with a role on its database: the queries step reports the limited view too, whether or not the pool step ran', async () => {
    const peer = await start({
      users: { 'admin.app': 'app-pass-1234' },
      privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['find', 'insert'] }],
      unauthorized: ['serverStatus'],
    });
    const url = `mongodb://app:app-pass-1234@127.0.0.1:${peer.port}/shop?authSource=admin`;
    for (const args of [[url], ['--skip', 'pool', url]]) {
      const { code, report, target } = await diagnoseJson(args);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(target.steps.find((step) => step.id === 'queries')?.summary).toContain('(limited view: serverStatus is not permitted for this user (');
    }
  });

  test('the same user with a role on its database: healthy, over SCRAM-SHA-256', async () => {
    const peer = await start({
      users: { 'admin.app': 'app-pass-1234' },
      privileges: [{ resource: { db: 'shop', collection: '' }, actions: ['find', 'insert'] }],
    });
    const { code, report, target } = await diagnoseJson([`mongodb://app:app-pass-1234@127.0.0.1:${peer.port}/shop?authSource=admin`]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'auth')?.summary).toContain('SCRAM-SHA-256');
  });
});

describe('mongodb: protocol faults from hostile peers on loopback', () => {
  test('a port that accepts and stays silent: no_response within --timeout', async () => {
    const peer = await track(silentPeer());
    const { code, report, wallMs } = await diagnoseJson(['--timeout', '2', `mongodb://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/no_response');
    expect(code).toBe(2);
    expect(report.durationMs).toBeLessThanOrEqual(2000);
    expect(wallMs).toBeLessThan(5000);
  });

  test('a port that accepts and hangs up: no_response, closed', async () => {
    const peer = await track(hangUpPeer());
    const { report, target } = await diagnoseJson(['--timeout', '2', `mongodb://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/no_response');
    expect(target.verdict.message).toContain('closed');
  });

  test('an HTTP server on the port: wrong_protocol names HTTP', async () => {
    const peer = await track(httpPeer());
    const { code, report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(code).toBe(2);
    expect(target.verdict.details.answeredBy).toMatchObject({ protocol: 'http' });
  });

  test('a TLS server that shares no cipher with the client: tls_handshake_failed', async () => {
    const cert = await selfSignedCertificate('localhost');
    // TLS 1.2 with a cipher suite no client offers: the handshake ends in a handshake_failure alert.
    const server = createTlsServer({
      cert: readFileSync(cert.certFile),
      key: readFileSync(cert.keyFile),
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES256-SHA',
    });
    server.on('tlsClientError', () => undefined);
    const peer = await track(servePeer(server, () => undefined));
    const { code, report } = await diagnoseJson(['--timeout', '3', `mongodb://localhost:${peer.port}/?tls=true&tlsAllowInvalidCertificates=true`]);
    expect(verdictOf(report)).toBe('accepting/tls_handshake_failed');
    expect(code).toBe(2);
  });

  test('an HTTP server with tls=true: still wrong_protocol, not a TLS verdict', async () => {
    const peer = await track(httpPeer());
    const { report, target } = await diagnoseJson([`mongodb://127.0.0.1:${peer.port}/?tls=true`]);
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(target.verdict.details.answeredBy).toMatchObject({ protocol: 'http' });
  });
});
