import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { registerVocabulary } from '../../src/cli/vocabulary.js';
import { safeDocument, safeOutput, type CliIO } from '../../src/cli/io.js';
import { buildEnvironment } from '../../src/config/environment.js';
import { secrets } from '../../src/config/secrets.js';
import { resolveTarget } from '../../src/config/targets.js';
import { RunReportSchema } from '../../src/engine/schema.js';
import { jsString } from '../../src/text/js.js';
import { urlPart } from '../../src/text/url.js';
import { unsafeToPaste } from '../lab/commands.js';
import { BIN, dbdoctor } from '../lab/dbdoctor.js';
import { freePort } from '../lab/postgres.js';
import { hostileText } from '../lab/remedy-cases.js';

/**
 * Hostile text in every field a user, an environment or a file can fill — URL parts, libpq keyword
 * strings, PG* variables, a .env file, a config file and its labels, a pasted error for explain —
 * through the real CLI (in this process, with its real writers), against a closed port on loopback.
 * Every run ends in a report or in one clear line and exit 3; in every format nothing written holds
 * a control character that came from the input (test/unit/render-hostile.test.ts checks the
 * renderers without the writers' net); and every command printed is safe to paste. Invalid host
 * names are refused before any network call.
 */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) };
const FORMATS = [['--json'], [], ['--verbose'], ['--format', 'markdown'], ['--format', 'junit'], ['--format', 'nagios'], ['--format', 'prometheus']] as const;
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** No NUL here: a NUL is refused as input (its own test below). */
// eslint-disable-next-line no-control-regex
const value = hostileText.map((text) => text.replace(/\u0000/g, '')).filter((text) => text !== '');

/** The CLI's writers, as the real process has them (documents escaped; prose also has its secrets masked). */
function captureIO(env: Record<string, string>, cwd: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    cwd,
    stdout,
    stderr,
    out: async (text) => void stdout.push(safeDocument(text)),
    err: async (text) => void stderr.push(safeOutput(text)),
  };
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(args: readonly string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'dbdoctor-hostile-'))): Promise<Outcome> {
  secrets.forget();
  registerVocabulary();
  const io = captureIO({ HOME: cwd, NO_COLOR: '1', ...env }, cwd);
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const code = await main(['node', 'dbdoctor', ...args], io);
    return { code, stdout: io.stdout.join(''), stderr: io.stderr.join('') };
  } finally {
    process.chdir(previous);
  }
}

/** A report or one clear line; nothing from the input acts on the terminal; printed commands are safe to paste. */
async function expectSafe(outcome: Outcome, format: readonly string[]): Promise<void> {
  const context = `${format.join(' ') || 'human'}: exit ${outcome.code}\n${outcome.stdout.slice(0, 2000)}\n${outcome.stderr}`;
  expect([0, 1, 2, 3], context).toContain(outcome.code);
  for (const text of [outcome.stdout, outcome.stderr]) expect(RAW.exec(text.replace(/[\n\t]/g, ''))?.[0], context).toBeUndefined();
  if (outcome.code === 3) {
    expect(outcome.stderr, context).toMatch(/^dbdoctor: \S/);
    expect(outcome.stderr.trimEnd().split('\n').length, context).toBeLessThanOrEqual(2);
    return;
  }
  if (format[0] === '--json') {
    const report = RunReportSchema.parse(JSON.parse(outcome.stdout));
    const commands = report.targets
      .flatMap((target) => [
        ...target.verdict.remediation,
        ...target.steps.flatMap((step) => [...step.remediation, ...(step.also ?? []).flatMap((also) => also.remediation)]),
      ])
      .flatMap((fix) => (fix.command ? [fix.command] : []));
    expect(await unsafeToPaste(commands), context).toEqual([]);
  }
}

const format = fc.constantFrom(...FORMATS);
const libpq = (text: string): string => `'${text.replace(/[\\']/g, '\\$&')}'`;

describe('hostile input, through the CLI', () => {
  test('URL parts (user, database, application_name), percent-encoded or not', async () => {
    const port = await freePort();
    await fc.assert(
      fc.asyncProperty(value, value, value, fc.boolean(), format, async (user, database, appName, encode, chosen) => {
        const part = encode ? urlPart : (text: string) => text;
        const url = `postgresql://${part(user)}@127.0.0.1:${port}/${part(database)}?application_name=${part(appName)}&sslmode=disable`;
        await expectSafe(await run(['diagnose', '--no-env-file', '--timeout', '3', ...chosen, url]), chosen);
      }),
      RUNS,
    );
  }, 300_000);

  test('libpq keyword strings and PG* variables, a socket directory among them', async () => {
    const port = await freePort();
    await fc.assert(
      fc.asyncProperty(value, value, value, fc.boolean(), format, async (user, database, socketName, viaEnv, chosen) => {
        const socketDir = `/tmp/dbdoctor-nowhere/${socketName.replace(/[/,]/g, '_').slice(0, 40)}`;
        const outcome = viaEnv
          ? await run(['diagnose', '--no-env-file', '--timeout', '3', ...chosen], {
              PGHOST: socketDir,
              PGPORT: String(port),
              PGUSER: user,
              PGDATABASE: database,
              PGAPPNAME: user,
            })
          : await run([
              'diagnose',
              '--no-env-file',
              '--timeout',
              '3',
              ...chosen,
              `host=${libpq(socketDir)} port=${port} user=${libpq(user)} dbname=${libpq(database)} application_name=${libpq(database)}`,
            ]);
        await expectSafe(outcome, chosen);
      }),
      RUNS,
    );
  }, 300_000);

  test('a .env file and a config file with hostile labels and values', async () => {
    const port = await freePort();
    await fc.assert(
      fc.asyncProperty(value, value, value, format, async (label, user, database, chosen) => {
        const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-hostile-files-'));
        writeFileSync(
          join(dir, '.env'),
          `ORDERS_DATABASE_URL=${jsString(`postgresql://${urlPart(user)}@127.0.0.1:${port}/${urlPart(database)}`)}\nPGUSER=${jsString(user)}\n`,
        );
        writeFileSync(
          join(dir, 'fleet.json'),
          JSON.stringify({
            targets: [
              { label, url: `postgresql://${urlPart(user)}@127.0.0.1:${port}/${urlPart(database)}` },
              { label: `${label}-env`, urlFrom: 'ORDERS_DATABASE_URL' },
            ],
          }),
        );
        await expectSafe(await run(['diagnose', '--timeout', '3', '--config', join(dir, 'fleet.json'), ...chosen], {}, dir), chosen);
        await expectSafe(await run(['diagnose', '--timeout', '3', ...chosen], {}, dir), chosen);
      }),
      { numRuns: Math.ceil(RUNS.numRuns / 2) },
    );
  }, 300_000);

  test('MongoDB and Cassandra URLs: user, database, replica set, keyspace and data centre', async () => {
    const port = await freePort();
    await fc.assert(
      fc.asyncProperty(value, value, value, format, async (user, database, name, chosen) => {
        await expectSafe(
          await run([
            'diagnose',
            '--no-env-file',
            '--timeout',
            '3',
            ...chosen,
            `mongodb://${urlPart(user)}@127.0.0.1:${port}/${urlPart(database)}?replicaSet=${urlPart(name)}&appName=${urlPart(name)}`,
          ]),
          chosen,
        );
        await expectSafe(
          await run([
            'diagnose',
            '--no-env-file',
            '--timeout',
            '3',
            ...chosen,
            `cassandra://${urlPart(user)}@127.0.0.1:${port}/${urlPart(database)}?dc=${urlPart(name)}`,
          ]),
          chosen,
        );
      }),
      { numRuns: Math.ceil(RUNS.numRuns / 2) },
    );
  }, 300_000);

  test("a password that is JSON syntax or a piece of a command's quoting (.env): the JSON parses, its literals stay, every command is safe", async () => {
    const port = await freePort();
    for (const [user, password] of [
      ['app', 'false,'],
      ['app', 'null,'],
      ['app', '"inContainer": '],
      ["ab'; touch PWN #", '"ab\''],
      ["a .'$(touch PWN)", "''\\''"],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-secret-syntax-'));
      writeFileSync(
        join(dir, '.env'),
        `DATABASE_URL=${jsString(`postgresql://${urlPart(user)}:${urlPart(password)}@127.0.0.1:${port}/app`)}\nCASSANDRA_CONTACT_POINTS=127.0.0.1:${port}\nCASSANDRA_USERNAME=${jsString(user)}\nCASSANDRA_PASSWORD=${jsString(password)}\n`,
      );
      for (const chosen of FORMATS) {
        const outcome = await run(['diagnose', '--timeout', '3', ...chosen], {}, dir);
        await expectSafe(outcome, chosen);
        if (chosen[0] === '--json') expect(RunReportSchema.parse(JSON.parse(outcome.stdout)).environment?.inContainer, outcome.stdout).toBeTypeOf('boolean');
      }
    }
  }, 120_000);

  test('a pasted error for explain, hostile in every word it is read for', async () => {
    await fc.assert(
      fc.asyncProperty(value, value, value, fc.constantFrom([], ['--verbose']), async (host, user, noise, flags) => {
        const pasted = `${noise}\nFATAL:  password authentication failed for user "${user}"\nconnection to server at "${host}", port 5432 failed: ${noise}\npsql: error: could not translate host name "${host}" to address: Name or service not known\n${noise}`;
        const outcome = await run(['explain', ...flags, pasted]);
        expect([1, 2, 3, 4]).toContain(outcome.code);
        for (const text of [outcome.stdout, outcome.stderr]) expect(RAW.exec(text.replace(/[\n\t]/g, ''))?.[0], text).toBeUndefined();
        const json = await run(['explain', '--json', pasted]);
        if (json.code !== 3) {
          const report = JSON.parse(json.stdout) as { remediation: { command?: string }[]; confirm: string | null };
          expect(
            await unsafeToPaste([...report.remediation.flatMap((fix) => (fix.command ? [fix.command] : [])), ...(report.confirm ? [report.confirm] : [])]),
          ).toEqual([]);
        }
      }),
      RUNS,
    );
  }, 300_000);
});

describe('invalid names are bad input, said before any network call', () => {
  test.each([
    ["host='db$(touch /tmp/x);x' dbname=app", 'invalid host "db$(touch /tmp/x);x"'],
    ['postgresql://app@db%20name:5432/app', 'invalid host "db name"'],
    ['postgresql://app@-oProxyCommand=x:5432/app', 'starts with "-"'],
    ['postgresql://app@db..example:5432/app', 'empty label'],
    ['postgresql://app@[fe80::1%25$(x)]:5432/app', 'not a valid IPv6'],
    ['postgresql://app@db:99999/app', 'invalid port "99999"'],
    ['postgresql://app%00x@db:5432/app', 'NUL byte'],
    ['postgresql://app@db:5432/a%00b', 'NUL byte'],
    ["host=/tmp dbname='a\\0'", undefined],
    ['mongodb://app@db$(x):27017/app', 'invalid host'],
    ['mongodb://app@db:27017/a%00b', 'NUL byte'],
    ['cassandra://app@db%1B%5B2J:9042/ks', 'invalid host'],
    ['cassandra://app%00@db:9042/ks', 'NUL byte'],
  ])('%s', async (target, says) => {
    const outcome = await run(['diagnose', '--no-env-file', '--timeout', '2', target]);
    if (says === undefined) return expectSafe(outcome, []);
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(says);
    expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(2);
    expect(RAW.test(outcome.stderr.replace(/\n/g, ''))).toBe(false);
    expect(outcome.stdout).toBe('');
  });

  test.each([
    ['a host name with an underscore (docker compose service names)', 'postgresql://app@db_primary.invalid:5432/app'],
    ['a name in another script (getaddrinfo passes it on; /etc/hosts may list it)', 'postgresql://app@数据库.invalid:5432/app'],
    ['a trailing dot', 'postgresql://app@db.invalid.:5432/app'],
    ['an IPv6 address with a zone id', 'postgresql://app@[fe80::1%25eth0]:5432/app'],
    ['a socket directory with spaces and shell in it', "host='/tmp/no such $(dir)' port=5432 dbname=app"],
    ['several hosts', 'postgresql://app@db1.invalid:5432,db2.invalid:5433/app'],
    ['a MongoDB seed list', 'mongodb://db1.invalid:27017,db_2.invalid:27018/app'],
    ['Cassandra contact points', 'cassandra://db1.invalid:9042,[::1]:1/ks'],
  ])('accepted: %s', async (_what, target) => {
    // Parsed only: diagnosing these names would ask a resolver beyond this machine.
    secrets.forget();
    const resolved = await resolveTarget(target, buildEnvironment({ HOME: mkdtempSync(join(tmpdir(), 'dbdoctor-accepted-')) }));
    expect(['postgres', 'mongodb', 'cassandra']).toContain(resolved.engine);
  });

  test('--env-file reaches dbdoctor on Node 20, run as installed (its shebang): a missing file is one line of its own, escapes shown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-env-file-'));
    const env = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: dir, NO_COLOR: '1' };
    const missing = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(BIN, ['diagnose', '--env-file', join(dir, 'no\u001b]0;T\u0007such')], { cwd: dir, env }, (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
      );
    });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^dbdoctor: cannot read env file .*no\\x1b\]0;T\\x07such/);
    expect(RAW.test(missing.stderr.replace(/\n/g, ''))).toBe(false);
    writeFileSync(join(dir, 'db.env'), 'DATABASE_URL=postgresql://app@db.invalid:5432/app\n');
    const read = await new Promise<{ stdout: string }>((resolve) => {
      execFile(BIN, ['diagnose', '--json', '--timeout', '3', '--env-file=db.env'], { cwd: dir, env }, (_error, stdout) => resolve({ stdout }));
    });
    expect(RunReportSchema.parse(JSON.parse(read.stdout)).targets[0]?.source.host).toMatch(/db\.env/);
  });

  test('the issue’s example, through the real process: refused in one line, no lookup, no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-issue-'));
    const result = await dbdoctor(['diagnose', "host='db$(touch /tmp/x);x' dbname=app"], { cwd: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^dbdoctor: invalid host "db\$\(touch \/tmp\/x\);x" \(from connection string\): it holds "\$", which no host name has\n {2}a host is /,
    );
    expect(result.stdout).toBe('');
  });
});
