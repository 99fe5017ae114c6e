import type { RunReport } from '../engine/schema.js';

/**
 * Why a call of dbdoctor's API failed, as a tagged union rather than a class per case:
 *   bad_input    a target, an option or an input that cannot be used (`hint` says how to fix it)
 *   timed_out    `waitFor`: the deadline came before every target was ready (`report`: the last diagnosis)
 *   not_healing  `waitFor`: a cause that waiting cannot heal, such as a wrong password (`report`)
 *   aborted      the AbortSignal fired; `report` holds what was found by then, when anything was
 */
export type DbdoctorErrorReason = 'bad_input' | 'timed_out' | 'not_healing' | 'aborted';

/**
 * The one error dbdoctor's API throws (rejects with). Its message is one line, with every secret
 * masked; `report` is the same document `diagnose` resolves with.
 */
export class DbdoctorError extends Error {
  override readonly name = 'DbdoctorError';
  /** Why the call failed. */
  readonly reason: DbdoctorErrorReason;
  /** How to fix bad input, in one line. */
  readonly hint: string | undefined;
  /** The last whole diagnosis (`waitFor`), or what was found before an abort. */
  readonly report: RunReport | undefined;

  constructor(reason: DbdoctorErrorReason, message: string, details: { readonly hint?: string; readonly report?: RunReport; readonly cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.hint = details.hint;
    this.report = details.report;
  }
}
