import { execFile } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { postgresOwner } from './postgres.js';

const run = promisify(execFile);

export interface Certificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A self-signed server certificate from openssl, for `name` (subjectAltName DNS:name). The key
 * is 0600 and, as root, owned by postgres: PostgreSQL refuses a key others can read.
 */
export async function selfSignedCertificate(name: string, options: { days?: number } = {}): Promise<Certificate> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-cert-'));
  chmodSync(dir, 0o755);
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(options.days ?? 30),
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=DNS:${name}`,
  ]);
  chmodSync(keyFile, 0o600);
  chmodSync(certFile, 0o644);
  if (userInfo().uid === 0) {
    const owner = postgresOwner();
    chownSync(keyFile, owner.uid, owner.gid);
    chownSync(certFile, owner.uid, owner.gid);
  }
  return { certFile, keyFile };
}

/**
 * A certificate that expired long ago (valid January 2020 only), signed by a throw-away CA, made
 * with `openssl ca`, which can set arbitrary dates. Returns the CA too, so that verification gets
 * as far as the dates.
 */
export async function expiredCertificate(name: string): Promise<Certificate & { readonly caFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-expired-'));
  chmodSync(dir, 0o755);
  const file = (base: string): string => join(dir, base);
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('serial'), '01\n');
  writeFileSync(
    file('ca.cnf'),
    `[ca]\ndefault_ca=lab\n[lab]\ndatabase=${file('index.txt')}\nserial=${file('serial')}\nnew_certs_dir=${dir}\ndefault_md=sha256\npolicy=any\ncopy_extensions=copy\n[any]\ncommonName=supplied\n`,
  );
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '3650',
    '-subj',
    '/CN=dbdoctor-lab-ca',
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=DNS:${name},IP:127.0.0.1`,
  ]);
  await run('openssl', [
    'ca',
    '-batch',
    '-config',
    file('ca.cnf'),
    '-cert',
    file('ca.crt'),
    '-keyfile',
    file('ca.key'),
    '-in',
    file('server.csr'),
    '-out',
    file('server.crt'),
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200201000000Z',
  ]);
  chmodSync(file('server.key'), 0o600);
  if (userInfo().uid === 0) {
    const owner = postgresOwner();
    chownSync(file('server.key'), owner.uid, owner.gid);
    chownSync(file('server.crt'), owner.uid, owner.gid);
  }
  return { certFile: file('server.crt'), keyFile: file('server.key'), caFile: file('ca.crt') };
}
