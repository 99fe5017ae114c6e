import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dbdoctor } from '../lab/dbdoctor.js';

/**
 * The MongoDB driver is loaded only for a MongoDB target: a PostgreSQL-only run must not pay for
 * it. A module-resolution hook (NODE_OPTIONS=--import) reports every package the real CLI loads.
 */
function hookFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dbdoctor-hook-')), 'hook.mjs');
  const resolve = `export async function resolve(s, c, n) { const r = await n(s, c); if (/node_modules\\/(mongodb|bson|mongodb-connection-string-url)\\//.test(r.url)) process.stderr.write('LOADED ' + s + '\\n'); return r; }`;
  writeFileSync(file, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolve)}));\n`);
  return file;
}

describe('the MongoDB driver is loaded lazily', () => {
  const hook = hookFile();
  test('a PostgreSQL-only run loads no MongoDB package', async () => {
    const { stderr } = await dbdoctor(['diagnose', '--json', '--timeout', '2', 'postgresql://app@127.0.0.1:1/app'], { env: { NODE_OPTIONS: `--import ${hook}` } });
    expect(stderr).not.toContain('LOADED');
  });

  test('a MongoDB run does load the driver (the hook works)', async () => {
    const { stderr } = await dbdoctor(['diagnose', '--json', '--timeout', '2', 'mongodb://127.0.0.1:1/app'], { env: { NODE_OPTIONS: `--import ${hook}` } });
    expect(stderr).toContain('LOADED mongodb');
  });
});
