import type { HostPart, HostSplitter } from '../engine/explainer.js';
import { ENGINE_NAMES, ERROR_SHAPES, type EngineName } from '../engines/registry.js';
import { bounded } from '../text/bound.js';

/**
 * A driver's error object, read by its shape (never by `instanceof` of a driver class: the driver
 * that made it need not be installed here, nor be the same copy). The structure is exact where the
 * printed message is a guess, so it is read first:
 *
 *  - node-postgres' DatabaseError: the SQLSTATE `code`, `severity`, `routine`;
 *  - Node.js' socket and resolver errors: `code`, `errno`, `syscall`, `address`, `port`,
 *    `hostname`; an AggregateError (`errors`) holds one per address tried;
 *  - the MongoDB driver: `code`, `codeName`, `errorLabels`; a MongoServerSelectionError's `reason`
 *    is the topology description, whose `servers` map holds each server's own `error`;
 *  - cassandra-driver: a NoHostAvailableError's `innerErrors` maps each host to its error; a
 *    ResponseError's numeric `code` is the native protocol's error code;
 *  - `cause` chains, at every level.
 *
 * What is read becomes text in the spellings explain's readers already know (Node.js' own: `code:
 * 'ECONNREFUSED'`, `connect ECONNREFUSED 127.0.0.1:5432`, `code: '28P01'`, `codeName:
 * 'AuthenticationFailed'`, `code: 256`): the fields first, the message last. So an object and a
 * paste of its printout are judged by one set of rules. Each host the structure names gets a part
 * of its own, split where the structure says (not where a pattern guesses).
 */
export interface ErrorObjectReading {
  /** The engine the shape belongs to, when it says (a SQLSTATE with a severity, a codeName, innerErrors…). */
  readonly engine: EngineName | undefined;
  /** The fields and the messages, one part per host when the object names several. */
  readonly text: string;
  /** The fields alone, without any message: what decides when the messages contradict them. */
  readonly codes: string;
  /** Splits `text` (after explain's normalisation) at the hosts the structure named. */
  readonly hosts: HostSplitter | undefined;
  /** Every string read from the object, so that the passwords they carry can be registered as secrets. */
  readonly strings: readonly string[];
  /** Every message of the object and of what it wraps, outermost first: read one by one when the whole says nothing. */
  readonly messages: readonly string[];
}

/** Whether a value is worth reading as an error object: an object with a message, a code or inner errors. */
export function isErrorLike(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  return ['message', 'code', 'errno', 'errors', 'innerErrors', 'reason', 'cause'].some((key) => field(value, key) !== undefined);
}

/** Past this many levels (causes, inner errors), a chain is hostile or broken: read no deeper. */
const MAX_DEPTH = 8;
/** At most this many hosts (a cluster's contact points): the rest add nothing a person reads. */
const MAX_HOSTS = 32;
/** A message longer than this is cut (explain reads only the end of a long paste anyway). */
const MAX_MESSAGE = 4000;

interface Leaf {
  readonly host: string | undefined;
  readonly port: string | undefined;
  /** The error and its causes, outermost first. */
  readonly chain: readonly object[];
}

export function readErrorObject(error: object): ErrorObjectReading {
  const strings: string[] = [];
  const messages: string[] = [];
  const leaves = leavesOf(error, undefined, undefined, new Set(), 0);
  const engine = engineOf(error, new Set(), 0);
  const several = leaves.length > 1;
  const head = several ? lineOf(error, { message: false, strings, messages }).replace(/: $/, '') : '';
  const render = (withMessages: boolean): string => {
    const parts = leaves.map((leaf) => {
      const lines = leaf.chain.map((level, index) => `${index > 0 ? 'Caused by: ' : ''}${lineOf(level, { message: withMessages, strings, messages })}`);
      const body = lines.filter((line) => line.trim() !== '' && line !== 'Caused by: ').join('\n');
      return several ? `${HOST_MARK(leaf.host ?? 'unknown', leaf.port)}${body}` : body;
    });
    return [head, ...parts].filter((part) => part !== '').join('\n');
  };
  const text = render(true);
  return { engine, text, codes: render(false), hosts: several ? hostSplitter() : undefined, strings, messages: [...new Set(messages)] };
}

/**
 * Where a host's part starts: a line of dbdoctor's own making (not any client's, so that no engine
 * is hinted by it), with the host and port in the form libpq and explain's field patterns read.
 */
const HOST_MARK = (host: string, port: string | undefined): string => `host ${host}${port ? `, port ${port}` : ''}: `;
const HOST_LINE = /^host (?<host>\S+?)(?:, port (?<port>\d{1,5}))?: /gm;

function hostSplitter(): HostSplitter {
  return {
    id: 'error-object',
    split(text: string): readonly HostPart[] {
      const starts = [...text.matchAll(HOST_LINE)];
      return starts.map((match, index) => ({
        host: match.groups?.host ?? '',
        ...(match.groups?.port ? { port: match.groups.port } : {}),
        start: match.index,
        end: starts[index + 1]?.index ?? text.length,
      }));
    },
  };
}

/** The errors an object holds, one per host when it names several: a leaf keeps its cause chain. */
function leavesOf(error: object, host: string | undefined, port: string | undefined, seen: Set<object>, depth: number): Leaf[] {
  const chain: object[] = [];
  for (let level: unknown = error; isObject(level) && !seen.has(level) && chain.length + depth < MAX_DEPTH; level = causeOf(level)) {
    seen.add(level);
    const inner = perHost(level);
    if (inner.length > 0) {
      const leaves = inner
        .slice(0, MAX_HOSTS)
        .flatMap((entry) => leavesOf(entry.error, entry.host ?? host, entry.port ?? port, seen, depth + chain.length + 1));
      // The levels above the split (a wrapper's name) lead every host's part; nothing is lost.
      const [only] = leaves;
      if (only && leaves.length === 1) return [{ ...only, chain: [...chain, ...only.chain] }];
      if (leaves.length > 0) return leaves;
    }
    chain.push(level);
  }
  if (chain.length === 0) return [];
  const own = chain.map(addressOf).find((address) => address.host !== undefined);
  return [{ host: host ?? own?.host, port: port ?? own?.port, chain }];
}

/**
 * The error a level wraps: its standard `cause`, or cassandra-driver's `additionalInfo` (an
 * AuthenticationError holds the server's ResponseError, with the protocol's error code, there).
 */
function causeOf(error: object): unknown {
  const cause = field(error, 'cause');
  if (isObject(cause)) return cause;
  const info = field(error, 'additionalInfo');
  return isObject(info) && (field(info, 'message') !== undefined || field(info, 'code') !== undefined) ? info : undefined;
}

/** The per-host errors an object holds: an AggregateError's `errors`, a driver's host map, a topology's servers. */
function perHost(error: object): { host?: string; port?: string; error: object }[] {
  const errors = field(error, 'errors');
  if (Array.isArray(errors) && errors.length > 0) return errors.filter(isObject).map((inner) => ({ error: inner }));
  const innerErrors = field(error, 'innerErrors');
  if (isObject(innerErrors)) return entriesOf(innerErrors).flatMap(([key, inner]) => (isObject(inner) ? [{ ...splitAddress(key), error: inner }] : []));
  const servers = field(field(error, 'reason'), 'servers');
  if (isObject(servers)) {
    return entriesOf(servers).flatMap(([key, description]) => {
      const inner = field(description, 'error');
      return isObject(inner) ? [{ ...splitAddress(stringField(description, 'address') ?? key), error: inner }] : [];
    });
  }
  return [];
}

/** A Map's entries or a plain object's own entries, read safely (a hostile getter throws nothing out). */
function entriesOf(value: object): [string, unknown][] {
  try {
    if (value instanceof Map) return [...value.entries()].slice(0, MAX_HOSTS).map(([key, entry]) => [String(key), entry]);
    return Object.keys(value)
      .slice(0, MAX_HOSTS)
      .map((key) => [key, field(value, key)]);
  } catch {
    return [];
  }
}

function splitAddress(address: string): { host?: string; port?: string } {
  const match = /^\[?([^\]]*?)\]?(?::(\d{1,5}))?$/.exec(address.trim());
  if (!match?.[1]) return {};
  return { host: match[1], ...(match[2] ? { port: match[2] } : {}) };
}

function addressOf(error: object): { host?: string; port?: string } {
  const host = stringField(error, 'address') ?? stringField(error, 'hostname') ?? stringField(error, 'host');
  const port = field(error, 'port');
  return { ...(host ? { host } : {}), ...(typeof port === 'number' || (typeof port === 'string' && /^\d{1,5}$/.test(port)) ? { port: String(port) } : {}) };
}

/** The engine an error's shape belongs to, at any level of its chain or hosts. */
function engineOf(error: unknown, seen: Set<object>, depth: number): ErrorObjectReading['engine'] {
  if (!isObject(error) || seen.has(error) || depth > MAX_DEPTH) return undefined;
  seen.add(error);
  const read = (...path: string[]): unknown => path.reduce<unknown>((value, key) => field(value, key), error);
  const own = ENGINE_NAMES.find((engine) => {
    try {
      return ERROR_SHAPES[engine](read);
    } catch {
      return false;
    }
  });
  if (own) return own;
  for (const inner of [causeOf(error), ...perHost(error).map((entry) => entry.error)]) {
    const found = engineOf(inner, seen, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * One level of an error as one line of text: its name and the fields explain's readers read, in
 * Node.js' own spelling; then its message, unless only the fields are asked for.
 */
function lineOf(error: object, options: { message: boolean; strings: string[]; messages: string[] }): string {
  const name = stringField(error, 'name');
  const message = stringField(error, 'message');
  const code = field(error, 'code');
  const errno = field(error, 'errno');
  const syscall = stringField(error, 'syscall');
  const { host, port } = addressOf(error);
  const fields: string[] = [];
  if (typeof code === 'string' && /^[\w.-]{1,40}$/.test(code)) fields.push(`code: '${code}'`);
  else if (typeof code === 'number' && Number.isInteger(code)) fields.push(`code: ${code}`);
  if (typeof errno === 'number' && Number.isInteger(errno)) fields.push(`errno: ${errno}`);
  for (const key of ['severity', 'routine', 'codeName'] as const) {
    const value = stringField(error, key);
    if (value && /^[\w ]{1,60}$/.test(value)) fields.push(`${key}: '${value}'`);
  }
  const labels = labelsOf(error);
  if (labels.length > 0) fields.push(`errorLabels: [ ${labels.map((label) => `'${label}'`).join(', ')} ]`);
  // Node.js' own sentence for a socket or resolver error, from its fields: what its message says
  // when there is one, and all there is to read when an object carries only the fields.
  const sentence =
    syscall && typeof code === 'string' && /^E[A-Z_]+$/.test(code)
      ? `${syscall} ${code}${host ? ` ${host}${port && syscall === 'connect' ? `:${port}` : ''}` : ''}`
      : undefined;
  if (host) fields.push(`address: '${host}'`);
  if (port) fields.push(`port: ${port}`);
  for (const value of [name, message, sentence, host, ...secretBearing(error)]) if (value) options.strings.push(value);
  if (message) options.messages.push(bounded(message, MAX_MESSAGE));
  const said = options.message && message ? bounded(message, MAX_MESSAGE) : undefined;
  const words = [said, sentence && !said?.includes(sentence) ? sentence : undefined].filter((part) => part !== undefined).join(' ');
  // The stack's frames name the client's modules (node_modules/pg-protocol, …) and show a connect
  // in progress; read with the words, never alone.
  const frames = options.message ? framesOf(error) : [];
  return `${name ? `${name}: ` : ''}${words}${fields.length > 0 ? `${words ? ' ' : ''}{ ${fields.join(', ')} }` : ''}${frames.map((frame) => `\n    ${frame}`).join('')}`;
}

/**
 * Other string fields that may carry a password (a connection string a wrapper kept, `url`,
 * `connectionString`): never shown, only handed over so that the password is masked wherever
 * else it appears (a message that quotes it bare).
 */
function secretBearing(error: object): string[] {
  let keys: string[];
  try {
    keys = Object.keys(error).slice(0, 50);
  } catch {
    return [];
  }
  return keys.flatMap((key) => {
    const value = field(error, key);
    return typeof value === 'string' && (/:\/\/[^\s/@]*:[^\s@]*@|\bpassword\s*=/i.test(value) || /pass(word)?|secret|token/i.test(key))
      ? [key.match(/pass(word)?|secret|token/i) ? `${key}=${value}` : bounded(value, MAX_MESSAGE)]
      : [];
  });
}

/** At most this many frames of a stack: the innermost, where the client's modules are. */
const MAX_FRAMES = 12;

function framesOf(error: object): string[] {
  const stack = stringField(error, 'stack');
  if (!stack) return [];
  return stack
    .slice(0, 20_000)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^at \S/.test(line))
    .slice(0, MAX_FRAMES);
}

function labelsOf(error: object): string[] {
  const labels = field(error, 'errorLabels');
  const set = field(error, 'errorLabelSet');
  const values = Array.isArray(labels) ? labels : set instanceof Set ? [...set] : [];
  return values.filter((label): label is string => typeof label === 'string' && /^\w{1,60}$/.test(label)).slice(0, 10);
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

/** A property, read so that nothing the object does can throw out of explain (a getter, a Proxy trap). */
function field(value: unknown, key: string): unknown {
  if (!isObject(value)) return undefined;
  try {
    const found: unknown = Reflect.get(value, key);
    return found;
  } catch {
    return undefined;
  }
}

function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' && found !== '' ? found : undefined;
}
