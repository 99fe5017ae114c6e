/**
 * Pastes for measuring `dbdoctor explain` on long input: ordinary ones (a short error, a log of
 * 50 KB and 200 KB ending in the error) and adversarial ones, each built from characters that
 * explain's patterns repeat (a long token of host-name characters, runs of "a:", dotted numbers,
 * spaces, quotes, backslashes, digits, base64, a huge JSON log line). Each ends in a real error,
 * so the figure is "time to the verdict", as an operator pasting it would wait.
 */
export interface Paste {
  readonly name: string;
  readonly text: string;
}

const ERROR = 'psql: error: connection to server at "db.internal" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user "app"';

/** A plausible application log of about `size` characters: timestamps, levels, words, a stack frame now and then. */
function logOf(size: number): string {
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < size; index++) {
    const second = String(index % 60).padStart(2, '0');
    const line =
      index % 7 === 3
        ? '    at Connection.parseE (/app/node_modules/pg/lib/connection.js:614:13)'
        : `2024-05-01 10:00:${second}.123 UTC [${1000 + (index % 50)}] INFO:  request ${index} served in ${index % 97} ms for user app on db appdb`;
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}

const repeat = (unit: string, size: number): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** A deterministic base64-looking blob (no randomness, so runs compare). */
function base64(size: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  let state = 12345;
  for (let index = 0; index < size; index++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    out += alphabet[state % 64];
  }
  return out;
}

export function ordinaryPastes(): Paste[] {
  return [
    { name: '1 KB log + error', text: `${logOf(1024)}\n${ERROR}\n` },
    { name: '50 KB log + error', text: `${logOf(50 * 1024)}\n${ERROR}\n` },
    { name: '200 KB log + error', text: `${logOf(200 * 1024)}\n${ERROR}\n` },
  ];
}

/** Adversarial pastes of `size` characters each (plus the error at the end). */
export function adversarialPastes(size = 200 * 1024): Paste[] {
  const units: [string, string][] = [
    ['one token of [a-z0-9.-]', repeat('ab1.c-d', size)],
    ['"a:" repeated', repeat('a:', size)],
    ['"1.1.1.1." repeated', repeat('1.1.1.1.', size)],
    ['"x" run then ": "', `${'x'.repeat(size)}: `],
    ['spaces', ' '.repeat(size)],
    ['double quotes', '"'.repeat(size)],
    ['backslashes', '\\'.repeat(size)],
    ['one line of digits', '7'.repeat(size)],
    ['base64 blob', base64(size)],
    ['"a@" repeated', repeat('a@', size)],
    ['"a=" repeated', repeat('a=', size)],
    ['"a " repeated', repeat('a ', size)],
    ['"a\\n" repeated', repeat('a\n', size)],
    ['host:port list', repeat('h1.example.com:5432,', size)],
    ['"at " repeated', repeat('at ', size)],
    ['log with a huge JSON line', `${logOf(size / 2)}\n{"level":"error","msg":"${repeat('abc def:', size / 2)}"}`],
  ];
  return units.map(([name, text]) => ({ name, text: `${text}\n${ERROR}\n` }));
}
