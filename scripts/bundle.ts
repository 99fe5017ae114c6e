// Bundles the command line into dist/bundle/ (issue 15): the entry holds what every command needs
// (argument parsing, the command definitions); everything a run may not need — an engine's probe, a
// format, explain's tables, the exporter, YAML, zod — stays behind the code's own dynamic imports,
// which esbuild turns into chunks loaded only on the path that needs them. A few files read instead
// of a hundred module resolutions is most of what a start-up costs (bench/RESULTS.md, "Cold start").
//
// The drivers, bson and bcryptjs stay in node_modules (external): they are loaded lazily already, a
// driver and dbdoctor must share one bson, and a user may upgrade a driver without rebuilding. So
// does yaml, for another reason: it is CommonJS loaded by import(), and esbuild makes such a chunk
// `export default` only, which loses the named exports config/file.ts takes (a fleet file failed
// with "LineCounter is not a constructor"); Node's own CommonJS interop gives them.
// dist/ (tsc's output, one file per module) stays as it is, for library use and the tests.
// test/unit/bundle.test.ts builds with these same options (and a metafile) to keep the start-up path small.
import { rmSync } from 'node:fs';
import type { BuildOptions } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** What stays a package import at run time (see above). */
export const EXTERNAL = ['pg', 'pg-native', 'mongodb', 'bson', 'mongodb-connection-string-url', 'cassandra-driver', 'bcryptjs', 'yaml'];

export function bundleOptions(outdir = join(ROOT, 'dist', 'bundle')): BuildOptions & { outdir: string } {
  return {
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm' as const,
    platform: 'node' as const,
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages (commander) call require() for Node's own modules; an ES module has none.
    banner: { js: "import { createRequire as __dbdoctorRequire } from 'node:module'; const require = __dbdoctorRequire(import.meta.url);" },
    chunkNames: 'chunks/[name]-[hash]',
    // Names stay readable in a stack trace or a profile; whitespace is only what a start-up parses for nothing.
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning' as const,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { build } = await import('esbuild');
  const options = bundleOptions();
  rmSync(options.outdir, { recursive: true, force: true });
  await build(options);
}
