import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasInvisible } from '../../src/text/visible.js';

/**
 * Runs the commands dbdoctor prints the way an operator would: pasted into a shell — bash, zsh,
 * fish and dash (sh), since dbdoctor completes commands for the first three and `sh -c` scripts run
 * in the fourth. Nothing real runs: every program a remedy may name is a shell function that
 * records its argv (the builtins too: printf, echo, export — but dash, where export is a special
 * builtin no function can replace), PATH leads nowhere, and each command is read from its own file
 * (as a paste is read: by the shell's parser, never by eval) in an empty working directory, in a
 * subshell where the shell has one. What a test learns per command and shell: the programs it
 * called with their exact argv, what the shell wrote on stderr (a syntax error, a command it did
 * not find, a glob with no match), and whether any file appeared in the working directory (an
 * injected redirection).
 */
export interface Invocation {
  readonly program: string;
  readonly args: readonly string[];
}

export const SHELLS = ['bash', 'zsh', 'fish', 'dash'] as const;
export type Shell = (typeof SHELLS)[number];

export interface PastedRun {
  readonly shell: Shell;
  readonly command: string;
  readonly invocations: readonly Invocation[];
  /** What the shell wrote on stderr: a syntax error, a command it did not find. */
  readonly stderr: string;
  readonly syntaxError: boolean;
  readonly notFound: readonly string[];
  /** Files created in the working directory. */
  readonly createdFiles: readonly string[];
}

/** Every program a remedy names (and "touch", which the hostile values try to run). */
export const STUBBED_PROGRAMS = [
  'cat',
  'chmod',
  'cqlsh',
  'dbdoctor',
  'df',
  'dig',
  'docker',
  'echo',
  'export',
  'getent',
  'grep',
  'head',
  'iptables',
  'ip',
  'journalctl',
  'kubectl',
  'ls',
  'mongosh',
  'nc',
  'nft',
  'nodetool',
  'openssl',
  'pg_isready',
  'pg_lsclusters',
  'printf',
  'ps',
  'psql',
  'rm',
  'sh',
  'sleep',
  'ss',
  'sudo',
  'systemctl',
  'tail',
  'touch',
  'curl',
  'wget',
  'bash',
  'id',
  'true',
  'false',
  'xargs',
  'tee',
  'sed',
  'timeout',
  'runuser',
  // macOS (issue 21): Homebrew, launchd, Postgres.app, and the look-ups that replace ss, getent and ip there.
  'brew',
  'launchctl',
  'open',
  'lsof',
  'dscacheutil',
  'scutil',
  'route',
  'pfctl',
  'pgrep',
] as const;

const run = promisify(execFile);
const programs = STUBBED_PROGRAMS.join(' ');

/** Each shell's driver: stubs, then every command file sourced in its own working directory. */
const DRIVERS: Record<Shell, { readonly argv: readonly string[]; readonly script: string }> = {
  bash: {
    argv: ['--norc', '--noprofile', '-c'],
    script: `
__log() { builtin printf '%s\\0' "$__MARK" "$#" "$@" >> "$__LOG"; }
for __p in ${programs}; do eval "$__p() { __log $__p \\"\\$@\\"; }"; done
PATH=/nonexistent
__i=1
while [ "$__i" -le "$__N" ]; do
  __MARK=$__i
  ( builtin cd "$__WORK/$__i" && builtin source "$__DIR/cmd.$__i" ) </dev/null >/dev/null 2>"$__DIR/err.$__i"
  __i=$((__i+1))
done
`,
  },
  zsh: {
    argv: ['-f', '-c'],
    // export, typeset… are reserved words in zsh: disabled as such, a function can stand in for them.
    script: `
disable -r export typeset local readonly declare
__log() { builtin printf '%s\\0' "$__MARK" "$#" "$@" >> "$__LOG"; }
for __p in ${programs}; do eval "$__p() { __log $__p \\"\\$@\\"; }"; done
PATH=/nonexistent
__i=1
while [ "$__i" -le "$__N" ]; do
  __MARK=$__i
  ( builtin cd "$__WORK/$__i" && builtin source "$__DIR/cmd.$__i" ) </dev/null >/dev/null 2>"$__DIR/err.$__i"
  __i=$((__i+1))
done
`,
  },
  fish: {
    argv: ['--no-config', '-c'],
    // fish has no subshell: each command runs in a block, from its own working directory.
    script: `
function __log; builtin printf '%s\\0' $__MARK (count $argv) $argv >> $__LOG; end
for __p in ${programs}; eval "function $__p; __log $__p \\$argv; end"; end
set -gx PATH /nonexistent
set -l __i 1
while test $__i -le $__N
  set -g __MARK $__i
  begin; builtin cd $__WORK/$__i; and source $__DIR/cmd.$__i; end </dev/null >/dev/null 2>$__DIR/err.$__i
  set __i (math $__i + 1)
end
`,
  },
  dash: {
    argv: ['-c'],
    // export is a special builtin in sh: no function stands in for it (and it changes nothing outside the subshell).
    script: `
__log() { command printf '%s\\0' "$__MARK" "$#" "$@" >> "$__LOG"; }
for __p in ${programs}; do [ "$__p" = export ] || eval "$__p() { __log $__p \\"\\$@\\"; }"; done
PATH=/nonexistent
__i=1
while [ "$__i" -le "$__N" ]; do
  __MARK=$__i
  ( cd "$__WORK/$__i" && . "$__DIR/cmd.$__i" ) </dev/null >/dev/null 2>"$__DIR/err.$__i"
  __i=$((__i+1))
done
`,
  },
};

/** What each shell says about a command it could not parse, or a program it could not find. */
const SYNTAX_ERROR: Record<Shell, RegExp> = {
  bash: /syntax error|unexpected EOF/,
  zsh: /parse error|unmatched|bad substitution/,
  fish: /Unexpected|Missing end|unsupported|not supported|Expected|unbalanced|Mismatched/i,
  dash: /Syntax error|unterminated|missing/i,
};
const NOT_FOUND: Record<Shell, RegExp> = {
  bash: /: ([^:\n]*): command not found/g,
  zsh: /command not found: ([^\n]*)/g,
  fish: /Unknown command: ([^\n]*)/g,
  dash: /: ([^:\n]*): not found/g,
};

/** Pastes each command into `shell`, each in its own subshell (one shell process for all of them). */
export async function pasteInto(shell: Shell, commands: readonly string[]): Promise<PastedRun[]> {
  const dir = mkdtempSync(join(tmpdir(), `dbdoctor-paste-${shell}-`));
  try {
    const work = join(dir, 'work');
    commands.forEach((command, index) => {
      mkdirSync(join(work, String(index + 1)), { recursive: true });
      writeFileSync(join(dir, `cmd.${index + 1}`), `${command}\n`);
    });
    const log = join(dir, 'log');
    writeFileSync(log, '');
    const driver = DRIVERS[shell];
    await run(shell, [...driver.argv, driver.script], {
      env: { __DIR: dir, __WORK: work, __LOG: log, __N: String(commands.length), HOME: dir, LANG: 'C.UTF-8' },
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
    const byMark = parseLog(readFileSync(log));
    return commands.map((command, index) => {
      const stderr = readFileSync(join(dir, `err.${index + 1}`), 'utf8');
      return {
        shell,
        command,
        invocations: byMark.get(index + 1) ?? [],
        stderr,
        syntaxError: SYNTAX_ERROR[shell].test(stderr),
        notFound: [...stderr.matchAll(NOT_FOUND[shell])].map((match) => match[1] ?? ''),
        createdFiles: readdirSync(join(work, String(index + 1))),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pastes each command into every shell (the shells in parallel). */
export async function pasteIntoShells(commands: readonly string[], shells: readonly Shell[] = SHELLS): Promise<Map<Shell, PastedRun[]>> {
  const runs = await Promise.all(shells.map((shell) => pasteInto(shell, commands)));
  return new Map(shells.map((shell, index) => [shell, runs[index] ?? []]));
}

/** Pastes each command into bash only. */
export function pasteIntoBash(commands: readonly string[]): Promise<PastedRun[]> {
  return pasteInto('bash', commands);
}

/** The log: records of (mark, argc, program, args…), each field NUL-terminated. */
function parseLog(bytes: Buffer): Map<number, Invocation[]> {
  const fields = bytes.toString('utf8').split('\0');
  const byMark = new Map<number, Invocation[]>();
  let index = 0;
  while (index + 2 < fields.length) {
    const mark = Number(fields[index]);
    const argc = Number(fields[index + 1]);
    const argv = fields.slice(index + 2, index + 2 + argc);
    index += 2 + argc;
    const [program = '', ...args] = argv;
    byMark.set(mark, [...(byMark.get(mark) ?? []), { program, args }]);
  }
  return byMark;
}

/**
 * Is `hostile` the very command `benign` is, with each placeholder replaced by its value? Both are
 * the same remedy, built once with plain placeholders and once with hostile values; wherever the
 * benign text holds a placeholder written in some language (an SQL literal, a URL part, a shell
 * word…), the hostile text must hold the value written in the same language, and everything else
 * must be identical. `encoders` are the languages allowed in this context (an SQL statement admits
 * identifiers and literals, never a raw value). A memoised walk over both texts.
 */
export type Encoder = (value: string) => string | undefined;

export function sameUpToValues(benign: string, hostile: string, pairs: readonly (readonly [string, string])[], encoders: readonly Encoder[]): boolean {
  const options: { from: string; to: string }[] = [];
  for (const [placeholder, value] of pairs) {
    for (const encode of encoders) {
      const from = encode(placeholder);
      const to = encode(value);
      if (from !== undefined && to !== undefined && from !== '') options.push({ from, to });
    }
  }
  const memo = new Map<number, boolean>();
  const walk = (i: number, j: number): boolean => {
    if (i === benign.length) return j === hostile.length;
    const key = i * (hostile.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result = false;
    for (const { from, to } of options) {
      if (benign.startsWith(from, i) && hostile.startsWith(to, j) && walk(i + from.length, j + to.length)) {
        result = true;
        break;
      }
    }
    if (!result && benign[i] === hostile[j]) result = walk(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return walk(0, 0);
}

/**
 * Some remedies hold a placeholder for the operator to fill in (`<deployment>`, `<postgresql-pod>`):
 * pasted as is, bash reads it as a redirection. Tests fill each one outside quotes with a plain word
 * first, as the operator would, leaving quoted text (a value) alone.
 */
export function fillPlaceholders(command: string): string {
  let out = '';
  let quote: "'" | '"' | "$'" | undefined;
  for (let index = 0; index < command.length; index += 1) {
    const character = command[index] ?? '';
    if (quote === undefined) {
      const placeholder = /^<([a-z][a-z0-9-]*)>/.exec(command.slice(index));
      if (placeholder) {
        out += `FILLED-${placeholder[1] ?? ''}`;
        index += placeholder[0].length - 1;
        continue;
      }
      if (character === '\\') {
        out += command.slice(index, index + 2);
        index += 1;
        continue;
      }
      if (character === '$' && command[index + 1] === "'") {
        quote = "$'";
        out += "$'";
        index += 1;
        continue;
      }
      if (character === "'" || character === '"') quote = character;
    } else if (quote === "'" && character === "'") {
      quote = undefined;
    } else if (quote === '"' && character === '"') {
      quote = undefined;
    } else if ((quote === '"' || quote === "$'") && character === '\\') {
      out += command.slice(index, index + 2);
      index += 1;
      continue;
    } else if (quote === "$'" && character === "'") {
      quote = undefined;
    }
    out += character;
  }
  return out;
}

export type Kind = 'shell' | 'url' | 'yaml' | 'config';

/** What a remedy's command is: a command for a shell, a URL to put in the settings, or a snippet of a file. */
export function kindOf(command: string): Kind {
  if (/^(initContainers|services):\n/.test(command)) return 'yaml';
  // The program: the first word after any VAR=value assignments (PGHOSTADDR=10.0.0.5 psql …).
  const first = command.split(/[\s;]/).find((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word)) ?? '';
  if (/^'?[a-z+]+:\/\//.test(first)) return 'url';
  if ((STUBBED_PROGRAMS as readonly string[]).includes(first)) return 'shell';
  return 'config';
}

/** How a command is pasted: a shell command as it is, a URL as the one argument of echo; snippets are not pasted. */
export function pastable(command: string): string | undefined {
  const kind = kindOf(command);
  if (kind === 'shell') return command;
  // A URL line quoted as a shell word (it holds "$", a space…): as the argument of echo it must come out whole.
  return kind === 'url' && !SAFE_URL.test(command) ? `echo ${command}` : undefined;
}

/** A URL line printed as it is: only characters URLs are made of, none a shell expands or splits on but "?", "&" and "[ ]". */
export const SAFE_URL = /^[A-Za-z0-9._~%:/@?&=,+[\]-]+$/;

/** Programs no remedy runs, which a value that escaped its quotes would: the sentinel. */
const SENTINELS = new Set(['touch', 'rm', 'curl', 'wget', 'bash', 'sh', 'id']);

/**
 * Commands from a real report, built from whatever a hostile server or input said: each holds no
 * control or invisible character, and each shell command, pasted into bash, zsh, fish and dash, has
 * no syntax error, runs no program it should not (the sentinel), and creates no file.
 */
export async function unsafeToPaste(commands: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const command of commands)
    for (const line of command.split('\n')) if (hasInvisible(line)) problems.push(`an invisible character in ${JSON.stringify(command)}`);
  const shellCommands = commands.map(pastable).filter((command): command is string => command !== undefined);
  const runs = await pasteIntoShells(shellCommands.map(fillPlaceholders));
  // A loop is a script for `sh -c`: sh reads it again, as dash (Debian's sh) or bash.
  const scripts = [
    ...new Set(
      [...runs.values()]
        .flat()
        .flatMap((run) =>
          run.invocations.flatMap((call) => (call.program === 'sh' && call.args[0] === '-c' && call.args[1] !== undefined ? [call.args[1]] : [])),
        ),
    ),
  ];
  for (const [shell, scriptRuns] of await pasteIntoShells(scripts.map(fillPlaceholders), ['dash', 'bash']))
    runs.set(shell, [...(runs.get(shell) ?? []), ...scriptRuns]);
  for (const [shell, shellRuns] of runs) {
    for (const run of shellRuns) {
      if (run.syntaxError || run.notFound.length > 0 || run.createdFiles.length > 0)
        problems.push(`${shell}: ${run.command}: ${run.stderr} ${run.createdFiles.join(' ')}`);
      for (const call of run.invocations)
        if (SENTINELS.has(call.program) && !run.command.startsWith(call.program)) problems.push(`${shell}: ${run.command} ran ${call.program}`);
    }
  }
  // A URL line printed as it is must be made of URL characters only.
  for (const command of commands)
    if (kindOf(command) === 'url' && !SAFE_URL.test(command) && !/^['"\\]/.test(command)) problems.push(`a URL line neither plain nor quoted: ${command}`);
  return problems;
}
