import { describe, expect, test } from 'vitest';
import { emptyTrace, type ConnectionTrace } from '../../src/probes/postgres/connect.js';
import { BY_MESSAGE, causeOfServerError, decide } from '../../src/probes/postgres/classify.js';
import { causeOfConnectFailure, causeOfResolution } from '../../src/net/classify.js';

/** Classification, layer by layer: SQLSTATE first, then errno, then message text last. */
describe('layer 1: SQLSTATE (with the message only where one SQLSTATE has several meanings)', () => {
  test.each([
    ['57P03', 'the database system is starting up', undefined, 'starting_up'],
    ['57P03', 'the database system is shutting down', undefined, 'shutting_down'],
    ['57P03', 'the database system is in recovery mode', undefined, 'recovery'],
    ['57P03', 'the database system is not yet accepting connections', 'Consistent recovery state has not been yet reached.', 'recovery'],
    ['57P03', 'the database system is not accepting connections', 'Hot standby mode is disabled.', 'recovery'],
    ['57P03', 'das Datenbanksystem startet', undefined, 'not_accepting'],
    ['57P01', 'terminating connection due to administrator command', undefined, 'shutting_down'],
    ['53300', 'sorry, too many clients already', undefined, 'too_many_connections'],
    ['53300', 'remaining connection slots are reserved for non-replication superuser connections', undefined, 'too_many_connections'],
    ['53300', 'too many connections for role "app"', undefined, 'too_many_connections'],
    ['28P01', 'password authentication failed for user "app"', undefined, 'auth_failed'],
    ['28000', 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "app", no encryption', undefined, 'hba_rejected'],
    ['28000', 'pg_hba.conf rejects connection for host "127.0.0.1", user "app", database "app", SSL encryption', undefined, 'hba_rejected'],
    ['28000', 'role "ghost" does not exist', undefined, 'role_missing'],
    ['28000', 'role "locked" is not permitted to log in', undefined, 'permission_denied'],
    ['28000', 'Peer authentication failed for user "app"', undefined, 'auth_failed'],
    ['3D000', 'database "nope" does not exist', undefined, 'database_missing'],
    ['42501', 'permission denied for database "private"', 'User does not have CONNECT privilege.', 'permission_denied'],
    ['0A000', 'unsupported frontend protocol 3.0: server supports 2.0 to 2.0', undefined, 'wrong_protocol'],
    ['08004', 'server rejected the connection', undefined, 'not_accepting'],
  ])('%s "%s" → %s', (code, message, detail, cause) => {
    expect(causeOfServerError({ code, severity: 'FATAL', message, ...(detail ? { detail } : {}) })).toBe(cause);
  });
});

describe('layer 2: errno, before any protocol (shared by every engine)', () => {
  test.each([
    ['refused', 'refused'],
    ['missing', 'refused'],
    ['timeout', 'connect_timeout'],
    ['unreachable', 'host_unreachable'],
    ['denied', 'host_unreachable'],
    ['reset', 'no_response'],
    ['error', 'no_response'],
  ] as const)('connect %s → %s', (outcome, cause) => {
    expect(causeOfConnectFailure({ outcome })).toBe(cause);
  });

  test.each([
    ['not_found', 'dns_not_found'],
    ['temporary', 'dns_temporary'],
  ] as const)('resolution %s → %s', (outcome, cause) => {
    expect(causeOfResolution({ outcome, host: 'db', code: 'X', message: '', durationMs: 0 })).toBe(cause);
  });
});

describe('layer 3: message text, for proxies and servers that send no SQLSTATE', () => {
  test.each([
    ['FATAL: sorry, too many clients already', 'too_many_connections'],
    ['no more connections allowed (max_client_conn)', 'too_many_connections'],
    ['password authentication failed for user "x"', 'auth_failed'],
    ['FATAL:  no pg_hba.conf entry for host "1.2.3.4"', 'hba_rejected'],
    ['database "x" does not exist', 'database_missing'],
    ['role "x" does not exist', 'role_missing'],
    ['the database system is starting up', 'starting_up'],
  ])('"%s" → %s', (text, cause) => {
    expect(BY_MESSAGE.find(([pattern]) => pattern.test(text))?.[1]).toBe(cause);
  });

  test('an unknown SQLSTATE falls back to the message table', () => {
    expect(causeOfServerError({ code: 'XX999', severity: 'FATAL', message: 'sorry, too many clients already' })).toBe('too_many_connections');
  });
});

function trace(partial: Partial<ConnectionTrace>): ConnectionTrace {
  return { ...emptyTrace(1000), phase: 'startup', ...partial };
}

describe('deciding what an attempt means', () => {
  const tcp = { host: 'db', port: 5432, transport: 'tcp' as const };
  test('a session is a session', () => {
    expect(decide(trace({ phase: 'ready' }))).toEqual({ kind: 'session' });
  });
  test('DNS failures go to network', () => {
    expect(
      decide(
        trace({
          phase: 'dns',
          endpoints: [{ ...tcp, dns: { outcome: 'not_found', host: 'db', code: 'ENOTFOUND', message: '', durationMs: 1 }, connects: [] }],
        }),
      ),
    ).toEqual({ kind: 'failure', step: 'network', cause: 'dns_not_found' });
  });
  test('every address refused: the process step decides why', () => {
    expect(
      decide(
        trace({
          phase: 'tcp',
          endpoints: [
            {
              ...tcp,
              connects: [
                { address: '::1', outcome: 'refused', durationMs: 1 },
                { address: '127.0.0.1', outcome: 'refused', durationMs: 1 },
              ],
            },
          ],
        }),
      ),
    ).toEqual({ kind: 'refused' });
  });
  test('one address refused, another timed out: the timeout is the more telling', () => {
    expect(
      decide(
        trace({
          phase: 'tcp',
          endpoints: [
            {
              ...tcp,
              connects: [
                { address: '::1', outcome: 'refused', durationMs: 1 },
                { address: '10.0.0.1', outcome: 'timeout', durationMs: 1 },
              ],
            },
          ],
        }),
      ),
    ).toEqual({ kind: 'failure', step: 'network', cause: 'connect_timeout' });
  });
  test('a socket file we may not open: permission_denied', () => {
    expect(
      decide(
        trace({
          phase: 'tcp',
          endpoints: [{ host: '/run/pg', port: 5432, transport: 'unix', connects: [{ address: '/run/pg/.s.PGSQL.5432', outcome: 'denied', durationMs: 1 }] }],
        }),
      ),
    ).toEqual({ kind: 'failure', step: 'auth', cause: 'permission_denied' });
  });
  const connected = { connected: { host: 'db', port: 5432, address: '10.0.0.1', transport: 'tcp' as const } };
  test('connected and silent: no_response', () => {
    expect(decide(trace({ ...connected, phase: 'ssl', sslReply: 'none', timedOut: true }))).toEqual({
      kind: 'failure',
      step: 'accepting',
      cause: 'no_response',
    });
  });
  test('"N" to SSLRequest when TLS is required: tls_unsupported', () => {
    expect(decide(trace({ ...connected, phase: 'ssl', sslReply: 'N' }))).toEqual({ kind: 'failure', step: 'accepting', cause: 'tls_unsupported' });
  });
  test('an hba rejection that a TLS connection gets past: tls_required', () => {
    const serverError = {
      code: '28000',
      severity: 'FATAL',
      message: 'pg_hba.conf rejects connection for host "127.0.0.1", user "u", database "d", no encryption',
    };
    expect(decide(trace({ ...connected, serverError, tlsWouldBeAdmitted: true }))).toEqual({ kind: 'failure', step: 'accepting', cause: 'tls_required' });
    expect(decide(trace({ ...connected, serverError, tlsWouldBeAdmitted: false }))).toEqual({ kind: 'failure', step: 'auth', cause: 'hba_rejected' });
  });
  test('a password asked for and none given: password_missing', () => {
    expect(decide(trace({ ...connected, phase: 'auth', passwordMissing: true }))).toEqual({ kind: 'failure', step: 'auth', cause: 'password_missing' });
  });
  test('something else answered: wrong_protocol', () => {
    expect(decide(trace({ ...connected, answeredBy: { protocol: 'http', description: 'HTTP', sample: 'HTTP/1.1' } }))).toEqual({
      kind: 'failure',
      step: 'accepting',
      cause: 'wrong_protocol',
    });
  });
});
