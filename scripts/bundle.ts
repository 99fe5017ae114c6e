// Bundles the command line into dist/bundle/ (issue 15): one CommonJS file, main.cjs, and the V8 code
// cache of its functions, main.code-cache, which bin/dbdoctor.js hands to V8 so that a run compiles
// almost nothing (Node 20 has no compile cache of its own; `module.enableCompileCache` is Node ≥ 22.1).
//
// Why one file and not chunks: Node 20's ES module loader costs each module a resolution, four
// thread-pool trips to read it and a compile; a diagnosis loaded ~47 chunks, and that, not the work,
// was most of its time (bench/RESULTS.md, "Cold start"). In one file, what a run may not need still
// costs nothing to run: esbuild wraps every module reached by the code's own `import()` in a lazy
// initialiser, so an engine's probe, a format, explain's tables, the exporter, YAML and zod are
// evaluated only on the path that needs them, exactly where the split build's chunk boundaries were
// (test/unit/bundle.test.ts reads those boundaries from `boundaryOptions`, the same build split into
// chunks). And compiled code comes from the cache, trained at build time (scripts/train-code-cache.cjs)
// on the commands every user runs; V8 compiles the rest lazily, as ever.
//
// The drivers, bson, bcryptjs and yaml stay packages in node_modules (external): they are loaded
// lazily already, a driver and dbdoctor must share one bson, and a user may upgrade a driver without
// rebuilding. They are loaded by a real `import()`, as the tsc build does: V8 cannot keep a dynamic
// import callback in code it reads from a cache, so the bundle's `import("pg")` calls become calls
// of `__dbdoctorImport`, a function the loader (bin/dbdoctor.js) passes in, which does the `import()`.
// dist/ (tsc's output, one file per module) stays as it is, for library use and the tests.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { BuildOptions, Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** What stays a package import at run time (see above). */
export const EXTERNAL = ['pg', 'pg-native', 'mongodb', 'bson', 'mongodb-connection-string-url', 'cassandra-driver', 'bcryptjs', 'yaml'];

/** The name the bundle calls instead of `import()` (the loader passes it; see above). */
export const IMPORT_FUNCTION = '__dbdoctorImport';

/** The command line's bundle as it ships: one CommonJS file, dist/bundle/main.cjs. */
export function bundleOptions(outdir = join(ROOT, 'dist', 'bundle')): BuildOptions & { outdir: string } {
  return {
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs' as const,
    platform: 'node' as const,
    target: 'node20',
    external: EXTERNAL,
    // The modules that ask where they are (the package's root, dbdoctor's own words) are told the
    // bundle's own URL: dist/bundle/ is inside dist/, as tsc's files are.
    define: { 'import.meta.url': '__dbdoctorUrl' },
    banner: { js: "const __dbdoctorUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [commanderSpawnsLazily],
    // Names stay readable in a stack trace or a profile; whitespace is only what a start-up parses for nothing.
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning' as const,
  };
}

/**
 * commander requires node:child_process when it loads, for a subcommand that is a program of its
 * own (`git-foo` style), which dbdoctor has none of: ~5 ms of every start (node:child_process brings
 * dgram and more). Its one use, `childProcess.spawn(…)`, gets the module when it is called. The
 * build stops if commander's line changes, rather than ship it unchanged and quietly slower.
 */
const COMMANDER_REQUIRE = "const childProcess = require('node:child_process');";
export const commanderSpawnsLazily: Plugin = {
  name: 'commander-spawns-lazily',
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes(COMMANDER_REQUIRE)) throw new Error(`commander's ${args.path} no longer has ${COMMANDER_REQUIRE}: see scripts/bundle.ts`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: text.replace(COMMANDER_REQUIRE, lazy), loader: 'js' };
    });
  },
};

/**
 * The same build split at every `import()` into chunks (ES modules): esbuild's map of it shows what
 * each path's modules bring in by static imports alone, which is what the shipped file evaluates on
 * that path. test/unit/bundle.test.ts keeps those boundaries.
 */
export function boundaryOptions(outdir: string): BuildOptions & { outdir: string } {
  const { outExtension: _cjs, define: _define, banner: _banner, ...shared } = bundleOptions(outdir);
  return {
    ...shared,
    format: 'esm' as const,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: "import { createRequire as __dbdoctorRequire } from 'node:module'; const require = __dbdoctorRequire(import.meta.url);" },
  };
}

/**
 * The bundle's text with every `import("…")` (a package or a Node module, the only kind esbuild
 * leaves in one file) a call of the loader's import function instead. Throws on any other `import(`,
 * which would fail at run time with "A dynamic import callback was not specified".
 */
export function routeImports(text: string): string {
  const routed = text.replace(/\bimport\((?=["'])/g, `${IMPORT_FUNCTION}(`);
  const left = routed.match(/\bimport\([^)]{0,60}/g);
  if (left) throw new Error(`the bundle still calls import() where the loader cannot serve it: ${left.join(', ')}`);
  return routed;
}

/**
 * The bundle's text in ASCII: esbuild escapes strings but keeps some characters of regular
 * expressions as they are ("。", "«"), and one such character makes V8 hold the whole 1.3 MB source
 * as two-byte text, decoded from UTF-8 on every start (~3 ms, issue 15). A `\uXXXX` escape means
 * the same in a string, a template, a regular expression (a class too) and an identifier; the
 * bundle has no comments. bin/dbdoctor.js reads the file as Latin-1, which for ASCII is the same text.
 */
export function asciiOnly(text: string): string {
  // After a backslash, the escape would be of the backslash instead: none is expected; stop if one comes.
  const escaped = /\\[^\x00-\x7f]/.exec(text);
  if (escaped) throw new Error(`the bundle escapes a non-ASCII character (${JSON.stringify(text.slice(escaped.index - 20, escaped.index + 20))})`);
  return text.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { build } = await import('esbuild');
  const options = bundleOptions();
  rmSync(options.outdir, { recursive: true, force: true });
  await build(options);
  const main = join(options.outdir, 'main.cjs');
  writeFileSync(main, asciiOnly(routeImports(readFileSync(main, 'utf8'))));
  // The words of dbdoctor's own sentences, read once here instead of from every file of dist/ on a
  // run whose password is a plain word (src/api/own-words.ts).
  const { OWN_WORDS_FILE, scanOwnWords } = await import('../src/api/own-words.js');
  const dist = join(ROOT, 'dist');
  writeFileSync(join(dist, OWN_WORDS_FILE), [...scanOwnWords(dist)].sort().join('\n'));
  // The code cache, trained in a process of its own with Node's defaults (no NODE_OPTIONS: V8 takes a
  // cache only from a process with the same flags as its own).
  const { NODE_OPTIONS: _options, ...env } = process.env;
  const trained = spawnSync(process.execPath, [join(ROOT, 'scripts', 'train-code-cache.cjs')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  if (trained.status !== 0) throw new Error(`training the code cache failed (${trained.error?.message ?? `exit ${String(trained.status ?? trained.signal)}`})`);
}
