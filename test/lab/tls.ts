import { execFile } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync } from 'node:fs';
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
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', String(options.days ?? 30), '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`]);
  chmodSync(keyFile, 0o600);
  chmodSync(certFile, 0o644);
  if (userInfo().uid === 0) {
    const owner = postgresOwner();
    chownSync(keyFile, owner.uid, owner.gid);
    chownSync(certFile, owner.uid, owner.gid);
  }
  return { certFile, keyFile };
}
