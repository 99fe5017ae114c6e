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
