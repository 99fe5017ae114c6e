import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';
import { boundaries } from '../../scripts/eslint/boundaries.js';

// The boundary rule eslint.config.js runs on src/, tried on made-up files under a made-up src/ so
// that it is seen to fail: a lint that passes is worth something only if it can fail.
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const srcRoot = '/repo/src';
const options = [
  {
    srcRoot,
    arrows: [
      { from: 'engine', forbid: ['probes', 'host'], why: 'engine stays generic' },
      { from: 'text', onlyWithin: ['text'], why: 'text is the bottom layer' },
      { from: 'cli', forbid: ['probes', 'config/postgres'], allow: ['probes/registry'], why: 'through the registry' },
    ],
    exceptions: [['src/engine/probe.ts', 'src/host/names.ts']],
  },
];
const at = (file: string): string => `${srcRoot}/${file}`;

new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' } }).run('dbdoctor/boundaries', boundaries, {
  valid: [
    { filename: at('engine/walk.ts'), code: "import { a } from './deadline.js'; import { z } from 'zod';", options },
    { filename: at('text/shell.ts'), code: "import { b } from './visible.js'; import { isIPv6 } from 'node:net';", options },
    { filename: at('cli/main.ts'), code: "const r = await import('../probes/registry.js'); import { c } from '../config/targets.js';", options },
    { filename: at('engine/probe.ts'), code: "import type { KnownName } from '../host/names.js';", options },
    { filename: at('report/json.ts'), code: "import { d } from '../probes/postgres/index.js';", options },
    { filename: '/elsewhere/test/x.ts', code: "import { e } from '../repo/src/probes/postgres/index.js';", options },
  ],
  invalid: [
    { filename: at('engine/run.ts'), code: "import { p } from '../probes/postgres/index.js';", options, errors: [{ messageId: 'forbidden' }] },
    { filename: at('engine/run.ts'), code: "const h = await import('../host/proc.js');", options, errors: [{ messageId: 'forbidden' }] },
    { filename: at('engine/run.ts'), code: "export { q } from '../probes/registry.js';", options, errors: [{ messageId: 'forbidden' }] },
    { filename: at('text/url.ts'), code: "import { f } from '../engine/walk.js';", options, errors: [{ messageId: 'forbidden' }] },
    {
      filename: at('cli/wait.ts'),
      code: "import { g } from '../probes/postgres/index.js'; import { h } from '../config/postgres/conninfo.js';",
      options,
      errors: [{ messageId: 'forbidden' }, { messageId: 'forbidden' }],
    },
    // The exception names one import of one file: another host import of that file still fails.
    {
      filename: at('engine/probe.ts'),
      code: "import type { KnownName } from '../host/names.js'; import { x } from '../host/proc.js';",
      options,
      errors: [{ messageId: 'forbidden' }],
    },
    // An exception the file no longer needs is reported, so the to-do list cannot go stale.
    { filename: at('engine/probe.ts'), code: "import { a } from './deadline.js';", options, errors: [{ messageId: 'staleException' }] },
  ],
});

// The arrows eslint.config.js itself keeps, on src/'s own files: an engine's parts (its probe
// folder, its record, its target parser under src/config/<engine>/, whatever its name) are reached
// only through src/engines/registry.ts, and the layers below the probes name no engine.
describe("eslint.config.js's own arrows", () => {
  const ROOT = new URL('../..', import.meta.url).pathname;
  const lint = async (file: string, code: string): Promise<string[]> => {
    const { ESLint } = await import('eslint');
    const [result] = await new ESLint({ cwd: ROOT }).lintText(code, { filePath: `${ROOT}${file}` });
    return (result?.messages ?? []).filter((message) => message.ruleId === 'dbdoctor/boundaries').map((message) => message.message);
  };
  it.each([
    ['src/engine/status.ts', "import type { PostgresTarget } from '../config/postgres/target.js';\nexport type X = PostgresTarget;\n"],
    ['src/engine/status.ts', "import { ENGINE_NAMES } from '../engines/registry.js';\nexport const X = ENGINE_NAMES;\n"],
    ['src/net/dns.ts', "import { postgresProbe } from '../probes/postgres/index.js';\nexport const X = postgresProbe;\n"],
    ['src/host/local.ts', "import { mongodbEngine } from '../engines/mongodb.js';\nexport const X = mongodbEngine;\n"],
    ['src/cli/runbook.ts', "import { resolveCassandraTarget } from '../config/cassandra/target.js';\nexport const X = resolveCassandraTarget;\n"],
    ['src/report/json.ts', "import { ENGINES } from '../engines/registry.js';\nexport const X = ENGINES;\n"],
    ['src/exporter/metrics.ts', "import { postgresProbe } from '../probes/postgres/index.js';\nexport const X = postgresProbe;\n"],
  ])(
    '%s may not: %s',
    async (file, code) => {
      const messages = await lint(file, code);
      if (messages.length !== 1) throw new Error(`expected one boundary error, got ${JSON.stringify(messages)}`);
    },
    60_000,
  );

  it('the CLI may read the registry', async () => {
    const messages = await lint('src/cli/runbook.ts', "import { ENGINE_NAMES } from '../engines/registry.js';\nexport const X = ENGINE_NAMES;\n");
    if (messages.length !== 0) throw new Error(JSON.stringify(messages));
  }, 60_000);
});
