import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ERRNO_TABLE } from '../../src/net/errno.js';
import { explainText } from '../../src/explain/match.js';
import { ERRNO_TRANSLATIONS } from '../../src/probes/common/errno-catalog.generated.js';
import { SOURCES, TRANSLATIONS } from '../../src/probes/postgres/catalog/catalogs.generated.js';
import { compileTemplate } from '../../src/probes/postgres/catalog/reader.js';
import { CATALOG_MESSAGES, type CatalogMessage, type CatalogName } from '../../src/probes/postgres/catalog/selection.js';
import { SQLSTATES } from '../../src/probes/postgres/catalog/sqlstates.generated.js';
import { collect, collectPlain, parseErrcodes, type Catalogs } from '../../scripts/catalogs/build.js';
import { catalogsUnder } from '../../scripts/catalogs/sources.js';
import { pgjdbcJar, readPgjdbc } from '../../scripts/catalogs/sources.js';

/**
 * The catalog tables explain reads are generated (npm run catalogs) from the catalogs PostgreSQL,
 * libpq, pgjdbc and glibc ship. Here: they have not drifted from the catalogs installed on this
 * machine (PostgreSQL 15's and libpq's from Debian, glibc's, pgjdbc's jar that the lab fetches),
 * and every message of every shipped language comes back through `dbdoctor explain` as its cause,
 * with the user, database, host and port it names.
 */
const ROOT = '/';
const installed = (domain: string): Catalogs => catalogsUnder(ROOT, domain);
const RELEASE_15 = 1 << (SOURCES.server.releases as readonly string[]).indexOf('15');

function inRelease(catalog: CatalogName, bit: number): Map<string, Set<string>> {
  const entries = new Map<string, Set<string>>();
  for (const [key, byLang] of Object.entries(TRANSLATIONS[catalog])) {
    for (const [lang, texts] of Object.entries(byLang)) {
      for (const [text, mask] of texts) if (mask & bit) entries.set(`${key}\u0000${lang}`, (entries.get(`${key}\u0000${lang}`) ?? new Set()).add(text));
    }
  }
  return entries;
}

function asEntries(translations: ReturnType<typeof collect>['translations']): Map<string, Set<string>> {
  const entries = new Map<string, Set<string>>();
  for (const [key, byLang] of Object.entries(translations))
    for (const [lang, texts] of Object.entries(byLang)) entries.set(`${key}\u0000${lang}`, new Set(texts.map(([text]) => text)));
  return entries;
}

describe('the catalog tables match the catalogs installed here (no drift)', () => {
  test.each([
    ['server', 'postgres-15'],
    ['libpq', 'libpq5-15'],
  ] as const)('%s: PostgreSQL 15 (Debian) says what the table says for release 15', (catalog, domain) => {
    const catalogs = installed(domain);
    expect(catalogs.size, `no ${domain}.mo under /usr/share/locale: the lab installs postgresql-15`).toBeGreaterThan(9);
    const fresh = collect(CATALOG_MESSAGES[catalog], [catalogs]);
    expect(asEntries(fresh.translations)).toEqual(inRelease(catalog, RELEASE_15));
  });

  test("glibc's translations of the socket and resolver errors", () => {
    const catalogs = installed('libc');
    expect(catalogs.size, 'no libc.mo: the lab installs libc-l10n').toBeGreaterThan(20);
    expect(
      collectPlain(
        ERRNO_TABLE.flatMap((entry) => entry.messages),
        catalogs,
      ),
    ).toEqual(ERRNO_TRANSLATIONS);
  });

  test('SQLSTATE condition names: every code of the installed errcodes.txt', () => {
    const file = '/usr/share/postgresql/15/errcodes.txt';
    const table = new Map(SQLSTATES.map(([code, name]) => [code, name]));
    for (const [code, name] of parseErrcodes(readFileSync(file, 'utf8'))) expect(table.get(code), code).toBe(name);
  });

  test("pgjdbc's translations, read from its jar as the driver reads them", () => {
    const jar = pgjdbcJar();
    expect(existsSync(jar), `${jar} is missing: test/lab/setup.sh fetches it from Maven Central`).toBe(true);
    const fresh = collect(CATALOG_MESSAGES.pgjdbc, [readPgjdbc(jar)]);
    expect(asEntries(fresh.translations)).toEqual(inRelease('pgjdbc', 1));
  }, 60_000);

  test('the tables cover PostgreSQL 13, 15 and 17 and the languages they ship', () => {
    expect(SOURCES.server.releases).toEqual(['13', '15', '17']);
    const languages = (catalog: CatalogName): Set<string> =>
      new Set(
        Object.values(TRANSLATIONS[catalog])
          .flatMap((byLang) => Object.keys(byLang))
          .filter((lang) => lang !== 'en'),
      );
    expect(languages('server').size).toBeGreaterThanOrEqual(15);
    expect(languages('libpq').size).toBeGreaterThanOrEqual(17);
    expect(languages('pgjdbc').size).toBeGreaterThanOrEqual(15);
    // Every language Debian's PostgreSQL 15 installs here is in the tables.
    for (const lang of readdirSync('/usr/share/locale').filter((entry) => existsSync(join('/usr/share/locale', entry, 'LC_MESSAGES', 'postgres-15.mo'))))
      expect(languages('server'), lang).toContain(lang);
  });

  test('every selected message has its English id and at least eight translations (pgjdbc, which translates less: two)', () => {
    for (const catalog of Object.keys(CATALOG_MESSAGES) as CatalogName[]) {
      for (const message of CATALOG_MESSAGES[catalog]) {
        const byLang = TRANSLATIONS[catalog][message.key] ?? {};
        expect(byLang.en, `${catalog} ${message.key}`).toBeDefined();
        if (message.cause !== null) expect(Object.keys(byLang).length, `${catalog} ${message.key}`).toBeGreaterThan(catalog === 'pgjdbc' ? 2 : 8);
      }
    }
  });
});

// ── round trip: every message of every language, through explain ─────────────

const SAMPLE = { user: 'app_user', database: 'orders_db', host: 'db.internal', port: '5433', address: '10.1.2.3' } as const;

/** A message as a server or client would print it: each placeholder filled with what it holds. */
function fill(template: string, catalog: CatalogName, message: CatalogMessage): string {
  const args = message.args ?? [];
  let ordinal = 0;
  const value = (position: number, conversion: string): string => {
    const kind = args[position];
    if (kind === 'endpoint') return `${SAMPLE.host}:${SAMPLE.port}`;
    if (kind && kind in SAMPLE) return SAMPLE[kind as keyof typeof SAMPLE];
    if (conversion === 'c') return 'H';
    if (/[diuxX]/.test(conversion)) return '3';
    return 'x';
  };
  if (catalog === 'pgjdbc') return template.replace(/''/g, "'").replace(/\{(\d+)(?:,[^}]*)?\}/g, (_whole, index: string) => value(Number(index), 's'));
  return template.replace(
    /%(?:(\d+)\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L)?([sdiuxXcmfgp%])/g,
    (_whole, position: string | undefined, conversion: string) => {
      if (conversion === '%') return '%';
      const index = position ? Number(position) - 1 : ordinal;
      ordinal++;
      return value(index, conversion);
    },
  );
}

const PREFIX: Readonly<Record<CatalogName, string>> = { server: 'FATAL:  ', libpq: 'psql: ', pgjdbc: 'org.postgresql.util.PSQLException: ' };

interface Case {
  readonly catalog: CatalogName;
  readonly message: CatalogMessage;
  readonly lang: string;
  readonly text: string;
}

/** libpq's frame for a connection attempt, in the message's own language when libpq has one. */
function frameIn(lang: string): string {
  const frame = CATALOG_MESSAGES.libpq.find((message) => message.key === 'frame-host-address') as CatalogMessage;
  const template = (TRANSLATIONS.libpq[frame.key]?.[lang] ?? TRANSLATIONS.libpq[frame.key]?.en ?? [])[0]?.[0] ?? '';
  return fill(template, 'libpq', frame);
}

/** A session message (unframedIsSession) is a cause in a connection attempt: it is sent inside libpq's frame; on its own it is a guess. */
const cases: Case[] = (Object.keys(CATALOG_MESSAGES) as CatalogName[]).flatMap((catalog) =>
  CATALOG_MESSAGES[catalog]
    .filter((message) => message.cause !== null)
    .flatMap((message) =>
      Object.entries(TRANSLATIONS[catalog][message.key] ?? {}).flatMap(([lang, texts]) =>
        texts.map(([template]) => ({
          catalog,
          message,
          lang,
          text: `${PREFIX[catalog]}${message.unframedIsSession ? frameIn(lang) : ''}${fill(template, catalog, message)}`,
        })),
      ),
    ),
);
const byLanguage = new Map<string, Case[]>();
for (const entry of cases) byLanguage.set(entry.lang, [...(byLanguage.get(entry.lang) ?? []), entry]);

describe('every message of every shipped language comes back as its cause (round trip)', () => {
  test('there are many: the server, libpq and pgjdbc catalogs in 10+ languages', () => {
    expect(cases.length).toBeGreaterThan(1000);
    expect(byLanguage.size).toBeGreaterThan(15);
  });

  test.each([...byLanguage.keys()].sort())('%s', async (lang) => {
    const misses: string[] = [];
    for (const entry of byLanguage.get(lang) ?? []) {
      const report = await explainText(entry.text, { version: 'test' });
      const want = entry.message.cause;
      const got = entry.message.tentative ? report.guesses.map((guess) => guess.cause) : [report.verdict?.cause];
      if (!want || !got.includes(want)) {
        misses.push(
          `${entry.catalog}/${entry.message.key}: ${entry.text} → ${report.verdict?.cause ?? 'not recognised'} (${report.verdict?.rule ?? report.guesses.map((guess) => guess.cause).join(', ')})`,
        );
        continue;
      }
      if (entry.message.tentative) continue;
      // The names the message carries come out as fields.
      for (const kind of entry.message.args ?? []) {
        if (kind === 'user' || kind === 'database')
          if (report.fields[kind] !== SAMPLE[kind])
            misses.push(`${entry.catalog}/${entry.message.key}: ${kind} ${String(report.fields[kind])} in ${entry.text}`);
        if (kind === 'host' && report.fields.host !== SAMPLE.host)
          misses.push(`${entry.catalog}/${entry.message.key}: host ${String(report.fields.host)} in ${entry.text}`);
      }
    }
    expect(misses).toEqual([]);
  });

  test('a session message outside a connection attempt (no frame) gives guesses, not a verdict, in every language', async () => {
    for (const entry of cases.filter((candidate) => candidate.message.unframedIsSession)) {
      const text = entry.text.replace(`${PREFIX[entry.catalog]}${frameIn(entry.lang)}`, 'psycopg2.OperationalError: ');
      const report = await explainText(text, { version: 'test' });
      expect(report.verdict, text).toBeNull();
      expect(
        report.guesses.map((guess) => guess.cause),
        text,
      ).toContain(entry.message.cause);
    }
  });

  test('each translation compiles to a pattern with a needle it can be found by', () => {
    for (const entry of cases) {
      const template = (TRANSLATIONS[entry.catalog][entry.message.key]?.[entry.lang] ?? [])[0]?.[0] ?? '';
      const { source, needle } = compileTemplate(template, entry.catalog, entry.message.args);
      expect(() => new RegExp(source, 'iu'), template).not.toThrow();
      expect(needle.length, template).toBeGreaterThan(0);
    }
  });
});
