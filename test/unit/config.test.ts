import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDotEnv } from '../../src/config/dotenv.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { InputError } from '../../src/config/errors.js';
import { parseKeywordValue, parsePostgresUri } from '../../src/config/postgres/conninfo.js';
import { findInPassfile, lookupPassfile, parsePassfileLine } from '../../src/config/postgres/pgpass.js';
import { resolvePostgresTarget } from '../../src/config/postgres/target.js';
import { resolveTargets } from '../../src/config/targets.js';

const home = (): string => mkdtempSync(join(tmpdir(), 'dbdoctor-unit-'));
const envOf = (values: Record<string, string>) => buildEnvironment({ HOME: home(), ...values });

describe('libpq URIs', () => {
  test.each([
    ['postgresql://app:s3cret@db:5433/appdb', { user: 'app', password: 's3cret', host: 'db', port: '5433', dbname: 'appdb' }],
    ['postgres://db', { host: 'db' }],
    ['postgresql://', {}],
    ['postgresql://h1:5432,h2:5433/app', { host: 'h1,h2', port: '5432,5433', dbname: 'app' }],
    ['postgresql://[::1]:5432/app', { host: '::1', port: '5432', dbname: 'app' }],
    ['postgresql://%2Fvar%2Frun%2Fpostgresql/app', { host: '/var/run/postgresql', dbname: 'app' }],
    ['postgresql:///app?host=/tmp&port=5433', { host: '/tmp', port: '5433', dbname: 'app' }],
    ['postgresql://u:p%40ss@db/app', { user: 'u', password: 'p@ss', host: 'db', dbname: 'app' }],
    [
      'postgresql://db/app?sslmode=require&connect_timeout=5&application_name=web',
      { host: 'db', dbname: 'app', sslmode: 'require', connect_timeout: '5', application_name: 'web' },
    ],
    ['postgresql://db/app?ssl=true', { host: 'db', dbname: 'app', sslmode: 'require' }],
  ])('%s', (uri, expected) => {
    expect(parsePostgresUri(uri).options).toEqual(expected);
  });

  test('keywords libpq does not know are reported, not fatal', () => {
    expect(parsePostgresUri('postgresql://db/app?schema=public&sslmode=disable').ignored).toEqual(['schema']);
  });

  test.each([
    ['postgresql://u:pa/ss@db/app', /percent-encoded/],
    ['postgresql://db/app?sslmode', /has no "="/],
    ['postgresql://[::1/app', /unclosed/],
    ['postgresql://u:%zz@db/app', /malformed percent-escape/],
    // libpq reads host "ss@db" here, node-postgres password "p@ss": clients disagree (issue 19).
    ['postgresql://u:p@ss@db/app', /password holds a raw "@".*%40/s],
    ['postgresql://a@b:pass@db/app', /user name holds a raw "@".*%40/s],
  ])('malformed: %s', (uri, hint) => {
    try {
      parsePostgresUri(uri);
      throw new Error('expected an InputError');
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const input = error as InputError;
      expect(`${input.message} ${input.hint ?? ''}`).toMatch(hint);
      expect(input.message).not.toContain('pa/ss');
    }
  });
});

describe('libpq keyword/value strings', () => {
  test('quoted values and escapes', () => {
    expect(parseKeywordValue("host=db port=5432 dbname = app user='my user' password='it\\'s'").options).toEqual({
      host: 'db',
      port: '5432',
      dbname: 'app',
      user: 'my user',
      password: "it's",
    });
  });
  test('an unterminated quote is an input error that masks the password', () => {
    expect(() => parseKeywordValue("host=db password='secret")).toThrow(InputError);
  });
});

describe('resolving a target as libpq does', () => {
  test('the URL wins over the environment; the environment fills the gaps; sources say which', async () => {
    const target = await resolvePostgresTarget(
      { text: 'postgresql://app@db/appdb', source: 'url' },
      envOf({ PGPORT: '6432', PGUSER: 'ignored', PGPASSWORD: 'from-env-pw' }),
    );
    expect(target.endpoints).toEqual([{ host: 'db', port: 6432 }]);
    expect(target.user).toBe('app');
    expect(target.password).toBe('from-env-pw');
    expect(target.sources).toMatchObject({ host: 'url', port: 'env PGPORT', user: 'url', password: 'env PGPASSWORD', database: 'url' });
    expect(target.display).toBe('postgresql://app:****@db:6432/appdb');
  });

  test('the header shows the settings the user gave, defaults too (target_session_attrs=any, sslmode=prefer), and connect_timeout; not the defaults nobody gave', async () => {
    const given = await resolvePostgresTarget(
      { text: 'postgresql://app@db/appdb?target_session_attrs=any&sslmode=prefer&connect_timeout=3', source: 'url' },
      envOf({}),
    );
    expect(given.display).toBe('postgresql://app@db:5432/appdb?sslmode=prefer&target_session_attrs=any&connect_timeout=3');
    const fromEnvironment = await resolvePostgresTarget({ text: 'postgresql://app@db/appdb', source: 'url' }, envOf({ PGTARGETSESSIONATTRS: 'any' }));
    expect(fromEnvironment.display).toBe('postgresql://app@db:5432/appdb?target_session_attrs=any');
    const plain = await resolvePostgresTarget({ text: 'postgresql://app@db/appdb', source: 'url' }, envOf({}));
    expect(plain.display).toBe('postgresql://app@db:5432/appdb');
  });

  test('nothing given: the local socket, port 5432, the OS user, a database named like it', async () => {
    const target = await resolvePostgresTarget(undefined, envOf({}));
    expect(target.endpoints[0]?.host.startsWith('/')).toBe(true);
    expect(target.endpoints[0]?.port).toBe(5432);
    expect(target.database).toBe(target.user);
    expect(target.sources.host).toMatch(/^default/);
    expect(target.sslmode).toBe('prefer');
  });

  test('one port for many hosts applies to each; mismatched counts are an input error', async () => {
    const target = await resolvePostgresTarget({ text: 'postgresql://a,b:5433/x', source: 'url' }, envOf({}));
    expect(target.endpoints).toEqual([
      { host: 'a', port: 5432 },
      { host: 'b', port: 5433 },
    ]);
    await expect(resolvePostgresTarget({ text: 'host=a,b,c port=1,2', source: 'connection string' }, envOf({}))).rejects.toThrow(
      /could not match 2 port numbers to 3 hosts/,
    );
  });

  test.each([
    ['postgresql://db:99999/x', /invalid port "99999"/],
    ['postgresql://db:abc/x', /invalid port "abc"/],
    ['postgresql://db/x?sslmode=requird', /invalid sslmode "requird"/],
    ['postgresql://db/x?connect_timeout=soon', /invalid connect_timeout/],
    ['postgresql://db/x?target_session_attrs=writer', /invalid target_session_attrs/],
  ])('bad value %s', async (uri, message) => {
    await expect(resolvePostgresTarget({ text: uri, source: 'url' }, envOf({}))).rejects.toThrow(message);
  });

  test('connect_timeout follows libpq: seconds, at least 2, 0 means none', async () => {
    const one = await resolvePostgresTarget({ text: 'postgresql://db/x?connect_timeout=1', source: 'url' }, envOf({}));
    expect(one.connectTimeoutMs).toBe(2000);
    const zero = await resolvePostgresTarget({ text: 'postgresql://db/x?connect_timeout=0', source: 'url' }, envOf({}));
    expect(zero.connectTimeoutMs).toBeUndefined();
  });

  test('the password file is consulted only when no password was given, and its line is the source', async () => {
    const dir = home();
    writeFileSync(join(dir, '.pgpass'), 'db:5432:appdb:app:from-file-pw\n');
    chmodSync(join(dir, '.pgpass'), 0o600);
    const target = await resolvePostgresTarget({ text: 'postgresql://app@db/appdb', source: 'url' }, buildEnvironment({ HOME: dir }));
    expect(target.password).toBe('from-file-pw');
    expect(target.sources.password).toBe(`${join(dir, '.pgpass')} line 1`);
    const explicit = await resolvePostgresTarget({ text: 'postgresql://app:given-pw@db/appdb', source: 'url' }, buildEnvironment({ HOME: dir }));
    expect(explicit.password).toBe('given-pw');
    expect(explicit.passfile.state).toBe('not-consulted');
  });
});

describe('the password file', () => {
  test('fields, escapes and wildcards', () => {
    expect(parsePassfileLine('db\\:1:5432:*:app:pa\\:ss')).toEqual(['db:1', '5432', '*', 'app', 'pa:ss']);
    expect(parsePassfileLine('# a comment')).toBeUndefined();
    expect(findInPassfile('x:1:*:*:no\n*:5432:*:app:yes\n', { host: 'db', port: 5432, database: 'd', user: 'app' })).toEqual({ line: 2, password: 'yes' });
  });
  test('a socket directory matches "localhost", as libpq does', () => {
    expect(findInPassfile('localhost:5432:*:*:sock\n', { host: '/var/run/postgresql', port: 5432, database: 'd', user: 'u' })?.password).toBe('sock');
  });
  test('group- or world-readable files are ignored, with their mode', async () => {
    const dir = home();
    const file = join(dir, 'pgpass');
    writeFileSync(file, '*:*:*:*:x\n');
    chmodSync(file, 0o640);
    expect(await lookupPassfile(file, { host: 'h', port: 1, database: 'd', user: 'u' })).toEqual({ state: 'ignored-permissions', path: file, mode: '0640' });
    expect((await lookupPassfile(join(dir, 'none'), { host: 'h', port: 1, database: 'd', user: 'u' })).state).toBe('missing');
  });
});

describe('.env files', () => {
  test('the forms docker compose and dotenv accept', () => {
    expect(
      parseDotEnv(
        [
          '# comment',
          'export A=1',
          'B = two words # trailing comment',
          "C='single $literal'",
          'D="line\\nbreak"',
          'E="multi',
          'line"',
          'not a line',
          'F=',
        ].join('\n'),
      ),
    ).toEqual({ A: '1', B: 'two words', C: 'single $literal', D: 'line\nbreak', E: 'multi\nline', F: '' });
  });
  test('the real environment wins over the file, and sources say which', () => {
    const env = buildEnvironment({ PGHOST: 'real' }, { path: './.env', values: { PGHOST: 'file', PGPORT: '1' } });
    expect(env.get('PGHOST')).toBe('real');
    expect(env.sourceOf('PGHOST')).toBe('env PGHOST');
    expect(env.sourceOf('PGPORT')).toBe('./.env PGPORT');
  });
});

describe('which engine a target is', () => {
  test.each([
    ['mysql://u:pw1234@h/db', /unknown engine "mysql"/],
    ['db.example.com', /cannot tell which database/],
    ['   ', /the target is empty/],
  ])('%s is an input error', async (input, message) => {
    await expect(resolveTargets([input], envOf({}))).rejects.toThrow(message);
  });
  test('DATABASE_URL is used when no target is given, with its source', async () => {
    const [target] = await resolveTargets([], envOf({ DATABASE_URL: 'postgresql://app:pw-1234@db/app' }));
    expect(target?.sources.host).toBe('env DATABASE_URL');
  });
  test('a DATABASE_URL for another engine is an input error', async () => {
    await expect(resolveTargets([], envOf({ DATABASE_URL: 'redis://cache:6379' }))).rejects.toThrow(/is not a URL dbdoctor knows/);
  });
});
