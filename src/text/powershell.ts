import { UNQUOTABLE } from './shell.js';
import { isInvisible } from './visible.js';

/**
 * Commands printed for Windows run in PowerShell, whose quoting is not a POSIX shell's: inside
 * single quotes nothing is special but the quote itself, written twice — and PowerShell takes the
 * typographic quotes ‘ ’ ‚ ‛ for single quotes too, so those are doubled as well. A bare word must
 * not start with a character PowerShell gives a meaning there (- a parameter, @ a splat, $ a
 * variable, # a comment, & a call…): only letters, digits and . _ : \ / stay bare, after a letter
 * or digit. A value holding a control or invisible character has no quoting that prints as itself:
 * UNQUOTABLE, and the command is left out (`unprintable`), as for the POSIX shells.
 */
const BARE = /^[A-Za-z0-9][A-Za-z0-9_.:\\/]*$/;
const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

export function powershellWord(value: string | number): string {
  const text = String(value);
  if ([...text].some(isInvisible)) return UNQUOTABLE;
  if (BARE.test(text)) return text;
  return `'${text.replace(SINGLE_QUOTES, (quote) => quote + quote)}'`;
}

/** Syntax already written for PowerShell (a wildcard pattern, a placeholder, a script block). */
export interface PowershellFragment {
  readonly powershell: string;
}

export function psRaw(powershell: string): PowershellFragment {
  return { powershell };
}

/** A PowerShell command from a template: literal parts are syntax, each value one quoted word. */
export function ps(strings: TemplateStringsArray, ...values: readonly (string | number | PowershellFragment)[]): string {
  let out = strings.raw[0] ?? '';
  values.forEach((value, index) => {
    out += typeof value === 'object' ? value.powershell : powershellWord(value);
    out += strings.raw[index + 1] ?? '';
  });
  return out;
}
