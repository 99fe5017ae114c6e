import type { StatementFamily, StatementRejected } from '../../engine/explainer.js';
import { lineAt } from '../../text/lines.js';
import { firstStatementFamily } from '../common/statements.js';
import { SQLSTATES } from './catalog/sqlstates.generated.js';

/**
 * What PostgreSQL says about a statement on a connection that worked: the SQLSTATE classes of
 * statement errors, and the server's most said messages of each. The connection-time members of
 * these classes stay with the connection rules, which are read first: 42501 on CONNECT to a
 * database ("permission denied for database"), 3D000, 28xxx, 25006 (read-only: a standby) and
 * 25P03 (idle_in_transaction_session_timeout ended the session) are not in this table.
 */
const CLASSES: Readonly<Record<string, string>> = {
  '0A': 'feature not supported: the statement uses something this server does not support',
  '21': 'cardinality violation: a subquery or ON CONFLICT affected more rows than allowed',
  '22': 'data exception: a value in the statement or its data is not valid for its type',
  '23': 'integrity constraint violation: the row breaks a constraint of the table',
  '25': 'invalid transaction state: the statement is not allowed in the transaction as it stands',
  '26': 'invalid SQL statement name: the prepared statement does not exist',
  '2B': 'dependent privilege descriptors still exist',
  '2D': 'invalid transaction termination (COMMIT or ROLLBACK where it is not allowed)',
  '2F': 'SQL routine exception: a function ended without RETURN or did what it may not',
  '34': 'invalid cursor name: the cursor does not exist',
  '38': 'external routine exception',
  '39': 'external routine invocation exception',
  '3B': 'savepoint exception: the savepoint does not exist',
  '3F': 'invalid schema name: the schema does not exist',
  '40': 'transaction rollback: the server rolled the transaction back; retrying the transaction is the usual fix',
  '42': 'syntax error or access rule violation: the statement names something that does not exist, is written wrongly, or uses an object this role may not use',
  '44': 'WITH CHECK OPTION violation: the row is not visible through the view it was written through',
  P0: 'PL/pgSQL error: a function raised it (RAISE EXCEPTION, an ASSERT, no data or too many rows)',
};

const EXCLUDED = new Set(['42501:database', '25006', '25P03', '25P04']);

const FAMILIES: readonly StatementFamily[] = [
  {
    pattern: /\brelation "[^"\n]+" does not exist/,
    code: '42P01',
    meaning: 'the table (or view, sequence) does not exist in the schemas on the search_path of this database',
  },
  { pattern: /\bcolumn "?[\w.$]+"? (?:of relation "[^"\n]+" )?does not exist/, code: '42703', meaning: 'the column does not exist in that table' },
  {
    pattern: /\b(?:function|operator|procedure) [^\n]{1,200}? does not exist/,
    code: '42883',
    meaning: 'no function or operator with that name takes these argument types',
  },
  { pattern: /\btype "[^"\n]+" does not exist/, code: '42704', meaning: 'the type does not exist' },
  { pattern: /\bschema "[^"\n]+" does not exist/, code: '3F000', meaning: 'the schema does not exist in this database' },
  { pattern: /\bsyntax error at or near|syntax error at end of input/, code: '42601', meaning: 'the statement is not valid SQL' },
  { pattern: /\bcolumn reference "[^"\n]+" is ambiguous/, code: '42702', meaning: 'two tables of the query have a column of that name' },
  { pattern: /\b(?:relation|table|index|type|schema) "[^"\n]+" already exists/, code: '42P07', meaning: 'an object of that name already exists' },
  {
    pattern:
      /\bpermission denied for (?:table|relation|sequence|schema|function|procedure|view|materialized view|column|type|language|large object|tablespace|foreign|routine)\b/,
    code: '42501',
    meaning: 'the role has no privilege on that object (a GRANT is missing); the connection itself was allowed',
  },
  { pattern: /\bmust be (?:owner of|superuser|a member of)/, code: '42501', meaning: "only the object's owner (or a superuser) may do this" },
  { pattern: /\bduplicate key value violates unique constraint/, code: '23505', meaning: 'a row with the same key already exists' },
  { pattern: /\bviolates foreign key constraint/, code: '23503', meaning: 'the row refers to a row that does not exist (or is still referred to)' },
  { pattern: /\bnull value in column "[^"\n]+"[^\n]*violates not-null constraint/, code: '23502', meaning: 'a required column was given no value' },
  { pattern: /\bviolates check constraint/, code: '23514', meaning: 'a value breaks a CHECK constraint of the table' },
  { pattern: /\bconflicting key value violates exclusion constraint/, code: '23P01', meaning: 'the row overlaps another under an exclusion constraint' },
  {
    pattern: /\bdeadlock detected/,
    code: '40P01',
    meaning: 'two transactions waited on each other; the server rolled one back (this one): retry it, and take locks in the same order everywhere',
  },
  {
    pattern: /\bcould not serialize access due to/,
    code: '40001',
    meaning: 'a concurrent transaction changed the same rows (REPEATABLE READ or SERIALIZABLE): retry the transaction',
  },
  {
    pattern: /\bcurrent transaction is aborted, commands ignored until end of transaction block/,
    code: '25P02',
    meaning: 'an earlier statement of the same transaction failed: the error to look for is that one; ROLLBACK before going on',
  },
  { pattern: /\binvalid input (?:syntax|value) for/, code: '22P02', meaning: "a value cannot be read as the column's type" },
  { pattern: /\bdivision by zero/, code: '22012', meaning: 'the statement divided by zero' },
  { pattern: /\bvalue too long for type/, code: '22001', meaning: 'a string is longer than the column allows' },
  { pattern: /\b(?:integer|bigint|smallint|numeric field|value "[^"\n]+" is) out of range/, code: '22003', meaning: "a number does not fit the column's type" },
  { pattern: /\bdate\/time field value out of range|invalid input syntax for type (?:date|timestamp)/, code: '22008', meaning: 'a date or time is not valid' },
  {
    pattern: /\bthere is no unique or exclusion constraint matching the ON CONFLICT/,
    code: '42P10',
    meaning: 'ON CONFLICT names columns without a unique index',
  },
  {
    pattern: /\bprepared statement "[^"\n]+" (?:does not exist|already exists)/,
    code: '26000',
    meaning: 'the prepared statement is unknown to this session (behind PgBouncer in transaction mode, each transaction may get another server connection)',
  },
  { pattern: /\bcursor "[^"\n]+" does not exist/, code: '34000', meaning: 'the cursor does not exist (it ended with its transaction)' },
];

const SPELLED = [
  /\bSQL\s?STATE\s*(?:\[|=|:|\(|is\b)?\s*['"]?([0-9A-Z]{5})\b/i,
  /\b(?:pg)?code["']?\s*[:=]\s*["']([0-9A-Z]{5})["']/i,
  /\b(?:ERROR|FEHLER|ERREUR)\s+([0-9A-Z]{5})\s+\(/,
];

const NAMES = new Map(SQLSTATES.map(([code, name]) => [code, name]));
/** Exception classes named after the condition (psycopg's UndefinedTable, Ruby's PG::UndefinedTable, asyncpg's UndefinedTableError). */
const BY_CLASS_NAME = new Map(
  SQLSTATES.map(([code, name]) => [
    name
      .split('_')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(''),
    code,
  ]),
);
const CLASS_NAME = /\b(?:psycopg2?\.errors\.|psycopg\.errors\.|asyncpg\.exceptions\.|PG::)([A-Z]\w+?)(?:Error)?\b/;

function statementClass(code: string, text: string): string | undefined {
  if (EXCLUDED.has(code)) return undefined;
  if (code === '42501' && /\bfor database\b|CONNECT privilege/i.test(text)) return undefined;
  return CLASSES[code.slice(0, 2)];
}

/** A PostgreSQL statement error in the text: a SQLSTATE of a statement class, or one of the server's messages for one. */
export function postgresStatementRejected(text: string): StatementRejected | undefined {
  const family = firstStatementFamily(FAMILIES, text);
  if (family) return { ...family, meaning: `${NAMES.get(family.code) ?? CLASSES[family.code.slice(0, 2)] ?? ''}: ${family.meaning}` };
  for (const spelling of SPELLED) {
    const found = spelling.exec(text);
    const code = found?.[1];
    const what = code ? statementClass(code, text) : undefined;
    if (found && code && what) return { code, meaning: `${NAMES.get(code) ?? code}: ${what}`, words: lineAt(text, found.index), index: found.index };
  }
  const named = CLASS_NAME.exec(text);
  const code = named?.[1] ? BY_CLASS_NAME.get(named[1]) : undefined;
  const what = code ? statementClass(code, text) : undefined;
  if (named && code && what) return { code, meaning: `${NAMES.get(code) ?? code}: ${what}`, words: lineAt(text, named.index), index: named.index };
  return undefined;
}
