import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/config/errors.js';
import { secrets } from '../../src/config/secrets.js';
import { isHostName } from '../../src/net/hostname.js';
import { kubernetesName } from '../../src/probes/common/platform.js';
import { ENGINE_MODULES } from '../../src/engines/registry.js';
import { dbnameOperand, hbaToken, pgpassField } from '../../src/probes/postgres/commands.js';
import { pgbouncerName, pgbouncerValue } from '../../src/probes/postgres/pooler/commands.js';
import { jsString, yamlString } from '../../src/text/js.js';
import { shellWord } from '../../src/text/shell.js';
import { cqlIdent, cqlLiteral, pgIdent, pgLiteral } from '../../src/text/sql.js';
import { urlHost, urlPart, urlQueryValue } from '../../src/text/url.js';
import { hasInvisible } from '../../src/text/visible.js';
import { cases, hostileValues, pairs, PLAIN, type Case, type Values } from '../lab/remedy-cases.js';
import {
  fillPlaceholders,
  kindOf,
  pastable,
  pasteIntoShells,
  SAFE_URL,
  sameUpToValues,
  SHELLS,
  type Encoder,
  type Invocation,
  type PastedRun,
  type Shell,
} from '../lab/commands.js';

/**
 * Every remedy that prints a command, built twice: once with plain placeholder values, once with
 * hostile ones — $(…), backticks, ; | &, line breaks, quotes of every kind, %-encodings, ESC/OSC/CSI
 * sequences, bidi overrides, very long strings — in every value it takes (user, database, socket
 * directory, password-file path, names a server sent, names from the environment). Then:
 *
 *  - every shell command is pasted into bash, zsh, fish and dash (test/lab/commands.ts: every
 *    program a stub that records its argv): no syntax error, no program it should not run (an
 *    injected `touch`), no file created, and in each shell exactly the programs and arguments of
 *    the plain command, each value in its place, written in the language of where it sits (SQL
 *    after psql -c, JavaScript after mongosh --eval, a URL part in a URL, a plain word elsewhere);
 *    a script handed to `sh -c` (a loop) is pasted again, into dash and bash, and compared the same;
 *  - the plain commands do the same thing in all four shells;
 *  - only commands are labelled "shell"; a file's line, a snippet, a URL carries no language;
 *  - every SQL or CQL statement is the plain one with identifiers and literals in their place;
 *  - snippets (YAML, pg_hba.conf, pgbouncer.ini lines) parse, with the values in their place;
 *  - no command holds a control or invisible character: each prints on its own visible lines.
 *
 * The catalogue check at the end makes sure every cause a step can produce is built here.
 */
/**
 * Each run builds every remedy and pastes a few hundred commands: about a second. A failure is
 * shrunk, and shrinking reruns the property many times; the time limit stops the whole check
 * (shrinking included: the failure found so far is reported, with its seed and path to resume) so
 * that it never takes minutes. FC_SEED and FC_PATH replay a reported failure.
 */
const TIME_LIMIT_MS = Number(process.env.PROPERTY_TIME_LIMIT_MS ?? 90_000);
const RUNS = {
  numRuns: Number(process.env.PROPERTY_RUNS ?? 20),
  plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)],
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) } : {}),
};
const SANDBOX = mkdtempSync(join(tmpdir(), 'dbdoctor-remedies-'));
/** The shells that run a `sh -c` script: dash is Debian's sh, bash is others'. */
const SCRIPT_SHELLS: readonly Shell[] = ['dash', 'bash'];

// ---------------------------------------------------------------- what a command may differ in

const identity: Encoder = (value) => value;
const inner =
  (encode: Encoder): Encoder =>
  (value) =>
    encode(value)?.slice(1, -1);
const formEncoded: Encoder = (value) => new URLSearchParams({ v: value }).toString().slice(2);
/** Where a value lands in a URL: a part, a host, a query value (ours, or the MongoDB driver's form encoding). */
const URL_ENCODERS: Encoder[] = [
  urlPart,
  urlHost,
  (value) => urlHost(value.toLowerCase()),
  urlQueryValue,
  formEncoded,
  (value) => (value.includes(':') ? `[${value}]` : undefined),
];
/** Anywhere in a shell command's argument or a snippet: the value itself, or as a URL, YAML, config-file or shell word. */
const ANY: Encoder[] = [
  identity,
  shellWord,
  jsString,
  inner(jsString),
  yamlString,
  kubernetesName,
  (value) => pgpassField(value),
  (value) => hbaToken(value),
  (value) => pgbouncerName(value, 'ini'),
  (value) => pgbouncerValue(value),
  (value) => inner(jsString)(shellWord(value)),
  ...URL_ENCODERS,
  // psql -d: a name libpq would expand as a connection string is given as dbname='…'.
  dbnameOperand,
];
const SQL: Encoder[] = [pgLiteral, pgIdent, (value) => pgbouncerName(value)];
const CQL: Encoder[] = [cqlLiteral, cqlIdent];
const JS: Encoder[] = [jsString];

/** The languages an argument of a pasted command is in, from the program and the flag before it. */
function encodersFor(program: string, args: readonly string[], index: number): Encoder[] {
  const flag = args[index - 1];
  if (program === 'psql' && flag === '-c') return SQL;
  if (program === 'cqlsh' && flag === '-e') return CQL;
  if (program === 'mongosh' && flag === '--eval') return JS;
  return ANY;
}

/** One argument of a call, from plain to hostile, is the same up to the values in their places. */
function expectSameCalls(plain: PastedRun, hostile: PastedRun, valuePairs: [string, string][], context: string): void {
  // The same text is the same command: its calls may differ only by what the machine holds at that
  // moment (a glob such as /var/log/postgresql/*.log, while other tests make and remove clusters).
  if (plain.command === hostile.command) return;
  // The stages of a pipeline run at once: calls are compared program by program, in order within each.
  const byProgram = (calls: readonly Invocation[]): Invocation[] => [...calls].sort((a, b) => a.program.localeCompare(b.program));
  const plainCalls = byProgram(plain.invocations);
  const hostileCalls = byProgram(hostile.invocations);
  expect(
    hostileCalls.map((call) => call.program),
    context,
  ).toEqual(plainCalls.map((call) => call.program));
  hostileCalls.forEach((call, index) => {
    const plainCall = plainCalls[index];
    expect(call.args.length, context).toBe(plainCall?.args.length);
    call.args.forEach((arg, position) => {
      const plainArg = plainCall?.args[position] ?? '';
      if (arg !== plainArg)
        expect(
          sameUpToValues(plainArg, arg, valuePairs, encodersFor(call.program, call.args, position)),
          `${context}\n  argument ${position} of ${call.program}: ${JSON.stringify(plainArg)} → ${JSON.stringify(arg)}`,
        ).toBe(true);
    });
  });
}

function expectSamePasted(plain: PastedRun, hostile: PastedRun, valuePairs: [string, string][], where: string): void {
  const context = `${where} (${hostile.shell})\n  plain:   ${plain.command}\n  hostile: ${hostile.command}\n  stderr:  ${hostile.stderr}`;
  expect(hostile.syntaxError, context).toBe(false);
  expect(hostile.notFound, context).toEqual([]);
  expect(hostile.createdFiles, context).toEqual([]);
  // Nothing the plain command does not say: no error from the shell (a glob, a parse error).
  if (plain.stderr === '') expect(hostile.stderr, context).toBe('');
  expectSameCalls(plain, hostile, valuePairs, context);
}

/**
 * The scripts a command hands to `sh -c` (a loop), which sh then reads as shell code of its own:
 * directly, or through a bounded wait (`timeout N sh -c SCRIPT`).
 */
function scriptsOf(run: PastedRun): string[] {
  return run.invocations.flatMap((call) => {
    const args = call.program === 'timeout' && call.args[1] === 'sh' ? call.args.slice(2) : call.program === 'sh' ? call.args : [];
    return args[0] === '-c' && args[1] !== undefined ? [args[1]] : [];
  });
}

/**
 * Why a command was left out, from its text: only a value that cannot be written there (a line
 * break in a pg_hba.conf line; a control character, which no quoting writes the same way in every
 * shell) or a command too long to print whole may drop it.
 */
function leftOutFairly(text: string, values: Values): boolean {
  const why = /\(the command is left out: (.*)\)$/.exec(text)?.[1];
  if (why?.startsWith('at ')) return true;
  return valuesOf(values).some((value) => hasInvisible(value)) || values.said.some((value) => !isHostName(value));
}

function valuesOf(values: Values): string[] {
  return [values.user, values.database, values.host, values.socketDir, values.passfileName, values.adminUser, ...values.said];
}

interface PlainRemedies {
  readonly cases: Case[];
  /** Each plain command as pasted, in every shell. */
  readonly pasted: Map<string, Map<Shell, PastedRun>>;
}

/** The plain commands, built and pasted once: they are the same in every run. */
let plainBuilt: Promise<PlainRemedies> | undefined;
function plainRemedies(): Promise<PlainRemedies> {
  plainBuilt ??= (async () => {
    const built = await cases(PLAIN, SANDBOX);
    const commands = [
      ...new Set(
        built
          .flatMap((entry) => entry.fixes.flatMap((fix) => (fix.command && fix.language !== 'sql' ? [pastable(fix.command)] : [])))
          .filter((command): command is string => command !== undefined),
      ),
    ];
    const runs = await pasteIntoShells(commands.map(fillPlaceholders));
    return {
      cases: built,
      pasted: new Map(commands.map((command, index) => [command, new Map(SHELLS.map((shell) => [shell, runs.get(shell)?.[index] as PastedRun]))])),
    };
  })();
  return plainBuilt;
}

/** Pasted commands write where they say (printf … >> the password file): each run starts from an empty sandbox. */
function emptySandbox(): void {
  for (const entry of readdirSync(SANDBOX)) rmSync(join(SANDBOX, entry), { recursive: true, force: true });
}

async function checkRemedies(values: Values): Promise<void> {
  emptySandbox();
  const [plain, hostileCases] = await Promise.all([plainRemedies(), cases(values, SANDBOX)]);
  const plainCases = plain.cases;
  expect(hostileCases.length).toBe(plainCases.length);
  const valuePairs = pairs(values);
  const pasted: { plain: string; hostile: string; where: string }[] = [];
  const urls: { statement: string; hostile: string; encoders: Encoder[]; where: string }[] = [];
  plainCases.forEach((plainCase, caseIndex) => {
    const hostileCase = hostileCases[caseIndex];
    const where = `${plainCase.engine}/${plainCase.cause}`;
    expect(hostileCase?.fixes.length, where).toBe(plainCase.fixes.length);
    plainCase.fixes.forEach((plainFix, fixIndex) => {
      const fix = hostileCase?.fixes[fixIndex];
      if (!plainFix.command) return;
      if (!fix?.command) {
        expect(leftOutFairly(fix?.text ?? '', values), `${where}: the command "${plainFix.command}" was left out: ${fix?.text ?? ''}`).toBe(true);
        return;
      }
      for (const line of fix.command.split('\n')) expect(hasInvisible(line), `${where}: ${JSON.stringify(fix.command)}`).toBe(false);
      // Only commands are labelled shell; a file's line, a snippet or a URL carries no language (it is not run).
      expect(fix.language, `${where}: ${fix.command}`).toBe(plainFix.language);
      if (plainFix.language === 'shell') expect(kindOf(plainFix.command), `${where}: ${plainFix.command}`).toBe('shell');
      if (plainFix.language === undefined) expect(kindOf(plainFix.command), `${where}: ${plainFix.command}`).not.toBe('shell');
      const language = plainFix.language === 'sql' ? (plainCase.engine === 'cassandra' ? CQL : SQL) : undefined;
      if (language && fix.language === 'sql') {
        expect(sameUpToValues(plainFix.command, fix.command, valuePairs, language), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
        return;
      }
      switch (kindOf(plainFix.command)) {
        case 'shell':
          pasted.push({ plain: plainFix.command, hostile: fix.command, where });
          break;
        case 'url':
          // A URL line: as it is when made of URL characters only, else one quoted word (pasted as the argument of echo).
          if (SAFE_URL.test(fix.command))
            expect(sameUpToValues(plainFix.command, fix.command, valuePairs, ANY), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
          else urls.push({ statement: plainFix.command, hostile: `echo ${fix.command}`, encoders: ANY, where });
          break;
        case 'yaml':
          expect(() => parseYaml(fix.command ?? ''), `${where}: ${fix.command}`).not.toThrow();
          expect(sameUpToValues(plainFix.command, fix.command, valuePairs, ANY), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
          break;
        default:
          expect(sameUpToValues(plainFix.command, fix.command, valuePairs, ANY), `${where}\n  ${plainFix.command}\n  ${fix.command}`).toBe(true);
      }
    });
  });
  const unique = [...new Map(pasted.map((entry) => [`${entry.plain}\0${entry.hostile}`, entry])).values()];
  const runs = await pasteIntoShells([...unique.map(({ hostile }) => fillPlaceholders(hostile)), ...urls.map(({ hostile }) => hostile)]);
  const scripts: { plain: string; hostile: string; where: string }[] = [];
  for (const shell of SHELLS) {
    const shellRuns = runs.get(shell) ?? [];
    urls.forEach(({ statement, encoders, where }, index) => {
      const run = shellRuns[unique.length + index];
      const url = run?.invocations[0]?.args[0] ?? '';
      const context = `${where} (${shell})\n  ${statement}\n  ${run?.command ?? ''}\n  ${run?.stderr ?? ''}`;
      expect(run?.syntaxError === false && run.notFound.length === 0 && run.invocations.length === 1 && run.invocations[0]?.args.length === 1, context).toBe(
        true,
      );
      expect(sameUpToValues(statement, url, valuePairs, encoders), context).toBe(true);
    });
    unique.forEach(({ where, plain: plainCommand }, index) => {
      const plainRun = plain.pasted.get(plainCommand)?.get(shell);
      const hostile = shellRuns[index];
      if (!plainRun || !hostile) throw new Error(`a pasted command did not run: ${plainCommand}`);
      expectSamePasted(plainRun, hostile, valuePairs, where);
      scriptsOf(plainRun).forEach((script, scriptIndex) =>
        scripts.push({ plain: script, hostile: scriptsOf(hostile)[scriptIndex] ?? '', where: `${where}, its sh -c script` }),
      );
    });
  }
  // A loop is a script for sh: sh reads it as shell code again, and it must hold the values as safely.
  const uniqueScripts = [...new Map(scripts.map((entry) => [`${entry.plain}\0${entry.hostile}`, entry])).values()];
  const scriptRuns = await pasteIntoShells(
    [...uniqueScripts.map(({ plain: script }) => fillPlaceholders(script)), ...uniqueScripts.map(({ hostile }) => fillPlaceholders(hostile))],
    SCRIPT_SHELLS,
  );
  for (const shell of SCRIPT_SHELLS) {
    uniqueScripts.forEach(({ where }, index) => {
      const plainRun = scriptRuns.get(shell)?.[index];
      const hostile = scriptRuns.get(shell)?.[uniqueScripts.length + index];
      if (!plainRun || !hostile) throw new Error(`a script did not run: ${where}`);
      expectSamePasted(plainRun, hostile, valuePairs, where);
    });
  }
}

describe('every printed command, built from hostile values, is the intended command', () => {
  test('the plain placeholders are valid in every slot (host names, SQL and CQL names)', () => {
    expect(isHostName(PLAIN.host)).toBe(true);
    for (const placeholder of [PLAIN.user, PLAIN.database, ...PLAIN.said]) expect(pgIdent(placeholder)).toBe(`"${placeholder}"`);
  });

  test(
    'hostile values in every slot of every remedy',
    async () => {
      await fc.assert(
        fc.asyncProperty(hostileValues, async (values) => {
          secrets.forget();
          const t0 = Date.now();
          try {
            await checkRemedies(values);
            if (process.env.DEBUG_TIMING) console.log(Date.now() - t0, JSON.stringify(values).slice(0, 300));
          } catch (error) {
            // A value the parsers refuse is bad input (exit 3), not a remedy to print.
            if (error instanceof InputError) return;
            throw error;
          }
        }),
        {
          ...RUNS,
          examples: [
            [
              {
                user: 'x\'y"z$(touch SENTINEL)',
                database: '`touch SENTINEL`;|&',
                host: 'db.example.com',
                socketDir: '/tmp/a b$(touch SENTINEL)\'"',
                passfileName: "p'q$(touch SENTINEL)",
                adminUser: '$(touch SENTINEL)',
                said: ['\u001b]52;c;aGk=\u0007', '\u202eevil', 'a\nb', "'); DROP ROLE x; --"],
              },
            ],
            [
              {
                user: 'user',
                database: 'all',
                host: 'fe80::1%eth0',
                socketDir: '/tmp/-x',
                passfileName: '-n',
                adminUser: '-U',
                said: ['-e', '--help', '+group', '@file'],
              },
            ],
            // Quoting that holds in POSIX shells only: \' inside single quotes is an escape in fish; =word a path in zsh; %self a pid in fish.
            [
              {
                user: "\\';touch SENTINEL;#",
                database: '=ls',
                host: 'db.example.com',
                socketDir: '/tmp/x\\\\y',
                passfileName: '%self',
                adminUser: "\\';touch SENTINEL;#",
                said: ['=ls', '%self', "a\\'b", '~root'],
              },
            ],
          ],
        },
      );
    },
    TIME_LIMIT_MS + 60_000,
  );

  test('every plain command does the same in bash, zsh, fish and dash', async () => {
    const { pasted } = await plainRemedies();
    for (const [command, runs] of pasted) {
      const bash = runs.get('bash');
      expect(bash?.invocations.length, command).toBeGreaterThan(0);
      for (const shell of SHELLS) {
        const run = runs.get(shell);
        const context = `${shell}: ${command}\n${run?.stderr ?? ''}`;
        expect(run?.syntaxError === false && run.notFound.length === 0 && run.createdFiles.length === 0, context).toBe(true);
        // dash's export is a special builtin: no stub records it.
        const calls = (entry: PastedRun | undefined): Invocation[] =>
          [...(entry?.invocations ?? [])].filter((call) => shell !== 'dash' || call.program !== 'export').sort((a, b) => a.program.localeCompare(b.program));
        expect(calls(run), context).toEqual(calls(bash));
      }
    }
  });

  test('every cause a step can produce is among the cases above', async () => {
    const built = new Set((await cases(PLAIN, SANDBOX)).map((entry) => `${entry.engine}/${entry.cause}`));
    // Every registered engine's probe: a new engine fails here until its remedies have cases.
    for (const probe of await Promise.all(ENGINE_MODULES.map((engine) => engine.probe()))) {
      for (const step of probe.steps) {
        for (const cause of step.produces) {
          if (cause === 'deadline_exceeded' || cause === 'check_error') continue;
          expect(built.has(`${probe.engine}/${cause}`), `${probe.engine}/${step.id}/${cause} has no case`).toBe(true);
        }
      }
    }
  });
});
