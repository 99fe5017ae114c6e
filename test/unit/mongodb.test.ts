import { describe, expect, test } from 'vitest';
import { buildEnvironment } from '../../src/config/environment.js';
import { InputError } from '../../src/config/errors.js';
import { resolveMongoTarget, unsupportedOptions, withoutOptions } from '../../src/config/mongodb/target.js';
import { resolveTargets } from '../../src/config/targets.js';
import { causeOfServerError, judgeConnectedSeed, primaryName } from '../../src/probes/mongodb/classify.js';
import { judgeRecords, parentDomainProblem } from '../../src/probes/mongodb/srv.js';
import { clientOperations } from '../../src/probes/mongodb/steps/queries.js';
import { decodeReply, encodeOpMsg, isMongoHeader } from '../../src/probes/mongodb/wire.js';
import type { SeedProbe } from '../../src/probes/mongodb/survey.js';

describe('mongodb targets: parsed by the driver', () => {
  test('a seed list with a replica set, credentials and pool settings; password masked', async () => {
    const target = await resolveMongoTarget({
      text: 'mongodb://app:s%40cret-99@db0:27017,db1:27018/shop?replicaSet=rs0&authSource=admin&maxPoolSize=20',
      source: 'url',
    });
    expect(target.hosts).toEqual([
      { host: 'db0', port: 27017 },
      { host: 'db1', port: 27018 },
    ]);
    expect(target).toMatchObject({ user: 'app', password: 's@cret-99', database: 'shop', authSource: 'admin', replicaSet: 'rs0', maxPoolSize: 20, tls: false });
    expect(target.display).toBe('mongodb://app:****@db0:27017,db1:27018/shop?replicaSet=rs0&authSource=admin&maxPoolSize=20');
    expect(target.sources).toMatchObject({ hosts: 'url', password: 'url', authSource: 'url', replicaSet: 'url' });
  });

  test.each([
    ['mongodb://u:p@h/', 'admin', 'default (admin, as the driver does)'],
    ['mongodb://u:p@h/shop', 'shop', 'default (the database in the URL, as the driver does)'],
    ['mongodb://u:p@h/shop?authSource=admin', 'admin', 'url'],
  ])('authSource of %s is %s (%s)', async (text, authSource, source) => {
    const target = await resolveMongoTarget({ text, source: 'url' });
    expect(target.authSource).toBe(authSource);
    expect(target.sources.authSource).toBe(source);
  });

  test.each([
    ['tls=true', false, false],
    ['tls=true&tlsAllowInvalidCertificates=true', true, false],
    ['tls=true&tlsAllowInvalidCertificates=false', false, false],
    ['tls=true&tlsAllowInvalidHostnames=true', false, true],
    ['tls=true&tlsInsecure=true', true, true],
  ])('TLS leniency as the driver reads it: %s → invalid certificates %s, invalid host names %s', async (query, certificates, hostnames) => {
    const target = await resolveMongoTarget({ text: `mongodb://db.example.test/app?${query}`, source: 'url' });
    expect(target).toMatchObject({ tls: true, tlsAllowInvalidCertificates: certificates, tlsAllowInvalidHostnames: hostnames });
  });

  test('mongodb+srv: one name, TLS on by default', async () => {
    const target = await resolveMongoTarget({ text: 'mongodb+srv://u:p@cluster0.example.com/app', source: 'url' });
    expect(target).toMatchObject({ srv: true, tls: true, hosts: [{ host: 'cluster0.example.com', port: 27017 }] });
  });

  test('options the driver does not know are set aside and reported, not fatal', async () => {
    const target = await resolveMongoTarget({ text: 'mongodb://h/?ssl_cert_reqs=CERT_NONE&w=majority', source: 'url' });
    expect(target.ignoredParams).toEqual(['ssl_cert_reqs']);
  });

  test.each([
    ['mongodb://h:99999/', /invalid MongoDB connection string/],
    ['mongodb://a,b/?directConnection=true', /directConnection/],
    ['mongodb://h/?maxPoolSize=lots', /maxPoolSize/],
    // The driver would connect to a host "ss": the real mistake is the unescaped "@".
    ['mongodb://app:p@ss@db.example:27017/app', /unescaped "@"/],
    // Found by the property tests: the parser lets it pass, the masked copy does not (was a crash).
    ['mongodb+srv:// :Pw9Aa00@#@$', /invalid MongoDB connection string/],
    // Found by the property tests: the URL parser drops "." as a path segment and the driver would use "test".
    ['mongodb://u@db.example:27017/.?replicaSet=rs0', /invalid database "\." \(from url\): a MongoDB database name cannot hold "\."/],
    ['mongodb://db.example/..', /invalid database "\.\."/],
    ['mongodb://db.example/%2E', /invalid database "\."/],
    // The driver refuses it when the application opens the database.
    ['mongodb://db.example/shop.v2', /invalid database "shop\.v2"/],
  ])('%s is an input error', async (text, message) => {
    await expect(resolveMongoTarget({ text, source: 'url' })).rejects.toThrow(InputError);
    await expect(resolveMongoTarget({ text, source: 'url' })).rejects.toThrow(message);
  });

  test('MONGODB_URI, MONGO_URL, MONGO_URI: the first one set is used, and named as the source', async () => {
    const env = buildEnvironment({ MONGO_URL: 'mongodb://b/', MONGO_URI: 'mongodb://c/' });
    const [target] = await resolveTargets([], env);
    expect(target?.engine).toBe('mongodb');
    expect(target?.sources.hosts).toBe('env MONGO_URL');
  });

  test('a mongodb URL in DATABASE_URL is a MongoDB target', async () => {
    const [target] = await resolveTargets([], buildEnvironment({ DATABASE_URL: 'mongodb://db/app' }));
    expect(target?.engine).toBe('mongodb');
  });

  test.each([
    ['option foobar is not supported', ['foobar']],
    ['options a, b are not supported', ['a', 'b']],
    ['something else', []],
  ])('unsupportedOptions(%j)', (message, names) => {
    expect(unsupportedOptions(message)).toEqual(names);
  });

  test('withoutOptions drops options case-insensitively', () => {
    expect(withoutOptions('mongodb://h/db?A=1&b=2&c=3', ['a', 'C'])).toBe('mongodb://h/db?b=2');
    expect(withoutOptions('mongodb://h/db?a=1', ['a'])).toBe('mongodb://h/db');
  });
});

describe('mongodb classification tables', () => {
  test.each([
    [{ code: 18, codeName: 'AuthenticationFailed', message: 'Authentication failed.' }, 'auth_failed'],
    [{ code: 18, codeName: 'AuthenticationFailed', message: 'Unsupported authentication mechanism "PLAIN".' }, 'auth_mechanism'],
    [
      {
        code: 334,
        codeName: 'MechanismUnavailable',
        message: 'Unable to use SCRAM-SHA-1 based authentication for user without any SCRAM-SHA-1 credentials registered',
      },
      'auth_mechanism',
    ],
    [{ code: 13, codeName: 'Unauthorized', message: 'Command serverStatus requires authentication' }, 'password_missing'],
    [{ code: 13, codeName: 'Unauthorized', message: 'not authorized on admin to execute command' }, 'permission_denied'],
    [{ code: 91, codeName: 'ShutdownInProgress', message: 'The server is in quiesce mode and will shut down' }, 'shutting_down'],
    [{ message: 'connection refused because too many open connections: 819' }, 'too_many_connections'],
    [{ code: 9001, message: 'socket exception' }, undefined],
  ])('%j → %s', (error, cause) => {
    expect(causeOfServerError(error)).toBe(cause);
  });

  const seed = (fields: Partial<SeedProbe>): SeedProbe => ({ host: 'h', port: 1, entry: { host: 'h', port: 1, transport: 'tcp', connects: [] }, ...fields });
  test.each([
    ['silence', seed({ hello: { outcome: 'silent', bytes: Buffer.alloc(0), durationMs: 1 } }), 'no_response'],
    ['a hang-up', seed({ hello: { outcome: 'closed', bytes: Buffer.alloc(0), durationMs: 1 } }), 'no_response'],
    [
      'a hang-up, TLS answering hello',
      seed({ hello: { outcome: 'closed', bytes: Buffer.alloc(0), durationMs: 1 }, otherWay: { tried: 'tls', answer: 'mongodb' } }),
      'tls_required',
    ],
    ['HTTP bytes', seed({ hello: { outcome: 'foreign', bytes: Buffer.from('HTTP/1.1 400 Bad Request\r\n'), durationMs: 1 } }), 'wrong_protocol'],
    [
      'a failed handshake, plain answering',
      seed({ tls: { outcome: 'handshake_failed', verify: 'full' }, otherWay: { tried: 'plain', answer: 'mongodb' } }),
      'tls_unsupported',
    ],
    ['a rejected certificate', seed({ tls: { outcome: 'verify_failed', verify: 'full', problem: 'self_signed' } }), 'tls_verify_failed'],
  ])('a connected seed with %s → %s', (_name, probe, cause) => {
    expect(judgeConnectedSeed(probe).cause).toBe(cause);
  });

  test.each([
    [{ primary: 'a:1', isWritablePrimary: false }, 'a:1'],
    [{ isWritablePrimary: true, me: 'b:2', hosts: ['b:2', 'c:3'] }, 'b:2'],
    [{ isWritablePrimary: true, hosts: ['mongo-0.svc:27017'] }, 'mongo-0.svc:27017'],
    [{ secondary: true, hosts: ['a:1'] }, undefined],
  ])('primaryName(%j) = %s', (reply, name) => {
    expect(primaryName(reply)).toBe(name);
  });
});

describe('mongodb+srv record rules (the driver’s)', () => {
  test.each([
    ['db0.cluster.example.com', 'cluster.example.com', undefined],
    ['db0.example.com', 'cluster.example.com', undefined],
    ['db0.attacker.example', 'cluster.example.com', 'not in the domain'],
    ['db0.localhost', 'localhost', undefined],
    ['localhost', 'localhost', 'at least one more domain level'],
  ])('%s under %s', (address, host, problem) => {
    const found = parentDomainProblem(address, host);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  test('TXT: one record, authSource/replicaSet/loadBalanced only', () => {
    const srv = { outcome: 'found', records: [{ name: 'a.x.y', port: 1, priority: 0, weight: 0 }], durationMs: 1 } as const;
    expect(judgeRecords('x.y', srv, { outcome: 'found', records: ['authSource=admin&replicaSet=rs0'], durationMs: 1 })).toBeUndefined();
    expect(judgeRecords('x.y', srv, { outcome: 'found', records: ['a=1', 'b=2'], durationMs: 1 })?.record).toBe('TXT');
    expect(judgeRecords('x.y', srv, { outcome: 'found', records: ['ssl=true'], durationMs: 1 })?.reason).toContain('ssl');
  });
});

describe('mongodb wire and currentOp', () => {
  test('an OP_MSG we encode decodes to the same document, and has a MongoDB header', () => {
    const message = encodeOpMsg({ hello: 1, $db: 'admin' }, 7);
    expect(isMongoHeader(message)).toBe(true);
    expect(decodeReply(message)).toMatchObject({ hello: 1, $db: 'admin' });
    expect(isMongoHeader(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toBe(false);
  });

  test('currentOp: client operations only; tailing cursors and internal threads are left out', () => {
    const ops = clientOperations([
      { desc: 'conn1', opid: 1, op: 'query', ns: 'a.b', microsecs_running: 2_000_000 },
      { desc: 'conn2', opid: 2, op: 'getmore', ns: 'local.oplog.rs', secs_running: 9000, cursor: { tailable: true } },
      { desc: 'TTLMonitor', opid: 3, op: 'none', secs_running: 9000 },
      { desc: 'conn4', opid: 4, op: 'update', waitingForLock: true, secs_running: 30, lockStats: { Global: { timeAcquiringMicros: { w: 12_000_000 } } } },
    ]);
    expect(ops.map((op) => op.opid)).toEqual([1, 4]);
    expect(ops[0]?.runningMs).toBe(2000);
    expect(ops[1]).toMatchObject({ waitingForLock: true, lockWaitMs: 12_000 });
  });
});
