import { isInvisible } from './visible.js';

/**
 * Commands dbdoctor prints are meant to be pasted into a shell as printed, and values inside them
 * (a host, a user, a socket directory, a name a server sent) are data: each is one shell word,
 * quoted so that nothing in it is syntax — no $(…), (…), backticks, ;, |, &, globs, braces, quotes
 * or line breaks. Words that need no quoting are left bare, so that commands stay readable:
 * `getent ahosts db.example.com`, but `getent ahosts 'db$(x)'`.
 *
 * dbdoctor completes commands for bash, zsh and fish, so a word must read back as the same value
 * in all of them, and in dash (sh). POSIX single quotes alone are not enough: inside them fish
 * reads \' and \\ as escapes (`'\'';touch x;#'` breaks out in fish), and zsh expands a bare word
 * that starts with "=" to a program's path (`=ls` → /usr/bin/ls), and fish one that starts with "%"
 * to a process id (`%self`). The one form all four read the
 * same: single-quoted runs that hold no ' and no \, each ' and \ written outside the quotes as \'
 * and \\ — `'it'\''s'`. A value holding a control or invisible character has no such form ($'…' is
 * not fish; inside quotes the raw character would act on the terminal, or be shown as an escape
 * that is not the value): its word is UNQUOTABLE, and a command holding it is left out, its text
 * saying why (`unprintable`, applied to every finding).
 *
 * Commands are built with the `sh` template tag: its literal parts are the command's own syntax,
 * written in the subset the four shells share (no \ or ' inside single quotes; no `until … do …
 * done`, `[[ ]]`, `$'…'` or `( … )` — a loop is a script for `sh -c`, quoted as one word), and every
 * interpolated value is one quoted word (or, wrapped in `raw`, a fragment already built the same way).
 */

/** Characters that need no quoting in any of bash, zsh, fish and dash (no glob, expansion or operator). */
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * The word of a value no quoting writes the same way in every shell: a NUL, which no value holds
 * (it is refused as input) and no command may (`unprintable`).
 */
export const UNQUOTABLE = '\u0000';

/** A value as one shell word, quoted only when it needs to be. */
export function shellWord(value: string | number): string {
  const text = String(value);
  if (text === '') return "''";
  if ([...text].some(isInvisible)) return UNQUOTABLE;
  // A word that starts with "=" is a program's path to zsh (=ls → /usr/bin/ls), one that starts with
  // "%" a process id to fish (%self → 4242): such words are quoted.
  if (BARE.test(text) && !/^[=%]/.test(text)) return text;
  // SQL is full of single quotes: double quotes read better when nothing in the value is special
  // inside them in any of the shells ($, `, \, " — and !, which interactive bash and zsh expand there).
  if (text.includes("'") && !/["$`\\!]/.test(text)) return `"${text}"`;
  return singleQuoted(text);
}

/** Single-quoted runs holding neither ' nor \, each of those written outside the quotes: \' and \\. */
function singleQuoted(text: string): string {
  return text
    .split(/(['\\])/)
    .map((part) => (part === "'" ? "\\'" : part === '\\' ? '\\\\' : part === '' ? '' : `'${part}'`))
    .join('');
}

/**
 * Why a command cannot be printed as the thing it runs (undefined when it can): a value in it has no
 * quoting, it holds a character that would act on the terminal or show as an escape, or it is too
 * long to print whole (cutting it would change what it does). Every finding passes this rule
 * (text/bound: boundFinding), and explain's answer too.
 */
export function unprintable(command: string, maxChars: number): string | undefined {
  if (command.includes(UNQUOTABLE)) return 'a value in it holds a control or invisible character, which no quoting writes the same way in every shell';
  // A line break separates the lines of a snippet; any other such character would not print as itself.
  if ([...command].some((character) => character !== '\n' && isInvisible(character)))
    return 'it holds a control or invisible character, which would not print as itself';
  if (command.length > maxChars) return `at ${command.length} characters it is too long to print safely`;
  return undefined;
}

/** A fragment of shell syntax that is already built (a whole command, an operator, a placeholder). */
export interface ShellFragment {
  readonly shell: string;
}

/** Marks text as shell syntax to insert as is: a command built with `sh`, or `<placeholder>` words. */
export function raw(shell: string): ShellFragment {
  return { shell };
}

export type ShellValue = string | number | ShellFragment | readonly (string | number)[];

/**
 * A command from a template: the literal parts are syntax, each interpolated value one quoted word
 * (a list: one word per item; a `raw` fragment: inserted as is).
 *   sh`getent ahosts ${host}`            → getent ahosts 'db$(x)'
 *   sh`sh -c ${sh`until ${raw(check)}; do sleep 1; done`}`
 */
export function sh(strings: TemplateStringsArray, ...values: readonly ShellValue[]): string {
  // The literal parts as written (raw): they are shell syntax, and "\\n" in printf '%s\\n' is the shell's.
  const literal = strings.raw;
  let out = literal[0] ?? '';
  values.forEach((value, index) => {
    out +=
      typeof value === 'object' && !Array.isArray(value) && 'shell' in value
        ? value.shell
        : Array.isArray(value)
          ? value.map((item) => shellWord(item)).join(' ')
          : shellWord(value as string | number);
    out += literal[index + 1] ?? '';
  });
  return out;
}

/**
 * A loop (or any script in sh's own syntax) as one command every shell runs the same: `sh -c` with
 * the script as one quoted word. fish has no `until … do … done`; sh runs it for any shell.
 */
export function viaSh(script: string): string {
  return `sh -c ${shellWord(script)}`;
}

/**
 * A path as an operand: a relative path that starts with "-" would be read as an option by the
 * program it is given to, so it is written ./-… (the same file).
 */
export function pathOperand(path: string): ShellFragment {
  return raw(shellWord(path.startsWith('-') ? `./${path}` : path));
}

/** A command run as another operating-system user: runuser when root (no sudo needed), else sudo -u. */
export function asOsUser(user: string, command: string): string {
  return process.getuid?.() === 0 ? sh`runuser -u ${user} -- ${raw(command)}` : sh`sudo -u ${user} ${raw(command)}`;
}

/**
 * A wait that ends: `check` (a command built with `sh`) is retried every `interval` seconds for at
 * most `seconds`, and the whole exits non-zero (124, timeout's code) when it never succeeded — a
 * readiness check for a script or an init container, never a loop that runs forever. timeout is
 * in coreutils and busybox alike.
 */
export function waitUpTo(seconds: number, check: string, interval = 2): string {
  return sh`timeout ${seconds} sh -c ${`until ${check}; do sleep ${interval}; done`}`;
}

/**
 * Does a TCP port take connections? bash's /dev/tcp, bounded by timeout: nc is missing from many
 * images (and its flags differ between its variants). The host and port are arguments ($0, $1),
 * never text inside the script.
 */
export function tcpCheck(host: string, port: number | string, seconds = 3): string {
  return sh`timeout ${seconds} bash -c ${'exec 3<>"/dev/tcp/$0/$1"'} ${host} ${port}`;
}

/**
 * A command written with sudo where it needs root, as printed: the sudo words are dropped when
 * dbdoctor itself runs as root (a container, an init job, a root shell), where sudo adds nothing
 * and is often not installed. Only "sudo " that starts a command (after ;, |, &&, ||) and gives no
 * option is dropped: "sudo -u postgres …" changes user, which root needs too.
 */
export function sudoUnlessRoot(command: string): string {
  return process.getuid?.() === 0 ? command.replace(/(^|[;|&]\s*)sudo (?!-)/g, '$1') : command;
}

/** The name explain and the probes merged from issue 13 and 14 use for shellWord. */
export { shellWord as shellQuote };
