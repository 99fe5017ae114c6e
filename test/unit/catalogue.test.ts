import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { generatedReadme } from '../lab/readme.js';
import { CAUSE_CODES, CAUSES, type CauseCode } from '../../src/engine/causes.js';
import { ENGINE_MODULES } from '../../src/engines/registry.js';
import { ROOT } from '../lab/dbdoctor.js';

/**
 * The catalogue's own test, as ESLint checks every rule: every cause code has a meaning, a
 * remediation beside the step that produces it, a README entry, and a test that produces it.
 */
/** Every registered engine's probe: a new engine's causes are checked with no edit here. */
const PROBES = await Promise.all(ENGINE_MODULES.map((engine) => engine.probe()));
/**
 * Causes not produced by a probe's steps: the engine's own (remediation in engine/walk.ts) and
 * hints from the environment (remediation in config/inventory.ts).
 */
const RUNNER_CAUSES: readonly CauseCode[] = ['deadline_exceeded', 'check_error', 'config_mismatch'];

function testSources(): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      // Lab scenarios are tests too: test/integration/lab.test.ts runs each and checks its expectation.
      else if ((entry.name.endsWith('.test.ts') && entry.name !== 'catalogue.test.ts') || entry.name === 'scenarios.ts')
        files.push(readFileSync(join(dir, entry.name), 'utf8'));
    }
  };
  walk(join(ROOT, 'test'));
  return files.join('\n');
}

describe('the cause catalogue', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const tests = testSources();
  const produced = new Map<CauseCode, string[]>();
  for (const probe of PROBES) {
    for (const step of probe.steps) {
      for (const cause of step.produces) produced.set(cause, [...(produced.get(cause) ?? []), `${probe.engine}/${step.id}`]);
    }
  }

  test.each(CAUSE_CODES)('%s has a title and a meaning', (code) => {
    expect(CAUSES[code].title.length).toBeGreaterThan(3);
    expect(CAUSES[code].meaning.length).toBeGreaterThan(20);
  });

  test.each(CAUSE_CODES.filter((code) => code !== 'healthy'))('%s has a remediation beside a step that produces it', (code) => {
    expect(RUNNER_CAUSES.includes(code) || (produced.get(code)?.length ?? 0) > 0).toBe(true);
  });

  test.each(CAUSE_CODES)('%s is documented in the README', (code) => {
    expect(readme).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
  });

  test.each(CAUSE_CODES)('%s is produced by at least one test', (code) => {
    const asserted = new RegExp(`['"\`](none|process|accepting|network|pool|auth|queries)/${code}['"\`]|cause: '${code}'|warnings: \\[[^\\]]*'${code}'`);
    expect(tests).toMatch(asserted);
  });

  test('the README cause and lab tables are the ones generated from the code (npm run docs)', () => {
    expect(generatedReadme(readme)).toBe(readme);
  });

  test('every step declares only causes the catalogue places at that step', () => {
    for (const probe of PROBES) {
      for (const step of probe.steps) {
        for (const cause of step.produces) {
          const steps = CAUSES[cause].steps;
          expect(steps === 'any' || (Array.isArray(steps) && steps.includes(step.id)), `${probe.engine}/${step.id} produces ${cause}`).toBe(true);
        }
      }
    }
  });
});
