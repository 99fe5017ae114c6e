import { describe, expect, test } from 'vitest';
import { runExplain, toExplainOptions } from '../../src/cli/explain.js';
import type { CliIO } from '../../src/cli/io.js';
import { DbdoctorError, diagnose, explain, waitFor } from '../../src/api/index.js';
import { ExplainReportSchema } from '../../src/explain/schema.js';

/**
 * The API's explain on error objects of the shapes drivers and Node.js make, built here where no
 * server is needed to make them (an errno-only Error, an AggregateError of two, hostile objects).
 * The same drivers' real objects, from real faults, are in test/integration/api-errors.test.ts.
 */
function nodeError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

const refused = (address: string, port: number): Error =>
  nodeError(`connect ECONNREFUSED ${address}:${port}`, { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address, port });

describe('explain(error object): the structure first', () => {
  test('a plain Error with only errno/code fields (no telling message): not_running, read from the code', async () => {
    const error = nodeError('boom', { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 5432 });
    const answer = await explain(error);
    expect(answer.status).toBe('recognised');
    expect(answer.verdict?.cause).toBe('not_running');
    expect(answer.engine).toBe('postgres');
    // The message alone says nothing.
    expect((await explain('boom')).status).toBe('not_recognised');
  });

  test('an object with only a code (no message at all): ENOTFOUND from getaddrinfo is dns_not_found', async () => {
    const answer = await explain({ code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: 'db.internal' });
    expect(answer.verdict?.cause).toBe('dns_not_found');
  });

  test('EAI_AGAIN is dns_temporary, not dns_not_found', async () => {
    const answer = await explain(
      nodeError('getaddrinfo EAI_AGAIN db.internal', { code: 'EAI_AGAIN', errno: -3001, syscall: 'getaddrinfo', hostname: 'db.internal' }),
    );
    expect(answer.verdict?.cause).toBe('dns_temporary');
  });

  test('an AggregateError of two addresses: one entry per address in hosts, each with its own cause', async () => {
    const error = new AggregateError(
      [
        refused('::1', 5432),
        nodeError('connect ETIMEDOUT 127.0.0.1:5432', { errno: -110, code: 'ETIMEDOUT', syscall: 'connect', address: '127.0.0.1', port: 5432 }),
      ],
      '',
    );
    const answer = await explain(error);
    expect(answer.status).toBe('recognised');
    expect(answer.hosts?.map((host) => [host.host, host.port, host.cause])).toEqual([
      ['::1', 5432, 'not_running'],
      ['127.0.0.1', 5432, 'connect_timeout'],
    ]);
    expect(['not_running', 'connect_timeout']).toContain(answer.verdict?.cause);
    // Node.js prints an AggregateError's message empty: the text alone has nothing to read.
    expect((await explain(`AggregateError: ${error.message}`)).status).toBe('not_recognised');
  });

  test('a SQLSTATE with severity and routine is PostgreSQL, and the code decides where the words are another language', async () => {
    const error = nodeError('Passwort-Authentifizierung für Benutzer »app« fehlgeschlagen', {
      name: 'error',
      severity: 'FATAL',
      code: '28P01',
      routine: 'auth_failed',
    });
    const answer = await explain(error);
    expect(answer.engine).toBe('postgres');
    expect(answer.verdict?.cause).toBe('auth_failed');
  });

  test('a MongoDB server error by its codeName, whatever the message says', async () => {
    const answer = await explain(
      nodeError('nope', { name: 'MongoServerError', code: 18, codeName: 'AuthenticationFailed', errorLabelSet: new Set(['HandshakeError']) }),
    );
    expect(answer.engine).toBe('mongodb');
    expect(answer.verdict?.cause).toBe('auth_failed');
  });

  test('a cause chain is read to its end: a wrapper around a refused connect', async () => {
    const error = new Error('could not start the app', { cause: new Error('database unavailable', { cause: refused('127.0.0.1', 27017) }) });
    const answer = await explain(error);
    expect(answer.verdict?.cause).toBe('not_running');
    expect(answer.engine).toBe('mongodb');
  });

  test('the fields decide when the message contradicts them', async () => {
    // A wrapper that put another error's words in the message: the SQLSTATE is what the server said.
    const error = nodeError('password authentication failed for user "app"', { name: 'error', severity: 'FATAL', code: '3D000', routine: 'InitPostgres' });
    const answer = await explain(error);
    expect(answer.verdict?.cause).toBe('database_missing');
    expect(answer.verdict?.basis).toBe('code');
    // The same words and code as text contradict each other: no verdict, both as guesses.
    const pasted = await explain(`error: password authentication failed for user "app" { code: '3D000' }`);
    expect(pasted.verdict?.cause).not.toBe('database_missing');
  });
});

describe('explain(error object): hostile and secret-bearing objects', () => {
  test('a cyclic cause chain ends: the answer comes, and it is the refusal', async () => {
    const a = refused('127.0.0.1', 5432) as Error & { cause?: unknown };
    const b = new Error('wrapped', { cause: a });
    a.cause = b;
    const answer = await explain(b);
    expect(answer.verdict?.cause).toBe('not_running');
  });

  test('a cycle through inner errors and an errors list that contains itself end too', async () => {
    const error = new AggregateError([], 'all failed') as AggregateError & { errors: unknown[] };
    error.errors.push(error, refused('127.0.0.1', 9042));
    const inner: Record<string, unknown> = {};
    const nha = nodeError('All host(s) tried for query failed.', { name: 'NoHostAvailableError', innerErrors: inner });
    inner['127.0.0.1:9042'] = nha;
    inner['127.0.0.2:9042'] = error;
    const answer = await explain(nha);
    expect(answer.status).toBe('recognised');
    expect(answer.engine).toBe('cassandra');
  });

  test('getters that throw and a Proxy whose every trap throws are read as absent, never thrown', async () => {
    const error = refused('127.0.0.1', 5432);
    Object.defineProperty(error, 'cause', {
      get: () => {
        throw new Error('boom from a getter');
      },
    });
    expect((await explain(error)).verdict?.cause).toBe('not_running');
    const hostile = new Proxy(new Error('x'), {
      get: () => {
        throw new Error('trap');
      },
      ownKeys: () => {
        throw new Error('trap');
      },
      has: () => {
        throw new Error('trap');
      },
    });
    await expect(explain(hostile)).rejects.toThrow(DbdoctorError);
  });

  test('a very deep chain and a huge message come back bounded and quickly', async () => {
    let error: Error = refused('127.0.0.1', 5432);
    for (let level = 0; level < 10_000; level++) error = new Error(`level ${level}`, { cause: error });
    const huge = nodeError(`${'x'.repeat(2_000_000)} connect ECONNREFUSED 127.0.0.1:5432`, { code: 'ECONNREFUSED' });
    const started = Date.now();
    const [deep, big] = await Promise.all([explain(error), explain(huge)]);
    expect(deep.status).toBeDefined();
    expect(big.verdict?.cause).toBe('not_running');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('a password in the message, in a URL field and in a password field is masked everywhere in the answer', async () => {
    const error = nodeError('password authentication failed for user "app" (postgresql://app:Sup3rS3cretPw@db:5432/orders) after trying Sup3rS3cretPw', {
      name: 'error',
      severity: 'FATAL',
      code: '28P01',
      routine: 'auth_failed',
      connectionString: 'postgresql://app:Hidden-Url-Pass@db:5432/orders',
      password: 'Field-Pass-123',
    });
    (error as Error & { detail?: string }).detail = 'tried Hidden-Url-Pass and Field-Pass-123';
    const answer = await explain(error);
    const json = JSON.stringify(answer);
    expect(answer.verdict?.cause).toBe('auth_failed');
    expect(json).not.toContain('Sup3rS3cretPw');
    expect(json).toContain('****');
    // Fields dbdoctor does not show stay out; what it shows never carries them.
    expect(json).not.toContain('Hidden-Url-Pass');
    expect(json).not.toContain('Field-Pass-123');
    // A message that quotes the URL field's password bare is masked too.
    const quoting = nodeError('auth failed with Hidden-Url-Pass2', { code: '28P01', severity: 'FATAL', url: 'postgres://u:Hidden-Url-Pass2@h/d' });
    expect(JSON.stringify(await explain(quoting))).not.toContain('Hidden-Url-Pass2');
  });
});

describe('explain: its input, its document', () => {
  const fakeIO = (): CliIO & { stdout: string } => {
    const io = {
      env: {},
      stdoutIsTTY: false,
      stderrIsTTY: false,
      cwd: process.cwd(),
      stdout: '',
      out: async (text: string) => void (io.stdout += text),
      err: async () => undefined,
    };
    return io;
  };

  test('a text answers as `dbdoctor explain --json` does: the same document, modulo its duration', async () => {
    const text = 'FATAL:  password authentication failed for user "app"\nconnection to server at "db.internal" (10.0.0.5), port 5432 failed';
    const io = fakeIO();
    await runExplain(toExplainOptions([text], { color: false, json: true }, io), io, '0.1.0', { isTTY: true, read: async () => '' });
    const cli = ExplainReportSchema.parse(JSON.parse(io.stdout));
    const api = await explain(text);
    expect(ExplainReportSchema.safeParse(api).success).toBe(true);
    expect({ ...api, durationMs: 0 }).toEqual({ ...cli, durationMs: 0 });
  });

  test('an empty text, a number, null: DbdoctorError bad_input with a hint, never a stack of internals', async () => {
    for (const input of ['   ', 42, null, undefined, {}]) {
      const error = await explain(input).then(
        () => undefined,
        (rejected: unknown) => rejected,
      );
      expect(error).toBeInstanceOf(DbdoctorError);
      expect(error).toMatchObject({ reason: 'bad_input' });
      expect((error as DbdoctorError).hint).toBeTruthy();
    }
  });

  test('diagnose and waitFor: a URL that cannot be used is bad_input (the CLI says the same words, exit 3)', async () => {
    await expect(diagnose('postgresql://app:Pw-in-bad-url@db:notaport/x', { env: {} })).rejects.toMatchObject({ name: 'DbdoctorError', reason: 'bad_input' });
    const error = await waitFor('mysql://app:Pw-in-bad-url@db/x', { env: {} }).catch((rejected: unknown) => rejected);
    expect(error).toBeInstanceOf(DbdoctorError);
    expect(String((error as DbdoctorError).message)).not.toContain('Pw-in-bad-url');
    await expect(diagnose('postgresql://db/x', { env: {}, timeoutMs: -1 })).rejects.toMatchObject({ reason: 'bad_input' });
  });

  test('an AbortSignal fired before the call: aborted at once', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(diagnose('postgresql://127.0.0.1:1/x', { env: {}, signal: controller.signal })).rejects.toMatchObject({ reason: 'aborted' });
    await expect(waitFor('postgresql://127.0.0.1:1/x', { env: {}, signal: controller.signal })).rejects.toMatchObject({ reason: 'aborted' });
  });
});

describe('the API checks its arguments as the CLI checks its flags (found by a fresh-eyes tester)', () => {
  const url = 'postgresql://app@127.0.0.1:1/x';
  const badInputs: [string, () => Promise<unknown>][] = [
    ['a signal that is no AbortSignal', () => diagnose(url, { env: {}, signal: {} as AbortSignal, timeoutMs: 2000 })],
    ['options null', () => diagnose(url, null as never)],
    ['targets a number', () => diagnose(5 as never, { env: {} })],
    ['targets null', () => diagnose(null as never, { env: {} })],
    ['a timeoutMs no timer can wait (2^31 ms and more)', () => diagnose(url, { env: {}, timeoutMs: 1e12 })],
    ['waitFor with a timeoutMs no timer can wait', () => waitFor(url, { env: {}, timeoutMs: 1e10 })],
    ['an unknown platform', () => diagnose(url, { env: {}, platform: 'amiga' as never })],
    ['an unknown step to skip', () => diagnose(url, { env: {}, skip: ['nope' as never] })],
    ['an unknown until', () => waitFor(url, { env: {}, until: 'forever' as never })],
    ['a negative threshold', () => diagnose(url, { env: {}, thresholds: { longRunningMs: -5 } })],
    ['explain with an unknown engine', () => explain('x', { engine: 'mysql' as never })],
    ['explain with options null', () => explain('x', null as never)],
  ];
  test.each(badInputs)('%s: DbdoctorError bad_input at once, one sentence, nothing left running', async (_name, call) => {
    const error = await call().catch((rejected: unknown) => rejected);
    expect(error).toBeInstanceOf(DbdoctorError);
    expect(error).toMatchObject({ reason: 'bad_input' });
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('explain(error object) is never worse than its text', () => {
  test("pg.Pool's connection timeout (a wrapper whose cause is another message): connect_timeout, as its message says", async () => {
    const error = new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') });
    const [fromObject, fromText] = await Promise.all([explain(error), explain(error.message)]);
    expect(fromText.verdict?.cause).toBe('connect_timeout');
    expect(fromObject.verdict?.cause).toBe(fromText.verdict?.cause);
  });

  test("a server's generic code over a message that names the fault (FerretDB's InternalError carrying PostgreSQL's pg_hba FATAL)", async () => {
    const message = 'FATAL: no pg_hba.conf entry for host "127.0.0.1", user "ferret", database "ferretdb", no encryption (SQLSTATE 28000)';
    const error = Object.assign(new Error(message), { name: 'MongoServerError', code: 1, codeName: 'InternalError' });
    const [fromObject, fromText] = await Promise.all([explain(error), explain(message)]);
    expect(fromText.verdict?.cause).toBe('hba_rejected');
    expect(fromObject.verdict?.cause).toBe('hba_rejected');
  });
});

describe('explain(…, { engine }): the registry says which engines there are', () => {
  test('an engine the registry does not have is bad input, naming the ones it has, before anything runs', async () => {
    const call = explain('FATAL: the database system is starting up', { engine: 'oracle' as never });
    await expect(call).rejects.toBeInstanceOf(DbdoctorError);
    await expect(call).rejects.toMatchObject({ reason: 'bad_input', message: 'dbdoctor: engine must be one of postgres, mongodb, cassandra, not "oracle"' });
  });

  test('a registered engine is taken', async () => {
    expect((await explain('connection refused', { engine: 'cassandra' })).engine).toBe('cassandra');
  });
});
