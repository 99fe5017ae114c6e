import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildEnvironment } from '../../src/config/environment.js';
import { InputError } from '../../src/config/errors.js';
import { resolveMongoTarget } from '../../src/config/mongodb/target.js';
import { findInPassfile } from '../../src/config/postgres/pgpass.js';
import { isSocketHost, resolvePostgresTarget, socketPathOf } from '../../src/config/postgres/target.js';
import { Deadline } from '../../src/engine/deadline.js';
import { abstractSocketSupport, connectUnix } from '../../src/net/tcp.js';
import { hostPort } from '../../src/probes/mongodb/commands.js';
import { whereOf } from '../../src/probes/mongodb/evidence.js';
import { pgIsReady, psqlAsUser, urlWith } from '../../src/probes/postgres/commands.js';

const pg = (text: string, values: Record<string, string> = {}) =>
  resolvePostgresTarget({ text, source: 'connection string' }, buildEnvironment({ HOME: mkdtempSync(join(tmpdir(), 'dbdoctor-unit-home-')), ...values }));

describe("libpq's hostaddr, parsed as libpq reads it", () => {
  test('keyword string, URL query and PGHOSTADDR give the same endpoint: host names the server, hostaddr is connected to', async () => {
    const fromKeywords = await pg('host=db.example.com hostaddr=10.0.0.5 port=5433 user=app dbname=app');
    const fromUrl = await pg('postgresql://app@db.example.com:5433/app?hostaddr=10.0.0.5');
    const fromEnv = await pg('postgresql://app@db.example.com:5433/app', { PGHOSTADDR: '10.0.0.5' });
    for (const target of [fromKeywords, fromUrl, fromEnv]) expect(target.endpoints).toEqual([{ host: 'db.example.com', port: 5433, hostaddr: '10.0.0.5' }]);
    expect(fromEnv.sources.hostaddr).toBe('env PGHOSTADDR');
    expect(fromUrl.display).toBe('postgresql://app@db.example.com:5433/app?hostaddr=10.0.0.5');
  });

  test('IPv6 hostaddr; only a hostaddr: it is the host too', async () => {
    expect((await pg('host=db hostaddr=::1 user=a dbname=b')).endpoints).toEqual([{ host: 'db', port: 5432, hostaddr: '::1' }]);
    expect((await pg('hostaddr=10.1.2.3 user=a dbname=b')).endpoints).toEqual([{ host: '10.1.2.3', port: 5432, hostaddr: '10.1.2.3' }]);
  });

  test('one hostaddr per host, an empty one meaning "look this host up"', async () => {
    const target = await pg('host=a.example,b.example hostaddr=,10.0.0.6 port=5432,5433 user=a dbname=b');
    expect(target.endpoints).toEqual([
      { host: 'a.example', port: 5432 },
      { host: 'b.example', port: 5433, hostaddr: '10.0.0.6' },
    ]);
  });

  test.each([
    ['host=db hostaddr=localhost', /invalid hostaddr "localhost" \(from connection string\): libpq takes a numeric/],
    ['host=db hostaddr=db.example.com', /invalid hostaddr "db\.example\.com"/],
    ['host=db hostaddr=10.0.0.300', /invalid hostaddr "10\.0\.0\.300"/],
    ["host=db hostaddr='10.0.0.5$(id)'", /invalid hostaddr "10\.0\.0\.5\$\(id\)"/],
    ['host=a,b hostaddr=10.0.0.5', /could not match 2 host names to 1 hostaddr values/],
    ['host=a hostaddr=10.0.0.5,10.0.0.6', /could not match 1 host names to 2 hostaddr values/],
  ])('%s is bad input in one line', async (text, message) => {
    const error = await pg(`${text} user=a dbname=b`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(message);
    expect((error as InputError).message).not.toContain('\n');
  });

  test('commands keep the hostaddr: PGHOSTADDR before libpq programs, hostaddr in URLs unless the host itself changes', async () => {
    const target = await pg('host=db.example.com hostaddr=10.0.0.5 user=app dbname=app');
    expect(psqlAsUser(target)).toBe('PGHOSTADDR=10.0.0.5 psql -h db.example.com -p 5432 -U app -d app');
    expect(pgIsReady(target)).toBe('PGHOSTADDR=10.0.0.5 pg_isready -h db.example.com -p 5432');
    expect(urlWith(target, {})).toBe('postgresql://app@db.example.com:5432/app?hostaddr=10.0.0.5');
    expect(urlWith(target, { host: 'other.example.com' })).not.toContain('hostaddr');
  });
});

describe('sockets', () => {
  test('PostgreSQL: a directory or an abstract "@name" is a socket, named as libpq names it', async () => {
    expect(isSocketHost('/var/run/postgresql')).toBe(true);
    expect(isSocketHost('@pg')).toBe(true);
    expect(isSocketHost('db')).toBe(false);
    expect(socketPathOf('/tmp/', 5432)).toBe('/tmp/.s.PGSQL.5432');
    expect(socketPathOf('@pg', 5433)).toBe('@pg/.s.PGSQL.5433');
  });

  test('the password file looks a socket up as "localhost", an abstract one too', () => {
    const text = 'localhost:5432:app:app:from-localhost\n';
    expect(findInPassfile(text, { host: '@pg', port: 5432, database: 'app', user: 'app' })?.password).toBe('from-localhost');
    expect(findInPassfile(text, { host: '/tmp', port: 5432, database: 'app', user: 'app' })?.password).toBe('from-localhost');
  });

  test('abstract sockets need Linux and libuv 1.48 (Node 22); libuv 1.46 (Node 20) pads the name and cannot reach a server', () => {
    expect(abstractSocketSupport('linux', '1.48.0')).toEqual({ state: 'supported' });
    expect(abstractSocketSupport('linux', '1.51.0')).toEqual({ state: 'supported' });
    expect(abstractSocketSupport('linux', '1.46.0')).toMatchObject({ state: 'unsupported', reason: expect.stringContaining('pads') });
    expect(abstractSocketSupport('darwin', '1.51.0')).toMatchObject({ state: 'unsupported', reason: expect.stringContaining('only on Linux') });
  });

  test('where the runtime cannot, an abstract host is refused in one line before any connection, and connectUnix does not pretend a refusal', async () => {
    if (abstractSocketSupport().state === 'supported') {
      expect((await pg('host=@pg user=a dbname=b')).endpoints).toEqual([{ host: '@pg', port: 5432 }]);
      return;
    }
    await expect(pg('host=@pg user=a dbname=b')).rejects.toThrow(/^cannot reach the abstract socket "@pg" \(from connection string\): /);
    const outcome = await connectUnix('@pg/.s.PGSQL.5432', Deadline.within(1000));
    expect(outcome).toMatchObject({ outcome: 'error', code: 'EABSTRACTSOCKET' });
  });

  test('MongoDB: a percent-encoded socket path is a seed with its path, shown and written back as a path', async () => {
    const target = await resolveMongoTarget({ text: 'mongodb://%2Ftmp%2Fmongodb-27017.sock/app', source: 'url' });
    expect(target.hosts).toEqual([{ host: '/tmp/mongodb-27017.sock', port: 27017 }]);
    expect(whereOf(target.hosts[0])).toBe('/tmp/mongodb-27017.sock');
    expect(hostPort('/tmp/mongodb-27017.sock', 27017)).toBe('%2Ftmp%2Fmongodb-27017.sock');
    const other = await resolveMongoTarget({ text: 'mongodb://%2Fvar%2Frun%2Fmongodb%2Fmongodb-27018.sock', source: 'url' });
    expect(other.hosts).toEqual([{ host: '/var/run/mongodb/mongodb-27018.sock', port: 27018 }]);
  });

  test('MongoDB: a socket path longer than a socket address holds is bad input, not "nothing listens"', async () => {
    const long = `/${'a'.repeat(120)}/mongodb-27017.sock`;
    await expect(resolveMongoTarget({ text: `mongodb://${encodeURIComponent(long)}/`, source: 'url' })).rejects.toThrow(/is longer than 107 bytes/);
  });
});

describe('a URL the report prints keeps the parameters the user gave', () => {
  test('application_name, connect_timeout, options, target_session_attrs, sslrootcert and others stay in the headline and in every changed URL; the password never', async () => {
    const target = await pg(
      'postgresql://u:secret-pw@127.0.0.1:55499/db?sslmode=require&application_name=billing-api&connect_timeout=5&options=-c%20search_path%3Dbilling&target_session_attrs=read-write&sslrootcert=/etc/ca.pem&keepalives_idle=30&sslpassword=key-pw',
    );
    for (const url of [target.display, urlWith(target, {}), urlWith(target, { port: 5432 }), urlWith(target, { host: 'db.example.com' })]) {
      expect(url).toContain('application_name=billing-api');
      expect(url).toContain('connect_timeout=5');
      expect(url).toContain('options=-c%20search_path%3Dbilling');
      expect(url).toContain('target_session_attrs=read-write');
      expect(decodeURIComponent(url)).toContain('sslrootcert=/etc/ca.pem');
      expect(url).toContain('keepalives_idle=30');
      expect(url).not.toContain('secret-pw');
      expect(url).not.toContain('key-pw');
    }
    expect(urlWith(target, { port: 5432 })).toBe(
      'postgresql://u@127.0.0.1:5432/db?sslmode=require&sslrootcert=/etc/ca.pem&target_session_attrs=read-write&connect_timeout=5&application_name=billing-api&options=-c%20search_path%3Dbilling&keepalives_idle=30',
    );
    // TLS turned off: the TLS-only settings go with it, the rest stays.
    const plain = urlWith(target, { sslmode: 'disable' });
    expect(plain).not.toContain('sslrootcert');
    expect(plain).toContain('application_name=billing-api');
  });
});
