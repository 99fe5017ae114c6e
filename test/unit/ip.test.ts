import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ipFamily } from '../../src/text/ip.js';

/** ipFamily answers as net.isIP does (it only avoids the cost of Node's IPv6 expression). */
describe('ipFamily', () => {
  const shaped = fc.oneof(
    // Address-shaped text: groups of hex digits and dots between colons, sometimes a zone.
    fc
      .tuple(
        fc.array(fc.stringMatching(/^[0-9a-fA-F]{0,5}$/), { minLength: 1, maxLength: 10 }),
        fc.option(fc.stringMatching(/^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$/)),
        fc.option(fc.stringMatching(/^%[0-9A-Za-z.:%-]{0,6}$/)),
      )
      .map(([groups, v4, zone]) => `${groups.join(':')}${v4 ? `:${v4}` : ''}${zone ?? ''}`),
    fc.stringMatching(/^[0-9]{1,4}(\.[0-9]{1,4}){0,4}$/),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%[]gxz -'.split('')), maxLength: 45 }),
    fc.string(),
  );

  test('agrees with net.isIP on address-shaped and arbitrary text', () => {
    fc.assert(
      fc.property(shaped, (text) => {
        expect(ipFamily(text), JSON.stringify(text)).toBe(isIP(text));
      }),
      { numRuns: 5000 },
    );
  });

  test('the forms hosts take', () => {
    for (const text of [
      '127.0.0.1',
      '::1',
      '::',
      '::ffff:127.0.0.1',
      'fe80::1%eth0',
      '2001:db8::5432',
      'localhost',
      'db',
      'db:5432',
      '[::1]',
      '1::2::3',
      '256.0.0.1',
      '',
    ])
      expect(ipFamily(text), text).toBe(isIP(text));
  });
});
