import { isInvisible } from './visible.js';

/**
 * Commands dbdoctor prints are meant to be pasted into a shell as printed, and values inside them
 * (a host, a user, a socket directory, a name a server sent) are data: each is one POSIX shell
 * word, quoted so that nothing in it is syntax — no $(…), backticks, ;, |, &, globs, quotes or
 * line breaks. Words that need no quoting are left bare, so that commands stay readable:
 * `getent ahosts db.example.com`, but `getent ahosts 'db$(x)'`.
 *
 * Commands are built with the `sh` template tag: its literal parts are the command's own syntax,
 * and every interpolated value is one quoted word (or, wrapped in `raw`, a fragment already built
 * the same way, such as a whole command inside `until …; do …; done`).
 */

/** Characters that never need quoting anywhere in a word (no glob, no expansion, no operator). */
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A value as one shell word, quoted only when it needs to be. */
export function shellWord(value: string | number): string {
  const text = String(value);
  if (text === '') return "''";
  if (BARE.test(text)) return text;
  if ([...text].some(isInvisible)) return dollarQuoted(text);
  // SQL is full of single quotes: double quotes read better when nothing in the value is special
  // inside them ($, `, \, " — and !, which an interactive bash expands there).
  if (text.includes("'") && !/["$`\\!]/.test(text)) return `"${text}"`;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A value holding control or invisible characters, as $'…' with each such character as a
 * three-digit octal escape of its UTF-8 bytes: the command stays on one visible line and the shell
 * rebuilds the exact bytes. $'…' is bash, zsh, ksh and busybox sh, and POSIX since 2024; three
 * octal digits (never \x, which some shells read greedily) are the unambiguous form in all of them.
 */
function dollarQuoted(text: string): string {
  let out = "$'";
  for (const character of text) {
    if (character === '\\') out += '\\\\';
    else if (character === "'") out += "\\'";
    else if (isInvisible(character)) for (const byte of Buffer.from(character, 'utf8')) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += character;
  }
  return `${out}'`;
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
 *   sh`until ${raw(check)}; do sleep 1; done`
 */
export function sh(strings: TemplateStringsArray, ...values: readonly ShellValue[]): string {
  // The literal parts as written (raw): they are shell syntax, and "\\n" in printf '%s\\n' is the shell's.
  const literal = strings.raw;
  let out = literal[0] ?? '';
  values.forEach((value, index) => {
    out += typeof value === 'object' && !Array.isArray(value) && 'shell' in value ? value.shell : Array.isArray(value) ? value.map((item) => shellWord(item)).join(' ') : shellWord(value as string | number);
    out += literal[index + 1] ?? '';
  });
  return out;
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
