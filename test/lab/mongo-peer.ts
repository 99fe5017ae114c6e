import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Binary, deserialize, serialize, type Document } from 'bson';
import { peer, type Peer } from './servers.js';

/**
 * A scripted MongoDB server speaking the real wire protocol (OP_QUERY handshake and OP_MSG, with
 * SCRAM-SHA-256) to the real `mongodb` driver, for faults no server available here can be made
 * to show on cue: a replica set without a primary, a secondary, a full connection table,
 * long-running and lock-waiting operations in currentOp, a shutdown in progress, a user without
 * roles. It answers as the MongoDB manual documents each command.
 */
export interface MongoPeerScript {
  /** Fields merged into every hello reply (setName, hosts, secondary, primary, …). */
  readonly hello?: Document;
  /** hello fails with this error instead (ok: 0). */
  readonly helloError?: { readonly code: number; readonly codeName: string; readonly errmsg: string };
  readonly serverStatus?: Document;
  readonly inprog?: readonly Document[];
  /** users by "db.user": their password; SCRAM-SHA-256 only. */
  readonly users?: Readonly<Record<string, string>>;
  /** authenticatedUserPrivileges for connectionStatus once logged in. */
  readonly privileges?: readonly Document[];
  /** Commands answered with Unauthorized (code 13). */
  readonly unauthorized?: readonly string[];
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const ITERATIONS = 4096;

/** A reply's message header, then its body; `responseTo` ties it to the request. */
function message(opCode: number, responseTo: number, prefix: Buffer, document: Document): Buffer {
  const body = serialize(document);
  const head = Buffer.alloc(16);
  head.writeInt32LE(16 + prefix.length + body.length, 0);
  head.writeInt32LE(responseTo + 100_000, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(opCode, 12);
  return Buffer.concat([head, prefix, body]);
}

/** OP_MSG: flagBits 0, one kind-0 section. */
const opMsg = (responseTo: number, document: Document): Buffer => message(OP_MSG, responseTo, Buffer.from([0, 0, 0, 0, 0]), document);

/** OP_REPLY to the legacy OP_QUERY handshake: AwaitCapable, no cursor, one document. */
function opReply(responseTo: number, document: Document): Buffer {
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(8, 0);
  fields.writeInt32LE(1, 16);
  return message(OP_REPLY, responseTo, fields, document);
}

/** The command document of an OP_MSG (kind 0 section) or OP_QUERY (after the collection name and counts). */
function commandOf(message: Buffer): Document {
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return deserialize(message.subarray(21, 21 + message.readInt32LE(21)));
  const nameEnd = message.indexOf(0, 20);
  const start = nameEnd + 1 + 8;
  return deserialize(message.subarray(start, start + message.readInt32LE(start)));
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

interface Conversation {
  readonly user: string;
  readonly password: string;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  readonly salt: Buffer;
}

export function mongoPeer(script: MongoPeerScript): Promise<Peer> {
  let connectionId = 0;
  return peer(createServer(), (socket: Socket) => {
    connectionId += 1;
    const id = connectionId;
    let buffer = Buffer.alloc(0);
    let conversation: Conversation | undefined;
    let authenticated = false;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 16 && buffer.length >= buffer.readInt32LE(0)) {
        const message = buffer.subarray(0, buffer.readInt32LE(0));
        buffer = buffer.subarray(message.length);
        const requestId = message.readInt32LE(4);
        const legacy = message.readInt32LE(12) === OP_QUERY;
        const reply = answer(commandOf(message));
        socket.write(legacy ? opReply(requestId, reply) : opMsg(requestId, reply));
      }
    });

    function answer(command: Document): Document {
      const name = Object.keys(command)[0] ?? '';
      const failure = (code: number, codeName: string, errmsg: string): Document => ({ ok: 0, code, codeName, errmsg });
      if (script.unauthorized?.includes(name)) return failure(13, 'Unauthorized', `not authorized on admin to execute command { ${name}: 1 }`);
      switch (name.toLowerCase()) {
        case 'hello':
        case 'ismaster': {
          if (script.helloError) return { ok: 0, ...script.helloError };
          const mechanisms =
            typeof command.saslSupportedMechs === 'string' && script.users?.[command.saslSupportedMechs] !== undefined
              ? { saslSupportedMechs: ['SCRAM-SHA-256'] }
              : {};
          return {
            isWritablePrimary: true,
            ismaster: true,
            helloOk: true,
            maxBsonObjectSize: 16_777_216,
            maxMessageSizeBytes: 48_000_000,
            maxWriteBatchSize: 100_000,
            localTime: new Date(),
            logicalSessionTimeoutMinutes: 30,
            connectionId: id,
            minWireVersion: 0,
            maxWireVersion: 17,
            readOnly: false,
            ...script.hello,
            ...mechanisms,
            ok: 1,
          };
        }
        case 'buildinfo':
          return { version: '6.0.0-scripted', versionArray: [6, 0, 0, 0], ok: 1 };
        case 'ping':
        case 'endsessions':
          return { ok: 1 };
        case 'serverstatus':
          return { host: 'scripted', version: '6.0.0-scripted', ...script.serverStatus, ok: 1 };
        case 'currentop':
          return { inprog: [...(script.inprog ?? [])], ok: 1 };
        case 'connectionstatus':
          return {
            authInfo: {
              authenticatedUsers: authenticated && conversation ? [{ user: conversation.user.split('.')[1], db: conversation.user.split('.')[0] }] : [],
              authenticatedUserRoles: [],
              ...(authenticated && script.privileges ? { authenticatedUserPrivileges: [...script.privileges] } : {}),
            },
            ok: 1,
          };
        case 'listcollections':
          return { cursor: { id: 0n, ns: `${String(command.$db)}.$cmd.listCollections`, firstBatch: [] }, ok: 1 };
        case 'saslstart':
          return saslStart(command);
        case 'saslcontinue':
          return saslContinue(command);
        default:
          return failure(59, 'CommandNotFound', `no such command: '${name}'`);
      }
    }

    function saslStart(command: Document): Document {
      const payload = Buffer.from(command.payload instanceof Binary ? command.payload.buffer : []).toString();
      const clientFirstBare = payload.replace(/^n,,/, '');
      const user = /n=([^,]*)/.exec(clientFirstBare)?.[1] ?? '';
      const nonce = /r=([^,]*)/.exec(clientFirstBare)?.[1] ?? '';
      const key = `${String(command.$db)}.${user}`;
      const password = script.users?.[key];
      if (command.mechanism !== 'SCRAM-SHA-256' || password === undefined)
        return { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' };
      const salt = randomBytes(16);
      const serverFirst = `r=${nonce}${randomBytes(18).toString('base64')},s=${salt.toString('base64')},i=${ITERATIONS}`;
      conversation = { user: key, password, clientFirstBare, serverFirst, salt };
      return { conversationId: 1, done: false, payload: new Binary(Buffer.from(serverFirst)), ok: 1 };
    }

    function saslContinue(command: Document): Document {
      const current = conversation;
      const payload = Buffer.from(command.payload instanceof Binary ? command.payload.buffer : []).toString();
      const proof = /,p=([^,]*)$/.exec(payload)?.[1];
      if (!current || !proof) return { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' };
      const withoutProof = payload.replace(/,p=[^,]*$/, '');
      const salted = pbkdf2Sync(current.password, current.salt, ITERATIONS, 32, 'sha256');
      const clientKey = hmac(salted, 'Client Key');
      const authMessage = `${current.clientFirstBare},${current.serverFirst},${withoutProof}`;
      const signature = hmac(sha256(clientKey), authMessage);
      const expected = Buffer.from(clientKey.map((byte, index) => byte ^ (signature[index] ?? 0)));
      const given = Buffer.from(proof, 'base64');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' };
      authenticated = true;
      const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
      return { conversationId: 1, done: true, payload: new Binary(Buffer.from(`v=${serverSignature}`)), ok: 1 };
    }
  });
}
