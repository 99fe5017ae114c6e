// ESLint for src/ and test/: typescript-eslint's recommended rules, a few type-aware rules that are
// cheap and catch real bugs (a promise nobody awaits can outlive the run's deadline), and
// dbdoctor/boundaries, which keeps STYLE.md's import arrows (scripts/eslint/boundaries.js).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import dbdoctor from './scripts/eslint/boundaries.js';

const root = path.dirname(fileURLToPath(import.meta.url));
// An engine's parts: its probe folder, its record, and its target parser — every folder under
// src/config/ is an engine's (config's shared modules are files at its top), so a new engine's
// parser is kept by the same arrows without an edit here.
const CONFIG_FOLDERS = readdirSync(path.join(root, 'src/config'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => `config/${entry.name}`);
const ENGINE_PARTS = ['probes', 'engines', ...CONFIG_FOLDERS];

// STYLE.md: cli → config / engine → probes → net / host. The engine never imports a probe;
// renderers never import a probe; a probe never prints.
const ARROWS = [
  { from: 'engine', forbid: [...ENGINE_PARTS, 'host', 'cli', 'report'], why: 'the engine knows nothing about any engine, host or output (STYLE.md)' },
  { from: 'report', forbid: ENGINE_PARTS, why: 'renderers never import a probe (STYLE.md)' },
  { from: 'text', onlyWithin: ['text'], why: 'src/text is the neutral bottom layer; it imports only src/text' },
  // net and host sit below the probes (STYLE.md: probes → net / host): they serve every engine and name none.
  {
    from: 'net',
    forbid: [...ENGINE_PARTS, 'cli', 'api', 'report', 'exporter', 'explain', 'host'],
    why: 'src/net sits below the probes and serves every engine (STYLE.md)',
  },
  {
    from: 'host',
    forbid: [...ENGINE_PARTS, 'cli', 'api', 'report', 'exporter', 'explain', 'net'],
    why: 'src/host sits below the probes and serves every engine (STYLE.md)',
  },
  {
    from: 'config',
    forbid: ['probes', 'cli', 'api', 'report', 'exporter', 'explain'],
    why: 'config reads targets; it reaches an engine only through its record (src/engines/)',
  },
  // The engines' registry (src/engines/registry.ts) is the one door to them: each engine's record
  // loads its probe, explainer and target parser lazily.
  { from: 'explain', forbid: ENGINE_PARTS, allow: ['engines/registry'], why: 'explain reaches the engines only through src/engines/registry.ts' },
  { from: 'cli', forbid: ENGINE_PARTS, allow: ['engines/registry'], why: 'the CLI talks to engines only through src/engines/registry.ts' },
  { from: 'exporter', forbid: ENGINE_PARTS, allow: ['engines/registry'], why: 'the exporter reaches engines only through the API and src/engines/registry.ts' },
  { from: 'docs', forbid: ENGINE_PARTS, allow: ['engines/registry'], why: 'the docs read engines only through src/engines/registry.ts' },
  // The public API (issue 18) sits where the CLI sits, below it: the CLI is a thin user of it.
  // Like the CLI it reaches engines only through the registry; it never renders, prints or parses flags.
  {
    from: 'api',
    forbid: [...ENGINE_PARTS, 'cli', 'report'],
    allow: ['engines/registry'],
    why: 'the API talks to engines only through src/engines/registry.ts, and knows nothing of the CLI or its renderers',
  },
];

// Known exceptions: the code as it stands breaks these arrows. Each one is the to-do list of issue 16
// (move the shared thing to a neutral module or behind the registry, then delete its line here;
// the rule reports a line that is no longer needed). Only the named import of the named file is
// allowed; every other import of that file is still checked.
//   src/engine/schema.ts → src/host/platform.ts          (PLATFORMS, for the report schema's platform enum)
//   src/engine/probe.ts  → src/host/names.ts             (type KnownName, in the probe contract)
//   src/engine/probe.ts  → src/host/platform.ts          (type PlatformInfo, in the probe contract)
const EXCEPTIONS = [
  ['src/engine/schema.ts', 'src/host/platform.ts'],
  ['src/engine/probe.ts', 'src/host/names.ts'],
  ['src/engine/probe.ts', 'src/host/platform.ts'],
];

// An exception naming a file that is gone would hide nothing and never be reported stale: refuse it.
for (const [file, to] of EXCEPTIONS) {
  for (const named of [file, to])
    if (!existsSync(path.join(root, named))) throw new Error(`eslint.config.js: boundary exception names ${named}, which does not exist`);
}

export default tseslint.config(
  // test/fixtures/new-engine is an engine's source for a copy of src/ (test/integration/new-engine.test.ts type-checks it there).
  { ignores: ['dist/**', 'node_modules/**', '.lab/**', 'coverage/**', '**/*.generated.ts', 'test/fixtures/new-engine/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { dbdoctor },
    rules: {
      // Type-aware, and cheap once the program is built: an unawaited promise can outlive the deadline.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A few more that match the house style (STYLE.md: `satisfies`, not casts to make an object fit).
      // `typeof import('pg')` annotations stay allowed: they name a driver's types without loading it
      // (drivers load lazily, BRIEF: "Fast").
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // A leading underscore marks a value left out on purpose (`{ password: _password, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'dbdoctor/boundaries': ['error', { srcRoot: path.join(root, 'src'), arrows: ARROWS, exceptions: EXCEPTIONS }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // A probe never prints (STYLE.md): everything the CLI writes goes through its io and terminalSafe.
      'no-console': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Parsed YAML/JSON documents of foreign shape (Kubernetes manifests) are walked as `any`.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
