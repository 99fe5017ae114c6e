import { describe, expect, test } from 'vitest';
import { whereItListens } from '../../src/probes/common/refusal.js';

/**
 * A not_listening finding says where the running server listens — or, when the host backend could
 * not read its sockets (another user's server under lsof, netstat refused), that this was not
 * seen, and how to look on that OS; never "it listens on no address" from a look that did not happen.
 */
describe('whereItListens', () => {
  test("sockets read: the addresses, or the engine's words for none", () => {
    expect(whereItListens(['127.0.0.1:5433'], [{ seenVia: 'file descriptors' }], { os: 'linux', processName: 'postgres', none: 'no TCP address' })).toEqual({
      words: 'it listens on 127.0.0.1:5433',
      fixes: [],
      listeningOn: ['127.0.0.1:5433'],
    });
    expect(whereItListens([], [{ seenVia: 'file descriptors' }], { os: 'linux', processName: 'postgres', none: 'no TCP address' }).words).toBe(
      'it listens on no TCP address',
    );
  });

  test.each([
    ['linux', /ss -tlnp/],
    ['macos', /lsof -nP -iTCP -sTCP:LISTEN/],
    ['windows', /Get-NetTCPConnection -State Listen/],
  ] as const)('sockets not read (%s): said so, with how to look there, and no address claimed', (os, command) => {
    const where = whereItListens([], [{ seenVia: 'file descriptors' }, { seenVia: 'nothing readable' }], {
      os,
      processName: 'postgres',
      none: 'no TCP address',
    });
    expect(where.words).toContain('could not be read');
    expect(where.words).not.toContain('no TCP address');
    expect(where.listeningOn).toBe('not read');
    expect(where.fixes[0]?.command).toMatch(command);
  });
});
