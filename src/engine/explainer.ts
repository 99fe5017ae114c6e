import type { CauseCode } from './causes.js';
import type { Remediation } from './schema.js';

/**
 * The explain contract, beside the probe contract (probe.ts): what `dbdoctor explain` needs from
 * an engine. A probe folder brings its explainer (src/probes/<engine>/explain.ts): rules ("text
 * like this means this cause", as an ESLint rule is meta + a matcher), readers for what is not one
 * pattern per rule (codes, the servers' message catalogs), how its clients list several hosts,
 * and its remediation. src/explain/ only normalises, matches, ranks and renders; it reaches an
 * engine's explainer through the lazy registry (src/engines/registry.ts), never by importing it.
 * Like the rest of src/engine/, nothing here knows a database: engines are named by id.
 */

/** What can be read from an error message about the target it was for. */
export const FIELD_NAMES = ['host', 'port', 'user', 'database'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type Fields = Partial<Record<FieldName, string>>;

/**
 * How much a kind of evidence says, most decisive first (the same layers as the probes' classify:
 * the server's own words, then the client's, then the socket's errno, then bare symptoms):
 *   server   the server said it (a SQLSTATE, a FATAL message, a MongoDB code): decisive
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
  /** The engine ids (the registry's) whose texts this rule reads. */
  readonly engines: readonly string[];
  /** The clients this rule's wording comes from (corpus client ids, or "any"). */
  readonly clients: readonly string[];
  readonly rank: Rank;
  /**
   * Matched against the normalised text (escapes undone, log prefixes and stack frames dropped),
   * case-insensitively unless `caseSensitive`; named groups (host, port, user, database) are fields.
   */
  readonly pattern: RegExp;
  /** Only for words whose case carries the meaning (a bare "EOF" line, an exception's class name). */
  readonly caseSensitive?: boolean;
  readonly cause: CauseCode;
  /** Causes the same words also fit; `explain` names them instead of pretending to know. */
  readonly also?: readonly Alternative[];
  /** The fields this rule's pattern extracts itself (checked against the corpus). */
  readonly fields?: readonly FieldName[];
  /**
   * The words are known but do not decide (a bare SQLSTATE 28000, an established connection that
   * dropped): when this rule is the most decisive, explain answers "not recognised" and names the
   * cause and its alternatives as guesses, never as a verdict.
   */
  readonly tentative?: true;
  /**
   * The words decide only when the text shows a connection attempt (the engine's `connecting`
   * signs: libpq's "connection to server at … failed:", a driver's connect function innermost in
   * the stack). Said on an established session ("server closed the connection unexpectedly" from
   * a query, node-postgres's "Connection terminated unexpectedly"), they cannot tell a handshake
   * that failed from a session that broke later: guesses, never a verdict.
   */
  readonly whileConnecting?: true;
  /** Why these words do not decide, said with the guesses (tentative or whileConnecting words). */
  readonly undecided?: string;
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

/** What the evidence behind a reading is: a rule's words, a code, or a message of a server's or client's catalog. */
export type Basis = 'words' | 'code' | 'catalog';

/** One thing a text says: a cause, how decisive the evidence is, and where it was read. */
export interface Reading {
  /** The rule or table entry, e.g. "pg.password-failed", "sqlstate.28P01", "catalog.postgres.de". */
  readonly id: string;
  readonly basis: Basis;
  readonly rank: Rank;
  readonly cause: CauseCode;
  readonly also?: readonly Alternative[];
  /** Where in the text given to `read` the words (or the code) were read: [index, end). */
  readonly index: number;
  readonly end: number;
  readonly words: string;
  readonly fields?: Fields;
  /** Known words that do not decide: guesses only (ExplainRule.tentative). */
  readonly tentative?: true;
  /** Decides only inside a connection attempt (ExplainRule.whileConnecting). */
  readonly whileConnecting?: true;
  /**
   * The words say an established session broke (Node.js's unhandled 'error' event on a connected
   * node-postgres Client): tentative, and the socket's words beside them say how it broke, not
   * why a connection failed.
   */
  readonly session?: true;
  /** Why the words do not decide (ExplainRule.undecided). */
  readonly undecided?: string;
}

/**
 * A table read by other means than one pattern per rule: a code in any client's spelling (a
 * SQLSTATE, a MongoDB code, an errno), or every message of a server's catalog in every language
 * it ships. Readers are data-driven; their tables are loaded only when a text is read.
 */
export interface Reader {
  readonly id: string;
  read(text: string): readonly Reading[];
  /** What the text names besides the causes (a frame such as libpq's "connection to server at … failed:", in any language). */
  fields?(text: string): Fields;
  /** Where the text shows a connection attempt (a frame such as libpq's "connection to server at … failed:", in any language): [index, end) of each. */
  attempts?(text: string): readonly { readonly index: number; readonly end: number }[];
}

/** A stack frame taken out of the text (it names code, not a cause), and where it stood: the index in the normalised text of the line that followed it. */
export interface StackFrame {
  readonly index: number;
  readonly text: string;
}

/**
 * How a text shows that a connection was being made when a message was said, for words that
 * decide only then (ExplainRule.whileConnecting).
 */
export interface ConnectingSigns {
  /** A client's words for a failed connection attempt, said before the message (pgjdbc's "The connection attempt failed.", pgx's "failed to connect to"). */
  readonly words: RegExp;
  /** A stack frame of a connection attempt: Python's innermost frame before the message, or any frame after it (Java prints the innermost first). */
  readonly frame: RegExp;
}

/** The part of a text about one host, when a client lists what happened at each host it tried. */
export interface HostPart {
  readonly host: string;
  readonly port?: string;
  /** Where the host's part starts and ends in the text given to `split`. */
  readonly start: number;
  readonly end: number;
}

/** A client's way of listing several hosts (a driver's per-host error map, libpq's one line per address). */
export interface HostSplitter {
  readonly id: string;
  /** The hosts the text lists, or an empty list when the text is not of this form (or names one host). */
  split(text: string): readonly HostPart[];
}

/** What the matcher learned, handed to an engine to write the remediation. */
export interface Explained {
  readonly cause: CauseCode;
  /** The rule (or table entry) that decided, and how decisive it is. */
  readonly rule: { readonly id: string; readonly rank: Rank };
  readonly fields: Fields;
  /** The matched words, for remedies that read them (a pg_hba line, a certificate problem). */
  readonly matched: string;
  readonly text: string;
}

/**
 * Words a server says about a statement on a connection that worked (a missing table, a duplicate
 * key, a deadlock): not a connection problem, and never a cause of the connection catalogue.
 */
export interface StatementFamily {
  /** The server's words (its catalog's message, in English). */
  readonly pattern: RegExp;
  /** The server's code for it (a SQLSTATE, a MongoDB code name, a Cassandra error code). */
  readonly code: string;
  /** What the server says was wrong with the statement. */
  readonly meaning: string;
}

/** What `explain` read as a statement the server rejected. */
export interface StatementRejected {
  readonly code: string;
  readonly meaning: string;
  readonly words: string;
  readonly index: number;
}

/** One engine's part: what its texts say and how to say the fix and the confirming command in its words. */
export interface EngineExplainer {
  readonly engine: string;
  readonly rules: readonly ExplainRule[];
  readonly fieldPatterns: readonly FieldPattern[];
  /** Code and catalog readers; may import generated tables, so called only when a text is read. */
  readers?(): Promise<readonly Reader[]>;
  readonly hostSplitters?: readonly HostSplitter[];
  /** How its clients show a connection attempt (for whileConnecting words). */
  readonly connecting?: ConnectingSigns;
  /**
   * Words only a working connection says (a query's own error, a "connected" line): in a log
   * stream, such a record after the newest error makes that error history.
   */
  readonly working?: RegExp;
  /** A statement the server rejected on a working connection, when the text says one (codes and message families). */
  statementRejected?(text: string): StatementRejected | undefined;
  /**
   * What the cause means when a pasted text says it, where that differs from what a diagnosis
   * measures (a statement_timeout that fired is not "active longer than dbdoctor's threshold").
   */
  meaning?(explained: Explained): string | undefined;
  /** The remediation for a cause, or undefined to fall back to the shared network remedies. */
  remediation(explained: Explained): Remediation[] | undefined;
  /** The URL `dbdoctor diagnose` would take for these fields (never a password). */
  url(fields: Fields): string;
}
