import type { ExplainReport } from '../explain/schema.js';
import type { EngineName } from '../engines/registry.js';

/** What explain needs besides its input: the version for the document, and the engine when the input does not say. */
export interface ExplainRun {
  readonly version: string;
  readonly engine?: EngineName;
}

/**
 * A pasted text explained, with every secret it carries masked: `dbdoctor explain` and the API's
 * `explain` of a string are this one function. The passwords the text carries are registered
 * first; the fields commands are built from are masked as they are read; the answer is then
 * redacted as a structure, its commands (and `confirm`) kept as built.
 */
export async function explainTextRun(text: string, run: ExplainRun): Promise<ExplainReport> {
  const [{ explainText }, { registerPastedSecrets }, { secrets }] = await Promise.all([
    import('../explain/match.js'),
    import('../explain/secrets.js'),
    import('../config/secrets.js'),
  ]);
  registerPastedSecrets(text);
  const report = await explainText(text, { version: run.version, mask: (value) => secrets.maskKnown(value), ...(run.engine ? { engine: run.engine } : {}) });
  return secrets.redactDocument(report, ['confirm']);
}

/**
 * A driver's error object explained from its structure first (explain/objects.ts), then its
 * messages: the same rules as a paste of it, with each host the structure names judged on its
 * own. When the messages contradict the fields (no verdict), or name another cause than the
 * fields alone do, the fields decide: they are what the server or the system said, exactly.
 */
export async function explainErrorRun(error: object, run: ExplainRun): Promise<ExplainReport> {
  const [{ explainText }, { registerPastedSecrets }, { secrets }, { readErrorObject }] = await Promise.all([
    import('../explain/match.js'),
    import('../explain/secrets.js'),
    import('../config/secrets.js'),
    import('../explain/objects.js'),
  ]);
  const reading = readErrorObject(error);
  for (const said of reading.strings) registerPastedSecrets(said);
  registerPastedSecrets(reading.text);
  const engine = run.engine ?? reading.engine;
  const explain = (text: string, as: EngineName | null | undefined = engine): Promise<ExplainReport> =>
    explainText(text, {
      version: run.version,
      mask: (value) => secrets.maskKnown(value),
      ...(as ? { engine: as } : {}),
      ...(reading.hosts ? { hostSplitters: [reading.hosts] } : {}),
    });
  let report = await explain(reading.text);
  if (reading.codes !== reading.text && reading.codes.trim() !== '' && report.verdict?.basis !== 'code') {
    const byCodes = await explain(reading.codes);
    if (byCodes.verdict && byCodes.verdict.basis === 'code' && byCodes.verdict.cause !== report.verdict?.cause && !report.statement) report = byCodes;
  }
  // Never worse than its text: when the whole object says nothing recognisable (a wrapper's words
  // drowning a cause, a server's generic code over a message that names the fault), each message
  // is read on its own, outermost first, as a paste of it would be.
  if (report.status === 'not_recognised') {
    // A message may be another engine's words carried through (FerretDB passing on PostgreSQL's
    // pg_hba FATAL): read as the object's engine first, then as whatever engine it names.
    search: for (const message of reading.messages.slice(0, 8)) {
      for (const as of engine && !run.engine ? [engine, null] : [engine]) {
        const alone = await explain(message, as);
        if (alone.status !== 'not_recognised') {
          report = alone;
          break search;
        }
      }
    }
  }
  return secrets.redactDocument(report, ['confirm']);
}
