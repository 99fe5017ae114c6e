// Writes dist/bundle/main.code-cache (scripts/bundle.ts runs it after building dist/bundle/main.cjs):
// V8's compiled code of the bundle's functions after running, in one process, the commands every
// user runs (--version, --help, a diagnosis's first step for each engine, its human and JSON
// reports). V8 keeps in a cache only what it has compiled; what a run needs beyond it (a healthy
// server's later steps, explain, the exporter) is compiled lazily at run time, as without a cache.
// It is a trade: V8 reads the whole cache on every start, so a larger one slows --version. With
// explain's tables too the cache was 1.4 MB and --version ~8 ms slower; without them ~0.8 MB.
// Nothing here needs a server: the diagnoses knock on loopback ports that nothing listens on.
'use strict';
const { rmSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { load, CODE_CACHE } = require('../bin/dbdoctor.js');

/** A loopback port nothing listens on (bound, then let go). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function train() {
  // Compiled from the source alone: an old cache must not be what is trained.
  rmSync(CODE_CACHE, { force: true });
  const { main, script } = load({ cache: false });
  const port = await freePort();
  const commands = [
    ['--version'],
    ['--help'],
    ['diagnose', '--help'],
    ['diagnose', '--timeout', '3', `postgresql://app:training@127.0.0.1:${port}/app`],
    ['diagnose', '--timeout', '3', '--json', `postgresql://app@127.0.0.1:${port}/app`],
    ['diagnose', '--timeout', '3', '--json', `mongodb://127.0.0.1:${port}/app`],
    ['diagnose', '--timeout', '3', '--json', `cassandra://127.0.0.1:${port}/`],
  ];
  for (const args of commands) await main([process.execPath, 'dbdoctor', ...args]);
  writeFileSync(CODE_CACHE, script.createCachedData());
}

train().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`train-code-cache: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
