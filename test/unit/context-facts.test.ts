import { describe, expect, test } from 'vitest';
import { visibilityOf, type ActivityRow } from '../../src/probes/postgres/activity.js';
import type { PgContext } from '../../src/probes/postgres/context.js';
import { serverStatusLimit, type MongoContext } from '../../src/probes/mongodb/context.js';
import type { CqlContext } from '../../src/probes/cassandra/context.js';

/**
 * Facts are memoised, steps do not write back (CONTRIBUTING.md, "Writing a step"). What a later
 * step needs is derived from a fact of the context by a pure function, whichever step asked for
 * the fact first; the integration tests run the steps with and without the pool step
 * (postgres-pool, mongodb-scripted, cassandra-real: "--skip pool").
 */
describe("the role's view of pg_stat_activity, from the activity fact", () => {
  const row = (privileges: Pick<ActivityRow, 'is_superuser' | 'reads_all_stats'>, hidden = 0): ActivityRow => ({
    max_connections: 100,
    superuser_reserved: 3,
    reserved: 0,
    in_use: 5,
    hidden,
    active: 1,
    idle: 4,
    idle_long: 0,
    idle_in_transaction: 0,
    stuck: [],
    ...privileges,
  });

  test.each([
    ['a superuser', { is_superuser: true, reads_all_stats: false }],
    ['a role granted pg_read_all_stats', { is_superuser: false, reads_all_stats: true }],
    ['a superuser whose pg_roles row is not readable, granted pg_read_all_stats', { is_superuser: null, reads_all_stats: true }],
  ])('%s sees every session', (_name, privileges) => {
    expect(visibilityOf(row(privileges, 2), 'app')).toEqual({ allSessions: true, hiddenSessions: 0 });
  });

  test.each([
    ['neither', { is_superuser: false, reads_all_stats: false }],
    ['unknown superuser status, no pg_read_all_stats', { is_superuser: null, reads_all_stats: false }],
  ])('%s: a limited view, naming the role, with the hidden sessions counted', (_name, privileges) => {
    expect(visibilityOf(row(privileges, 2), 'app')).toEqual({
      allSessions: false,
      hiddenSessions: 2,
      reason: `role "app" is not a superuser and lacks pg_read_all_stats: other roles' sessions show no state or query`,
    });
  });
});

describe('serverStatus refused: the limited view the MongoDB steps report', () => {
  test('an error names the command, the code name and the message', () => {
    expect(
      serverStatusLimit({ kind: 'error', error: { name: 'MongoServerError', code: 13, codeName: 'Unauthorized', message: 'not authorized on admin' } }),
    ).toBe('serverStatus is not permitted for this user (Unauthorized: not authorized on admin)');
    expect(serverStatusLimit({ kind: 'error', error: { name: 'MongoServerError', code: 13, message: 'no' } })).toBe(
      'serverStatus is not permitted for this user (13: no)',
    );
  });

  test('an answer, or no session to ask through, limits nothing', () => {
    expect(serverStatusLimit({ kind: 'ok', reply: { ok: 1 } })).toBeUndefined();
    expect(serverStatusLimit(undefined)).toBeUndefined();
  });
});

/**
 * The compiler keeps the rule: every member of a context is readonly, so no step can set a field
 * for the steps after it or replace a fact (`npm run typecheck` checks these lines).
 */
describe('contexts are readonly', () => {
  test('no step can patch a PostgreSQL, MongoDB or Cassandra context', () => {
    const patch = (pg: PgContext, mongo: MongoContext, cql: CqlContext): void => {
      // @ts-expect-error the PostgreSQL target is the connection's, not a step's to set
      pg.target = pg.requested;
      // @ts-expect-error a fact cannot be replaced by a step
      pg.visibility = () => Promise.resolve(undefined);
      // @ts-expect-error a fact cannot be replaced by a step
      pg.poolerWithSession = () => Promise.resolve(undefined);
      // @ts-expect-error the MongoDB target as given stays as given; the survey's is the survey's
      mongo.requested = { ...mongo.requested };
      // @ts-expect-error a fact cannot be replaced by a step
      mongo.serverStatus = () => Promise.resolve(undefined);
      // @ts-expect-error a fact cannot be replaced by a step
      cql.clients = () => Promise.resolve(undefined);
    };
    expect(patch).toBeTypeOf('function');
  });
});
