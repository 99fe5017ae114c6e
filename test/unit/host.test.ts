import { describe, expect, test } from 'vitest';
import { bindingCovers, isLoopback } from '../../src/host/local.js';
import { decodeIPv4, decodeIPv6, parseTcpTable, parseUnixTable } from '../../src/host/proc.js';
import { parsePostmasterPid } from '../../src/probes/postgres/local.js';
import { explainRefusal, type RefusedEndpoint } from '../../src/probes/postgres/refusal.js';
import type { LocalScan, PgLocalServer } from '../../src/probes/postgres/local.js';

describe('/proc parsing', () => {
  test('IPv4 and IPv6 addresses as /proc/net stores them', () => {
    expect(decodeIPv4('0100007F')).toBe('127.0.0.1');
    expect(decodeIPv4('00000000')).toBe('0.0.0.0');
    expect(decodeIPv6('00000000000000000000000001000000')).toBe('::1');
    expect(decodeIPv6('00000000000000000000000000000000')).toBe('::');
    expect(decodeIPv6('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
  });

  test('listening TCP sockets only (state 0A)', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 31337 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:D431 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(parseTcpTable(table, 'tcp')).toEqual([{ transport: 'tcp', address: '127.0.0.1', port: 5432, inode: 31337 }]);
  });

  test('listening Unix sockets with paths, and abstract ones (PostgreSQL listens on "@name" when told to)', () => {
    const table = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 23456 /var/run/postgresql/.s.PGSQL.5432',
      '0000000000000000: 00000003 00000000 00000000 0001 03 23457 /var/run/postgresql/.s.PGSQL.5432',
      '0000000000000000: 00000002 00000000 00010000 0001 01 23458 @abstract',
    ].join('\n');
    expect(parseUnixTable(table)).toEqual([
      { transport: 'unix', address: '/var/run/postgresql/.s.PGSQL.5432', port: undefined, inode: 23456 },
      { transport: 'unix', address: '@abstract', port: undefined, inode: 23458 },
    ]);
  });

  test('postmaster.pid, line by line', () => {
    expect(parsePostmasterPid('4993\n/tmp/pgx/d\n1795425151\n54999\n/tmp/pgx\n*\n  9977937        14\nstarting\n')).toEqual({
      pid: 4993,
      port: 54999,
      socketDir: '/tmp/pgx',
      listenAddress: '0.0.0.0',
      status: 'starting',
    });
  });

  test('postmaster.pid of a standalone backend: its pid negated, no socket lines', () => {
    expect(parsePostmasterPid('-27114\n/tmp/idb/d2\n1795438567\n5432\n\n\n 10478553   1146914\n')).toEqual({ pid: -27114, port: 5432 });
  });

  test('which bound addresses accept which targets', () => {
    expect(bindingCovers('0.0.0.0', '127.0.0.2')).toBe(true);
    expect(bindingCovers('::', '10.0.0.1')).toBe(true);
    expect(bindingCovers('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
  });
});

describe('why a connection was refused', () => {
  const server = (tcp: { address: string; port: number }[], sockets: string[] = []): PgLocalServer => ({ pid: 100, tcp, sockets, seenVia: 'file descriptors' });
  const scan = (servers: PgLocalServer[], strayPorts: LocalScan['strayPorts'] = [], standalone: LocalScan['standalone'] = []): LocalScan => ({
    servers,
    standalone,
    strayPorts,
    durationMs: 1,
  });
  const tcpEndpoint: RefusedEndpoint = { transport: 'tcp', addresses: ['127.0.0.1'], port: 5432, attempted: '127.0.0.1:5432' };

  test('remote host: not_running, nothing inspected', () => {
    expect(explainRefusal(tcpEndpoint, undefined)).toMatchObject({ cause: 'not_running', where: 'remote' });
  });
  test('nothing runs here: not_running', () => {
    expect(explainRefusal(tcpEndpoint, scan([]))).toMatchObject({ cause: 'not_running', where: 'local' });
  });
  test('listening on another port of the same address: wrong_port', () => {
    expect(explainRefusal(tcpEndpoint, scan([server([{ address: '127.0.0.1', port: 5433 }])]))).toMatchObject({ cause: 'wrong_port', ports: [5433] });
  });
  test('listening on all addresses, another port: wrong_port', () => {
    expect(explainRefusal(tcpEndpoint, scan([server([{ address: '0.0.0.0', port: 6543 }])]))).toMatchObject({ cause: 'wrong_port', ports: [6543] });
  });
  test('same port, another address: not_listening', () => {
    expect(
      explainRefusal({ ...tcpEndpoint, addresses: ['10.0.0.5'], attempted: '10.0.0.5:5432' }, scan([server([{ address: '127.0.0.1', port: 5432 }])])),
    ).toMatchObject({ cause: 'not_listening' });
  });
  test('no fd access, but a socket file names another port: wrong_port', () => {
    expect(
      explainRefusal(
        tcpEndpoint,
        scan([{ pid: 1, tcp: [], sockets: [], seenVia: 'nothing readable' }], [{ path: '/run/postgresql/.s.PGSQL.5433', port: 5433 }]),
      ),
    ).toMatchObject({ cause: 'wrong_port', ports: [5433] });
  });
  test('socket in the same directory, another port: wrong_port', () => {
    const socketEndpoint: RefusedEndpoint = { transport: 'unix', addresses: ['/run/pg/.s.PGSQL.5432'], port: 5432, attempted: '/run/pg/.s.PGSQL.5432' };
    expect(explainRefusal(socketEndpoint, scan([server([], ['/run/pg/.s.PGSQL.5433'])]))).toMatchObject({ cause: 'wrong_port', ports: [5433] });
    expect(explainRefusal(socketEndpoint, scan([server([], ['/tmp/.s.PGSQL.5432'])]))).toMatchObject({
      cause: 'not_listening',
      listening: ['/tmp/.s.PGSQL.5432'],
    });
  });
  test('the server for this port is starting or stopping, sockets not open: in_transition', () => {
    const starting: PgLocalServer = { ...server([]), status: 'starting', port: 5432 };
    expect(explainRefusal(tcpEndpoint, scan([starting]))).toMatchObject({ cause: 'in_transition', state: 'starting' });
    expect(explainRefusal(tcpEndpoint, scan([{ ...starting, status: 'stopping' }]))).toMatchObject({ cause: 'in_transition', state: 'stopping' });
    // Before the status line is written: a pid file with a port, no status, no socket yet.
    const { status: _unwritten, ...early } = starting;
    expect(explainRefusal(tcpEndpoint, scan([early]))).toMatchObject({ cause: 'in_transition', state: 'starting' });
    expect(explainRefusal(tcpEndpoint, scan([{ ...early, port: 6000 }]))).toMatchObject({ cause: 'not_running', where: 'local' });
  });
  test('another cluster starting, with no socket open yet, is no evidence about this port', () => {
    const otherStarting: PgLocalServer = { ...server([]), pid: 200, status: 'starting', port: 6000 };
    expect(explainRefusal(tcpEndpoint, scan([otherStarting]))).toMatchObject({ cause: 'not_running', where: 'local' });
    expect(explainRefusal(tcpEndpoint, scan([otherStarting, server([{ address: '127.0.0.1', port: 5433 }])]))).toMatchObject({
      cause: 'wrong_port',
      ports: [5433],
    });
    // Once it listens, it counts like any other.
    expect(explainRefusal(tcpEndpoint, scan([{ ...otherStarting, tcp: [{ address: '127.0.0.1', port: 6000 }] }]))).toMatchObject({
      cause: 'wrong_port',
      ports: [6000],
    });
  });
  test('a single-user backend holding the data directory for this port: not_running, and it is named', () => {
    const single = { pid: 300, mode: 'single-user' as const, dataDir: '/srv/pg', port: 5432 };
    expect(explainRefusal(tcpEndpoint, scan([], [], [single]))).toEqual({ cause: 'not_running', where: 'local', attempted: '127.0.0.1:5432', heldBy: single });
    expect(explainRefusal(tcpEndpoint, scan([server([{ address: '127.0.0.1', port: 5433 }])], [], [single]))).toMatchObject({
      cause: 'wrong_port',
      heldBy: single,
    });
    // One for another port (initdb creating another cluster) is no evidence about this one.
    expect(explainRefusal(tcpEndpoint, scan([], [], [{ ...single, port: 6000 }]))).toEqual({
      cause: 'not_running',
      where: 'local',
      attempted: '127.0.0.1:5432',
    });
  });
});
