#!/usr/bin/env -S node --
// "--" before this file's path: Node 20 reads --env-file anywhere on its command line, even after
// the script (and exits 9 with its own message when that file is missing), so dbdoctor's own
// --env-file must come after a "--" that ends node's options.
//
// A CommonJS file (bin/package.json): Node starts a CommonJS entry without its ES module loader.
// It runs the command line's bundle (scripts/bundle.ts) with V8's cache of its compiled code, so a
// run compiles almost nothing. The cache is dist/bundle/main.code-cache, written by `npm run build`
// for the Node that built it. V8 checks it (its version, its flags, the source's length) and, when
// it does not fit (another Node, a V8 flag in NODE_OPTIONS) or is missing, compiles the bundle as
// any script: slower by some tens of milliseconds, never different. V8 does not compare the source
// itself, so a bundle changed after the cache was written (patched in place, even at the same
// length) is run without it: the cache is used only when it is at least as new as the bundle (npm
// gives every installed file the same time; a build writes the cache last).
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'bundle', 'main.cjs');
const CODE_CACHE = join(__dirname, '..', 'dist', 'bundle', 'main.code-cache');
/**
 * The bundle's name in a stack trace. V8 keeps the name a cache was made under (the build
 * machine's path) for the functions it brings, so one name is given everywhere: a trace reads the
 * same on every installation, with or without the cache.
 */
const BUNDLE_NAME = 'dbdoctor/dist/bundle/main.cjs';

/** The cache, when there is one no older than the bundle. */
function freshCache() {
  try {
    if (statSync(CODE_CACHE).mtimeMs < statSync(BUNDLE).mtimeMs) return undefined;
    return readFileSync(CODE_CACHE);
  } catch {
    return undefined;
  }
}

/**
 * The bundle's exports, and its compiled script (whose cache the build writes). The bundle's
 * `import()` is this file's (see scripts/bundle.ts, `routeImports`): for a package a real dynamic
 * import, resolved from the package's own node_modules.
 */
function load(options = { cache: true }) {
  const cachedData = options.cache ? freshCache() : undefined;
  // ASCII (scripts/bundle.ts, `asciiOnly`): read as Latin-1, the same text without decoding UTF-8.
  const source = readFileSync(BUNDLE, 'latin1');
  // The wrapper is on the bundle's first line, so a stack trace's line numbers are the file's own.
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __dbdoctorImport) {${source}\n})`, {
    filename: BUNDLE_NAME,
    cachedData,
  });
  const bundle = { exports: {} };
  const require = createRequire(BUNDLE);
  // A Node module is required (its exports, named as ES modules name them): a first import() would
  // start Node's ES module loader, ~5 ms, for nothing. A package is imported as in dist/.
  const load = (specifier) => (specifier.startsWith('node:') ? Promise.resolve().then(() => require(specifier)) : import(specifier));
  script.runInThisContext().call(bundle.exports, bundle.exports, require, bundle, BUNDLE, dirname(BUNDLE), load);
  return { main: bundle.exports.main, script, cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected };
}

/** dbdoctor's own package.json, when this file is dbdoctor's. */
function ownPackage() {
  try {
    const pkg = require('../package.json');
    return pkg.name === 'dbdoctor' ? pkg : undefined;
  } catch {
    return undefined;
  }
}

if (require.main !== module) {
  module.exports = { load, BUNDLE, CODE_CACHE };
} else if (!statSync(BUNDLE, { throwIfNoEntry: false })) {
  // A checkout that was never built (or a package missing its dist/): one line, as for any input dbdoctor cannot run with.
  process.stderr.write(`dbdoctor: ${BUNDLE} is missing: run \`npm run build\` in ${dirname(__dirname)} (or reinstall dbdoctor)\n`);
  process.exitCode = 3;
} else if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V') && ownPackage()) {
  // `dbdoctor --version` alone is answered here, as commander would answer it (the version and a
  // newline), without loading the bundle: CI logs and init containers print it on every start.
  // A reader gone (EPIPE) is no failure; a standard output that cannot be written is (as src/cli/io.ts).
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') {
      process.stderr.on('error', () => undefined);
      process.stderr.write(`dbdoctor: could not write to standard output (${error.code ?? error.message})\n`);
      process.exitCode = 3;
    }
  });
  process.stdout.write(`${ownPackage().version}\n`);
} else {
  // Node >= 22.1 keeps compiled code of what this file imports (the drivers) between runs; a no-op
  // on Node 20. In the user's own cache directory: Node's default, one directory in /tmp shared by
  // every user, would let another user plant compiled code that a root run then executes.
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : undefined);
  if (home) require('node:module').enableCompileCache?.(join(home, 'dbdoctor', 'node-compile-cache'));
  load()
    .main(process.argv)
    .then((code) => process.exit(code));
}
