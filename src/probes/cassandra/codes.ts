import type { CauseCode } from '../../engine/causes.js';
import type { Alternative, Reader, Reading } from '../../engine/explainer.js';
import { BY_DRIVER_NAME, BY_ERROR_CODE } from './classify.js';
import { ERROR_CODES } from './frame.js';

/**
 * `dbdoctor explain`'s Cassandra code layer: the native protocol's error code (classify.ts:
 * BY_ERROR_CODE, the probe's one table) in every driver's spelling — the number (the Python
 * driver and cqlsh print it in hex without "0x": "code=1000 [Unavailable exception]"; Node.js in
 * decimal: "code: 4096"; "0x1000" in logs), the exception class each driver names after it
 * (UnavailableException, Unavailable, RequestErrUnavailable, OverloadedErrorMessage, …), and the
 * fixed sentence a driver prints for it ("Cassandra timeout during read query at consistency …",
 * "Host … is overloaded"). The drivers' own errors without a code (a client-side timeout) are read
 * through BY_DRIVER_NAME.
 */
type CodeName = keyof typeof ERROR_CODES;

/** Class names per code, as the Python, Java (3.x and 4.x), Node.js, Go and Rust drivers spell them. */
const CLASS_NAMES: Readonly<Partial<Record<CodeName, readonly string[]>>> = {
  // No class for Bad credentials: AuthenticationFailed (Python) and AuthenticationException (Java)
  // are raised as well when the client has no credentials to offer; the code or the words decide.
  unavailable: ['Unavailable', 'UnavailableException', 'RequestErrUnavailable'],
  overloaded: ['OverloadedErrorMessage', 'OverloadedException', 'Overloaded'],
  isBootstrapping: ['IsBootstrappingErrorMessage', 'BootstrappingException'],
  writeTimeout: ['WriteTimeout', 'WriteTimeoutException', 'RequestErrWriteTimeout'],
  readTimeout: ['ReadTimeout', 'ReadTimeoutException', 'RequestErrReadTimeout'],
  readFailure: ['ReadFailure', 'ReadFailureException', 'RequestErrReadFailure'],
  writeFailure: ['WriteFailure', 'WriteFailureException', 'RequestErrWriteFailure'],
  unauthorized: ['Unauthorized', 'UnauthorizedException'],
};

/** The sentence a driver (or the server) prints for a code, when the code itself is not shown. */
const SENTENCES: readonly (readonly [RegExp, CodeName])[] = [
  [
    /Cassandra timeout during (?:\w+ )?read query at consistency|received only \d+ responses? from \d+ CL=|Operation timed out - received only \d+ responses?|Coordinator node timed out waiting for replica nodes' responses|Not enough nodes responded to the read request in time/gi,
    'readTimeout',
  ],
  [/Cassandra timeout during (?:\w+ )?write query at consistency|Not enough nodes responded to the write request in time/gi, 'writeTimeout'],
  [
    /Not enough replicas? (?:were )?available for query at consistency|Cannot achieve consistency level|Not enough nodes are alive to satisfy required consistency level/gi,
    'unavailable',
  ],
  [/\bHost \S+ is overloaded\b|Queried host \(?\S+\)? was overloaded|\[Coordinator node overloaded\]|\bServer is overloaded\b/gi, 'overloaded'],
  [/Cannot perform this operation because the node is bootstrapping|Host \S+ is bootstrapping/gi, 'isBootstrapping'],
];

const NAME_OF_CODE = new Map<number, CodeName>(Object.entries(ERROR_CODES).map(([name, code]) => [code, name as CodeName]));
const CODE_OF_CLASS = new Map<string, CodeName>(
  Object.entries(CLASS_NAMES).flatMap(([name, classes]) => (classes ?? []).map((entry) => [entry, name as CodeName] as const)),
);
const CLASSES = new RegExp(`\\b(${[...CODE_OF_CLASS.keys(), ...Object.keys(BY_DRIVER_NAME)].sort((a, b) => b.length - a.length).join('|')})\\b`, 'g');
/** A short class name ("Unavailable", "ReadTimeout") counts only as a class: with its module, or as an exception ("…: "). */
const AS_CLASS = /(?:cassandra\.(?:\w+\.)?|exceptions\.|servererrors\.)$/;
const distinctive = (name: string): boolean => /(?:Exception|ErrorMessage|Error)$|^RequestErr/.test(name);
const HEX = /\bcode=([0-9a-fA-F]{4})\b|\b0x([0-9a-fA-F]{4})\b|\bError code[:=]?\s*0x([0-9a-fA-F]{1,4})\b/g;
const DECIMAL = /\bcode["']?\s*[:=]\s*(\d{2,5})\b/g;

const ALSO: Readonly<Partial<Record<CauseCode, readonly Alternative[]>>> = {
  no_response: [
    { cause: 'nodes_down', why: 'a node that stopped answering (down, or cut off from the network) while others serve times out the same way' },
    { cause: 'tls_verify_failed', why: 'the Node.js driver reports a TLS handshake that failed as a timeout' },
    { cause: 'long_running', why: "a query that ran longer than the client's read timeout ends the same way" },
  ],
  unavailable: [{ cause: 'overloaded', why: 'replicas that are alive but too busy to answer in time time out the same way' }],
  // Bad credentials (0x0100) is the code of every refused login; the server's words say which.
  auth_failed: [
    { cause: 'permission_denied', why: 'Cassandra sends the same code for a role that may not log in ("… is not permitted to log in")' },
    { cause: 'role_missing', why: 'and for a role that does not exist ("Provided username … and/or password are incorrect")' },
  ],
};

function reading(id: string, cause: CauseCode, index: number, words: string, rank: Reading['rank']): Reading {
  const also = ALSO[cause];
  return { id, basis: 'code', rank, cause, ...(also ? { also } : {}), index, end: index + words.length, words };
}

function byCode(name: CodeName, index: number, words: string): Reading | undefined {
  const cause = BY_ERROR_CODE[ERROR_CODES[name]];
  return cause ? reading(`cql-code.${name}`, cause, index, words, 'server') : undefined;
}

export const cqlCodeReader: Reader = {
  id: 'cql-codes',
  read(text) {
    const found: Reading[] = [];
    for (const match of text.matchAll(HEX)) {
      const name = NAME_OF_CODE.get(Number.parseInt(match[1] ?? match[2] ?? match[3] ?? '', 16));
      const hit = name ? byCode(name, match.index, match[0]) : undefined;
      if (hit) found.push(hit);
    }
    for (const match of text.matchAll(DECIMAL)) {
      const name = NAME_OF_CODE.get(Number(match[1]));
      // Decimal codes only beside the Node.js driver's ResponseError (elsewhere "code: 13" is anyone's).
      if (name && /ResponseError|cassandra-driver/.test(text)) {
        const hit = byCode(name, match.index, match[0]);
        if (hit) found.push(hit);
      }
    }
    for (const match of text.matchAll(CLASSES)) {
      const word = match[1] ?? '';
      if (!distinctive(word) && !AS_CLASS.test(text.slice(Math.max(0, match.index - 40), match.index))) continue;
      const name = CODE_OF_CLASS.get(word);
      if (name) {
        const hit = byCode(name, match.index, match[0]);
        if (hit) found.push(hit);
      } else if (BY_DRIVER_NAME[word]) {
        // A driver's own error name says less than a code or the server's words; a request that timed
        // out decides only while connecting (on a session it is a query the node did not answer in time).
        const timedOut = /^OperationTimedOut/.test(word) ? { whileConnecting: true as const } : {};
        found.push({ ...reading(`cql-driver.${word}`, BY_DRIVER_NAME[word], match.index, match[0], 'symptom'), ...timedOut });
      }
    }
    for (const [pattern, name] of SENTENCES) {
      for (const match of text.matchAll(pattern)) {
        const hit = byCode(name, match.index, match[0]);
        if (hit) found.push(hit);
      }
    }
    return found;
  },
};
