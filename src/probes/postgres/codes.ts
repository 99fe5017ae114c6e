import type { CauseCode } from '../../engine/causes.js';
import type { Alternative, Reader, Reading } from '../../engine/explainer.js';
import { cannotConnectNowAlso, invalidAuthorizationAlso, passwordFailedAlso, statementTimeoutAlso } from './alternatives.js';
import { SERVER_MESSAGES } from './catalog/selection.js';
import { SQLSTATES } from './catalog/sqlstates.generated.js';
import { causeOfSqlstate } from './classify.js';

/**
 * `dbdoctor explain`'s SQLSTATE layer: the code the server sent, in every client's spelling —
 * "(SQLSTATE 28P01)" (pgx), "SQLSTATE[28P01]" (PHP), "code: '28P01'" (node-postgres), "SQL state:
 * 28P01" (pgAdmin, Hibernate's "SQLState"), "28P01:" (psql's verbose errors, Npgsql), "#28P01"
 * (go-pg), and the exception classes clients name after the condition (psycopg2.errors.
 * InvalidPassword, asyncpg's InvalidPasswordError, Ruby's PG::InvalidPassword, Postgrex's
 * "(invalid_password)"). The code means what the probe's classify.ts says (BY_SQLSTATE, one
 * catalogue); a code with several causes is decided by the English words beside it, and otherwise
 * named with all of them. Codes whose meaning outside a login is not a connection cause (0A000
 * feature_not_supported, 42501 insufficient_privilege) count only beside their connection words.
 */
const CONDITION_OF = new Map<string, string>(SQLSTATES.map(([code, condition]) => [code, condition]));
const CODE_OF_CLASS = new Map<string, string>(SQLSTATES.map(([code, condition]) => [condition.replace(/_/g, ''), code]));
const CODE_OF_CONDITION = new Map<string, string>(SQLSTATES.map(([code, condition]) => [condition, code]));

/** Codes whose cause holds only with the connection words beside them. */
const ONLY_WITH_WORDS: Readonly<Record<string, RegExp>> = {
  '42501': /permission denied for database|CONNECT privilege/i,
  '0A000': /unsupported frontend protocol/i,
};

/** What a code with several causes means when the words do not say which. */
const AMBIGUOUS: Readonly<Record<string, { readonly cause: CauseCode; readonly also: readonly Alternative[] }>> = {
  '28000': { cause: 'auth_failed', also: invalidAuthorizationAlso },
  '57P03': { cause: 'not_accepting', also: cannotConnectNowAlso },
};

const ALSO: Readonly<Record<string, readonly Alternative[]>> = { '28P01': passwordFailedAlso, '57014': statementTimeoutAlso };

/**
 * Codes the probe reads as one cause at connect time that, read from a pasted text, do not decide
 * unless the words beside them do (the same as their catalog messages, catalog/selection.ts):
 * 25006 is a standby or a read-only transaction on a primary ("… during recovery" is a standby);
 * 57P01 on an established session is a shutdown or pg_terminate_backend() ("immediate shutdown"
 * is a shutdown), and decides only inside a connection attempt.
 */
const UNDECIDED: Readonly<Record<string, { readonly decidedBy: RegExp; readonly whileConnecting?: true }>> = {
  '25006': { decidedBy: /during recovery/i },
  '57P01': { decidedBy: /immediate shutdown/i, whileConnecting: true },
};
const UNDECIDED_WHY = new Map(
  SERVER_MESSAGES.filter((message) => message.sqlstate && message.undecided).map((message) => [message.sqlstate as string, message.undecided as string]),
);

const SPELLINGS: readonly RegExp[] = [
  /\bSQL\s?STATE\s*(?:\[|=|:|\(|is\b)?\s*['"]?([0-9A-Z]{5})\b/gi,
  /\bSQL[\s_-]?state\s*(?:\[|=|:|\()?\s*['"]?([0-9A-Z]{5})\b/gi,
  /\b(?:pg)?code["']?\s*[:=]\s*["']([0-9A-Z]{5})["']/gi,
  /(?:^|[\s:])([0-9A-Z]{5}):\s/gm,
  /(?:^|\s)#([0-9A-Z]{5})\b/gm,
  /\b(?:FATAL|ERROR|PANIC)\s+([0-9A-Z]{5})\s+\(/g,
];
const CLASS_NAMES = /\b(?:psycopg2?\.errors\.|psycopg\.errors\.|asyncpg\.exceptions\.|PG::)?([A-Z][a-z]+(?:[A-Z][a-z]+|SQL|Sql)+?)(?:Error|Exception)?\b/g;
const CONDITION_NAMES = /\(([a-z][a-z_]{4,})\)|\bcondition[:=\s]+['"]?([a-z][a-z_]{4,})/g;

function contextOf(text: string, index: number): string {
  const start = text.lastIndexOf('\n', Math.max(0, index - 200));
  const end = text.indexOf('\n', index + 200);
  return text.slice(Math.max(0, start), end === -1 ? undefined : end);
}

function readingOf(code: string, text: string, index: number, words: string): Reading | undefined {
  if (!CONDITION_OF.has(code) || !/\d/.test(code)) return undefined;
  const context = contextOf(text, index);
  const only = ONLY_WITH_WORDS[code];
  if (only && !only.test(context)) return undefined;
  const decided = causeOfSqlstate(code, context);
  if (decided === undefined) return undefined;
  const { cause, also } = decided === 'ambiguous' ? (AMBIGUOUS[code] ?? { cause: undefined, also: undefined }) : { cause: decided, also: ALSO[code] };
  if (!cause) return undefined;
  // A code with several causes and no words to choose: named, as guesses.
  const undecided = UNDECIDED[code];
  const open = undecided && !undecided.decidedBy.test(context);
  const tentative = decided === 'ambiguous' || (open && !undecided.whileConnecting) ? { tentative: true as const } : {};
  const why = open ? UNDECIDED_WHY.get(code) : undefined;
  return {
    id: `sqlstate.${code}`,
    basis: 'code',
    rank: 'server',
    cause,
    ...(also ? { also } : {}),
    ...tentative,
    ...(open && undecided.whileConnecting ? { whileConnecting: true as const } : {}),
    ...(why ? { undecided: why } : {}),
    index,
    end: index + words.length,
    words: `${words.trim()} (${CONDITION_OF.get(code) ?? ''})`,
  };
}

export const sqlstateReader: Reader = {
  id: 'sqlstate',
  read(text) {
    const found: Reading[] = [];
    for (const spelling of SPELLINGS) {
      for (const match of text.matchAll(spelling)) {
        const reading = readingOf((match[1] ?? '').toUpperCase(), text, match.index, match[0]);
        if (reading) found.push(reading);
      }
    }
    for (const match of text.matchAll(CLASS_NAMES)) {
      const name = match[1] ?? '';
      // A bare CamelCase word must be at least two words and spelled like a class (with a module or a suffix).
      if (!/[a-z][A-Z]/.test(name) || (match[0] === name && !/[.:]/.test(text.charAt(match.index - 1)))) continue;
      const code = CODE_OF_CLASS.get(name.toLowerCase());
      const reading = code ? readingOf(code, text, match.index, match[0]) : undefined;
      if (reading) found.push(reading);
    }
    for (const match of text.matchAll(CONDITION_NAMES)) {
      const code = CODE_OF_CONDITION.get(match[1] ?? match[2] ?? '');
      const reading = code ? readingOf(code, text, match.index, match[0]) : undefined;
      if (reading) found.push(reading);
    }
    return found;
  },
};
