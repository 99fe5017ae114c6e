import type { CauseCode } from '../../engine/causes.js';
import type { Alternative, Reader, Reading } from '../../engine/explainer.js';
import { BY_CODE, BY_CODE_NAME, causeOfServerError } from './classify.js';

/**
 * `dbdoctor explain`'s MongoDB code layer: the server's `code` and `codeName` (classify.ts, the
 * probe's one table) in every driver's and shell's spelling — "code": 13435 (JSON, the shell),
 * code: 13 (Node.js), 'code': 18 (pymongo), "error 13 (Unauthorized)" (Java), "(NotWritablePrimary)"
 * (Go), MongoServerError[…] — and the fixed words the server sends with a code when the code is not
 * shown ("not master and slaveOk=false", "not authorized on admin to execute command"), and the
 * drivers' own fixed sentences for a replica set without a primary.
 */
const NUMBERS = /["']?\bcode["']?\s*[:=]\s*(\d{1,5})\b|\berror (\d{1,5}) \(\w+\)|\bcode (\d{1,5}),? codeName/g;
const NAMES = new RegExp(
  `["']?\\bcodeName["']?\\s*[:=]\\s*["']?(\\w+)|\\((${Object.keys(BY_CODE_NAME).join('|')})\\)|\\[(${Object.keys(BY_CODE_NAME).join('|')})\\]|\\b(${Object.keys(
    BY_CODE_NAME,
  )
    .filter((name) => /[a-z][A-Z]/.test(name))
    .join('|')})\\b`,
  'g',
);

/** The server's fixed words for a code, and the drivers' for no primary. */
const WORDS: readonly (readonly [RegExp, CauseCode, Reading['rank']])[] = [
  [/\bnot (?:master|primary) and (?:slaveOk|secondaryOk)=false\b/gi, 'standby', 'server'],
  [/\bnot authorized on \S+ to execute command\b/gi, 'permission_denied', 'server'],
  [/\bCould not find user "?\S+?"? for db\b/gi, 'role_missing', 'server'],
  [
    /\bno primary found in replica ?set\b|\bNo primary server available\b|\bNo replica set primary available\b|["']?type["']?\s*:\s*["']ReplicaSetNoPrimary["']/gi,
    'no_primary',
    'client',
  ],
];

/** The line around a code: the server's words beside it can be more precise (classify.ts). */
function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', Math.max(0, index - 300));
  const end = text.indexOf('\n', index + 300);
  return text.slice(Math.max(0, start), end === -1 ? undefined : end);
}

const ALSO: Readonly<Partial<Record<CauseCode, readonly Alternative[]>>> = {
  standby: [{ cause: 'no_primary', why: 'during an election no member is primary and every member answers this way' }],
  no_primary: [
    { cause: 'member_unreachable', why: 'a primary that exists but that this client cannot reach (its advertised name does not resolve here) looks the same' },
  ],
};

function reading(id: string, cause: CauseCode, index: number, words: string): Reading {
  const also = ALSO[cause];
  return { id, basis: 'code', rank: 'server', cause, ...(also ? { also } : {}), index, end: index + words.length, words };
}

export const mongoCodeReader: Reader = {
  id: 'mongodb-codes',
  read(text) {
    const found: Reading[] = [];
    for (const match of text.matchAll(NUMBERS)) {
      const code = Number(match[1] ?? match[2] ?? match[3]);
      const cause = BY_CODE[code] ? causeOfServerError({ code, message: lineAround(text, match.index) }) : undefined;
      if (cause) found.push(reading(`mongo-code.${code}`, cause, match.index, match[0]));
    }
    for (const match of text.matchAll(NAMES)) {
      const name = match[1] ?? match[2] ?? match[3] ?? match[4] ?? '';
      const cause = BY_CODE_NAME[name] ? causeOfServerError({ codeName: name, message: lineAround(text, match.index) }) : undefined;
      if (cause) found.push(reading(`mongo-code.${name}`, cause, match.index, match[0]));
    }
    for (const [pattern, cause, rank] of WORDS) {
      for (const match of text.matchAll(pattern)) found.push({ ...reading(`mongo-words.${cause}`, cause, match.index, match[0]), basis: 'words', rank });
    }
    return found;
  },
};
