import { isInvisible } from './visible.js';

/**
 * SQL and CQL statements dbdoctor prints are built the way the server parses them: a name is an
 * identifier (left bare only when the server would read it back unchanged), a value a string
 * literal. A user called `x"; DROP ROLE y; --` is one quoted identifier, never two statements.
 */

/**
 * PostgreSQL's keywords that are not "unreserved" (reserved, type/function and column-name
 * keywords: kwlist.h of PostgreSQL 15, plus those 16 and 17 added). Any of them used as a role or
 * database name must be quoted (`ALTER ROLE user` is a syntax error); quoting the others too costs
 * nothing.
 */
const PG_KEYWORDS = new Set(
  `all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case cast char character check coalesce
  collate collation column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
  current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists extract false fetch float for foreign
  freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect interval into is isnull join
  json json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar json_serialize json_table json_value lateral
  leading least left like limit localtime localtimestamp merge_action national natural nchar none normalize not notnull null nullif numeric
  offset on only or order out outer overlaps overlay placing position precision primary real references returning right row select
  session_user setof similar smallint some substring symmetric system_user table tablesample then time timestamp to trailing treat trim
  true union unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists
  xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable`.split(/\s+/),
);

/**
 * A PostgreSQL identifier: bare when it is lower case and no keyword (unquoted names are folded to
 * lower case), else "double-quoted" with "" for a quote. A name holding control or invisible
 * characters is a Unicode-escaped identifier, U&"…\XXXX…", so the statement stays on one visible
 * line (U& needs standard_conforming_strings on, the default since 9.1).
 */
export function pgIdent(name: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !PG_KEYWORDS.has(name)) return name;
  if ([...name].some(isInvisible)) return `U&"${unicodeEscaped(name, '"')}"`;
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A PostgreSQL string literal. Plain text is '…' with '' for a quote. Text with a backslash is an
 * escape string, E'…' with \\, so that it means the same whatever standard_conforming_strings is;
 * control and invisible characters are \uXXXX (or \UXXXXXXXX) escapes inside one.
 */
export function pgLiteral(value: string): string {
  const chars = [...value];
  if (!value.includes('\\') && !chars.some(isInvisible)) return `'${value.replace(/'/g, "''")}'`;
  let out = "E'";
  for (const character of chars) {
    if (character === '\\') out += '\\\\';
    else if (character === "'") out += "''";
    else if (isInvisible(character)) {
      const code = character.codePointAt(0) ?? 0;
      out += code <= 0xffff ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
    } else out += character;
  }
  return `${out}'`;
}

function unicodeEscaped(text: string, quote: string): string {
  let out = '';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (character === '\\') out += '\\\\';
    else if (character === quote) out += quote + quote;
    else if (isInvisible(character)) out += code <= 0xffff ? `\\${hex(code, 4)}` : `\\+${hex(code, 6)}`;
    else out += character;
  }
  return out;
}

function hex(code: number, digits: number): string {
  return code.toString(16).toUpperCase().padStart(digits, '0');
}

/** CQL's reserved words (Apache Cassandra 5): as a name they must be quoted. */
const CQL_RESERVED = new Set(
  `add allow alter and apply asc authorize batch begin by columnfamily create default delete desc describe drop entries execute from full
  grant if in index infinity insert into is keyspace limit materialized mbean mbeans modify nan norecursive not null of on or order primary
  rename replace revoke schema select set table to token truncate unlogged unset update use using view where with`.split(/\s+/),
);

/**
 * A CQL identifier (keyspace, table, role): bare when lower case and not reserved (CQL folds
 * unquoted names to lower case), else "double-quoted" with "" for a quote. CQL has no escapes:
 * other characters stay as they are inside the quotes.
 */
export function cqlIdent(name: string): string {
  if (/^[a-z][a-z0-9_]*$/.test(name) && !CQL_RESERVED.has(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** A CQL string literal: '…' with '' for a quote (CQL strings have no other escape). */
export function cqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
