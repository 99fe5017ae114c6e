/**
 * Errors that come from a query, not from connecting: the connection worked, and the server (or
 * the driver) rejected what was sent — a table or column that does not exist, a syntax error, a
 * constraint, bad input for a type, a deadlock. dbdoctor diagnoses connections; for these it says
 * so instead of guessing a connection cause from words like "does not exist".
 *
 * Read only when no connection rule matched: "permission denied for database" (42501) or
 * 'database "x" does not exist' (3D000) are connection causes and their rules win first.
 */

export interface QueryError {
  /** What kind of error, in the operator's words: "the table (relation) does not exist". */
  readonly kind: string;
  /** The SQLSTATE (PostgreSQL, and drivers that carry it) when the text gives one. */
  readonly code?: string;
  /** The words that matched. */
  readonly said: string;
}

/**
 * SQLSTATE classes of errors in a statement or a transaction (PostgreSQL appendix A). Connection
 * classes are not here: 08 (connection), 28 (authorization), 3D (database), 53 (resources:
 * too many connections), 57 (operator intervention: shutdown), 58 (system), XX.
 */
const QUERY_CLASSES: Readonly<Record<string, string>> = {
  '0A': 'a feature the server does not support',
  '21': 'a cardinality violation',
  '22': 'bad data for a type (invalid input, a value out of range or too long, division by zero)',
  '23': 'a constraint violation (unique, foreign key, not-null, check)',
  '24': 'an invalid cursor state',
  '25': 'an invalid transaction state (e.g. a statement in a transaction that already failed)',
  '26': 'an invalid statement name',
  '27': 'a triggered data change violation',
  '2B': 'dependent privileges still exist',
  '2D': 'an invalid transaction end',
  '2F': 'an error inside an SQL function',
  '34': 'an invalid cursor name',
  '38': 'an error in an external routine',
  '39': 'an error in an external routine call',
  '3B': 'a savepoint error',
  '3F': 'a schema that does not exist',
  '40': 'a transaction rolled back (serialization failure or deadlock)',
  '42': 'an error in the statement (syntax, or a table, column, function or type that does not exist, or no privilege on it)',
  '44': 'a WITH CHECK OPTION violation',
  P0: 'an error raised by PL/pgSQL',
};

/** Codes of class 42 and 23 that are worth their own words. */
const CODES: Readonly<Record<string, string>> = {
  '42P01': 'the table (relation) does not exist',
  '42703': 'the column does not exist',
  '42601': 'a syntax error in the statement',
  '42883': 'the function or operator does not exist (or not for these argument types)',
  '42704': 'the object (type, index, …) does not exist',
  '42501': 'no privilege on the object the statement uses',
  '42P07': 'the table already exists',
  '23505': 'a unique constraint violation (duplicate key)',
  '23503': 'a foreign key violation',
  '23502': 'a not-null violation',
  '23514': 'a check constraint violation',
  '40P01': 'a deadlock: the server rolled this transaction back',
  '40001': 'a serialization failure: retry the transaction',
  '25P02': 'a statement in a transaction that had already failed (ROLLBACK first)',
  '22P02': 'invalid input for a type',
  '22001': 'a value too long for its type',
  '22003': 'a number out of range for its type',
  '22012': 'division by zero',
};

/** The wording of query errors, for text that carries no SQLSTATE (PostgreSQL, MongoDB, Cassandra). */
const WORDS: readonly { readonly pattern: RegExp; readonly code?: string; readonly kind?: string }[] = [
  { pattern: /\brelation "[^"]+" does not exist/, code: '42P01' },
  { pattern: /\bcolumn "?[\w.]+"? (?:of relation "[^"]+" )?does not exist/, code: '42703' },
  { pattern: /\bsyntax error at or near\b|\bsyntax error at end of input\b/, code: '42601' },
  { pattern: /\b(?:function|operator) [^\n]* does not exist/, code: '42883' },
  { pattern: /\btype "[^"]+" does not exist/, code: '42704' },
  { pattern: /\bschema "[^"]+" does not exist/, code: '3F000' },
  { pattern: /\bpermission denied for (?:table|relation|schema|sequence|function|view|column|materialized view)\b/, code: '42501' },
  { pattern: /\bduplicate key value violates unique constraint\b/, code: '23505' },
  { pattern: /\bviolates foreign key constraint\b/, code: '23503' },
  { pattern: /\bviolates not-null constraint\b|\bnull value in column "[^"]+"[^\n]* violates\b/, code: '23502' },
  { pattern: /\bviolates check constraint\b/, code: '23514' },
  { pattern: /\binvalid input syntax for (?:type|integer)\b/, code: '22P02' },
  { pattern: /\bvalue too long for type\b/, code: '22001' },
  { pattern: /\bout of range for type\b|\bnumeric field overflow\b/, code: '22003' },
  { pattern: /\bdivision by zero\b/, code: '22012' },
  { pattern: /\bdeadlock detected\b/, code: '40P01' },
  { pattern: /\bcould not serialize access\b/, code: '40001' },
  { pattern: /\bcurrent transaction is aborted, commands ignored\b/, code: '25P02' },
  { pattern: /\bE11000 duplicate key error\b/, kind: 'a duplicate key on a unique index (MongoDB E11000)' },
  { pattern: /\bunconfigured table\b/, kind: 'the table does not exist in that keyspace (Cassandra)' },
  { pattern: /\bSyntaxException\b|\bline \d+:\d+ (?:no viable alternative|mismatched input)\b/, kind: 'a syntax error in the CQL statement (Cassandra)' },
  { pattern: /\bUndefined column name\b/, kind: 'the column does not exist (Cassandra)' },
];

/** An SQLSTATE as drivers print it: "SQLSTATE 42P01", "(SQLSTATE 42P01)", "code: '42P01'", "sqlState=42P01", "ERROR: 42P01:". */
const SQLSTATE = /\b(?:SQLSTATE|sql_?state|code|pgcode)["']?\s*[:=]?\s*\(?["']?([0-9A-Z]{5})\b|\bERROR:\s+([0-9A-Z]{5}):/i;

export function queryErrorOf(text: string): QueryError | undefined {
  const state = SQLSTATE.exec(text);
  const code = (state?.[1] ?? state?.[2])?.toUpperCase();
  if (code && /\d/.test(code)) {
    const kind = CODES[code] ?? QUERY_CLASSES[code.slice(0, 2)];
    if (kind) return { kind, code, said: lineAround(text, state?.index ?? 0) };
    // A connection class: not a query error, whatever the words.
    return undefined;
  }
  for (const word of WORDS) {
    const match = word.pattern.exec(text);
    if (!match) continue;
    const kind = word.kind ?? (word.code ? (CODES[word.code] ?? QUERY_CLASSES[word.code.slice(0, 2)]) : undefined) ?? 'an error in the statement';
    return { kind, ...(word.code ? { code: word.code } : {}), said: lineAround(text, match.index) };
  }
  return undefined;
}

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end === -1 ? undefined : end).trim().slice(0, 400);
}
