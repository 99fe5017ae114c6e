import type { StatementFamily, StatementRejected } from '../../engine/explainer.js';
import { firstStatementFamily } from '../common/statements.js';

/**
 * What Cassandra says about a query on a connection that worked: the protocol's request errors
 * (0x2000 syntax, 0x2200 invalid, 0x2400 already exists). Unavailable, timeouts, overload and
 * authentication stay with the connection rules.
 */
const FAMILIES: readonly StatementFamily[] = [
  { pattern: /\bunconfigured (?:table|columnfamily) \w+/i, code: '0x2200 Invalid', meaning: 'the table does not exist in the keyspace the session uses' },
  { pattern: /\bKeyspace '?\w+'? does not exist/i, code: '0x2200 Invalid', meaning: 'the keyspace does not exist' },
  { pattern: /\bUndefined column name\b|\bUndefined name \w+ in/i, code: '0x2200 Invalid', meaning: 'the column does not exist in that table' },
  {
    pattern: /\bcode=2000 \[Syntax error in CQL query\]|\bSyntaxException\b|\bline \d+:\d+ (?:no viable alternative|mismatched input|extraneous input)/,
    code: '0x2000 Syntax error',
    meaning: 'the statement is not valid CQL',
  },
  {
    pattern: /\bcode=2400 \[[^\]]*already exists\]|\bAlreadyExists\b|Cannot add already existing (?:table|keyspace)/,
    code: '0x2400 Already exists',
    meaning: 'a keyspace or table of that name already exists',
  },
  {
    pattern: /\bcode=2200 \[Invalid query\]|\bInvalidRequest\b|\bInvalidQueryException\b/,
    code: '0x2200 Invalid',
    meaning: 'the server rejected the query as invalid (the message after it says why)',
  },
];

export function cassandraStatementRejected(text: string): StatementRejected | undefined {
  return firstStatementFamily(FAMILIES, text);
}
