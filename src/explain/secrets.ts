import { isSecretName, secrets } from '../config/secrets.js';

/**
 * A pasted log may carry a password: in a connection URL, a key=value string, or a variable
 * (PGPASSWORD=…, "password": "…"). Every one is registered before anything is written, so the
 * CLI's writers mask it wherever it would appear (the matched words, a field, an echo).
 */
export const PASTED_SECRET_FORMS: readonly RegExp[] = [
  /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/]{0,1024}:([^\s@]{1,1024})@/gi,
  /\bpassword\s*=\s*'((?:[^'\\]|\\.)*)'/gi,
  /\bpassword\s*=\s*([^\s'";&]+)/gi,
  /\b([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*["']?([^\s"',;&]+)/g,
];

export function registerPastedSecrets(text: string): void {
  for (const [index, form] of PASTED_SECRET_FORMS.entries()) {
    for (const match of text.matchAll(form)) {
      if (index < 3) secrets.add(match[1]);
      else if (match[1] && isSecretName(match[1])) secrets.add(match[2]);
    }
  }
}
