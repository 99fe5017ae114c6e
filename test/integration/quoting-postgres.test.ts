import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError } from '../../src/config/errors.js';
import { pgIdent, pgLiteral } from '../../src/text/sql.js';
import { pasteIntoBash } from '../lab/commands.js';
import { Cluster } from '../lab/postgres.js';
import { cases, hostileText, hostileValues, PLAIN } from '../lab/remedy-cases.js';

/**
 * The SQL dbdoctor prints, checked by PostgreSQL's own parser on a real server: every identifier
 * and literal built from a hostile value reads back as that very value (with
 * standard_conforming_strings on, and off as an old server may have it), and every statement a
 * remedy prints — with hostile users, databases and names in it — is exactly one statement that
 * parses. Parsing uses the extended protocol's Parse message alone (never Bind or Execute): a
 * syntax error or a second statement is refused there, and nothing is run.
 */
const SAMPLES = Number(process.env.PROPERTY_RUNS ?? 150);

/** No NUL (PostgreSQL text cannot hold one) and no lone surrogate (not text at all). */
const serverText = hostileText.filter((value) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value));

/** A Parse message (unnamed statement) and Sync: what the server says about the text, nothing run. */
function parseOnly(client: pg.Client, text: string): Promise<{ code?: string; message?: string }> {
  return new Promise((resolve) => {
    const submittable = {
      submit(connection: { parse(message: { text: string; name: string; types: number[] }): void; sync(): void }): void {
        connection.parse({ text, name: '', types: [] });
        connection.sync();
      },
      // pg forgets the query on an error (its ReadyForQuery then goes to no one): the error is the answer.
      handleError(error: Error & { code?: string }): void {
        resolve({ ...(error.code ? { code: error.code } : {}), message: error.message });
      },
      handleReadyForQuery(): void {
        resolve({});
      },
    };
    void (client.query as unknown as (query: unknown) => unknown)(submittable);
  });
}

describe('quoting, checked by a real PostgreSQL', () => {
  let cluster: Cluster;
  let client: pg.Client;

  beforeAll(async () => {
    cluster = await Cluster.create('quoting');
    client = cluster.client({ viaSocket: true });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await cluster?.destroy();
  });

  test('every literal reads back as its value, whatever standard_conforming_strings says', async () => {
    const values = fc.sample(serverText, SAMPLES);
    for (const setting of ['on', 'off']) {
      await client.query(`SET standard_conforming_strings = ${setting}`);
      await client.query('SET escape_string_warning = off');
      for (const value of values) {
        const { rows } = await client.query<{ value: string }>(`SELECT ${pgLiteral(value)}::text AS value`);
        expect(rows[0]?.value, `${JSON.stringify(value)} as ${pgLiteral(value)} (standard_conforming_strings = ${setting})`).toBe(value);
      }
    }
    await client.query('RESET standard_conforming_strings');
  });

  test('every identifier names exactly its value', async () => {
    // PostgreSQL cuts names at 63 bytes (NAMEDATALEN): values that fit.
    const values = fc.sample(
      serverText.filter((value) => Buffer.byteLength(value) <= 63),
      SAMPLES,
    );
    for (const value of values) {
      const result = await client.query(`SELECT 1 AS ${pgIdent(value)}`);
      expect(result.fields[0]?.name, `${JSON.stringify(value)} as ${pgIdent(value)}`).toBe(value);
    }
  });

  test('every PostgreSQL statement a remedy prints, with hostile values in it, is one statement the server parses', async () => {
    // The check itself: Parse refuses two statements and a syntax error, and accepts a statement it cannot run.
    expect((await parseOnly(client, 'SELECT 1; SELECT 2')).message).toMatch(/multiple commands/);
    expect((await parseOnly(client, "ALTER ROLE x' WITH LOGIN")).code).toBe('42601');
    expect(await parseOnly(client, 'ALTER ROLE "no such role" LOGIN')).toEqual({});
    const sandbox = mkdtempSync(join(tmpdir(), 'dbdoctor-sql-'));
    const plain = await cases(PLAIN, sandbox);
    let checked = 0;
    for (const values of fc.sample(hostileValues, Math.ceil(SAMPLES / 10))) {
      let built;
      try {
        built = await cases(values, sandbox);
      } catch (error) {
        if (error instanceof InputError) continue;
        throw error;
      }
      // The statements: language "sql", and the SQL after psql -c (not PgBouncer's console, whose commands are its own).
      const statements: { plain: string; hostile: string }[] = [];
      const shell: { plain: string; hostile: string }[] = [];
      built.forEach((entry, caseIndex) => {
        if (entry.engine !== 'postgres') return;
        entry.fixes.forEach((fix, fixIndex) => {
          const plainFix = plain[caseIndex]?.fixes[fixIndex];
          if (!fix.command || !plainFix?.command) return;
          if (fix.language === 'sql') statements.push({ plain: plainFix.command, hostile: fix.command });
          else if (/^psql .* -c /.test(plainFix.command) && !/ pgbouncer -c /.test(plainFix.command))
            shell.push({ plain: plainFix.command, hostile: fix.command });
        });
      });
      const runs = await pasteIntoBash(shell.flatMap(({ plain: plainCommand, hostile }) => [plainCommand, hostile]));
      shell.forEach((_, index) => {
        // Every -c: psql runs them in turn (CREATE ROLE …, then \password). One starting with "\"
        // is a psql meta-command, read by psql and never sent as SQL: not parsed here.
        const sqlOf = (run: (typeof runs)[number] | undefined): string[] => {
          const args = run?.invocations[0]?.args ?? [];
          return args.flatMap((arg, at) => (at > 0 && args[at - 1] === '-c' && !arg.startsWith('\\') ? [arg] : []));
        };
        const plainSql = sqlOf(runs[index * 2]);
        const hostileSql = sqlOf(runs[index * 2 + 1]);
        plainSql.forEach((sql, at) => statements.push({ plain: sql, hostile: hostileSql[at] ?? '' }));
      });
      for (const { plain: plainSql, hostile } of statements) {
        // Remedies that print several statements print fixed ones (pids, settings): one at a time is what holds values.
        if (plainSql.replace(/;\s*$/, '').includes(';')) continue;
        const said = await parseOnly(client, hostile);
        expect(said.code === '42601' || /multiple commands/.test(said.message ?? ''), `${hostile}\n  → ${said.code ?? 'parsed'} ${said.message ?? ''}`).toBe(
          false,
        );
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  }, 180_000);
});
