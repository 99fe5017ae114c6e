import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { startCqlPeer } from '../lab/cql-peer.js';
import { dbdoctor } from '../lab/dbdoctor.js';

/**
 * Each driver is loaded only for a target of its engine: a PostgreSQL-only run must not pay for
 * mongodb or cassandra-driver. A module-resolution hook (NODE_OPTIONS=--import) reports every
 * package the real CLI loads.
 */
function hookFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dbdoctor-hook-')), 'hook.mjs');
  const resolve = `export async function resolve(s, c, n) { const r = await n(s, c); if (/node_modules\\/(mongodb|bson|mongodb-connection-string-url|cassandra-driver)\\//.test(r.url)) process.stderr.write('LOADED ' + s + '\\n'); return r; }`;
  writeFileSync(file, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolve)}));\n`);
  return file;
}

describe('the MongoDB and Cassandra drivers are loaded lazily', () => {
  const hook = hookFile();
  test('a PostgreSQL-only run loads no MongoDB or Cassandra package', async () => {
    const { stderr } = await dbdoctor(['diagnose', '--json', '--timeout', '2', 'postgresql://app@127.0.0.1:1/app'], {
      env: { NODE_OPTIONS: `--import ${hook}` },
    });
    expect(stderr).not.toContain('LOADED');
  });

  test('a MongoDB run does load the driver (the hook works)', async () => {
    const { stderr } = await dbdoctor(['diagnose', '--json', '--timeout', '2', 'mongodb://127.0.0.1:1/app'], { env: { NODE_OPTIONS: `--import ${hook}` } });
    expect(stderr).toContain('LOADED mongodb');
    expect(stderr).not.toContain('cassandra-driver');
  });

  test('a refused Cassandra target loads no driver at all: its own handshake comes first', async () => {
    const { stderr } = await dbdoctor(['diagnose', '--json', '--timeout', '2', 'cassandra://127.0.0.1:1/'], { env: { NODE_OPTIONS: `--import ${hook}` } });
    expect(stderr).not.toContain('LOADED');
  });

  test('a Cassandra node that answers: cassandra-driver is loaded, and no MongoDB package', async () => {
    const peer = await startCqlPeer({ dc: 'dc1' });
    try {
      const { stderr } = await dbdoctor(['diagnose', '--json', '--timeout', '5', `cassandra://127.0.0.1:${peer.port}/?dc=dc1`], {
        env: { NODE_OPTIONS: `--import ${hook}` },
      });
      expect(stderr).toContain('LOADED cassandra-driver');
      expect(stderr).not.toMatch(/LOADED (mongodb|bson)/);
    } finally {
      peer.stop();
    }
  });
});
