import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, emptyHome, verdictOf } from '../lab/dbdoctor.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';
import { freePort } from '../lab/postgres.js';
import { selfSignedCertificate } from '../lab/tls.js';

/**
 * MongoDB scenarios against a real MongoDB wire-protocol server: FerretDB 1.x (SQLite backend,
 * SCRAM authentication on), one plain server and one TLS-only server, each started once.
 */
const PASSWORD = 'ferret-admin-pass-7';

describe('mongodb against a real FerretDB', () => {
  let server: Ferret;
  let tlsServer: Ferret;
  let tlsPort: number;
  let caFile: string;

  beforeAll(async () => {
    server = await Ferret.start({ adminPassword: PASSWORD });
    const cert = await selfSignedCertificate('localhost');
    caFile = cert.certFile;
    tlsPort = await freePort();
    tlsServer = await Ferret.start({
      adminPassword: PASSWORD,
      listen: `127.0.0.1:${await freePort()}`,
      tls: { listen: `127.0.0.1:${tlsPort}`, certFile: cert.certFile, keyFile: cert.keyFile },
    });
    console.log(`FerretDB started in ${server.startMs} ms (plain) and ${tlsServer.startMs} ms (with TLS)`);
  });
  afterAll(async () => {
    await server?.destroy();
    await tlsServer?.destroy();
  });

  test('healthy: logs in with SCRAM-SHA-256 and passes every step', async () => {
    const { code, report, target, wallMs } = await diagnoseJson([server.url(ADMIN_USER, PASSWORD)]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.engine).toBe('mongodb');
    expect(target.steps.every((step) => step.status === 'pass')).toBe(true);
    console.log(`healthy diagnosis: ${Math.round(wallMs)} ms wall, ${report.durationMs} ms reported`);
  });

  test('healthy from MONGODB_URI in ./.env, with the source of each setting', async () => {
    const cwd = emptyHome();
    writeFileSync(join(cwd, '.env'), `MONGODB_URI=${server.url(ADMIN_USER, PASSWORD, 'app', '?authSource=admin')}\n`);
    const { code, target } = await diagnoseJson([], { cwd });
    expect(code).toBe(0);
    expect(target.source).toMatchObject({ hosts: '.env MONGODB_URI', password: '.env MONGODB_URI', authSource: '.env MONGODB_URI' });
  });

  test('healthy from MONGO_URL in the environment', async () => {
    const { code, target } = await diagnoseJson([], { env: { MONGO_URL: server.url(ADMIN_USER, PASSWORD) } });
    expect(code).toBe(0);
    expect(target.source.hosts).toBe('env MONGO_URL');
  });

  test('a seed list whose first host refuses: the second answers, healthy', async () => {
    const closed = await freePort();
    const { code, target } = await diagnoseJson([`mongodb://${ADMIN_USER}:${PASSWORD}@127.0.0.1:${closed},127.0.0.1:${server.port}/`]);
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.summary).toContain(`127.0.0.1:${server.port}`);
  });

  test('wrong password: auth_failed (code 18)', async () => {
    const { code, report, target } = await diagnoseJson([server.url(ADMIN_USER, 'not-the-password')]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(code).toBe(2);
    expect(target.verdict.details).toMatchObject({ serverError: { code: 18 } });
  });

  test('the user lives in admin but the URL names another database: auth_failed with authSource=admin', async () => {
    const { report, target } = await diagnoseJson([server.url(ADMIN_USER, PASSWORD, 'shop')]);
    expect(verdictOf(report)).toBe('auth/auth_failed');
    expect(target.verdict.message).toContain('exists in "admin"');
    expect(target.verdict.remediation[0]?.command).toBe(`mongodb://${ADMIN_USER}@127.0.0.1:${server.port}/shop?authSource=admin`);
  });

  test('a mechanism the server does not support (PLAIN): auth_mechanism', async () => {
    const { code, report } = await diagnoseJson([server.url(ADMIN_USER, PASSWORD, '', '?authMechanism=PLAIN')]);
    expect(verdictOf(report)).toBe('auth/auth_mechanism');
    expect(code).toBe(2);
  });

  test('a user without a password: password_missing, nothing sent', async () => {
    const { code, report } = await diagnoseJson([server.url(ADMIN_USER, undefined)]);
    expect(verdictOf(report)).toBe('auth/password_missing');
    expect(code).toBe(2);
  });

  test('no credentials at all, the server requiring them: password_missing', async () => {
    const { report, target } = await diagnoseJson([server.url(undefined, undefined, 'app')]);
    expect(verdictOf(report)).toBe('auth/password_missing');
    expect(target.verdict.message).toContain('requires authentication');
  });

  test('replicaSet= against a standalone server: replica_set_mismatch', async () => {
    const { code, report, target } = await diagnoseJson([server.url(ADMIN_USER, PASSWORD, '', '?replicaSet=rs0')]);
    expect(verdictOf(report)).toBe('accepting/replica_set_mismatch');
    expect(code).toBe(2);
    expect(target.verdict.message).toContain('standalone');
  });

  test('a TLS-only port, the client without TLS: tls_required', async () => {
    const { code, report } = await diagnoseJson([`mongodb://${ADMIN_USER}:${PASSWORD}@127.0.0.1:${tlsPort}/`]);
    expect(verdictOf(report)).toBe('accepting/tls_required');
    expect(code).toBe(2);
  });

  test('TLS to a plain port: tls_unsupported', async () => {
    const { code, report } = await diagnoseJson([server.url(ADMIN_USER, PASSWORD, '', '?tls=true')]);
    expect(verdictOf(report)).toBe('accepting/tls_unsupported');
    expect(code).toBe(2);
  });

  test('a self-signed certificate without tlsCAFile: tls_verify_failed', async () => {
    const { code, report } = await diagnoseJson([`mongodb://${ADMIN_USER}:${PASSWORD}@localhost:${tlsPort}/?tls=true`]);
    expect(verdictOf(report)).toBe('accepting/tls_verify_failed');
    expect(code).toBe(2);
  });

  test('a self-signed certificate with tlsAllowInvalidCertificates=true: healthy, as the driver connects', async () => {
    const { code, report } = await diagnoseJson([`mongodb://${ADMIN_USER}:${PASSWORD}@localhost:${tlsPort}/?tls=true&tlsAllowInvalidCertificates=true`]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
  });

  test('the right tlsCAFile, the server reached by an address its certificate does not name: a host-name mismatch; with tlsAllowInvalidHostnames=true, healthy', async () => {
    const url = `mongodb://${ADMIN_USER}:${PASSWORD}@127.0.0.1:${tlsPort}/?tls=true&tlsCAFile=${encodeURIComponent(caFile)}`;
    const strict = await diagnoseJson([url]);
    expect(verdictOf(strict.report)).toBe('accepting/tls_verify_failed');
    expect(strict.target.verdict.details.tls).toMatchObject({ problem: 'hostname_mismatch' });
    const lenient = await diagnoseJson([`${url}&tlsAllowInvalidHostnames=true`]);
    expect(verdictOf(lenient.report)).toBe('none/healthy');
    expect(lenient.code).toBe(0);
  });

  test('TLS with the right tlsCAFile and host name: healthy', async () => {
    const { code, report, target } = await diagnoseJson([
      `mongodb://${ADMIN_USER}:${PASSWORD}@localhost:${tlsPort}/?tls=true&tlsCAFile=${encodeURIComponent(caFile)}`,
    ]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    expect(target.steps.find((step) => step.id === 'accepting')?.summary).toContain('TLS');
  });
});
