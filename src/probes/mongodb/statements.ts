import type { StatementFamily, StatementRejected } from '../../engine/explainer.js';
import { firstStatementFamily } from '../common/statements.js';

/**
 * What a MongoDB server says about an operation on a connection that worked: a duplicate key, a
 * document its collection's validator rejects, a malformed query or update. Authorization (13) and
 * the connection's own errors stay with the connection rules.
 */
const FAMILIES: readonly StatementFamily[] = [
  {
    pattern: /\bE11000 duplicate key error|\bDuplicateKey\b/,
    code: '11000 DuplicateKey',
    meaning: 'a document with the same value of a unique index already exists',
  },
  {
    pattern: /\bDocument failed validation|\bDocumentValidationFailure\b/,
    code: '121 DocumentValidationFailure',
    meaning: "the document does not match the collection's validator ($jsonSchema)",
  },
  { pattern: /\bBadValue\b|"code"\s*:\s*2\b[^\n]*"codeName"/, code: '2 BadValue', meaning: 'a value in the query, update or command is not valid' },
  { pattern: /\bFailedToParse\b/, code: '9 FailedToParse', meaning: 'the query or command could not be parsed' },
  { pattern: /\bTypeMismatch\b/, code: '14 TypeMismatch', meaning: 'a value has the wrong type for the operation' },
  {
    pattern: /\bConflictingUpdateOperators\b|would create a conflict at/,
    code: '40 ConflictingUpdateOperators',
    meaning: 'two update operators change the same field',
  },
  { pattern: /\bInvalidNamespace\b|\bNamespaceNotFound\b|\bns not found\b/, code: '26 NamespaceNotFound', meaning: 'the collection does not exist' },
  { pattern: /\bWriteConflict\b/, code: '112 WriteConflict', meaning: 'a concurrent transaction wrote the same document: retry the transaction' },
  { pattern: /\bNoSuchTransaction\b/, code: '251 NoSuchTransaction', meaning: 'the transaction was aborted or has expired: start it again' },
  { pattern: /\bunknown operator: \$\w+|\bunknown top level operator\b/, code: '2 BadValue', meaning: 'the query uses an operator the server does not know' },
  {
    pattern: /\bInvalidPipelineOperator\b|Unrecognized pipeline stage name/,
    code: '168 InvalidPipelineOperator',
    meaning: 'the aggregation pipeline uses a stage or operator the server does not know',
  },
];

export function mongodbStatementRejected(text: string): StatementRejected | undefined {
  return firstStatementFamily(FAMILIES, text);
}
