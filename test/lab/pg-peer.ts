import { createServer } from 'node:net';
import { peer, type Peer } from './servers.js';

/**
 * A scripted PostgreSQL server speaking the real v3 wire protocol, for faults a real server
 * cannot be made to show on cue: a server that logs you in and then never answers, or one that
 * rejects the startup with an error the tree does not know (a proxy's own SQLSTATE).
 */
export type PgPeerBehaviour =
  | { readonly kind: 'reject'; readonly sqlstate: string; readonly message: string }
  | { readonly kind: 'silent-after-login' }
  /**
   * A hostile server: whatever it likes in every field it controls — startup parameters (the
   * version string and any others, as many as it wants), then an ErrorResponse whose message,
   * detail, hint and severity it writes too (escape sequences, megabytes). `login` first sends
   * AuthenticationOk, as after a successful login.
   */
  | {
      readonly kind: 'hostile';
      readonly login: boolean;
      readonly params: readonly (readonly [string, string])[];
      readonly error?: ErrorFields;
      readonly pid?: number;
    };

export interface ErrorFields {
  readonly sqlstate: string;
  readonly message: string;
  readonly severity?: string;
  readonly detail?: string;
  readonly hint?: string;
  /** With PostgreSQL's source-location fields (F, L, R), as a real server sends them (a pooler does not). */
  readonly located?: boolean;
}

const SSL_REQUEST = 80877103;
const PROTOCOL_3 = 196608;

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cstring = (text: string): Buffer => Buffer.from(`${text}\0`, 'utf8');
const int32 = (value: number): Buffer => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

export const backend = {
  authenticationOk: (): Buffer => message('R', int32(0)),
  parameterStatus: (name: string, value: string): Buffer => message('S', Buffer.concat([cstring(name), cstring(value)])),
  backendKeyData: (pid: number): Buffer => message('K', Buffer.concat([int32(pid), int32(12345)])),
  readyForQuery: (): Buffer => message('Z', Buffer.from('I')),
  error: (sqlstate: string, text: string, severity = 'FATAL', more: { detail?: string; hint?: string; located?: boolean } = {}): Buffer =>
    message(
      'E',
      Buffer.concat([
        Buffer.from('S'),
        cstring(severity),
        Buffer.from('V'),
        cstring(severity),
        Buffer.from('C'),
        cstring(sqlstate),
        Buffer.from('M'),
        cstring(text),
        ...(more.detail !== undefined ? [Buffer.from('D'), cstring(more.detail)] : []),
        ...(more.hint !== undefined ? [Buffer.from('H'), cstring(more.hint)] : []),
        ...(more.located ? [Buffer.from('F'), cstring('auth.c'), Buffer.from('L'), cstring('539'), Buffer.from('R'), cstring('ClientAuthentication')] : []),
        Buffer.from([0]),
      ]),
    ),
};

export function pgPeer(behaviour: PgPeerBehaviour): Promise<Peer> {
  return peer(createServer(), (socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (!started && buffer.length >= 8) {
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST) {
          socket.write('N');
        } else if (code === PROTOCOL_3) {
          started = true;
          if (behaviour.kind === 'reject') {
            socket.end(backend.error(behaviour.sqlstate, behaviour.message));
          } else if (behaviour.kind === 'hostile') {
            const said = [
              ...(behaviour.login ? [backend.authenticationOk()] : []),
              ...behaviour.params.map(([name, value]) => backend.parameterStatus(name, value)),
              ...(behaviour.pid !== undefined ? [backend.backendKeyData(behaviour.pid)] : []),
            ];
            const { error } = behaviour;
            if (error) socket.end(Buffer.concat([...said, backend.error(error.sqlstate, error.message, error.severity, error)]));
            else socket.write(Buffer.concat([...said, backend.readyForQuery()]));
          } else {
            socket.write(
              Buffer.concat([
                backend.authenticationOk(),
                backend.parameterStatus('server_version', '15.0 (scripted)'),
                backend.backendKeyData(4242),
                backend.readyForQuery(),
              ]),
            );
          }
        }
      }
      // After login, a silent peer reads every query and answers none.
    });
  });
}
