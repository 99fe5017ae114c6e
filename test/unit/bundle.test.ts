import { build, type Metafile } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { boundaryOptions } from '../../scripts/bundle.js';

/**
 * The lazy-loading boundaries of the command line's bundle (scripts/bundle.ts), read from esbuild's
 * own map of it (the same build split at every import(), `boundaryOptions`: the shipped single file
 * evaluates a module only where the split build would load its chunk): what a process loads before it knows its command, and what a PostgreSQL diagnosis
 * loads, must not hold what only another path needs. Speed itself is measured in bench/ (never
 * asserted here); this keeps the structure that makes it, so a static import added in the wrong
 * place fails a test instead of quietly costing every run its parse time.
 */
let meta: Metafile;
let texts: { path: string; text: string }[] = [];
const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-bundle-'));

beforeAll(async () => {
  const result = await build({ ...boundaryOptions(dir), write: false, metafile: true });
  meta = result.metafile;
  texts = result.outputFiles.map((file) => ({ path: file.path, text: file.text }));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The output file that holds a source module as the entry of a dynamic import (or the main entry). */
function outputOf(source: string): string {
  const found = Object.entries(meta.outputs).find(([, output]) => output.entryPoint === source);
  if (!found) throw new Error(`no chunk has ${source} as its entry: is it still imported with import()?`);
  return found[0];
}

/** Every source module a chunk brings in by static imports alone (what loading it costs). */
function staticClosure(output: string): Set<string> {
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const entry = meta.outputs[file];
    if (!entry) return;
    for (const input of Object.keys(entry.inputs)) inputs.add(input);
    for (const imported of entry.imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(output);
  return inputs;
}

/** The packages (under node_modules) and src/ modules of a closure that match any of `patterns`. */
function offending(closure: Set<string>, patterns: readonly RegExp[]): string[] {
  return [...closure].filter((input) => patterns.some((pattern) => pattern.test(input))).map((input) => input.replace(/^.*node_modules\//, 'node_modules/'));
}

const pkg = (name: string): RegExp => new RegExp(`node_modules/${name}/`);

describe('the command line bundle', () => {
  test('what every command loads (--version, --help, a usage error) holds argument parsing, not the work', () => {
    const closure = staticClosure(outputOf('src/cli/main.ts'));
    expect(closure.has('src/cli/main.ts')).toBe(true);
    expect(
      offending(closure, [
        pkg('zod'),
        pkg('yaml'),
        pkg('zod-to-json-schema'),
        /^src\/probes\//,
        /^src\/explain\//,
        /^src\/report\//,
        /^src\/docs\//,
        /^src\/net\//,
        /^src\/engine\/(causes|schema|walk|run|waiting)\.ts$/,
        /^src\/exporter\/(?!log\.ts$)/,
      ]),
    ).toEqual([]);
  });

  test('a PostgreSQL diagnosis loads no other engine, no explain table and no other format', () => {
    const closure = new Set([
      ...staticClosure(outputOf('src/api/run.ts')),
      ...staticClosure(outputOf('src/api/diagnose.ts')),
      ...staticClosure(outputOf('src/probes/postgres/index.ts')),
      ...staticClosure(outputOf('src/engine/walk.ts')),
      ...staticClosure(outputOf('src/report/human.ts')),
    ]);
    expect(closure.has('src/probes/postgres/steps/process.ts')).toBe(true);
    expect(
      offending(closure, [
        /^src\/probes\/(mongodb|cassandra)\//,
        /^src\/config\/(mongodb|cassandra)\//,
        /\.generated\.ts$/,
        /^src\/explain\//,
        /^src\/probes\/[^/]+\/explain\.ts$/,
        /^src\/report\/(json|junit|markdown|nagios|prometheus)\.ts$/,
        /^src\/exporter\//,
        pkg('yaml'),
        pkg('zod-to-json-schema'),
      ]),
    ).toEqual([]);
  });

  test('each engine, format and command path is a chunk of its own, loaded on demand', () => {
    for (const source of [
      'src/probes/postgres/index.ts',
      'src/probes/mongodb/index.ts',
      'src/probes/cassandra/index.ts',
      'src/report/json.ts',
      'src/report/markdown.ts',
      'src/exporter/serve.ts',
      'src/docs/schema.ts',
      'src/config/mongodb/target.ts',
    ]) {
      expect(outputOf(source)).toMatch(/^.*\.js$/);
    }
    const mongo = staticClosure(outputOf('src/probes/mongodb/index.ts'));
    expect(offending(mongo, [/^src\/probes\/(postgres|cassandra)\//])).toEqual([]);
  });

  test('no chunk is a CommonJS package reached by import(): esbuild would export only its default, and lose the names the code takes', () => {
    expect(texts.filter((file) => /export default require_\w+\(\);?\s*$/.test(file.text)).map((file) => file.path)).toEqual([]);
  });

  test('the drivers stay packages of their own, loaded by import() when an engine needs them', () => {
    const external = new Set(
      Object.values(meta.outputs).flatMap((output) =>
        output.imports.filter((imported) => imported.external).map((imported) => `${imported.kind} ${imported.path}`),
      ),
    );
    for (const driver of ['pg', 'mongodb', 'cassandra-driver'])
      expect(
        [...external].filter((entry) => entry.endsWith(` ${driver}`) && !entry.startsWith('dynamic-import')),
        driver,
      ).toEqual([]);
    expect(Object.keys(meta.inputs).filter((input) => /node_modules\/(pg|mongodb|cassandra-driver|bson)\//.test(input))).toEqual([]);
  });
});
