import { isSecretName, secrets } from '../config/secrets.js';

/**
 * A pasted log may carry a password: in a connection URL, a key=value string, or a variable
 * (PGPASSWORD=…, "password": "…"). Every one is registered before anything is written, so the
 * CLI's writers mask it wherever it would appear (the matched words, a field, an echo).
 */
const FORMS: readonly RegExp[] = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s@]+)@/gi,
  /\bpassword\s*=\s*'((?:[^'\\]|\\.)*)'/gi,
  /\bpassword\s*=\s*([^\s'";&]+)/gi,
  /\b([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*["']?([^\s"',;&]+)/g,
];

export function registerPastedSecrets(text: string): void {
  for (const [index, form] of FORMS.entries()) {
    for (const match of text.matchAll(form)) {
      if (index < 3) secrets.add(match[1]);
      else if (match[1] && isSecretName(match[1])) secrets.add(match[2]);
    }
  }
}
