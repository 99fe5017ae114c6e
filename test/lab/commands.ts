import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasInvisible } from '../../src/text/visible.js';

/**
 * Runs the commands dbdoctor prints the way an operator would: pasted into bash. Nothing real runs:
 * every program a remedy may name is a shell function that records its argv (the builtins too:
 * printf, echo, export), PATH leads nowhere, and each command runs in a subshell in an empty
 * working directory. What a test learns per command: the programs it called with their exact
 * argv, whether bash found a syntax error, any program it could not find (an injected command
 * shows up here, or as an unexpected invocation), and whether any file appeared in the working
 * directory (an injected redirection).
 */
export interface Invocation {
  readonly program: string;
  readonly args: readonly string[];
}

export interface PastedRun {
  readonly command: string;
  readonly invocations: readonly Invocation[];
  /** What bash wrote on stderr: a syntax error, a command it did not find. */
  readonly stderr: string;
  readonly syntaxError: boolean;
  readonly notFound: readonly string[];
  /** Files created in the working directory. */
  readonly createdFiles: readonly string[];
}

/** Every program a remedy names (and "touch", which the hostile values try to run). */
export const STUBBED_PROGRAMS = [
  'cat', 'chmod', 'cqlsh', 'dbdoctor', 'df', 'dig', 'docker', 'echo', 'export', 'getent', 'grep', 'head', 'iptables', 'ip', 'journalctl',
  'kubectl', 'ls', 'mongosh', 'nc', 'nft', 'nodetool', 'openssl', 'pg_isready', 'pg_lsclusters', 'printf', 'ps', 'psql', 'rm', 'sh', 'sleep',
  'ss', 'sudo', 'systemctl', 'tail', 'touch', 'curl', 'wget', 'bash', 'id', 'true', 'false', 'timeout', 'runuser',
] as const;

const run = promisify(execFile);

const SCRIPT = `
set +o histexpand
__log() { builtin printf '%s\\0' "$__MARK" "$#" "$@" >> "$__LOG"; }
for __p in ${STUBBED_PROGRAMS.join(' ')}; do eval "$__p() { __log $__p \\"\\$@\\"; }"; done
# A bounded wait (timeout N sh -c 'until …; do sleep …; done'): the script is run here, so that
# what it runs is logged (and a value escaping its quotes in it runs the sentinel); anything else
# timeout runs (bash -c with a fixed script and its values as arguments) is logged as its words.
timeout() { if [ "$2" = sh ] && [ "$3" = -c ]; then __log timeout "$1" sh -c; eval "$4"; else __log timeout "$@"; fi; }
PATH=/nonexistent
__MARK=0
while IFS= read -r -d '' __cmd; do
  __MARK=$((__MARK+1))
  ( cd "$__WORK/$__MARK" && eval "$__cmd" ) </dev/null >/dev/null 2>"$__DIR/err.$__MARK"
done < "$__DIR/commands"
`;

/** Pastes each command into its own bash subshell (one bash process for all of them). */
export async function pasteIntoBash(commands: readonly string[]): Promise<PastedRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-paste-'));
  try {
    const work = join(dir, 'work');
    commands.forEach((_, index) => mkdirSync(join(work, String(index + 1)), { recursive: true }));
    writeFileSync(join(dir, 'commands'), commands.map((command) => `${command}\0`).join(''));
    const log = join(dir, 'log');
    writeFileSync(log, '');
    await run('bash', ['--norc', '--noprofile', '-c', SCRIPT], { env: { __DIR: dir, __WORK: work, __LOG: log, HOME: dir, LANG: 'C.UTF-8' }, cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    const byMark = parseLog(readFileSync(log));
    return commands.map((command, index) => {
      const stderr = readFileSync(join(dir, `err.${index + 1}`), 'utf8');
      return {
        command,
        invocations: byMark.get(index + 1) ?? [],
        stderr,
        syntaxError: /syntax error|unexpected EOF/.test(stderr),
        notFound: [...stderr.matchAll(/: ([^:\n]*): command not found/g)].map((match) => match[1] ?? ''),
        createdFiles: readdirSync(join(work, String(index + 1))),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
  const first = command.split(/[\s;]/)[0] ?? '';
  if (/^'?[a-z+]+:\/\//.test(first)) return 'url';
  if ((STUBBED_PROGRAMS as readonly string[]).includes(first) || first === 'until') return 'shell';
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
 * control or invisible character, and each shell command, pasted into bash, has no syntax error,
 * runs no program it should not (the sentinel), and creates no file.
 */
export async function unsafeToPaste(commands: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const command of commands) for (const line of command.split('\n')) if (hasInvisible(line)) problems.push(`an invisible character in ${JSON.stringify(command)}`);
  const shellCommands = commands.map(pastable).filter((command): command is string => command !== undefined);
  const runs = await pasteIntoBash(shellCommands.map(fillPlaceholders));
  for (const run of runs) {
    if (run.syntaxError || run.notFound.length > 0 || run.createdFiles.length > 0) problems.push(`${run.command}: ${run.stderr} ${run.createdFiles.join(' ')}`);
    for (const call of run.invocations) if (SENTINELS.has(call.program) && !run.command.startsWith(call.program)) problems.push(`${run.command} ran ${call.program}`);
  }
  // A URL line printed as it is must be made of URL characters only.
  for (const command of commands) if (kindOf(command) === 'url' && !SAFE_URL.test(command) && !/^\$?'/.test(command)) problems.push(`a URL line neither plain nor quoted: ${command}`);
  return problems;
}
