import { isInvisible } from './visible.js';

/**
 * A JavaScript string literal, for scripts given to mongosh (--eval) and for YAML snippets: a
 * JSON string, with every character JSON leaves raw but a terminal would not show as itself
 * (DEL, C1 controls, bidi and other format characters, line and paragraph separators) as \uXXXX.
 * Valid JavaScript, valid JSON, and a valid YAML double-quoted scalar.
 */
export function jsString(value: string): string {
  let out = '';
  for (const character of JSON.stringify(value)) {
    if (isInvisible(character)) for (let unit = 0; unit < character.length; unit += 1) out += `\\u${character.charCodeAt(unit).toString(16).padStart(4, '0')}`;
    else out += character;
  }
  return out;
}

/** Words YAML 1.1 (which Kubernetes and compose still honour) reads as something other than a string. */
const YAML_SPECIAL = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;

/**
 * A YAML scalar for a value inside a printed snippet (a compose file, a Kubernetes manifest): bare
 * when YAML reads it back as the same string, else double-quoted with JSON's escapes.
 */
export function yamlString(value: string): string {
  // A word starting with a digit may be a number in some YAML: 0123 (octal in 1.1), 1e3 (a float in
  // 1.2), 0x1F, 0o17, 0b101, 1_000, 12:30 (base 60 in 1.1), 2001-12-14 (a timestamp): always quoted.
  if (/^[A-Za-z0-9_./@-]+$/.test(value) && !/^[-.0-9]/.test(value) && !YAML_SPECIAL.test(value)) return value;
  return jsString(value);
}
