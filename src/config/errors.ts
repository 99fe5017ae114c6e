/**
 * Bad input from the user: a malformed URL, an unknown engine, a bad flag value. The CLI prints
 * `dbdoctor: <message>` and, on a second line, the hint; it exits 3 and never shows a stack.
 * Messages are built from redacted text only: they must never carry a secret.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    /** How to fix it, in one line. */
    readonly hint?: string,
  ) {
    super(message);
  }
}
