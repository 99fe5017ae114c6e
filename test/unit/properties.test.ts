import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { durationMs } from '../../src/config/duration.js';
import { parseDotEnv } from '../../src/config/dotenv.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { InputError } from '../../src/config/errors.js';
import { parseConfigFile } from '../../src/config/file.js';
import { secrets } from '../../src/config/secrets.js';
import { discoverTargets, resolveTarget } from '../../src/config/targets.js';
import { main } from '../../src/cli/main.js';
import { registerVocabulary } from '../../src/cli/vocabulary.js';
import { runExplain } from '../../src/cli/explain.js';
import { ExplainReportSchema } from '../../src/explain/schema.js';
import { safeDocument, safeOutput, type CliIO } from '../../src/cli/io.js';

/**
 * Bad input, generated: whatever a user types, sets or writes into a file, parsing ends in a target
 * or in an InputError — never another exception — and an InputError never carries the password it
 * was given. Through the CLI, invalid input is one line (plus a hint), exit code 3, no stack trace.
 *
 * fast-check picks a new seed each run; a failure prints the seed and the shrunk input to replay.
 */
const HOME = mkdtempSync(join(tmpdir(), 'dbdoctor-props-'));
// As main() does before anything is written (the runs below call runExplain directly too).
registerVocabulary();
/** PROPERTY_RUNS=5000 npx vitest run test/unit/properties.test.ts searches deeper. */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) };

/** A password that is unmistakable in text (so "does not contain" means something). */
const password = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9]{4,10}$/), fc.stringMatching(/^[A-Za-z0-9!#$%&'()*+,;=:@/?[\]~ -]{0,8}$/))
  .map(([head, tail]) => `Pw9${head}${tail}`);

const piece = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom(
    '',
    '%',
    '%zz',
    '%00',
    '[',
    ']',
    '[::1]',
    '[fe80::1%eth0]',
    ':',
    '@',
    '/',
    '?',
    '#',
    ',',
    '\\',
    '\n',
    '\u0000',
    'localhost',
    'db.invalid',
    '127.0.0.1',
    '0',
    '65536',
    '-1',
    '99999999999999999999',
  ),
);
const scheme = fc.constantFrom('postgresql', 'postgres', 'mongodb', 'mongodb+srv', 'cassandra', 'mysql', 'PostgreSQL', 'http', 'x');
const optionName = fc.oneof(
  fc.constantFrom(
    'sslmode',
    'connect_timeout',
    'target_session_attrs',
    'application_name',
    'options',
    'host',
    'port',
    'password',
    'user',
    'replicaSet',
    'authSource',
    'authMechanism',
    'tls',
    'directConnection',
    'maxPoolSize',
    'serverSelectionTimeoutMS',
    'readPreference',
    'sslrootcert',
    'hostaddr',
    'service',
    'localDataCenter',
    'consistency',
  ),
  fc.string({ maxLength: 8 }),
);
const query = fc.array(fc.tuple(optionName, piece), { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
const hosts = fc
  .array(fc.tuple(piece, fc.option(piece, { nil: undefined })), { minLength: 0, maxLength: 3 })
  .map((list) => list.map(([host, port]) => (port === undefined ? host : `${host}:${port}`)).join(','));

/** URL-shaped input, right or wrong in every part, with a known password. */
const urlInput = fc
  .record({
    scheme,
    user: piece,
    password,
    hosts,
    path: fc.oneof(
      fc.constant(''),
      piece.map((p) => `/${p}`),
    ),
    query,
    encode: fc.boolean(),
  })
  .map((u) => ({
    text: `${u.scheme}://${u.user}:${u.encode ? encodeURIComponent(u.password) : u.password}@${u.hosts}${u.path}${u.query}`,
    password: u.password,
    // With a "/", "?", "#" or "@" in the user name, what follows is a path or a query, not a password,
    // to libpq and to the MongoDB driver alike: a valid target may then show it (as a database name).
    unambiguous: !/[/?#@]/.test(u.user),
  }));

/** libpq keyword/value strings, quoted and not, with a known password. */
const keywordInput = fc
  .record({
    pairs: fc.array(fc.tuple(optionName, piece, fc.boolean()), { maxLength: 5 }),
    password,
    quote: fc.boolean(),
  })
  .map(({ pairs, password: secret, quote }) => ({
    text: [
      ...pairs.map(([k, v, q]) => (q ? `${k}='${v.replace(/['\\]/g, '\\$&')}'` : `${k}=${v}`)),
      quote ? `password='${secret.replace(/['\\]/g, '\\$&')}'` : `password=${secret.replace(/\s/g, '')}`,
    ].join(' '),
    password: quote ? secret : secret.replace(/\s/g, ''),
  }));

function environment(values: Record<string, string> = {}) {
  return buildEnvironment({ HOME, PGPASSFILE: join(HOME, 'pgpass'), PGSERVICEFILE: join(HOME, 'services'), ...values });
}

/** Runs `parse`; returns what it produced, or the InputError it threw. Anything else fails the property. */
async function outcome<T>(parse: () => Promise<T> | T): Promise<{ ok: T } | { error: InputError }> {
  try {
    return { ok: await parse() };
  } catch (error) {
    if (error instanceof InputError) return { error };
    throw error;
  }
}

function expectNoSecret(error: InputError, secret: string): void {
  // The same rule as the output's literal safety net: a secret is a whole token of 4+ characters.
  for (const text of [error.message, error.hint ?? '']) {
    expect(text).not.toContain(secret);
    if (encodeURIComponent(secret) !== secret) expect(text).not.toContain(encodeURIComponent(secret));
  }
}

describe('target parsing: a target or an InputError, and errors never hold the password', () => {
  test('any string at all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })), async (text) => {
        const result = await outcome(() => resolveTarget(text, environment()));
        if ('ok' in result) expect(['postgres', 'mongodb', 'cassandra']).toContain(result.ok.engine);
      }),
      RUNS,
    );
  });

  test('URLs of every scheme, well- and ill-formed in every part', async () => {
    await fc.assert(
      fc.asyncProperty(urlInput, async ({ text, password: secret, unambiguous }) => {
        const result = await outcome(() => resolveTarget(text, environment()));
        if ('error' in result) expectNoSecret(result.error, secret);
        else if (unambiguous) expect(result.ok.display).not.toContain(secret);
      }),
      {
        ...RUNS,
        // Found by this property once; kept so that they run every time.
        examples: [
          [{ text: 'postgresql://?:Pw9A00a@', password: 'Pw9A00a', unambiguous: false }],
          [{ text: 'postgresql://@:Pw9Aaaa@/?sslmode=%', password: 'Pw9Aaaa', unambiguous: false }],
          [{ text: 'postgresql://:Pw9aAaa@/?user=', password: 'Pw9aAaa', unambiguous: true }],
          [{ text: 'mongodb://\n:Pw9AAaa@', password: 'Pw9AAaa', unambiguous: true }],
          [{ text: 'mongodb+srv://:Pw9AaAa@/', password: 'Pw9AaAa', unambiguous: true }],
          [{ text: 'mongodb:// @ ?:Pw9a000@?=?', password: 'Pw9a000', unambiguous: true }],
          [{ text: 'mysql://\n:Pw9000a@/', password: 'Pw9000a', unambiguous: true }],
        ],
      },
    );
  });

  test('libpq keyword/value strings', async () => {
    await fc.assert(
      fc.asyncProperty(keywordInput, async ({ text, password: secret }) => {
        const result = await outcome(() => resolveTarget(text, environment()));
        if ('error' in result) expectNoSecret(result.error, secret);
        else expect(result.ok.display).not.toContain(secret);
      }),
      {
        ...RUNS,
        examples: [
          [{ text: 'sslmode= password=Pw90AaA', password: 'Pw90AaA' }],
          [{ text: 'user= password=Pw9aaAa', password: 'Pw9aaAa' }],
          [{ text: "password=' password='Pw90A00'", password: 'Pw90A00' }],
          [{ text: 'user=\\ password=Pw9AaaA', password: 'Pw9AaaA' }],
        ],
      },
    );
  });
});

describe('environment: discovery from any variables ends in targets or an InputError', () => {
  const names = fc.constantFrom(
    'DATABASE_URL',
    'ORDERS_DATABASE_URL',
    'PGHOST',
    'PGHOSTADDR',
    'PGPORT',
    'PGUSER',
    'PGDATABASE',
    'PGSSLMODE',
    'PGCONNECT_TIMEOUT',
    'PGTARGETSESSIONATTRS',
    'PGAPPNAME',
    'PGPASSWORD',
    'PGSERVICE',
    'MONGODB_URI',
    'MONGO_URL',
    'MONGO_URI',
    'CASSANDRA_CONTACT_POINTS',
    'CASSANDRA_PORT',
    'CASSANDRA_LOCAL_DC',
    'CASSANDRA_URL',
  );
  const value = fc.oneof(
    piece,
    urlInput.map((u) => u.text),
    keywordInput.map((k) => k.text),
  );

  test('any mix of the variables dbdoctor reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(names, value, { maxKeys: 5 }), password, async (values, secret) => {
        const result = await outcome(() => discoverTargets(environment({ ...values, PGPASSWORD: secret })));
        if ('error' in result) expectNoSecret(result.error, secret);
        else {
          expect(result.ok.length).toBeGreaterThan(0);
          for (const { target } of result.ok) expect(target.display).not.toContain(secret);
        }
      }),
      RUNS,
    );
  });
});

describe('.env files', () => {
  test('any text parses to a record of strings, without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const [key, value] of Object.entries(parseDotEnv(text))) {
          expect(key).toMatch(/^[A-Za-z_][A-Za-z0-9_.-]*$/);
          expect(typeof value).toBe('string');
        }
      }),
      RUNS,
    );
  });

  test('values written the way compose documents them read back unchanged', () => {
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/);
    const line = fc.oneof(
      fc.tuple(key, fc.stringMatching(/^[^'\n\r]*$/)).map(([k, v]) => ({ k, v, text: `${k}='${v}'` })),
      fc.tuple(key, fc.stringMatching(/^[^\n\r]*$/)).map(([k, v]) => ({ k, v, text: `export ${k}="${v.replace(/[\\"]/g, '\\$&')}"` })),
      fc.tuple(key, fc.stringMatching(/^[^\s#'"][^\n#]*[^\s#]$|^[^\s#'"]$/)).map(([k, v]) => ({ k, v, text: `${k}=${v}  # a comment` })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(line, { selector: (l) => l.k, maxLength: 6 }), (lines) => {
        const parsed = parseDotEnv(lines.map((l) => l.text).join('\n'));
        for (const { k, v } of lines) expect(parsed[k]).toBe(v);
      }),
      RUNS,
    );
  });
});

describe('config files: a config or an InputError naming file:line:column', () => {
  const shaped = fc.record(
    {
      defaults: fc.anything(),
      targets: fc.oneof(
        fc.anything(),
        fc.array(
          fc.record(
            {
              label: fc.anything(),
              url: fc.oneof(
                fc.anything(),
                urlInput.map((u) => u.text),
              ),
              urlFrom: fc.anything(),
              timeout: fc.anything(),
              only: fc.anything(),
              thresholds: fc.anything(),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
      ),
    },
    { requiredKeys: [] },
  );

  test('any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const result = await outcome(() => parseConfigFile(text, 'fleet.yaml'));
        if ('error' in result) expect(result.error.message).toMatch(/^fleet\.yaml:\d+:\d+: /);
      }),
      { ...RUNS, examples: [['*!'], ['targets: [*missing]'], ['a: &x [*x]']] },
    );
  });

  test('JSON documents shaped like a config, with anything in each field', async () => {
    await fc.assert(
      fc.asyncProperty(shaped, async (document) => {
        const result = await outcome(() => parseConfigFile(JSON.stringify(document) ?? 'null', 'fleet.json'));
        if ('error' in result) expect(result.error.message).toMatch(/^fleet\.json:\d+:\d+: /);
        else expect(result.ok.targets.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});

describe('durations', () => {
  test('any text is a positive number of milliseconds or undefined', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 12 }), fc.double()), (input) => {
        const ms = durationMs(input);
        if (ms !== undefined) {
          expect(Number.isFinite(ms)).toBe(true);
          expect(ms).toBeGreaterThan(0);
        }
      }),
      { ...RUNS, examples: [[1.797693134862316e305], ['1e400'], ['99999999999999999999h']] },
    );
  });

  test('written durations read back', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (n, unit) => {
        expect(durationMs(`${n}${unit}`)).toBe(n * units[unit]);
      }),
      RUNS,
    );
  });
});

function captureIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env: { HOME },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    cwd: HOME,
    stdout,
    stderr,
    // As the real writers do: documents were redacted as structures, prose passes the secret net.
    out: async (text) => void stdout.push(safeDocument(text)),
    err: async (text) => void stderr.push(safeOutput(text)),
  };
}

/**
 * Each CLI run as its own process, as the real CLI runs: the secrets earlier runs registered are
 * forgotten (thousands of them would slow every redaction and could mask words of this run).
 */
function freshProcess(): void {
  secrets.forget();
  registerVocabulary();
}

function expectOneClearError(io: { stdout: string[]; stderr: string[] }, code: number, secret?: string): void {
  const text = io.stderr.join('');
  expect(code).toBe(3);
  expect(text).toMatch(/^dbdoctor: \S/);
  expect(text).not.toContain('internal error');
  expect(text).not.toMatch(/\n\s+at /);
  expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  expect(io.stdout.join('')).toBe('');
  if (secret) expect(text).not.toContain(secret);
}

describe('the CLI on invalid input: one clear message, exit code 3', () => {
  test('invalid targets (only those the parser rejects; valid ones would be diagnosed)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(urlInput, keywordInput), async ({ text, password: secret }) => {
        const parsed = await outcome(() => resolveTarget(text, environment()));
        fc.pre('error' in parsed);
        freshProcess();
        const io = captureIO();
        expectOneClearError(io, await main(['node', 'dbdoctor', 'diagnose', '--no-env-file', text], io), secret);
      }),
      {
        numRuns: 150,
        examples: [
          [{ text: 'postgresql://:Pw90a00@?sslmode=\n&=', password: 'Pw90a00', unambiguous: true }],
          [{ text: 'postgresql://?:Pw9Aaaa%5D@?=[fe80::1%eth0]', password: 'Pw9Aaaa]', unambiguous: false }],
        ],
      },
    );
  });

  test('invalid flag values', async () => {
    const flag = fc.constantFrom(
      '--timeout',
      '--format',
      '--long-running',
      '--lock-wait',
      '--idle-in-transaction',
      '--idle',
      '--near-limit',
      '--platform',
      '--until',
      '--only',
      '--skip',
      '--config',
    );
    const command = fc.constantFrom('diagnose', 'wait');
    await fc.assert(
      fc.asyncProperty(
        command,
        flag,
        fc.oneof(piece, fc.constantFrom('0', '-5', '1e9', 'NaN', 'Infinity', '5 m', '101', 'json,human', 'auth,bogus', '/nonexistent.yaml')),
        async (name, option, value) => {
          freshProcess();
          const io = captureIO();
          // An invalid target after the flag: if the value is accepted, the target is what is rejected.
          const code = await main(['node', 'dbdoctor', name, '--no-env-file', option, value, 'nosuchengine://db/app'], io);
          expectOneClearError(io, code);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('explain: any pasted text gets an answer, never a crash', () => {
  const words = fc.constantFrom(
    'FATAL:',
    'password authentication failed for user',
    'connection refused',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'getaddrinfo ENOTFOUND',
    'EAI_AGAIN',
    'could not translate host name',
    'SQLSTATE 28P01',
    'P1001',
    'MongoServerSelectionError',
    'NoHostAvailableError',
    'timeout expired',
    'SSL',
    'pg_hba.conf',
    'too many clients',
    'the database system is starting up',
    'Traceback (most recent call last):',
    '\tat org.postgresql.',
    ':5432',
    '\n',
    '"',
  );
  const pasted = fc
    .tuple(fc.array(fc.oneof(words, piece), { maxLength: 12 }), fc.option(urlInput, { nil: undefined }), fc.array(fc.oneof(words, piece), { maxLength: 6 }))
    .map(([before, url, after]) => ({ text: [...before, url?.text ?? '', ...after].join(' '), password: url?.password }));

  test('a verdict (exit 2 or 1), or "not recognised" (4); empty input is bad input (3); pasted passwords stay hidden', async () => {
    await fc.assert(
      fc.asyncProperty(pasted, fc.constantFrom('human' as const, 'json' as const), async ({ text, password: secret }, format) => {
        freshProcess();
        const io = captureIO();
        const result = await outcome(() =>
          runExplain({ format, verbose: true, color: false, engine: undefined, input: { from: 'stdin' } }, io, 'test', {
            isTTY: false,
            read: async () => text,
          }),
        );
        if (text.trim() === '') {
          expect('error' in result).toBe(true);
          return;
        }
        if (!('ok' in result)) throw new Error(`explain rejected non-empty text: ${result.error.message}`);
        expect([1, 2, 4]).toContain(result.ok);
        const out = io.stdout.join('');
        if (format === 'json') ExplainReportSchema.parse(JSON.parse(out));
        // The password of a URL written as URLs are (user:password@host, no blanks in either) is masked.
        const written = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s@]+)@/i.exec(text)?.[1];
        if (secret && (written === secret || written === encodeURIComponent(secret))) expect(out).not.toContain(secret);
      }),
      { numRuns: Math.ceil(RUNS.numRuns / 2), examples: [[{ text: '   ', password: undefined }, 'human']] },
    );
  });
});
