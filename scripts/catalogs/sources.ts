import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readMo } from './mo.js';

/**
 * Where the catalogs come from, all through the registries' own clients:
 *  - PostgreSQL's server and libpq catalogs (postgres-NN.mo, libpq5-NN.mo) from Debian's
 *    packages of PostgreSQL 13 (bullseye), 15 (bookworm) and 17 (trixie), fetched with apt-get
 *    download under a private apt configuration (the machine's own sources are not touched);
 *  - glibc's translations of the socket and resolver errors (libc.mo) from Debian's libc-l10n;
 *  - SQLSTATE condition names from errcodes.txt, which the postgresql-NN package installs;
 *  - pgjdbc's translations from its jar on Maven Central (mvn dependency:copy), read with Java.
 * Debian does not carry PostgreSQL 12, 14 or 16; the messages they share with 13, 15 and 17 are
 * the same ids, and the ids each introduced are still in the next release's catalog.
 */
export const CACHE = join(process.env.DBDOCTOR_CACHE ?? join(homedir(), '.cache', 'dbdoctor'), 'catalogs');

export interface DebianRelease {
  readonly major: number;
  readonly suite: string;
}
export const POSTGRES_RELEASES: readonly DebianRelease[] = [
  { major: 13, suite: 'bullseye' },
  { major: 15, suite: 'bookworm' },
  { major: 17, suite: 'trixie' },
];
export const PGJDBC_VERSION = '42.7.14';
export const PGJDBC_LANGUAGES = ['bg', 'cs', 'de', 'es', 'fr', 'it', 'ja', 'ko', 'nl', 'pl', 'pt_BR', 'ru', 'sr', 'tr', 'zh_CN', 'zh_TW'];

const APT_DIR = join(CACHE, 'apt');
const aptOptions = (): string[] => [
  '-o',
  `Dir::Etc::sourcelist=${join(APT_DIR, 'sources.list')}`,
  '-o',
  'Dir::Etc::sourceparts=-',
  '-o',
  `Dir::State::Lists=${join(APT_DIR, 'lists')}`,
  '-o',
  `Dir::Cache=${join(APT_DIR, 'cache')}`,
  '-o',
  'APT::Sandbox::User=root',
  '-q',
];

function prepareApt(): void {
  mkdirSync(join(APT_DIR, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(APT_DIR, 'cache', 'archives', 'partial'), { recursive: true });
  const suites = [...new Set(POSTGRES_RELEASES.map((release) => release.suite))];
  writeFileSync(
    join(APT_DIR, 'sources.list'),
    suites.map((suite) => `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${suite} main\n`).join(''),
  );
  execFileSync('apt-get', [...aptOptions(), 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A Debian package of a suite, unpacked; returns its root and the version fetched. */
function unpack(name: string, suite: string): { root: string; version: string } {
  const debs = join(CACHE, 'debs');
  mkdirSync(debs, { recursive: true });
  const version = execFileSync('apt-cache', [...aptOptions(), 'show', `${name}/${suite}`], { encoding: 'utf8' })
    .split('\n')
    .find((line) => line.startsWith('Version: '))
    ?.slice('Version: '.length)
    .trim();
  if (!version) throw new Error(`Debian ${suite} has no package ${name}`);
  const root = join(debs, `${name}_${version}`);
  if (!existsSync(root)) {
    execFileSync('apt-get', [...aptOptions(), 'download', `${name}=${version}`], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
    const file = readdirSync(debs).find((entry) => entry.startsWith(`${name}_${version.replace(/^\d+:/, '')}`) && entry.endsWith('.deb'));
    if (!file) throw new Error(`apt-get download ${name}=${version} left no .deb`);
    execFileSync('dpkg-deb', ['-x', join(debs, file), root]);
  }
  return { root, version };
}

/** Every language's catalog of one domain under a root (…/usr/share/locale/<lang>/LC_MESSAGES/<domain>.mo). */
export function catalogsUnder(root: string, domain: string): Map<string, Map<string, string>> {
  const locale = join(root, 'usr', 'share', 'locale');
  const catalogs = new Map<string, Map<string, string>>();
  if (!existsSync(locale)) return catalogs;
  for (const lang of readdirSync(locale).sort()) {
    const file = join(locale, lang, 'LC_MESSAGES', `${domain}.mo`);
    if (existsSync(file)) catalogs.set(lang, readMo(file));
  }
  return catalogs;
}

export interface PostgresCatalogs {
  readonly major: number;
  readonly package: string;
  readonly server: Map<string, Map<string, string>>;
  readonly libpq: Map<string, Map<string, string>>;
  readonly errcodes: string;
}

export function fetchPostgres(): PostgresCatalogs[] {
  prepareApt();
  return POSTGRES_RELEASES.map(({ major, suite }) => {
    const server = unpack(`postgresql-${major}`, suite);
    const libpq = unpack('libpq5', suite);
    return {
      major,
      package: `postgresql-${major} ${server.version}, libpq5 ${libpq.version} (Debian ${suite})`,
      server: catalogsUnder(server.root, `postgres-${major}`),
      libpq: catalogsUnder(libpq.root, `libpq5-${major}`),
      errcodes: readFileSync(join(server.root, 'usr', 'share', 'postgresql', String(major), 'errcodes.txt'), 'utf8'),
    };
  });
}

export function fetchGlibc(): { package: string; catalogs: Map<string, Map<string, string>> } {
  const { root, version } = unpack('libc-l10n', 'bookworm');
  return { package: `libc-l10n ${version} (Debian bookworm)`, catalogs: catalogsUnder(root, 'libc') };
}

/** pgjdbc's jar from Maven Central, and its translations as the driver reads them. */
export function fetchPgjdbc(): { package: string; catalogs: Map<string, Map<string, string>> } {
  const jar = pgjdbcJar();
  if (!existsSync(jar)) {
    execFileSync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=org.postgresql:postgresql:${PGJDBC_VERSION}`, `-DoutputDirectory=${CACHE}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return { package: `org.postgresql:postgresql ${PGJDBC_VERSION} (Maven Central)`, catalogs: readPgjdbc(jar) };
}

export function pgjdbcJar(): string {
  return join(CACHE, `postgresql-${PGJDBC_VERSION}.jar`);
}

export function readPgjdbc(jar: string): Map<string, Map<string, string>> {
  const program = join(import.meta.dirname, 'PgjdbcMessages.java');
  const lines = execFileSync('java', ['-cp', jar, program, ...PGJDBC_LANGUAGES], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\n')
    .filter(Boolean);
  const catalogs = new Map<string, Map<string, string>>();
  for (const line of lines) {
    const { lang, msgid, msgstr } = JSON.parse(line) as { lang: string; msgid: string; msgstr: string };
    if (!catalogs.has(lang)) catalogs.set(lang, new Map());
    catalogs.get(lang)?.set(msgid, msgstr);
  }
  return catalogs;
}
