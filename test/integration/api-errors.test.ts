import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { explain, type Explanation } from '../../src/api/index.js';
import { ExplainReportSchema } from '../../src/explain/schema.js';
import { type CassandraNode, sharedCassandra, SUPERUSER } from '../lab/cassandra.js';
import { ROOT } from '../lab/dbdoctor.js';
import { IsolatedHost } from '../lab/isolated.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';
import { Cluster, freePort } from '../lab/postgres.js';
import { selfSignedCertificate } from '../lab/tls.js';

/**
 * `explain(error)` on the error objects the real drivers (pg, mongodb, cassandra-driver, from
 * node_modules) throw at real faults of real servers: the cause comes from the object's structure
 * (SQLSTATE, errno, each host's own error), and where the message alone cannot say it (a driver
 * that names only the first host it tried), the object still does.
 */
const APP_PASSWORD = 'app-Api-Pa55';

/** Every error the driver throws, caught: the test fails if it connects. */
async function caught(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`not an Error: ${String(error)}`);
  }
  throw new Error('it connected: no fault to explain');
}

async function pgError(config: pg.ClientConfig): Promise<Error> {
  const client = new pg.Client({ connectionTimeoutMillis: 5000, ...config });
  client.on('error', () => undefined);
  return caught(async () => {
    try {
      await client.connect();
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

function valid(answer: Explanation): Explanation {
  expect(ExplainReportSchema.safeParse(answer).success).toBe(true);
  return answer;
}

function causesOf(answer: Explanation): string[] {
  return [
    ...new Set([answer.verdict?.cause, ...(answer.hosts ?? []).map((host) => host.cause)].filter((cause): cause is NonNullable<typeof cause> => cause != null)),
  ].sort();
}

describe('explain on node-postgres errors from a real PostgreSQL', () => {
  let plain: Cluster;
  let tlsOnly: Cluster;

  beforeAll(async () => {
    const cert = await selfSignedCertificate('localhost');
    [plain, tlsOnly] = await Promise.all([
      Cluster.create('api-errors-plain'),
      Cluster.create('api-errors-tls', {
        settings: { ssl: 'on', ssl_cert_file: `'${cert.certFile}'`, ssl_key_file: `'${cert.keyFile}'` },
        hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 scram-sha-256'],
      }),
    ]);
    for (const cluster of [plain, tlsOnly]) await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${APP_PASSWORD}'`);
  });
  afterAll(async () => {
    await plain?.destroy();
    await tlsOnly?.destroy();
  });

  test('wrong password: auth_failed, from SQLSTATE 28P01', async () => {
    const error = await pgError({ host: '127.0.0.1', port: plain.port, user: 'app', password: 'not-the-password', database: 'postgres' });
    expect(error).toMatchObject({ code: '28P01', severity: 'FATAL' });
    const answer = valid(await explain(error));
    expect(answer.engine).toBe('postgres');
    expect(answer.verdict?.cause).toBe('auth_failed');
    expect(answer.matches.some((match) => match.rule === 'sqlstate.28P01')).toBe(true);
    // Its stack's frames are node-postgres' (pg-protocol): the client is named.
    expect(answer.client).toBe('node-postgres');
  });

  test('missing database: database_missing, from SQLSTATE 3D000', async () => {
    const error = await pgError({ host: '127.0.0.1', port: plain.port, user: 'app', password: APP_PASSWORD, database: 'no_such_db' });
    expect(error).toMatchObject({ code: '3D000' });
    const answer = valid(await explain(error));
    expect(answer.verdict?.cause).toBe('database_missing');
    expect(answer.fields.database).toBe('no_such_db');
  });

  test('refused (nothing listens on the port): not_running, from errno ECONNREFUSED', async () => {
    const port = await freePort();
    const error = await pgError({ host: '127.0.0.1', port, user: 'app', password: APP_PASSWORD });
    expect(error).toMatchObject({ code: 'ECONNREFUSED', port });
    const answer = valid(await explain(error));
    expect(answer.verdict?.cause).toBe('not_running');
    // A refused connect is Node.js' own error: nothing in it names the engine (the port is not
    // 5432). Told the engine, the answer speaks PostgreSQL.
    expect(answer.engine).toBeNull();
    const told = valid(await explain(error, { engine: 'postgres' }));
    expect(told.engine).toBe('postgres');
    expect(told.verdict?.cause).toBe('not_running');
  });

  test('TLS asked for (ssl: true, as sslmode=require), the server has none: tls_unsupported', async () => {
    const error = await pgError({ host: '127.0.0.1', port: plain.port, user: 'app', password: APP_PASSWORD, ssl: true });
    expect(error.message).toContain('does not support SSL');
    expect(valid(await explain(error)).verdict?.cause).toBe('tls_unsupported');
  });

  test('TLS not used, the server admits only TLS (hostssl lines only): hba_rejected, with tls_required named beside it', async () => {
    const error = await pgError({ host: '127.0.0.1', port: tlsOnly.port, user: 'app', password: APP_PASSWORD, ssl: false });
    expect(error).toMatchObject({ code: '28000' });
    expect(error.message).toContain('no encryption');
    const answer = valid(await explain(error));
    // The server says only that no line admits a plaintext connection: whether a hostssl line
    // would admit it over TLS is what `dbdoctor diagnose` finds out (it tries TLS); the object
    // says no more than that, so both are named.
    expect(answer.verdict?.cause).toBe('hba_rejected');
    expect(answer.alternatives.map((alternative) => alternative.cause)).toContain('tls_required');
    expect(answer.fields).toMatchObject({ user: 'app', database: 'app' });
  });

  describe('name lookups on an isolated host with its own resolver', () => {
    let host: IsolatedHost;
    let dir: string;
    beforeAll(async () => {
      host = await IsolatedHost.create();
      await host.startDns({ 'flaky.lab': 'SERVFAIL' });
      dir = mkdtempSync(join(tmpdir(), 'dbdoctor-api-dns-'));
    });
    afterAll(async () => {
      await host?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /**
     * The error is made inside the isolated host by node-postgres itself, and explained there by the
     * built package (the object cannot cross a process boundary as the object it is).
     */
    async function inside(name: string): Promise<{ code: string; message: string; explanation: Explanation; fromMessage: Explanation }> {
      if (!existsSync(join(ROOT, 'dist', 'api', 'index.js'))) throw new Error('dist/api/index.js is missing: run "npm run build" first (npm test does)');
      const script = join(dir, 'lookup.mjs');
      writeFileSync(
        script,
        `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const pg = require('pg');
const { explain } = await import(${JSON.stringify(join(ROOT, 'dist', 'api', 'index.js'))});
const client = new pg.Client({ host: process.argv[2], port: 5432, user: 'app', password: 'x', connectionTimeoutMillis: 8000 });
client.on('error', () => undefined);
try { await client.connect(); process.stdout.write('{}'); }
catch (error) { process.stdout.write(JSON.stringify({ code: error.code, message: error.message, explanation: await explain(error), fromMessage: await explain(error.message) })); }
`,
      );
      const [file, ...args] = [...host.prefix, process.execPath, script, name];
      return new Promise((resolve, reject) => {
        const child = spawn(file ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('error', reject);
        child.once('close', () => {
          try {
            resolve(JSON.parse(out) as { code: string; message: string; explanation: Explanation; fromMessage: Explanation });
          } catch (error) {
            reject(new Error(`no answer from inside the isolated host: ${out}`, { cause: error }));
          }
        });
      });
    }

    test('NXDOMAIN: dns_not_found, from ENOTFOUND', async () => {
      const { code, explanation } = await inside('db.invalid');
      expect(code).toBe('ENOTFOUND');
      expect(valid(explanation).verdict?.cause).toBe('dns_not_found');
    });

    test('SERVFAIL: dns_temporary, from EAI_AGAIN (not dns_not_found)', async () => {
      const { code, explanation } = await inside('flaky.lab');
      expect(code).toBe('EAI_AGAIN');
      expect(valid(explanation).verdict?.cause).toBe('dns_temporary');
    });
  });
});

describe('explain on MongoDB driver errors from a real FerretDB', () => {
  let server: Ferret;
  const PASSWORD = 'ferret-api-pass-3';
  beforeAll(async () => {
    server = await Ferret.start({ adminPassword: PASSWORD });
  });
  afterAll(async () => server?.destroy());

  async function mongoError(url: string): Promise<Error> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1500 });
    return caught(async () => {
      try {
        await client.connect();
        await client.db('admin').command({ ping: 1 });
      } finally {
        await client.close().catch(() => undefined);
      }
    });
  }

  test('server selection, refused: not_running, read from the topology description (reason.servers)', async () => {
    const port = await freePort();
    const error = await mongoError(`mongodb://127.0.0.1:${port}/`);
    expect(error.name).toBe('MongoServerSelectionError');
    const answer = valid(await explain(error));
    expect(answer.engine).toBe('mongodb');
    expect(answer.verdict?.cause).toBe('not_running');
  });

  test('server selection over two hosts, both refused: each host is listed with its own cause; the message names one', async () => {
    const port = await freePort();
    const error = await mongoError(`mongodb://127.0.0.1:${port},127.0.0.2:${port}/`);
    const answer = valid(await explain(error));
    expect(answer.hosts?.map((entry) => [entry.host, entry.port, entry.cause])).toEqual([
      ['127.0.0.1', port, 'not_running'],
      ['127.0.0.2', port, 'not_running'],
    ]);
    // The message is the first server's error only: it cannot list the second.
    const fromMessage = valid(await explain(error.message));
    expect(fromMessage.hosts).toBeUndefined();
    expect(error.message).not.toContain('127.0.0.2');
  });

  test('authentication failure: auth_failed, from code 18 / codeName AuthenticationFailed', async () => {
    const error = await mongoError(server.url(ADMIN_USER, 'not-the-pass-9', 'admin'));
    expect(error).toMatchObject({ code: 18, codeName: 'AuthenticationFailed' });
    const answer = valid(await explain(error));
    expect(answer.engine).toBe('mongodb');
    expect(answer.verdict?.cause).toBe('auth_failed');
    expect(JSON.stringify(answer)).not.toContain('not-the-pass-9');
  });
});

describe('explain on cassandra-driver errors from a real Apache Cassandra', () => {
  let node: CassandraNode;
  beforeAll(async () => {
    node = await sharedCassandra();
  }, 240_000);

  test('NoHostAvailableError, one contact point refusing and one rejecting the password: both read from innerErrors, where the message names only the first', async () => {
    // Cassandra listens on 127.0.0.1 only: 127.0.0.2 (also loopback) refuses the connection.
    const client = new cassandra.Client({
      contactPoints: ['127.0.0.1', '127.0.0.2'],
      protocolOptions: { port: node.port },
      localDataCenter: 'datacenter1',
      credentials: { username: SUPERUSER.user, password: 'not-the-cass-pass' },
      socketOptions: { connectTimeout: 3000 },
    });
    const error = await caught(async () => {
      try {
        await client.connect();
      } finally {
        await client.shutdown().catch(() => undefined);
      }
    });
    expect(error.name).toBe('NoHostAvailableError');
    const answer = valid(await explain(error));
    expect(answer.engine).toBe('cassandra');
    expect(answer.hosts?.map((entry) => [entry.host, entry.port, entry.cause]).sort()).toEqual([
      ['127.0.0.1', node.port, 'auth_failed'],
      ['127.0.0.2', node.port, 'not_running'],
    ]);
    // The most specific host decides: a rejected password (the server's word) over a refusal.
    expect(answer.verdict?.cause).toBe('auth_failed');
    // The message names the first host tried only: whichever it was, the other's cause is not in it.
    const fromMessage = valid(await explain(error.message));
    expect(fromMessage.hosts).toBeUndefined();
    expect(causesOf(fromMessage)).toHaveLength(1);
    expect(causesOf(answer)).toEqual(['auth_failed', 'not_running']);
    expect(JSON.stringify(answer)).not.toContain('not-the-cass-pass');
  });
});
