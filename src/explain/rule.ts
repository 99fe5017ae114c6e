import type { CauseCode } from '../engine/causes.js';
import type { Remediation } from '../engine/schema.js';

/**
 * What `dbdoctor explain` knows, as data: a rule says "text like this, from these clients, means
 * this cause", the way an ESLint rule is meta + a matcher. Rules live next to their causes
 * (src/probes/<engine>/explain.ts, and src/probes/common/explain.ts for the network), so that an
 * engine added later brings its own table; src/explain/ only matches, ranks and renders.
 */
export const ENGINES = ['postgres', 'mongodb', 'cassandra'] as const;
export type Engine = (typeof ENGINES)[number];

/** What can be read from an error message about the target it was for. */
export const FIELD_NAMES = ['host', 'port', 'user', 'database'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type Fields = Partial<Record<FieldName, string>>;

/**
 * How much a kind of evidence says, most decisive first (the same layers as the probes' classify:
 * the server's own words, then the client's, then the socket's errno, then bare symptoms):
 *   server   the server said it (a SQLSTATE, a FATAL message): decisive
 *   client   the driver names the problem in its own words (no password given, TLS refused)
 *   errno    the operating system's answer (refused, no such host, no route, reset)
 *   symptom  a timeout or a dropped connection: several causes look like this
 */
export const RANKS = ['server', 'client', 'errno', 'symptom'] as const;
export type Rank = (typeof RANKS)[number];

/** A cause the text cannot rule out, and why. */
export interface Alternative {
  readonly cause: CauseCode;
  readonly why: string;
}

export interface ExplainRule {
  /** Stable id, e.g. "pg.password-failed" (shown in --verbose and JSON). */
  readonly id: string;
  readonly engines: readonly Engine[];
  /** The clients this rule's wording comes from (corpus client ids, or "any"). */
  readonly clients: readonly string[];
  readonly rank: Rank;
  /** Matched against the whole pasted text; named groups (host, port, user, database) are fields. */
  readonly pattern: RegExp;
  readonly cause: CauseCode;
  /** Causes the same words also fit; `explain` names them instead of pretending to know. */
  readonly also?: readonly Alternative[];
  /** The fields this rule's pattern extracts itself (checked against the corpus). */
  readonly fields?: readonly FieldName[];
  /** For PostgreSQL server rules: the SQLSTATE the server sends with these words. */
  readonly sqlstate?: string;
  /** At least one real message it matches; the full messages and their provenance are in test/explain/corpus. */
  readonly examples: readonly [string, ...string[]];
}

/** A place where a client names the target in its message: host, port, user or database. */
export interface FieldPattern {
  readonly clients: readonly string[];
  readonly pattern: RegExp;
}

/** What the matcher learned, handed to an engine to write the remediation. */
export interface Explained {
  readonly cause: CauseCode;
  readonly rule: ExplainRule;
  readonly fields: Fields;
  /** The matched words, for remedies that read them (a pg_hba line, a certificate problem). */
  readonly matched: string;
  readonly text: string;
}

/** One engine's part: its rules and how to say the fix and the confirming command in its words. */
export interface EngineExplainer {
  readonly engine: Engine;
  readonly rules: readonly ExplainRule[];
  readonly fieldPatterns: readonly FieldPattern[];
  /** The remediation for a cause, or undefined to fall back to the shared network remedies. */
  remediation(explained: Explained): Remediation[] | undefined;
  /** The URL `dbdoctor diagnose` would take for these fields (never a password). */
  url(fields: Fields): string;
}
