import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { render, FORMATS } from '../../src/cli/render.js';
import { safeDocument, safeOutput, type CliIO } from '../../src/cli/io.js';
import { registerVocabulary } from '../../src/cli/vocabulary.js';
import { resolveCassandraTarget } from '../../src/config/cassandra/target.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { COMMAND_LEFT_OUT, MASK, secrets } from '../../src/config/secrets.js';
import { RunReportSchema, type Remediation, type RunReport } from '../../src/engine/schema.js';
import { ExplainReportSchema } from '../../src/explain/schema.js';
import { authRemedies as cqlAuth } from '../../src/probes/cassandra/steps/auth.js';
import { cases, hostileText, PLAIN, type Case, type Values } from '../lab/remedy-cases.js';

/**
 * Secrets are masked in a document's values, never in its serialized text, and never in a command
 * (src/config/secrets.ts). The attacker here picks both the secret and where it sits: secrets cut
 * out of the very commands and JSON that will be printed ("''\''" inside a quoted word, "false,"
 * after a JSON key), and the values the commands are built from. Whatever they pick:
 *  - every command comes out exactly as it was built (so its argv is the same), or is left out
 *    with its reason, and none shows a secret;
 *  - the JSON parses, validates, and says what the report says but for masked string values;
 *  - every format shows each command that is kept, verbatim.
 */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 25) };
const SANDBOX = mkdtempSync(join(tmpdir(), 'dbdoctor-redaction-'));

/** Secrets an attacker would choose: JSON and shell syntax, dbdoctor's own words, quotes. */
const SYNTAX_SECRETS = [
  'false,',
  'null,',
  'true}',
  '"inContainer": ',
  "''\\''",
  "'\\''",
  '\\"ab\'',
  '"ab\'',
  '"; touch X #',
  '", "',
  '": {',
  '},\n',
  'PASSWORD =',
  "'new-password';",
  ' -U ',
  '&apos;',
];

/** Values with shell, SQL and terminal syntax in every slot (as the remedy property's first example). */
const HOSTILE: Values = {
  user: 'x\'y"z$(touch SENTINEL)',
  database: '`touch SENTINEL`;|&',
  host: 'db.example.com',
  socketDir: '/tmp/a b$(touch SENTINEL)\'"',
  passfileName: "p'q$(touch SENTINEL)",
  adminUser: '$(touch SENTINEL)',
  said: ['\u001b]52;c;aGk=\u0007', '\u202eevil', "a'\\'b", "'); DROP ROLE x; --"],
};

function reportOf(all: readonly Case[], said: string): RunReport {
  const remediation = all.flatMap((entry) => entry.fixes);
  return {
    schemaVersion: 1,
    tool: { name: 'dbdoctor', version: '0.1.0' },
    status: 'unhealthy',
    durationMs: 12,
    environment: {
      platform: 'kubernetes',
      chosen: 'detected',
      inContainer: true,
      kubernetesNamespace: said,
      signals: [said],
      configuration: [{ name: 'DATABASE_URL', value: said, source: 'env' }],
    },
    targets: [
      {
        target: 'postgresql://app@db:5432/app',
        engine: 'postgres',
        source: { host: 'url' },
        status: 'unhealthy',
        verdict: {
          step: 'auth',
          cause: 'auth_failed',
          message: said,
          details: { serverMessage: said, count: 3, ok: false, none: null, list: [said, 1, true] },
          remediation,
        },
        warnings: [],
        steps: [
          {
            id: 'auth',
            status: 'fail',
            cause: 'auth_failed',
            summary: said,
            evidence: { serverMessage: said, port: 5432 },
            remediation: remediation.slice(0, 5),
            durationMs: 1,
          },
        ],
        durationMs: 10,
      },
    ],
  };
}

/** Every remedy list of a document, in order (the redacted one has the same lists, the same lengths). */
function remedyLists(report: RunReport): Remediation[][] {
  return report.targets.flatMap((target) => [target.verdict.remediation, ...target.steps.map((step) => step.remediation)]);
}

/** The same document, with every string replaced by a marker: what masking may change, and nothing else. */
function shape(value: unknown): unknown {
  if (typeof value === 'string') return 'S';
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object')
    return Object.entries(value)
      .filter(([key]) => key !== 'command' && key !== 'language')
      .map(([, entry]) => shape(entry));
  return value;
}

/** Attacker-chosen secrets: slices of the commands and of the JSON about to be printed, and syntax. */
function secretsFrom(report: RunReport): fc.Arbitrary<string[]> {
  const commands = remedyLists(report)
    .flat()
    .flatMap((fix) => (fix.command ? [fix.command] : []));
  const json = JSON.stringify(report, null, 2);
  const slice = (texts: readonly string[]): fc.Arbitrary<string> =>
    fc.tuple(fc.nat({ max: Math.max(0, texts.length - 1) }), fc.nat(), fc.integer({ min: 4, max: 12 })).map(([which, start, length]) => {
      const text = texts[which] ?? '';
      const from = text.length === 0 ? 0 : start % text.length;
      return text.slice(from, from + length);
    });
  return fc.array(fc.oneof(slice(commands.length > 0 ? commands : ['none']), slice([json]), fc.constantFrom(...SYNTAX_SECRETS), hostileText), {
    minLength: 1,
    maxLength: 8,
  });
}

function freshProcess(): void {
  secrets.forget();
  registerVocabulary();
}

describe('secrets are masked in values, never in commands or JSON syntax', () => {
  test('attacker-chosen secrets never change a command, never break the JSON, and no command shows one', async () => {
    const built = [...(await cases(PLAIN, SANDBOX)), ...(await cases(HOSTILE, SANDBOX))];
    const arbitrary = fc.tuple(fc.subarray(built, { minLength: 1, maxLength: 30 }), hostileText).chain(([chosen, said]) => {
      const report = reportOf(chosen, said);
      return fc.tuple(fc.constant(report), secretsFrom(report));
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([report, chosenSecrets]) => {
        freshProcess();
        for (const secret of chosenSecrets) secrets.add(secret);
        const redacted = secrets.redactDocument(report);
        // Commands: as built, or left out with the reason; none shows a secret.
        const before = remedyLists(report);
        const after = remedyLists(redacted);
        expect(after.map((list) => list.length)).toEqual(before.map((list) => list.length));
        before.forEach((list, listIndex) =>
          list.forEach((fix, index) => {
            const kept = after[listIndex]?.[index];
            if (fix.command === undefined) return expect(kept?.command).toBeUndefined();
            if (kept?.command !== undefined) {
              expect(kept.command).toBe(fix.command);
              expect(kept.language).toBe(fix.language);
              expect(secrets.commandShowsSecret(kept.command)).toBe(false);
            } else {
              expect(secrets.commandShowsSecret(fix.command), fix.command).toBe(true);
              expect(kept?.text.endsWith(COMMAND_LEFT_OUT)).toBe(true);
            }
          }),
        );
        // JSON, as the CLI writes it: valid, the schema's, the redacted document exactly; only strings differ from the report.
        const written = safeDocument(await render(report, { format: 'json', verbose: false, color: false }));
        const parsed: unknown = JSON.parse(written);
        expect(RunReportSchema.parse(parsed)).toEqual(JSON.parse(JSON.stringify(redacted)));
        // The report as any writer sees it: a key whose value is undefined is no part of a document.
        expect(shape(parsed)).toEqual(shape(JSON.parse(JSON.stringify(report))));
        // Every other format shows each kept command verbatim.
        const kept = after.flat().flatMap((fix) => (fix.command ? [fix.command] : []));
        for (const format of ['human', 'markdown'] as const) {
          // Wide enough that no command is wrapped (wrapping is the human renderer's own concern, tested with the goldens).
          const text = safeDocument(await render(report, { format, verbose: true, color: false, width: 100_000 }));
          for (const command of kept) for (const line of command.split('\n')) expect(text, `${format}: ${line}`).toContain(line);
        }
        for (const format of FORMATS) await render(report, { format, verbose: true, color: false });
      }),
      RUNS,
    );
  }, 120_000);

  test('a password "false," or "null," leaves JSON literals alone; a secret string value is masked', async () => {
    freshProcess();
    const report = reportOf([], 'the server said: false, null, hunter2-secret');
    for (const secret of ['false,', 'null,', 'hunter2-secret', '"inContainer": true']) secrets.add(secret);
    const parsed = RunReportSchema.parse(JSON.parse(safeDocument(await render(report, { format: 'json', verbose: false, color: false }))));
    expect(parsed.environment?.inContainer).toBe(true);
    expect(parsed.targets[0]?.verdict.details).toMatchObject({ ok: false, none: null, count: 3 });
    // In text, a secret is masked wherever it stands, whatever it looks like.
    expect(parsed.targets[0]?.verdict.message).toBe(`the server said: ${MASK} ${MASK} ${MASK}`);
  });

  test("dbdoctor's own CQL is never pattern-masked: ALTER ROLE … WITH PASSWORD = 'new-password'; stays whole, in every format", async () => {
    freshProcess();
    const target = resolveCassandraTarget({ text: 'cassandra://app@db.example:9042/shop', source: 'url' }, buildEnvironment({}));
    const fixes = cqlAuth.auth_failed(target);
    const command = fixes.find((fix) => fix.command?.includes('ALTER ROLE'))?.command ?? '';
    expect(command).toContain("WITH PASSWORD = 'new-password';");
    const report = reportOf([{ engine: 'cassandra', cause: 'auth_failed', fixes }], 'x');
    expect(safeDocument(await render(report, { format: 'human', verbose: false, color: false, width: 100_000 }))).toContain(command);
    const junit = safeDocument(await render(report, { format: 'junit', verbose: false, color: false }));
    expect(junit).toContain("WITH PASSWORD = 'new-password';</failure>");
  });

  test('a .env user holding shell syntax and a password that is a piece of its quoting: the cqlsh command is kept whole or left out', async () => {
    freshProcess();
    const env = buildEnvironment({ CASSANDRA_CONTACT_POINTS: '127.0.0.1:9042', CASSANDRA_USERNAME: "ab'; touch /tmp/PWN #", CASSANDRA_PASSWORD: '"ab\'' });
    const target = resolveCassandraTarget(undefined, env);
    const fixes = cqlAuth.auth_failed(target);
    const report = secrets.redactDocument(reportOf([{ engine: 'cassandra', cause: 'auth_failed', fixes }], 'x'));
    for (const fix of report.targets[0]?.verdict.remediation ?? []) {
      if (fix.command === undefined) continue;
      expect(fixes.map((original) => original.command)).toContain(fix.command);
      expect(fix.command).not.toContain(MASK);
    }
  });
});

/** The CLI's writers, as the real process has them. */
function captureIO(cwd: string, columns?: number): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env: { HOME: cwd, NO_COLOR: '1', ...(columns ? { COLUMNS: String(columns) } : {}) },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    cwd,
    stdout,
    stderr,
    out: async (text) => void stdout.push(safeDocument(text)),
    err: async (text) => void stderr.push(safeOutput(text)),
  };
}

async function explain(paste: string, format: 'json' | 'human'): Promise<{ code: number; stdout: string }> {
  freshProcess();
  // Wide enough that no command is wrapped: wrapping is the renderer's own concern (the goldens).
  const io = captureIO(SANDBOX, format === 'human' ? 100_000 : undefined);
  const code = await main(['node', 'dbdoctor', 'explain', ...(format === 'json' ? ['--json'] : []), paste], io);
  return { code, stdout: io.stdout.join('') };
}

function commandsOf(report: { remediation: readonly Remediation[]; confirm: string | null }): string[] {
  return [...report.remediation.flatMap((fix) => (fix.command ? [fix.command] : [])), ...(report.confirm ? [report.confirm] : [])];
}

describe('explain: a paste that carries a password and a hostile name', () => {
  const user = hostileText.filter((text) => !/["\n\r]/.test(text) && text.trim() === text && text.length < 200);
  const password = fc.oneof(
    hostileText.filter((text) => !/[\s@]/.test(text) && text.length >= 4 && text.length < 60),
    fc.constantFrom("''\\''", "'\\''", 'false,', 'null,', '"ab\''),
  );

  test('the commands are the ones built without the password, or left out; the JSON parses; none shows the password', async () => {
    await fc.assert(
      fc.asyncProperty(user, password, async (name, secret) => {
        const failure = `psycopg2.OperationalError: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password authentication failed for user "${name}"`;
        const withSecret = `worker started, cache at redis://x:${secret}@cache:6379/0\n${failure}`;
        const plain = await explain(failure, 'json');
        const attacked = await explain(withSecret, 'json');
        expect(attacked.code).toBe(plain.code);
        const plainReport = ExplainReportSchema.parse(JSON.parse(plain.stdout));
        freshProcess();
        const attackedReport = ExplainReportSchema.parse(JSON.parse(attacked.stdout));
        secrets.add(secret);
        registerVocabulary();
        for (const command of commandsOf(attackedReport)) expect(secrets.commandShowsSecret(command), command).toBe(false);
        // The user named in the text holds no secret: every command is the one built without it, or left out.
        if (plainReport.fields.user === attackedReport.fields.user) {
          const plainCommands = commandsOf(plainReport);
          for (const command of commandsOf(attackedReport)) expect(plainCommands).toContain(command);
          attackedReport.remediation.forEach((fix, index) => {
            if (fix.command === undefined && plainReport.remediation[index]?.command !== undefined) expect(fix.text.endsWith(COMMAND_LEFT_OUT)).toBe(true);
          });
        }
        const human = (await explain(withSecret, 'human')).stdout;
        for (const command of commandsOf(attackedReport)) expect(human).toContain(command);
      }),
      {
        ...RUNS,
        examples: [[`a .'$(touch /tmp/t20/EXPL)`, "''\\''"]],
      },
    );
  }, 120_000);
});
