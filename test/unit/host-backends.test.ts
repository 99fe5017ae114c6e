import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runHostCommand } from '../../src/host/command.js';
import { parseLsofListeners, parsePsArgs, parsePsTable } from '../../src/host/lsof.js';
import { managerOfExecutable } from '../../src/host/managers.js';
import { detectPlatform } from '../../src/host/platform.js';
import { backendOrder } from '../../src/host/servers.js';
import { commOfImage, parseNetstatListeners, parseTasklistCsv } from '../../src/host/windows.js';
import { explainRefusal } from '../../src/probes/postgres/refusal.js';
import { powershellWord, ps } from '../../src/text/powershell.js';
import { UNQUOTABLE } from '../../src/text/shell.js';
import { postgresDesktop } from '../../src/probes/postgres/desktop.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'host');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('Windows: netstat -ano, read by the shape of its rows in any language', () => {
  test('English: the listening TCP sockets, IPv4 and IPv6, with their process ids; connections, TIME_WAIT, SYN_SENT and UDP left out', () => {
    expect(parseNetstatListeners(fixture('netstat-ano.en.txt'))).toEqual([
      { transport: 'tcp', address: '0.0.0.0', port: 135, pid: 1024 },
      { transport: 'tcp', address: '0.0.0.0', port: 445, pid: 4 },
      { transport: 'tcp', address: '0.0.0.0', port: 5432, pid: 4242 },
      { transport: 'tcp6', address: '::', port: 135, pid: 1024 },
      { transport: 'tcp6', address: '::', port: 5432, pid: 4242 },
      { transport: 'tcp6', address: '::1', port: 27017, pid: 5300 },
      { transport: 'tcp6', address: 'fe80::1c2d:3e4f:5a6b:7c8d', port: 5433, pid: 6000 },
    ]);
  });

  test('German (ABHÖREN, Lokale Adresse): the same rows as in English', () => {
    expect(parseNetstatListeners(fixture('netstat-ano.de.txt'))).toEqual([
      { transport: 'tcp', address: '0.0.0.0', port: 5433, pid: 5120 },
      { transport: 'tcp6', address: '::', port: 5433, pid: 5120 },
    ]);
  });

  test('French (a state of two words, EN ÉCOUTE): the pid is the last column whatever the state says', () => {
    expect(parseNetstatListeners(fixture('netstat-ano.fr.txt'))).toEqual([
      { transport: 'tcp', address: '127.0.0.1', port: 27017, pid: 3300 },
      { transport: 'tcp6', address: '::1', port: 27017, pid: 3300 },
    ]);
  });

  test('bytes of another code page (the console writes OEM 850, read here as UTF-8) change no row', () => {
    const garbled = fixture('netstat-ano.de.txt').replace(/Ö/g, '\ufffd');
    expect(parseNetstatListeners(garbled)).toEqual(parseNetstatListeners(fixture('netstat-ano.de.txt')));
  });
});

describe('Windows: tasklist /fo csv, read by position in any language', () => {
  test('English: image names and process ids; the header (a word where the pid is) skipped; quotes and commas inside a name kept', () => {
    const rows = parseTasklistCsv(fixture('tasklist-csv.en.txt'));
    expect(rows).toContainEqual({ pid: 4242, image: 'postgres.exe' });
    expect(rows).toContainEqual({ pid: 7788, image: 'My "odd", app.exe' });
    expect(rows).toHaveLength(8);
  });

  test('German (Abbildname) and French (Nom de l’image) headers: skipped the same way', () => {
    expect(parseTasklistCsv(fixture('tasklist-csv.de.txt')).map((row) => row.pid)).toEqual([0, 5120, 5124, 6100]);
    expect(parseTasklistCsv(fixture('tasklist-csv.fr.txt'))).toEqual([{ pid: 3300, image: 'mongod.exe' }]);
  });

  test('an image name is the short name the selectors know from Linux and macOS', () => {
    expect(commOfImage('postgres.exe')).toBe('postgres');
    expect(commOfImage('MONGOD.EXE')).toBe('mongod');
  });
});

describe('lsof and ps: the machine-readable forms', () => {
  test('lsof -F pctn: IPv4, IPv6 and wildcard listeners with their process; Unix socket paths without Linux lsof\'s " type=STREAM"', () => {
    const text = [
      'p4242',
      'cpostgres',
      'f6',
      'tIPv4',
      'n127.0.0.1:5433',
      'f7',
      'tIPv6',
      'n[::1]:5433',
      'p512',
      'cnginx',
      'tIPv4',
      'n*:8080',
      'tIPv6',
      'n*:8080',
      'p4242',
      'cpostgres',
      'tunix',
      'n/tmp/.s.PGSQL.5433 type=STREAM',
      'tunix',
      'n@dbdoctor/.s.PGSQL.5433',
      'tunix',
      'ntype=STREAM',
    ].join('\n');
    expect(parseLsofListeners(text)).toEqual([
      { transport: 'tcp', address: '127.0.0.1', port: 5433, pid: 4242 },
      { transport: 'tcp6', address: '::1', port: 5433, pid: 4242 },
      { transport: 'tcp', address: '0.0.0.0', port: 8080, pid: 512 },
      { transport: 'tcp6', address: '::', port: 8080, pid: 512 },
      { transport: 'unix', address: '/tmp/.s.PGSQL.5433', port: undefined, pid: 4242 },
      { transport: 'unix', address: '@dbdoctor/.s.PGSQL.5433', port: undefined, pid: 4242 },
    ]);
  });

  test('ps: macOS gives the executable path as comm (with spaces), Linux the short name; zombies left out', () => {
    const table = [
      '  812     1   501 Ss   /opt/homebrew/Cellar/postgresql@16/16.4/bin/postgres',
      '  900   812   501 Ss   /opt/homebrew/Cellar/postgresql@16/16.4/bin/postgres',
      '  950     1   501 S    /Applications/Visual Studio Code.app/Contents/MacOS/Electron',
      '  999     1     0 Z    defunct-thing',
      '   77     1    26 Ss   postgres',
    ].join('\n');
    expect(parsePsTable(table)).toEqual([
      { pid: 812, ppid: 1, uid: 501, comm: 'postgres' },
      { pid: 900, ppid: 812, uid: 501, comm: 'postgres' },
      { pid: 950, ppid: 1, uid: 501, comm: 'Electron' },
      { pid: 77, ppid: 1, uid: 26, comm: 'postgres' },
    ]);
    expect(parsePsArgs('  812 /opt/homebrew/opt/postgresql@16/bin/postgres -D /opt/homebrew/var/postgresql@16\n').get(812)).toEqual([
      '/opt/homebrew/opt/postgresql@16/bin/postgres',
      '-D',
      '/opt/homebrew/var/postgresql@16',
    ]);
  });
});

describe('choosing a backend', () => {
  test('by process.platform: /proc then lsof on Linux, lsof on macOS and the BSDs, netstat and tasklist on Windows', () => {
    expect(backendOrder({}, 'linux').order.map((backend) => backend.name)).toEqual(['proc', 'lsof']);
    expect(backendOrder({}, 'darwin').order.map((backend) => backend.name)).toEqual(['lsof']);
    expect(backendOrder({}, 'freebsd').order.map((backend) => backend.name)).toEqual(['lsof']);
    expect(backendOrder({}, 'win32').order.map((backend) => backend.name)).toEqual(['windows']);
  });

  test('DBDOCTOR_HOST_BACKEND forces one; none reads nothing; an unknown value is said and ignored', () => {
    expect(backendOrder({ DBDOCTOR_HOST_BACKEND: 'lsof' }, 'linux').order.map((backend) => backend.name)).toEqual(['lsof']);
    expect(backendOrder({ DBDOCTOR_HOST_BACKEND: 'none' }, 'linux').order).toEqual([]);
    const unknown = backendOrder({ DBDOCTOR_HOST_BACKEND: 'dtrace' }, 'darwin');
    expect(unknown.order.map((backend) => backend.name)).toEqual(['lsof']);
    expect(unknown.notes[0]).toContain('dtrace');
  });

  test('a program that is not installed is "could not read", never an exception', async () => {
    const missing = await runHostCommand('dbdoctor-no-such-program', ['-x']);
    expect(missing).toEqual({ state: 'failed', reason: 'dbdoctor-no-such-program is not installed (not found on PATH)' });
  });

  test('a program that does not answer in time is stopped at its timeout', async () => {
    const started = Date.now();
    // Node itself as the slow program: it is there on every OS the workflow runs on.
    const slow = await runHostCommand(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 });
    expect(slow.state).toBe('failed');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("a program stopped by the run's signal", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const cut = await runHostCommand(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { signal: controller.signal });
    expect(cut).toEqual({ state: 'failed', reason: `${process.execPath} was stopped: no time left under --timeout` });
  });
});

describe('the honest fallback', () => {
  test('a refusal on a machine whose processes could not be read: not_running "unseen", never "none runs here"', () => {
    const sight = { backend: 'none', processes: 'unseen', read: [], unread: ['proc: /proc is not readable here'] } as const;
    const refusal = explainRefusal(
      { transport: 'tcp', addresses: ['127.0.0.1'], port: 5432, attempted: '127.0.0.1:5432' },
      { servers: [], standalone: [], strayPorts: [], clusters: [], sight, durationMs: 1 },
    );
    expect(refusal).toEqual({ cause: 'not_running', where: 'unseen', attempted: '127.0.0.1:5432', sight });
  });

  test('a stopped cluster read from its files is still named when the processes were not read', () => {
    const sight = { backend: 'none', processes: 'unseen', read: [], unread: ['x'] } as const;
    const cluster = { dataDir: '/opt/homebrew/var/postgresql@16', port: 5432, portFrom: 'default', live: false };
    const refusal = explainRefusal(
      { transport: 'tcp', addresses: ['127.0.0.1'], port: 5432, attempted: '127.0.0.1:5432' },
      { servers: [], standalone: [], strayPorts: [], clusters: [cluster], sight, durationMs: 1 },
    );
    expect(refusal).toMatchObject({ cause: 'not_running', where: 'local', stopped: [cluster], sight });
  });
});

describe('service managers, from an executable path', () => {
  test('Homebrew (Apple silicon, Intel), Postgres.app, the EDB installer', () => {
    expect(managerOfExecutable('/opt/homebrew/Cellar/postgresql@16/16.4/bin/postgres')).toEqual({
      kind: 'homebrew',
      formula: 'postgresql@16',
      prefix: '/opt/homebrew',
    });
    expect(managerOfExecutable('/usr/local/opt/mongodb-community/bin/mongod')).toEqual({
      kind: 'homebrew',
      formula: 'mongodb-community',
      prefix: '/usr/local',
    });
    expect(managerOfExecutable('/Applications/Postgres.app/Contents/Versions/16/bin/postgres')).toEqual({ kind: 'postgres.app', version: '16' });
    expect(managerOfExecutable('C:\\Program Files\\PostgreSQL\\16\\bin\\postgres.exe')).toEqual({
      kind: 'windows-service',
      service: 'postgresql-x64-16',
      root: 'C:\\Program Files\\PostgreSQL\\16',
      version: '16',
    });
    expect(managerOfExecutable('/usr/lib/postgresql/15/bin/postgres')).toBeUndefined();
  });
});

describe('the OS the fixes are written for', () => {
  test('macOS and Windows from process.platform; --platform macos|windows on any machine', async () => {
    const base = { env: {}, cwd: '/nonexistent', root: '/nonexistent' };
    expect(await detectPlatform({ ...base, system: 'darwin' })).toMatchObject({ platform: 'macos', os: 'macos' });
    expect(await detectPlatform({ ...base, system: 'win32' })).toMatchObject({ platform: 'windows', os: 'windows' });
    expect(await detectPlatform({ ...base, system: 'linux', override: 'windows' })).toMatchObject({ platform: 'windows', os: 'windows', chosen: 'flag' });
    expect(await detectPlatform({ ...base, system: 'darwin', env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } })).toMatchObject({
      platform: 'kubernetes',
      os: 'macos',
    });
  });
});

describe('PowerShell quoting', () => {
  test('plain words stay bare; anything else is one single-quoted word, its quotes (typographic ones too) doubled', () => {
    expect(powershellWord('postgresql-x64-16')).toBe("'postgresql-x64-16'");
    expect(powershellWord('MongoDB')).toBe('MongoDB');
    expect(powershellWord('C:\\Program Files\\PostgreSQL\\16\\data')).toBe("'C:\\Program Files\\PostgreSQL\\16\\data'");
    expect(powershellWord("db'; Remove-Item -Recurse C:\\ #")).toBe("'db''; Remove-Item -Recurse C:\\ #'");
    expect(powershellWord('db\u2019; calc')).toBe("'db\u2019\u2019; calc'");
    expect(powershellWord('$(calc)')).toBe("'$(calc)'");
    expect(powershellWord('-Force')).toBe("'-Force'");
    expect(powershellWord('a\u001bb')).toBe(UNQUOTABLE);
    expect(ps`Resolve-DnsName -Name ${'db.example.com'}`).toBe('Resolve-DnsName -Name db.example.com');
  });
});

describe('PowerShell commands with hostile values', () => {
  /**
   * A command's shape for PowerShell: each single-quoted string (its quotes doubled inside, the
   * typographic ones too) one Q, each bare word one W. A value that changed the shape would be
   * syntax, not data: a quote that closes, a ; or $( outside quotes.
   */
  const shape = (command: string): string =>
    command
      .replace(/['\u2018\u2019\u201a\u201b](?:[^'\u2018\u2019\u201a\u201b]|['\u2018\u2019\u201a\u201b]{2})*['\u2018\u2019\u201a\u201b]/g, '\u00a7')
      .replace(/[A-Za-z0-9_.:\\/<>-]+/g, 'W')
      .replace(/\u00a7/g, 'Q');

  const HOSTILE = ["db'; Remove-Item C:\\ -Recurse #", '$(Start-Process calc)', 'db\u2019; calc', '-Force', 'db`n', 'a b', '@args', 'db.example.com'];

  test('every Windows command built from a host keeps the shape of the same command built from a plain host', async () => {
    const { networkRemedies } = await import('../../src/probes/common/network.js');
    const { connectCheckCommand, resolveCommand, routeCommand } = await import('../../src/probes/common/oscommands.js');
    const words = {
      name: 'PostgreSQL',
      unit: 'postgresql',
      managed: postgresDesktop,
      readyCheck: () => 'pg_isready',
      urlVariable: 'DATABASE_URL',
      urlFor: () => 'postgresql://x',
    };
    const commands = (fixes: readonly { command?: string; language?: string }[]): string[] =>
      fixes.filter((fix) => fix.language === 'powershell').map((fix) => fix.command ?? '');
    const build = (host: string): string[] => [
      resolveCommand('windows', host).command ?? '',
      routeCommand('windows', host).command ?? '',
      connectCheckCommand('windows', host, 5432).command ?? '',
      ...commands(networkRemedies.dns_not_found(host, 'url', [], words, 5432, 'windows')),
      ...commands(networkRemedies.dns_temporary(host, undefined, 'windows')),
      ...commands(networkRemedies.connect_timeout(host, 5432, 'windows')),
      ...commands(networkRemedies.host_unreachable(host, { text: 'again' }, 'windows')),
    ];
    // One word is one word, quoted or bare: a value that adds words, a ; or a pipe shows.
    const words1 = (command: string): string => shape(command).replace(/Q/g, 'W');
    const plain = build('db.example.com').map(words1);
    expect(plain.length).toBeGreaterThan(5);
    for (const host of HOSTILE) expect(build(host).map(words1), host).toEqual(plain);
  });

  test('any value is one PowerShell word: bare when safe, else single-quoted with its quotes doubled, which reads back as the value', () => {
    const unquote = (word: string): string => word.slice(1, -1).replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1');
    for (const value of [...HOSTILE, "it's", "''", '\u2018x\u2019', 'C:\\Program Files\\PostgreSQL\\16', '']) {
      const word = powershellWord(value);
      if (/^'/.test(word)) {
        expect(unquote(word), value).toBe(value);
        expect(shape(word), value).toBe('Q');
      } else {
        expect(word).toBe(value);
        expect(shape(word), value).toBe('W');
      }
    }
  });
});

describe('PowerShell commands wrapped to the terminal', () => {
  test('each break is a backtick that ends the line, never inside a quoted word; the joined lines are the command', async () => {
    const { wrapCommand } = await import('../../src/report/wrap.js');
    const command = "Get-ChildItem 'C:\\Program Files\\PostgreSQL\\16\\data\\log' | Sort-Object LastWriteTime | Select-Object -Last 1 | Get-Content -Tail 50";
    const lines = wrapCommand(command, 60, '    ', 'powershell');
    expect(lines.length).toBeGreaterThan(1);
    lines.slice(0, -1).forEach((line) => expect(line.endsWith(' `')).toBe(true));
    expect(lines.map((line) => line.trim().replace(/ `$/, '')).join(' ')).toBe(command);
    expect(lines.some((line) => line.includes("'C:\\Program Files\\PostgreSQL\\16\\data\\log'"))).toBe(true);
  });
});
