import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildEnvironment } from '../../src/config/environment.js';
import { InputError } from '../../src/config/errors.js';
import { parseCassandraUri, parseContactPoints, resolveCassandraTarget, spellingNotes } from '../../src/config/cassandra/target.js';
import { resolveTargets } from '../../src/config/targets.js';
import { causeOfCqlError, causeOfDriverError, replicasRequired } from '../../src/probes/cassandra/classify.js';
import {
  encodeError,
  encodeFrame,
  ERROR_CODES,
  looksLikeCqlResponse,
  OPCODES,
  parseError,
  readFrame,
  request,
  supportedVersionsIn,
  versionsOf,
  write,
} from '../../src/probes/cassandra/frame.js';
import { isCassandraJvm, logTime, readYamlSettings, transportStateFromLog } from '../../src/probes/cassandra/local.js';
import { replicationOf } from '../../src/probes/cassandra/steps/queries.js';

const envOf = (values: Record<string, string>) => buildEnvironment({ HOME: mkdtempSync(join(tmpdir(), 'dbdoctor-unit-')), ...values });

describe('Cassandra URLs', () => {
  test.each([
    [
      'cassandra://app:s3cret@h1:9042,h2:9043/shop?dc=dc1',
      { username: 'app', password: 's3cret', hosts: 'h1:9042,h2:9043', keyspace: 'shop', params: { dc: 'dc1' } },
    ],
    ['cassandra://db', { hosts: 'db', params: {} }],
    ['cassandra://', { params: {} }],
    [
      'cassandra://u:p%40ss@db/ks?consistency=LOCAL_QUORUM&protocolVersion=4',
      { username: 'u', password: 'p@ss', hosts: 'db', keyspace: 'ks', params: { consistency: 'LOCAL_QUORUM', protocolVersion: '4' } },
    ],
  ])('%s', (uri, expected) => {
    const { params, ...rest } = parseCassandraUri(uri);
    expect({ ...rest, params: Object.fromEntries(params) }).toEqual(expected);
  });

  test.each([
    [
      'h1,h2',
      [
        { host: 'h1', port: 9042 },
        { host: 'h2', port: 9042 },
      ],
    ],
    [
      'h1:9043, h2',
      [
        { host: 'h1', port: 9043 },
        { host: 'h2', port: 9042 },
      ],
    ],
    [
      '[::1]:9044,::1',
      [
        { host: '::1', port: 9044 },
        { host: '::1', port: 9042 },
      ],
    ],
  ])('contact points %s', (list, expected) => {
    expect(parseContactPoints(list, 9042, 'url')).toEqual(expected);
  });

  test.each([['cassandra://db:notaport/'], ['cassandra://db/?consistency=SOME'], ['cassandra://db/?protocolVersion=9'], ['cassandra://db/?dc']])(
    'bad input: %s',
    (uri) => {
      expect(() => resolveCassandraTarget({ text: uri, source: 'url' }, envOf({}))).toThrow(InputError);
    },
  );
});

describe('Cassandra targets from the environment', () => {
  test('the URL wins, the environment fills the rest, defaults last', () => {
    const target = resolveCassandraTarget(
      { text: 'cassandra://app@db1/shop', source: 'url' },
      envOf({ CASSANDRA_PASSWORD: 'pw-from-env', CASSANDRA_LOCAL_DC: 'dc1', CASSANDRA_HOSTS: 'other' }),
    );
    expect(target).toMatchObject({
      contactPoints: [{ host: 'db1', port: 9042 }],
      username: 'app',
      password: 'pw-from-env',
      keyspace: 'shop',
      localDc: 'dc1',
      consistency: 'LOCAL_ONE',
    });
    expect(target.sources).toMatchObject({ host: 'url', port: 'default (9042)', password: 'env CASSANDRA_PASSWORD', localDc: 'env CASSANDRA_LOCAL_DC' });
    expect(target.display).toBe('cassandra://app:****@db1:9042/shop?dc=dc1');
  });

  test('CASSANDRA_CONTACT_POINTS wins over CASSANDRA_HOSTS; CASSANDRA_PORT applies to hosts without one', () => {
    const target = resolveCassandraTarget(undefined, envOf({ CASSANDRA_CONTACT_POINTS: 'a,b:9999', CASSANDRA_HOSTS: 'c', CASSANDRA_PORT: '19042' }));
    expect(target.contactPoints).toEqual([
      { host: 'a', port: 19042 },
      { host: 'b', port: 9999 },
    ]);
    expect(target.environmentNotes).toEqual(['CASSANDRA_CONTACT_POINTS=a,b:9999 and CASSANDRA_HOSTS=c differ; dbdoctor used CASSANDRA_CONTACT_POINTS']);
  });

  test('nothing set: localhost:9042, said to be a default', () => {
    const target = resolveCassandraTarget({ text: 'cassandra://', source: 'url' }, envOf({}));
    expect(target.contactPoints).toEqual([{ host: 'localhost', port: 9042 }]);
    expect(target.sources.host).toMatch(/^default/);
  });

  test.each([
    [{ CASSANDRA_HOSTS: 'localhost' }, ['found CASSANDRA_HOSTS, but not CASSANDRA_CONTACT_POINTS']],
    [{ CASSANDRA_CONTACT_POINTS: 'cassandra' }, ['found CASSANDRA_CONTACT_POINTS, but not CASSANDRA_HOSTS']],
    [{ CASSANDRA_CONTACT_POINTS: 'x', CASSANDRA_HOSTS: 'x', CASSANDRA_DC: 'dc1' }, ['found CASSANDRA_DC, but not CASSANDRA_LOCAL_DC']],
    [{}, []],
  ])('spellings %j', (values, notes) => {
    expect(spellingNotes(envOf(values))).toEqual(notes);
  });

  test('with no target: DATABASE_URL=cassandra://…, else the contact-point variables, pick Cassandra', async () => {
    expect((await resolveTargets([], envOf({ DATABASE_URL: 'cassandra://db/' })))[0]?.engine).toBe('cassandra');
    expect((await resolveTargets([], envOf({ CASSANDRA_HOSTS: 'db' })))[0]?.engine).toBe('cassandra');
    expect((await resolveTargets([], envOf({ PGHOST: 'db' })))[0]?.engine).toBe('postgres');
  });
});

describe('the CQL native protocol framing', () => {
  test('a frame round-trips, v4 and v2 headers', () => {
    for (const version of [4, 2]) {
      const frame = encodeFrame(version, OPCODES.SUPPORTED, write.stringMultimap({ PROTOCOL_VERSIONS: ['3/v3'] }), { stream: 1, response: true });
      const read = readFrame(Buffer.concat([frame, Buffer.from([1])]));
      expect(read?.frame).toMatchObject({ version, response: true, stream: 1, opcode: OPCODES.SUPPORTED });
      expect(read?.rest.length).toBe(1);
      expect(looksLikeCqlResponse(frame)).toBe(true);
    }
    expect(readFrame(request.options(4).subarray(0, 5))).toBeUndefined();
  });

  test('Unavailable carries consistency, required and alive', () => {
    expect(parseError(encodeError({ code: ERROR_CODES.unavailable, message: 'x', consistency: 6, required: 2, alive: 1 }))).toEqual({
      code: ERROR_CODES.unavailable,
      message: 'x',
      consistency: 6,
      required: 2,
      alive: 1,
    });
  });

  test('versions, from an error message and from SUPPORTED', () => {
    expect(supportedVersionsIn('Invalid or unsupported protocol version (2); supported versions are (3/v3, 4/v4, 5/v5, 6/v6-beta)')).toEqual([3, 4, 5, 6]);
    expect(versionsOf(['3/v3', '5/v5-beta'])).toEqual([3, 5]);
  });

  test.each([[Buffer.from('HTTP/1.1 400 Bad Request\r\n')], [Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02])], [Buffer.from('SSH-2.0-OpenSSH')]])(
    'not CQL: %s',
    (bytes) => {
      expect(looksLikeCqlResponse(bytes)).toBe(false);
    },
  );
});

describe('classification tables', () => {
  test.each([
    [ERROR_CODES.protocolError, 'Invalid or unsupported protocol version (2)', 'protocol_version'],
    [ERROR_CODES.protocolError, 'Unknown opcode', 'not_accepting'],
    [ERROR_CODES.overloaded, 'Server is in overloaded state', 'overloaded'],
    [ERROR_CODES.isBootstrapping, 'Cannot read from a bootstrapping node', 'starting_up'],
    [ERROR_CODES.unavailable, 'Cannot achieve consistency level', 'unavailable'],
    [ERROR_CODES.readTimeout, 'Operation timed out', 'unavailable'],
    [ERROR_CODES.badCredentials, 'Provided username x and/or password are incorrect', 'auth_failed'],
    [ERROR_CODES.serverError, 'something else', 'not_accepting'],
  ])('CQL error 0x%s: %s', (code, message, cause) => {
    expect(causeOfCqlError({ code, message })).toBe(cause);
  });

  test.each([
    ['AuthenticationError', 'Host 127.0.0.1:9042 requires authentication, but no authenticator found in the options', 'password_missing'],
    ['AuthenticationError', 'Provided username app and/or password are incorrect', 'auth_failed'],
    ['AuthenticationError', 'reporting is not permitted to log in', 'permission_denied'],
    ['ArgumentError', "localDataCenter was configured as 'dc-east', but only found hosts in data centers: [datacenter1]", 'local_dc_mismatch'],
    ['Error', 'Connection was unable to STARTUP using protocol version 1', 'protocol_version'],
    ['Error', 'connect ECONNREFUSED 127.0.0.1:9042', 'not_running'],
    ['OperationTimedOutError', 'The host 127.0.0.1:9042 did not reply before timeout 5000 ms', 'no_response'],
    ['Error', 'something new', 'check_error'],
  ])('driver %s: %s', (name, message, cause) => {
    expect(causeOfDriverError({ name, message })).toBe(cause);
  });

  test.each([
    ['LOCAL_ONE', 3, 3, 1],
    ['LOCAL_QUORUM', 3, 6, 2],
    ['QUORUM', 3, 6, 4],
    ['ALL', 3, 6, 6],
  ])('%s with RF %i (total %i) needs %i', (consistency, rf, total, needed) => {
    expect(replicasRequired(consistency, rf, total)).toBe(needed);
  });

  test('replication factors from system_schema.keyspaces', () => {
    expect(replicationOf({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '3', dc2: '2' }, 'dc2')).toEqual({ local: 2, total: 5 });
    expect(replicationOf({ class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '2' }, 'dc1')).toEqual({ local: 2, total: 2 });
  });
});

describe('a local Cassandra node: its command line, config and log', () => {
  test('a CassandraDaemon JVM is recognised by its command line', () => {
    expect(isCassandraJvm(['java', '-Xmx1g', 'org.apache.cassandra.service.CassandraDaemon'])).toBe(true);
    expect(isCassandraJvm(['java', '-jar', 'app.jar'])).toBe(false);
  });

  test('top-level settings of cassandra.yaml', () => {
    expect(readYamlSettings('native_transport_port: 9142 # CQL\nstart_native_transport: false\nseed_provider:\n  - x: y\n')).toEqual({
      native_transport_port: '9142',
      start_native_transport: 'false',
    });
  });

  const log = (lines: string[]): string =>
    lines.map((line, index) => `INFO  [main] 2026-11-23 09:44:${String(10 + index).padStart(2, '0')},000 ${line}`).join('\n');
  const start = 'CassandraDaemon.java:602 - Hostname: vm:7000:7001';
  const listening = 'PipelineConfigurator.java:148 - Starting listening for CQL clients on /127.0.0.1:9042 (unencrypted)...';
  const stopped = 'Server.java:203 - Stop listening for CQL clients';

  test.each([
    [[start, listening, stopped], 'disabled_by_nodetool'],
    [[start, listening, stopped, start, listening], 'starting'],
    [
      [
        start,
        'CassandraDaemon.java:700 - Not starting native transport as requested. Use JMX (StorageService->startNativeTransport()) or nodetool (enablebinary) to start it',
      ],
      'disabled_by_config',
    ],
    [[start, 'StorageService.java:957 - Cassandra version: 5.0.5'], 'starting'],
    [['nothing of interest'], 'unknown'],
  ])('transport state from the log %#', (lines, state) => {
    expect(transportStateFromLog(log(lines)).state).toBe(state);
  });

  test('a start marker older than the JVM belongs to an earlier run: the JVM is starting', () => {
    const text = log([start, listening, stopped]);
    const after = (logTime(text.split('\n')[2] ?? '') ?? 0) + 60_000;
    expect(transportStateFromLog(text, after).state).toBe('starting');
  });
});
