import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, emptyHome, verdictOf } from '../lab/dbdoctor.js';
import { Cluster, pgBinDir } from '../lab/postgres.js';
import { selfSignedCertificate, type Certificate } from '../lab/tls.js';

/**
 * Authentication, pg_hba.conf and TLS against one real cluster with TLS on. Its pg_hba.conf:
 * trust over the Unix socket, a reject line for role "rejected", plaintext refused for role
 * "tls_only", and password (SCRAM) over TCP for the listed roles only: role "unlisted" has no line.
 */
const APP_PASSWORD = 'app-Pa55-word';

describe('postgres authentication and TLS', () => {
  let cluster: Cluster;
  let cert: Certificate;

  beforeAll(async () => {
    cert = await selfSignedCertificate('localhost');
    cluster = await Cluster.create('auth', {
      settings: { ssl: 'on', ssl_cert_file: `'${cert.certFile}'`, ssl_key_file: `'${cert.keyFile}'`, ssl_min_protocol_version: "'TLSv1.3'" },
      hba: [
        'local all all trust',
        'host all rejected 127.0.0.1/32 reject',
        'hostnossl all tls_only 127.0.0.1/32 reject',
        'host all postgres,app,outsider,locked,tls_only,ghost 127.0.0.1/32 scram-sha-256',
      ],
    });
    for (const role of ['app', 'rejected', 'tls_only', 'outsider', 'unlisted']) await cluster.sql(`CREATE ROLE ${role} LOGIN PASSWORD '${APP_PASSWORD}'`);
    await cluster.sql(`CREATE ROLE locked NOLOGIN PASSWORD '${APP_PASSWORD}'`);
    await cluster.sql('CREATE DATABASE appdb OWNER app');
    await cluster.sql('CREATE DATABASE private OWNER app');
    await cluster.sql('REVOKE CONNECT ON DATABASE private FROM PUBLIC');
  });
  afterAll(async () => cluster?.destroy());

  test('healthy: every step passes, over TLS (sslmode=prefer with ssl=on), exit 0', async () => {
    const { code, report, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'appdb')]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(report.status).toBe('healthy');
    expect(target.steps.map((step) => step.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    expect(target.steps.find((step) => step.id === 'accepting')?.evidence.encryption).toBe('tls');
    expect(target.steps.find((step) => step.id === 'auth')?.evidence.authMethod).toBe('SCRAM-SHA-256');
  });

  test('healthy over the Unix socket with trust: no network involved', async () => {
    const { code, target } = await diagnoseJson([`host=${cluster.socketDir} port=${cluster.port} user=postgres dbname=postgres`]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'network')?.summary).toContain('Unix socket');
  });

  test('wrong password (scram-sha-256): auth_failed, and it says a missing role looks the same', async () => {
    const { code, report, target } = await diagnoseJson([cluster.url('app', 'not-the-password', 'appdb')]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(code).toBe(2);
    expect(target.verdict.details.sqlstate).toBe('28P01');
    expect(target.verdict.message).toContain('role does not exist');
    expect(target.steps.find((step) => step.id === 'pool')?.status).toBe('skip');
  });

  test('missing role under password auth: auth_failed (PostgreSQL hides which), never a confident role_missing', async () => {
    const { report } = await diagnoseJson([cluster.url('ghost', APP_PASSWORD, 'appdb')]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
  });

  test('missing role where the server says so (trust over the socket): role_missing', async () => {
    const { code, report, target } = await diagnoseJson([`host=${cluster.socketDir} port=${cluster.port} user=ghost dbname=postgres`]);
    expect(verdictOf(report)).toBe('auth/role_missing');
    expect(code).toBe(2);
    expect(target.verdict.details.sqlstate).toBe('28000');
  });

  test('missing database: database_missing (3D000) with CREATE DATABASE', async () => {
    const { report, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'nosuchdb')]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(target.verdict.details.sqlstate).toBe('3D000');
    expect(target.verdict.remediation.some((fix) => fix.command === 'CREATE DATABASE nosuchdb OWNER app;')).toBe(true);
  });

  test('no database given: says libpq defaulted it to the user name', async () => {
    const { report, target } = await diagnoseJson([`postgresql://outsider:${APP_PASSWORD}@127.0.0.1:${cluster.port}`]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(target.source.database).toMatch(/^default/);
    expect(target.verdict.remediation[0]?.text).toContain('No database was given');
  });

  test('pg_hba.conf reject line: hba_rejected names host, user, database and encryption', async () => {
    const { code, report, target } = await diagnoseJson([cluster.url('rejected', APP_PASSWORD, 'appdb', '?sslmode=disable')]);
    expect(verdictOf(report)).toBe('auth/hba_rejected');
    expect(code).toBe(2);
    expect(target.verdict.details.hba).toEqual({ explicitReject: true, host: '127.0.0.1', user: 'rejected', database: 'appdb', encryption: 'no encryption' });
  });

  test('no pg_hba.conf line for the role: hba_rejected, after the libpq-style retry without TLS', async () => {
    const { report, target } = await diagnoseJson([cluster.url('unlisted', APP_PASSWORD, 'appdb')]);
    expect(verdictOf(report)).toBe('auth/hba_rejected');
    // sslmode=prefer tried TLS first; libpq then retries in plaintext, and so do we
    expect(target.verdict.details.hba).toEqual({ explicitReject: false, host: '127.0.0.1', user: 'unlisted', database: 'appdb', encryption: 'no encryption' });
    expect(target.verdict.remediation.some((fix) => fix.command?.startsWith('host    appdb   unlisted   127.0.0.1/32'))).toBe(true);
  });

  test('no password anywhere: password_missing, naming the method the server asked for', async () => {
    const { code, report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${cluster.port}/appdb`]);
    expect(verdictOf(report)).toBe('auth/password_missing');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('SCRAM-SHA-256');
  });

  test('~/.pgpass readable by others: password_missing, and the fix is chmod 0600', async () => {
    const home = emptyHome();
    const passfile = join(home, '.pgpass');
    writeFileSync(passfile, `127.0.0.1:${cluster.port}:appdb:app:${APP_PASSWORD}\n`);
    chmodSync(passfile, 0o644);
    const { report, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${cluster.port}/appdb`], { env: { HOME: home } });
    expect(verdictOf(report)).toBe('auth/password_missing');
    expect(target.verdict.details.passfile).toMatchObject({ state: 'ignored-permissions', mode: '0644' });
    expect(target.verdict.remediation[0]?.command).toBe(`chmod 0600 ${passfile}`);
  });

  test('~/.pgpass with 0600: used, and the source names the line', async () => {
    const home = emptyHome();
    const passfile = join(home, '.pgpass');
    writeFileSync(passfile, `# comment\notherhost:*:*:*:nope\n127.0.0.1:${cluster.port}:*:app:${APP_PASSWORD}\n`);
    chmodSync(passfile, 0o600);
    const { code, target } = await diagnoseJson([`postgresql://app@127.0.0.1:${cluster.port}/appdb`], { env: { HOME: home } });
    expect(code).toBe(0);
    expect(target.source.password).toBe(`${passfile} line 3`);
  });

  test('libpq environment and no target: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE', async () => {
    const { code, target } = await diagnoseJson([], {
      env: { PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGUSER: 'app', PGPASSWORD: APP_PASSWORD, PGDATABASE: 'appdb' },
    });
    expect(code).toBe(0);
    expect(target.source).toMatchObject({ host: 'env PGHOST', port: 'env PGPORT', user: 'env PGUSER', password: 'env PGPASSWORD', database: 'env PGDATABASE' });
  });

  test('DATABASE_URL from ./.env when no target is given', async () => {
    const cwd = emptyHome();
    writeFileSync(join(cwd, '.env'), `# app settings\nDATABASE_URL="${cluster.url('app', APP_PASSWORD, 'appdb')}"\n`);
    const { code, target } = await diagnoseJson([], { cwd });
    expect(code).toBe(0);
    expect(target.source.host).toBe('.env DATABASE_URL');
  });

  test('role without LOGIN: permission_denied with ALTER ROLE … LOGIN', async () => {
    const { report, target } = await diagnoseJson([cluster.url('locked', APP_PASSWORD, 'appdb')]);
    expect(verdictOf(report)).toBe('auth/permission_denied');
    expect(target.verdict.remediation[0]?.command).toBe('ALTER ROLE locked LOGIN;');
  });

  test('no CONNECT privilege on the database: permission_denied with GRANT CONNECT', async () => {
    const { report, target } = await diagnoseJson([cluster.url('outsider', APP_PASSWORD, 'private')]);
    expect(verdictOf(report)).toBe('auth/permission_denied');
    expect(target.verdict.details.sqlstate).toBe('42501');
    expect(target.verdict.remediation[0]?.command).toBe('GRANT CONNECT ON DATABASE private TO outsider;');
  });

  test('TLS required by pg_hba.conf but sslmode=disable: tls_required', async () => {
    const { code, report } = await diagnoseJson([cluster.url('tls_only', APP_PASSWORD, 'appdb', '?sslmode=disable')]);
    expect(verdictOf(report)).toBe('accepting/tls_required');
    expect(code).toBe(2);
  });

  test('TLS required and sslmode=allow: libpq retries with TLS, healthy', async () => {
    const { code, target } = await diagnoseJson([cluster.url('tls_only', APP_PASSWORD, 'appdb', '?sslmode=allow')]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.evidence.encryption).toBe('tls');
  });

  test('verify-full against 127.0.0.1 with a certificate for localhost: tls_verify_failed, hostname_mismatch', async () => {
    const { report, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'appdb', `?sslmode=verify-full&sslrootcert=${cert.certFile}`)]);
    expect(verdictOf(report)).toBe('accepting/tls_verify_failed');
    expect(target.verdict.details.tls).toMatchObject({ problem: 'hostname_mismatch' });
  });

  test('verify-full against localhost with the right CA: healthy', async () => {
    const { code } = await diagnoseJson([`postgresql://app:${APP_PASSWORD}@localhost:${cluster.port}/appdb?sslmode=verify-full&sslrootcert=${cert.certFile}`]);
    expect(code).toBe(0);
  });

  test('verify-ca with a CA that did not sign the certificate: tls_verify_failed, self_signed', async () => {
    const other = await selfSignedCertificate('localhost');
    const { report, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'appdb', `?sslmode=verify-ca&sslrootcert=${other.certFile}`)]);
    expect(verdictOf(report)).toBe('accepting/tls_verify_failed');
    expect(target.verdict.details.tls).toMatchObject({ problem: 'self_signed' });
  });

  /** psql with the same URL, as libpq decides: whether it connected, and over TLS. */
  const psql = (url: string): { connected: boolean; ssl?: string; stderr: string } => {
    const run = spawnSync(join(pgBinDir(), 'psql'), [url, '-At', '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome() },
    });
    return { connected: run.status === 0, ssl: run.stdout.trim(), stderr: run.stderr };
  };

  // libpq verifies the server's certificate whenever a root certificate file is there, for prefer
  // and allow too; prefer then retries without TLS, allow had tried without TLS first.
  test.each(['prefer', 'allow'])(
    'sslmode=%s with a root certificate that does not verify the server, TLS not required: connects without TLS, as libpq',
    async (sslmode) => {
      const other = await selfSignedCertificate('localhost');
      const url = cluster.url('app', APP_PASSWORD, 'appdb', `?sslmode=${sslmode}&sslrootcert=${other.certFile}`);
      expect(psql(url)).toMatchObject({ connected: true, ssl: 'f' });
      const { code, report, target } = await diagnoseJson([url]);
      expect(verdictOf(report)).toBe('none/healthy');
      expect(code).toBe(0);
      expect(target.steps.find((step) => step.id === 'accepting')?.evidence.encryption).toBe('none');
    },
  );

  test.each(['prefer', 'allow'])(
    'sslmode=%s with a root certificate that does not verify the server, TLS required by pg_hba: tls_verify_failed, as libpq fails',
    async (sslmode) => {
      const other = await selfSignedCertificate('localhost');
      const url = cluster.url('tls_only', APP_PASSWORD, 'appdb', `?sslmode=${sslmode}&sslrootcert=${other.certFile}`);
      const libpq = psql(url);
      expect(libpq.connected).toBe(false);
      expect(libpq.stderr).toMatch(/certificate verify failed/);
      const { code, report, target } = await diagnoseJson([url]);
      expect(verdictOf(report)).toBe('accepting/tls_verify_failed');
      expect(code).toBe(2);
      expect(target.verdict.details.tls).toMatchObject({ verify: 'ca' });
    },
  );

  test('sslmode=prefer with the root certificate that signed the server: TLS, verified', async () => {
    const { code, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'appdb', `?sslmode=prefer&sslrootcert=${cert.certFile}`)]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.evidence.encryption).toBe('tls');
  });

  test('verify-ca with no root certificate file: tls_verify_failed says which file is missing', async () => {
    const { report, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'appdb', '?sslmode=verify-ca')]);
    expect(verdictOf(report)).toBe('accepting/tls_verify_failed');
    expect(target.verdict.details.tls).toMatchObject({ code: 'ROOT_CERT_MISSING' });
  });

  test('the client caps TLS at 1.2, the server demands 1.3: tls_handshake_failed', async () => {
    const { code, report, target } = await diagnoseJson([cluster.url('app', APP_PASSWORD, 'appdb', '?sslmode=require&ssl_max_protocol_version=TLSv1.2')]);
    expect(verdictOf(report)).toBe('accepting/tls_handshake_failed');
    expect(code).toBe(2);
    expect(JSON.stringify(target.verdict.details.tls)).toMatch(/protocol version|PROTOCOL_VERSION|unsupported protocol/i);
  });

  test('human output: the verdict first, then steps, then numbered fixes', async () => {
    const { code, stdout } = await dbdoctor(['diagnose', cluster.url('app', 'not-the-password', 'appdb')]);
    expect(code).toBe(2);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^✖ UNHEALTHY {2}postgresql:\/\/app:\*\*\*\*@127\.0\.0\.1:\d+\/appdb/);
    expect(lines[1]).toContain('auth: auth_failed');
    expect(stdout).toContain('What to do');
    expect(stdout).toMatch(/\n {2}1\. /);
  });
});

describe('verify-full against an IP address, as libpq matches names', () => {
  let cluster: Cluster;
  let byAddress: Certificate;

  beforeAll(async () => {
    // CN=127.0.0.1, and no iPAddress name (its one subjectAltName is DNS:127.0.0.1).
    byAddress = await selfSignedCertificate('127.0.0.1');
    cluster = await Cluster.create('ipcn', {
      settings: { ssl: 'on', ssl_cert_file: `'${byAddress.certFile}'`, ssl_key_file: `'${byAddress.keyFile}'` },
      hba: ['local all all trust', 'host all app 127.0.0.1/32 scram-sha-256'],
    });
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${APP_PASSWORD}'`);
  });
  afterAll(async () => cluster?.destroy());

  test('a certificate whose common name is the address, with no iPAddress name: healthy, as psql connects (Node alone would refuse it)', async () => {
    const url = cluster.url('app', APP_PASSWORD, 'postgres', `?sslmode=verify-full&sslrootcert=${byAddress.certFile}`);
    const psql = spawnSync(join(pgBinDir(), 'psql'), [url, '-At', '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome() },
    });
    expect(psql.stderr).toBe('');
    expect(psql.stdout.trim()).toBe('t');
    const { code, report } = await diagnoseJson([url]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
  });

  test('the same certificate reached by another address (127.0.0.2 would be refused; localhost is a name): a host-name mismatch, as psql fails', async () => {
    const url = `postgresql://app:${APP_PASSWORD}@localhost:${cluster.port}/postgres?sslmode=verify-full&sslrootcert=${byAddress.certFile}`;
    const psql = spawnSync(join(pgBinDir(), 'psql'), [url, '-c', 'SELECT 1'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome() },
    });
    expect(psql.status).not.toBe(0);
    const { report, target } = await diagnoseJson([url]);
    expect(verdictOf(report)).toBe('accepting/tls_verify_failed');
    expect(target.verdict.details.tls).toMatchObject({ problem: 'hostname_mismatch' });
  });
});
