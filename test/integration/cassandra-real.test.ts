import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, emptyHome, verdictOf } from '../lab/dbdoctor.js';
import {
  APP,
  type CassandraNode,
  DC,
  exclusive,
  holdConnections,
  KEYSPACES,
  MAX_CONNECTIONS,
  NOLOGIN,
  recordNode,
  sharedCassandra,
  SUPERUSER,
} from '../lab/cassandra.js';
import { isAlive } from '../lab/global-setup.js';

/**
 * Every scenario here runs against one real Apache Cassandra (started once per test run), through
 * the real CLI. The scenarios that change the node run last, holding the node for themselves.
 */
describe('cassandra against a real Apache Cassandra', () => {
  let node: CassandraNode;
  beforeAll(async () => {
    node = await sharedCassandra();
  }, 240_000);

  test('healthy: every step passes, with the keyspace and the cluster view', async () => {
    const { code, report, target } = await diagnoseJson([node.url(SUPERUSER, KEYSPACES.healthy)]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    const network = target.steps.find((step) => step.id === 'network');
    expect(network?.evidence.dataCenters).toEqual([DC]);
    expect(target.steps.find((step) => step.id === 'accepting')?.summary).toMatch(/CQL native protocol v4/);
  });

  test('healthy as an ordinary role: system_views reads are reported as a limited view, not a failure', async () => {
    const { code, report, target } = await diagnoseJson([node.url(APP, KEYSPACES.healthy)]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'auth')?.summary).toContain(`"${APP.user}"`);
  });

  test("an ordinary role, the pool step skipped or not: the queries step's limited view names system_views.clients all the same (a fact, not left behind by the pool step)", async () => {
    const seen = [];
    for (const args of [[node.url(APP, KEYSPACES.healthy)], ['--skip', 'pool', node.url(APP, KEYSPACES.healthy)]]) {
      const { code, report, target } = await diagnoseJson(args);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      const queries = target.steps.find((step) => step.id === 'queries');
      expect(queries?.summary).toContain('this role may not read system_views.clients');
      seen.push(queries?.evidence.visibility);
    }
    expect(seen[1]).toEqual(seen[0]);
  });

  test('healthy from the environment alone (CASSANDRA_* variables, no target), sources recorded', async () => {
    const { code, report, target } = await diagnoseJson([], {
      env: {
        CASSANDRA_CONTACT_POINTS: `127.0.0.1:${node.port}`,
        CASSANDRA_LOCAL_DC: DC,
        CASSANDRA_USERNAME: SUPERUSER.user,
        CASSANDRA_PASSWORD: SUPERUSER.password,
        CASSANDRA_KEYSPACE: KEYSPACES.healthy,
      },
    });
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.engine).toBe('cassandra');
    expect(target.source).toMatchObject({ host: 'env CASSANDRA_CONTACT_POINTS', localDc: 'env CASSANDRA_LOCAL_DC', password: 'env CASSANDRA_PASSWORD' });
  });

  test('healthy from a .env file with the other spellings (CASSANDRA_HOSTS, CASSANDRA_DC), which are named', async () => {
    const cwd = emptyHome();
    writeFileSync(
      join(cwd, '.env'),
      `CASSANDRA_HOSTS=127.0.0.1\nCASSANDRA_PORT=${node.port}\nCASSANDRA_DC=${DC}\nCASSANDRA_USERNAME=${SUPERUSER.user}\nCASSANDRA_PASSWORD=${SUPERUSER.password}\n`,
    );
    const { code, report, target } = await diagnoseJson([], { cwd });
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.source.host).toBe('.env CASSANDRA_HOSTS');
  });

  test('wrong port: names the port Cassandra takes CQL clients on', async () => {
    const { code, report, target } = await diagnoseJson([
      `cassandra://${SUPERUSER.user}:${SUPERUSER.password}@127.0.0.1:${node.port + 1 === node.info.storagePort ? node.port + 2 : node.port + 1}/?dc=${DC}`,
    ]);
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(code).toBe(2);
    expect(target.verdict.details.listeningPorts).toContain(node.port);
    expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain(`127.0.0.1:${node.port}`);
  });

  test('wrong password: auth_failed, unwrapped from NoHostAvailableError per host', async () => {
    const { code, report, target } = await diagnoseJson([node.url({ user: SUPERUSER.user, password: 'not-the-password' })]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(code).toBe(2);
    expect(target.verdict.details.hosts).toEqual([
      expect.objectContaining({ host: `127.0.0.1:${node.port}`, name: 'AuthenticationError', cause: 'auth_failed' }),
    ]);
  });

  test('no credentials for a node that requires a login: password_missing, before any driver is used', async () => {
    const { code, report, target } = await diagnoseJson([node.url(undefined)]);
    expect(verdictOf(report)).toBe('auth/password_missing');
    expect(code).toBe(2);
    expect(target.verdict.details.authenticator).toBe('org.apache.cassandra.auth.PasswordAuthenticator');
  });

  test('a role with LOGIN = false: permission_denied', async () => {
    const { code, report } = await diagnoseJson([node.url(NOLOGIN)]);
    expect(verdictOf(report)).toBe('auth/permission_denied');
    expect(code).toBe(2);
  });

  test('wrong local data centre: local_dc_mismatch, listing the data centres that exist', async () => {
    const { code, report, target } = await diagnoseJson([node.url(SUPERUSER, '', '?dc=dc-east')]);
    expect(verdictOf(report)).toBe('network/local_dc_mismatch');
    expect(code).toBe(2);
    expect(target.verdict.details.dataCenters).toEqual([DC]);
    expect(target.verdict.message).toContain('dc-east');
  });

  test('a keyspace that does not exist: database_missing', async () => {
    const { code, report } = await diagnoseJson([node.url(SUPERUSER, 'no_such_keyspace')]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(code).toBe(2);
  });

  test('a protocol version the server dropped (v2): protocol_version, with the versions it offers', async () => {
    const { code, report, target } = await diagnoseJson([node.url(SUPERUSER, '', `?dc=${DC}&protocolVersion=2`)]);
    expect(verdictOf(report)).toBe('accepting/protocol_version');
    expect(code).toBe(2);
    expect(target.verdict.details.versionsOffered).toEqual(expect.arrayContaining([3, 4, 5]));
  });

  test('TLS asked of a node without client encryption: tls_unsupported', async () => {
    const { code, report } = await diagnoseJson([node.url(SUPERUSER, '', `?dc=${DC}&ssl=true`)]);
    expect(verdictOf(report)).toBe('accepting/tls_unsupported');
    expect(code).toBe(2);
  });

  test('replication factor 3 on a one-node data centre, read at LOCAL_QUORUM: unavailable (2 required, 1 alive)', async () => {
    const { code, report, target } = await diagnoseJson([node.url(SUPERUSER, KEYSPACES.overReplicated, `?dc=${DC}&consistency=LOCAL_QUORUM`)]);
    expect(verdictOf(report)).toBe('queries/unavailable');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({
      replicationFactor: 3,
      replicasRequired: 2,
      driverError: expect.objectContaining({ required: 2, alive: 1 }),
    });
  });

  test('the same keyspace at LOCAL_ONE is readable', async () => {
    const { code, report } = await diagnoseJson([node.url(SUPERUSER, KEYSPACES.overReplicated)]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
  });

  test(`connections near native_transport_max_concurrent_connections (${MAX_CONNECTIONS}): near_limit, degraded`, async () => {
    await exclusive(async () => {
      const held = await holdConnections(node.port, MAX_CONNECTIONS - 7);
      try {
        const { code, report, target } = await diagnoseJson([node.url(SUPERUSER)]);
        expect(verdictOf(report)).toBe('pool/near_limit');
        expect(code).toBe(1);
        expect(target.status).toBe('degraded');
      } finally {
        held.release();
      }
    });
  });

  test('every connection slot taken: too_many_connections', async () => {
    await exclusive(async () => {
      const held = await holdConnections(node.port, MAX_CONNECTIONS - 1);
      try {
        const { code, report } = await diagnoseJson([node.url(SUPERUSER)]);
        expect(verdictOf(report)).toBe('pool/too_many_connections');
        expect(code).toBe(2);
      } finally {
        held.release();
      }
    });
  });

  test('native transport switched off with nodetool disablebinary (JMX): native_transport_disabled, and back', async () => {
    await exclusive(async () => {
      await node.nodetool('disablebinary');
      try {
        const { code, report, target } = await diagnoseJson([node.url(SUPERUSER)]);
        expect(verdictOf(report)).toBe('accepting/native_transport_disabled');
        expect(code).toBe(2);
        expect(target.steps.find((step) => step.id === 'process')?.status).toBe('pass');
        expect(target.verdict.remediation.map((fix) => fix.command ?? '').join('\n')).toContain('nodetool enablebinary');
      } finally {
        await node.nodetool('enablebinary');
      }
      const { report } = await diagnoseJson([node.url(SUPERUSER)]);
      expect(verdictOf(report)).toBe('none/healthy');
    });
  });

  test('node stopped: not_running; started again: starting_up until its CQL port opens, then healthy', async () => {
    await exclusive(async () => {
      await node.stop();
      try {
        const stopped = await diagnoseJson([node.url(SUPERUSER)]);
        expect(verdictOf(stopped.report)).toBe('process/not_running');
        expect(stopped.code).toBe(2);
        expect(stopped.target.verdict.details.localNodes).toEqual([]);
      } finally {
        node.restart();
        recordNode(node);
      }
      // The JVM runs at once; its CQL port opens seconds later, after the commit log and the ring.
      const starting = await diagnoseJson([node.url(SUPERUSER)]);
      expect(isAlive(node.info.pid)).toBe(true);
      expect(verdictOf(starting.report)).toBe('accepting/starting_up');
      expect(starting.code).toBe(2);
      await node.waitForLogin(180_000);
      const { report } = await diagnoseJson([node.url(SUPERUSER)]);
      expect(verdictOf(report)).toBe('none/healthy');
    });
  }, 240_000);
});
