import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, emptyHome, verdictOf } from '../lab/dbdoctor.js';
import { Cluster, freePort, pgBinDir } from '../lab/postgres.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { resolvePostgresTarget } from '../../src/config/postgres/target.js';
import { psqlAsUser } from '../../src/probes/postgres/commands.js';
import { selfSignedCertificate, type Certificate } from '../lab/tls.js';

/**
 * libpq's hostaddr against a real PostgreSQL: the numeric address is what is connected to, with
 * no name lookup; the host only names the server (TLS verify-full, the password file). The host
 * here is a name that resolves nowhere (.invalid, RFC 6761), so any lookup would fail the run.
 */
const NAME = 'db-primary.invalid';
const PASSWORD = 'hostaddr-Pa55';

describe('postgres hostaddr (libpq): connect to the address, the host only names the server', () => {
  let cluster: Cluster;
  let cert: Certificate;

  beforeAll(async () => {
    cert = await selfSignedCertificate(NAME);
    cluster = await Cluster.create('hostaddr', {
      settings: { ssl: 'on', ssl_cert_file: `'${cert.certFile}'`, ssl_key_file: `'${cert.keyFile}'` },
      hba: ['local all all trust', 'host all app 127.0.0.1/32 scram-sha-256'],
    });
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
    await cluster.sql('CREATE DATABASE appdb OWNER app');
    await cluster.sql('CREATE DATABASE "-db" OWNER app');
    await cluster.sql(`CREATE DATABASE "host=elsewhere.invalid dbname=appdb" OWNER app`);
  });
  afterAll(async () => cluster?.destroy());

  const keywords = (extra: string): string => `host=${NAME} hostaddr=127.0.0.1 port=${cluster.port} user=app password=${PASSWORD} ${extra}`;

  test('keyword string: healthy, no DNS step, the evidence names the hostaddr used', async () => {
    const { code, report, target } = await diagnoseJson([keywords('dbname=appdb')]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    const network = target.steps.find((step) => step.id === 'network');
    expect(network?.summary).toContain('hostaddr 127.0.0.1 given, no name lookup');
    const endpoint = (network?.evidence.endpoints as { host: string; hostaddr?: string; dns?: { literal?: boolean; addresses?: string[] } }[])[0];
    expect(endpoint).toMatchObject({ host: NAME, hostaddr: '127.0.0.1', dns: { literal: true, addresses: ['127.0.0.1'] } });
    expect(JSON.stringify(report)).not.toMatch(/ENOTFOUND|EAI_AGAIN|dns_/);
    expect(target.target).toContain(`${NAME}:${cluster.port}`);
    expect(target.target).toContain('hostaddr=127.0.0.1');
  });

  test('URL query and PGHOSTADDR: the same, from either place', async () => {
    const url = await diagnoseJson([`postgresql://app:${PASSWORD}@${NAME}:${cluster.port}/appdb?hostaddr=127.0.0.1`]);
    expect(verdictOf(url.report)).toBe('none/healthy');
    const env = await diagnoseJson([`postgresql://app@${NAME}:${cluster.port}/appdb`], { env: { PGHOSTADDR: '127.0.0.1', PGPASSWORD: PASSWORD } });
    expect(verdictOf(env.report)).toBe('none/healthy');
    expect(env.target.source.hostaddr).toBe('env PGHOSTADDR');
  });

  test('TLS verify-full checks the certificate against the host name, not the address', async () => {
    const { code, report, target } = await diagnoseJson([keywords(`dbname=appdb sslmode=verify-full sslrootcert=${cert.certFile}`)]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.evidence.encryption).toBe('tls');
  });

  test('the password file is looked up by the host name, as libpq does', async () => {
    const home = emptyHome();
    const passfile = join(home, '.pgpass');
    writeFileSync(passfile, `127.0.0.1:${cluster.port}:appdb:app:wrong-one\n${NAME}:${cluster.port}:appdb:app:${PASSWORD}\n`);
    chmodSync(passfile, 0o600);
    const { code, target } = await diagnoseJson([`host=${NAME} hostaddr=127.0.0.1 port=${cluster.port} user=app dbname=appdb`], { env: { HOME: home } });
    expect(code).toBe(0);
    expect(target.source.password).toBe(`${passfile} line 2`);
  });

  test('only hostaddr: it is the host too', async () => {
    const { code, target } = await diagnoseJson([`hostaddr=127.0.0.1 port=${cluster.port} user=app password=${PASSWORD} dbname=appdb`]);
    expect(code).toBe(0);
    expect(target.target).toContain(`127.0.0.1:${cluster.port}`);
  });

  test('printed commands keep connecting to the hostaddr: the psql a remedy prints runs as printed and lists the databases', async () => {
    const { code, report, target } = await diagnoseJson([keywords('dbname=no_such_db')]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    expect(code).toBe(2);
    const commands = target.verdict.remediation.map((fix) => fix.command).filter((command): command is string => command !== undefined);
    const list = commands.find((command) => command.includes(' -l'));
    expect(list).toBe(`PGHOSTADDR=127.0.0.1 psql -h ${NAME} -p ${cluster.port} -U app -d postgres -l`);
    // Run it as an operator would paste it: psql looks no name up and reaches this server.
    const ran = spawnSync('bash', ['-c', list ?? 'false'], {
      env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ''}`, PGPASSWORD: PASSWORD, HOME: emptyHome() },
      encoding: 'utf8',
    });
    expect(ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    expect(ran.stdout).toContain('appdb');
  });

  test('a URL in a remedy keeps the hostaddr next to its host', async () => {
    // Wrong password: auth_failed prints the URL with the password to change.
    const { report, target } = await diagnoseJson([
      `host=${NAME} hostaddr=127.0.0.1 port=${cluster.port} user=app password=not-it dbname=appdb sslmode=require`,
    ]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    const printed = target.verdict.remediation.map((fix) => fix.command ?? '').filter((command) => command.includes(NAME));
    expect(printed.length).toBeGreaterThan(0);
    for (const command of printed) expect(command).toMatch(/hostaddr=127\.0\.0\.1|PGHOSTADDR=127\.0\.0\.1/);
  });

  test('a name in hostaddr is bad input, as libpq refuses it: exit 3, one line, no lookup', async () => {
    const result = await dbdoctor(['diagnose', `host=${NAME} hostaddr=localhost port=${cluster.port} user=app dbname=appdb`]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^dbdoctor: invalid hostaddr "localhost" \(from connection string\): libpq takes a numeric IPv4 or IPv6 address there/);
    expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('hostaddr and host lists of different lengths: exit 3, one line', async () => {
    const result = await dbdoctor(['diagnose', `postgresql://app@a.invalid,b.invalid:${cluster.port}/appdb?hostaddr=127.0.0.1`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^dbdoctor: could not match 2 host names to 1 hostaddr values/);
    expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });

  test('an empty hostaddr in a list looks that host up; the next host is reached by its address', async () => {
    const closed = await freePort();
    const { code, target } = await diagnoseJson([
      `host=localhost,${NAME} hostaddr=,127.0.0.1 port=${closed},${cluster.port} user=app password=${PASSWORD} dbname=appdb`,
    ]);
    expect(code).toBe(0);
    expect(target.target).toContain('hostaddr=,127.0.0.1');
    const endpoints = target.steps.find((step) => step.id === 'network')?.evidence.endpoints as {
      host: string;
      hostaddr?: string;
      dns?: { literal?: boolean };
    }[];
    expect(endpoints[0]).toMatchObject({ host: 'localhost', dns: { literal: false } });
    expect(endpoints[0]?.hostaddr).toBeUndefined();
    expect(endpoints[1]).toMatchObject({ host: NAME, hostaddr: '127.0.0.1', dns: { literal: true } });
  });

  /** Runs a printed command in bash as an operator pastes it, with psql on the PATH. */
  const paste = (command: string) =>
    spawnSync('bash', ['-c', command], { env: { PATH: `${pgBinDir()}:${process.env.PATH ?? ''}`, PGPASSWORD: PASSWORD, HOME: emptyHome() }, encoding: 'utf8' });

  test('sslmode=verify-ca: the printed psql keeps the root certificate and the mode, and runs as printed; URLs keep sslrootcert', async () => {
    const { report, target } = await diagnoseJson([keywords(`dbname=no_such_db sslmode=verify-ca sslrootcert=${cert.certFile}`)]);
    expect(verdictOf(report)).toBe('auth/database_missing');
    const list = target.verdict.remediation.map((fix) => fix.command ?? '').find((command) => command.includes(' -l'));
    expect(list).toBe(`PGHOSTADDR=127.0.0.1 PGSSLMODE=verify-ca PGSSLROOTCERT=${cert.certFile} psql -h ${NAME} -p ${cluster.port} -U app -d postgres -l`);
    // The same connection, asked whether it is encrypted (-l would list and exit).
    const ran = paste(`${(list ?? 'false').replace(/ -l$/, '')} -At -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'`);
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('t');
  });

  test('verify-full against a certificate for another name: the verify-ca URL it prints keeps the root certificate and the hostaddr, and connects', async () => {
    const { report, target } = await diagnoseJson([
      `host=other-name.invalid hostaddr=127.0.0.1 port=${cluster.port} user=app password=${PASSWORD} dbname=appdb sslmode=verify-full sslrootcert=${cert.certFile}`,
    ]);
    expect(verdictOf(report)).toMatch(/^accepting\/tls_/);
    const url = target.verdict.remediation.map((fix) => fix.command ?? '').find((command) => command.includes('sslmode=verify-ca'));
    expect(url).toBe(`postgresql://app@other-name.invalid:${cluster.port}/appdb?sslmode=verify-ca&sslrootcert=${cert.certFile}&hostaddr=127.0.0.1`);
    const ran = paste(`psql '${url ?? ''}' -At -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'`);
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('t');
  });

  test('sslmode=verify-ca against a certificate for another name: healthy, as libpq (verify-ca checks the chain, not the name)', async () => {
    const conninfo = `host=other-name.invalid hostaddr=127.0.0.1 port=${cluster.port} user=app password=${PASSWORD} dbname=appdb sslmode=verify-ca sslrootcert=${cert.certFile}`;
    const { code, report } = await diagnoseJson([conninfo]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    // libpq itself connects with these settings.
    const ran = paste(`psql '${conninfo.replace(/ password=\S+/, '')}' -At -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'`);
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('t');
  });

  test.each(['-db', 'host=elsewhere.invalid dbname=appdb'])('a database named %j: the printed psql connects to that very database, here', async (database) => {
    const target = await resolvePostgresTarget(
      { text: `host=${NAME} hostaddr=127.0.0.1 port=${cluster.port} user=app dbname='${database}'`, source: 'url' },
      buildEnvironment({ HOME: emptyHome() }),
    );
    const ran = paste(psqlAsUser(target, 'SELECT current_database()') + ' -At');
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe(database);
  });
});
