import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dbdoctor, diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { IsolatedHost } from '../lab/isolated.js';
import { pythonHttpServer, type Listener } from '../lab/listeners.js';
import { Cluster } from '../lab/postgres.js';
import { Ferret } from '../lab/mongo.js';

/**
 * The same faults, read by each host backend (issue 21): Linux's /proc, and the portable lsof + ps
 * backend that macOS and the BSDs use, forced on here with DBDOCTOR_HOST_BACKEND against the real
 * lab servers (Debian's lsof). Both must give the same verdicts. Then the machine that cannot be
 * read at all — a tmpfs over /proc, which is what macOS and Windows look like to /proc — where the
 * verdict says what it saw and that it could not look, never that no server runs.
 */
const BACKENDS = ['proc', 'lsof'] as const;

/** Runs inside a private mount namespace with an empty tmpfs over /proc (we run as root). */
const PROC_HIDDEN = ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh'];

describe('host backends on an isolated host: /proc and lsof give the same verdicts', () => {
  let host: IsolatedHost;
  let cluster: Cluster;
  const PORT = 5433;

  beforeAll(async () => {
    host = await IsolatedHost.create({ pid: true });
    cluster = await Cluster.create('backends', { prefix: host.prefix, port: PORT, listen: '127.0.0.1' });
  });
  afterAll(async () => {
    await cluster?.destroy();
    await host?.destroy();
  });

  const diagnose = (backend: string, url: string, prefix: readonly string[] = host.prefix) =>
    diagnoseJson([url], { prefix, env: { DBDOCTOR_HOST_BACKEND: backend } });

  test.each(BACKENDS)('wrong port, read with %s: names the port postgres listens on', async (backend) => {
    const { code, report, target } = await diagnose(backend, `postgresql://postgres@127.0.0.1:6543/postgres`);
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(code).toBe(2);
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
    expect(target.verdict.message).toContain(`PostgreSQL listens on port ${PORT}`);
    expect(target.verdict.details.localServers).toMatchObject([
      {
        dataDir: cluster.dataDir,
        listensOn: expect.arrayContaining([`127.0.0.1:${PORT}`, `${cluster.socketDir}/.s.PGSQL.${PORT}`]),
        seenVia: 'file descriptors',
      },
    ]);
  });

  test.each(BACKENDS)('wrong port over the Unix socket, read with %s: names the socket port', async (backend) => {
    const { report, target } = await diagnose(backend, `host=${cluster.socketDir} port=6543 user=postgres dbname=postgres`);
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
  });

  test.each(BACKENDS)(
    'another address and another port (127.0.0.2:6543), read with %s: wrong_port, and its URL names the address the server is bound to',
    async (backend) => {
      const { report, target } = await diagnose(backend, `postgresql://postgres@127.0.0.2:6543/postgres`);
      expect(verdictOf(report)).toBe('process/wrong_port');
      expect(target.verdict.details.listeningPorts).toEqual([PORT]);
      expect(target.verdict.remediation[0]?.command).toBe(`postgresql://postgres@127.0.0.1:${PORT}/postgres`);
    },
  );

  test.each(BACKENDS)('not listening on 127.0.0.2, read with %s: names where it listens', async (backend) => {
    const { report, target } = await diagnose(backend, `postgresql://postgres@127.0.0.2:${PORT}/postgres`);
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(target.steps.find((step) => step.id === 'process')?.status).toBe('pass');
    expect(target.verdict.details.listeningOn).toContain(`127.0.0.1:${PORT}`);
  });

  test('the two backends word the same verdict the same way', async () => {
    const [proc, lsof] = await Promise.all([
      diagnose('proc', `postgresql://postgres@127.0.0.1:6543/postgres`),
      diagnose('lsof', `postgresql://postgres@127.0.0.1:6543/postgres`),
    ]);
    expect(lsof.target.verdict.message).toBe(proc.target.verdict.message);
    expect(lsof.target.verdict.remediation).toEqual(proc.target.verdict.remediation);
  });

  test('/proc hidden (a tmpfs over it): a refused port is not_running, said as not known, with how to look — even with a server on another port', async () => {
    const { code, report, target } = await diagnoseJson([`postgresql://postgres@127.0.0.1:6543/postgres`], { prefix: [...host.prefix, ...PROC_HIDDEN] });
    expect(verdictOf(report)).toBe('process/not_running');
    expect(code).toBe(2);
    expect(target.verdict.message).toMatch(
      /^nothing listens at 127\.0\.0\.1:6543; whether a PostgreSQL server runs elsewhere on this machine is not known: dbdoctor could not read its processes \(proc: \/proc is not readable here/,
    );
    expect(target.verdict.message).not.toContain('no PostgreSQL server runs');
    expect(target.verdict.details.localServers).toMatch(/^not inspected: /);
    expect(target.verdict.details.hostView).toMatchObject({ backend: 'none', read: [] });
    // The Linux fallback was tried and said why it could not read either.
    expect(JSON.stringify(target.verdict.details.hostView)).toContain('lsof:');
    expect(target.verdict.remediation[0]?.command).toMatch(/ss -tlnp \| grep -i postgres/);
  });

  test('/proc hidden, rendered for macOS and Windows: lsof and Homebrew, PowerShell and the Windows service', async () => {
    const mac = await diagnoseJson([`postgresql://postgres@127.0.0.1:6543/postgres`, '--platform', 'macos'], { prefix: [...host.prefix, ...PROC_HIDDEN] });
    expect(verdictOf(mac.report)).toBe('process/not_running');
    const macCommands = mac.target.verdict.remediation.map((fix) => fix.command ?? '');
    expect(macCommands).toContain('lsof -nP -iTCP -sTCP:LISTEN | grep -i postgres');
    expect(macCommands).toContain('brew services start postgresql@16');
    expect(macCommands.join('\n')).not.toMatch(/systemctl|journalctl|\bss -/);
    const windows = await diagnoseJson([`postgresql://postgres@127.0.0.1:6543/postgres`, '--platform', 'windows'], {
      prefix: [...host.prefix, ...PROC_HIDDEN],
    });
    const powershell = windows.target.verdict.remediation.filter((fix) => fix.language === 'powershell').map((fix) => fix.command ?? '');
    expect(powershell).toContain("Get-Service -Name 'postgresql*'");
    expect(powershell).toContain("Start-Service -Name 'postgresql-x64-16'");
    expect(powershell.join('\n')).toContain('Get-NetTCPConnection -State Listen -LocalPort 6543');
  });

  test('DBDOCTOR_HOST_BACKEND=none reads nothing and says so (the switch a user has when reading the host is unwanted)', async () => {
    const { report, target } = await diagnose('none', `postgresql://postgres@127.0.0.1:6543/postgres`);
    expect(verdictOf(report)).toBe('process/not_running');
    expect(target.verdict.details.hostView).toMatchObject({ backend: 'none', unread: ['DBDOCTOR_HOST_BACKEND=none: this machine is not read'] });
  });

  test.each(BACKENDS)('stopped server, read with %s: not_running, and no PostgreSQL server runs here', async (backend) => {
    await cluster.stop('fast');
    try {
      const { code, report, target } = await diagnose(backend, `postgresql://postgres@127.0.0.1:${PORT}/postgres`);
      expect(verdictOf(report)).toBe('process/not_running');
      expect(code).toBe(2);
      expect(target.verdict.details.localServers).toEqual([]);
      expect(target.verdict.message).toContain('no PostgreSQL server runs on this machine');
    } finally {
      await cluster.start();
    }
  });
});

describe('MongoDB (a real FerretDB) on an isolated host: /proc and lsof give the same verdicts', () => {
  let host: IsolatedHost;
  let server: Ferret;
  const PORT = 27017;

  beforeAll(async () => {
    host = await IsolatedHost.create({ pid: true });
    server = await Ferret.start({ prefix: host.prefix, listen: `127.0.0.1:${PORT}` });
  });
  afterAll(async () => {
    await server?.destroy();
    await host?.destroy();
  });

  test.each(BACKENDS)('wrong port, read with %s', async (backend) => {
    const { report, target } = await diagnoseJson(['mongodb://127.0.0.1:27018/app'], { prefix: host.prefix, env: { DBDOCTOR_HOST_BACKEND: backend } });
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(target.verdict.details.listeningPorts).toEqual([PORT]);
  });

  test.each(BACKENDS)('not listening on 127.0.0.2, read with %s', async (backend) => {
    const { report, target } = await diagnoseJson([`mongodb://127.0.0.2:${PORT}/app`], { prefix: host.prefix, env: { DBDOCTOR_HOST_BACKEND: backend } });
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(target.verdict.details.listeningOn).toContain(`127.0.0.1:${PORT}`);
  });

  test("/proc hidden: not_running said as not known; for macOS the fixes name Homebrew's mongodb-community", async () => {
    const { report, target } = await diagnoseJson(['mongodb://127.0.0.1:27018/app', '--platform', 'macos'], { prefix: [...host.prefix, ...PROC_HIDDEN] });
    expect(verdictOf(report)).toBe('process/not_running');
    expect(target.verdict.message).toContain('whether a MongoDB server runs elsewhere on this machine is not known');
    expect(target.verdict.details.localServers).toMatch(/^not inspected: /);
    expect(target.verdict.remediation.map((fix) => fix.command)).toContain('brew services start mongodb-community');
  });
});

describe('a foreign listener, read with each backend', () => {
  let http: Listener;
  beforeAll(async () => {
    http = await pythonHttpServer();
  });
  afterAll(async () => {
    await http?.stop();
  });

  test.each(BACKENDS)("python's http.server on the port, read with %s: wrong_protocol names python3 and its pid", async (backend) => {
    const { report, target } = await diagnoseJson(['--timeout', '6', `postgresql://app:pw@127.0.0.1:${http.port}/app`], {
      env: { DBDOCTOR_HOST_BACKEND: backend },
    });
    expect(verdictOf(report)).toBe('accepting/wrong_protocol');
    expect(target.verdict.message).toMatch(new RegExp(`^${http.comm} \\(pid ${http.pid}\\) listens on 127\\.0\\.0\\.1:${http.port}, not PostgreSQL`));
    expect(target.verdict.details).toMatchObject({ portOwner: { pid: http.pid, process: http.comm } });
    expect(target.verdict.remediation.some((fix) => fix.command === `ps -o pid,user,args -p ${http.pid}`)).toBe(true);
  });

  test('rendered for Windows: the owner is looked at with Get-CimInstance, in PowerShell', async () => {
    const { target } = await diagnoseJson(['--timeout', '6', '--platform', 'windows', `postgresql://app:pw@127.0.0.1:${http.port}/app`]);
    expect(target.verdict.remediation).toContainEqual(
      expect.objectContaining({
        command: `Get-CimInstance Win32_Process -Filter 'ProcessId = ${http.pid}' | Select-Object ProcessId, Name, CommandLine`,
        language: 'powershell',
      }),
    );
  });
});

describe('a host command that is missing', () => {
  test('lsof forced where it is not installed: "could not read", a not_running that says not known, no stack trace', async () => {
    const { code, stdout, stderr } = await dbdoctor(['diagnose', '--format', 'json', 'postgresql://u@127.0.0.1:1/db'], {
      env: { DBDOCTOR_HOST_BACKEND: 'lsof', PATH: '/nonexistent' },
    });
    expect(code).toBe(2);
    expect(stderr).toBe('');
    const target = JSON.parse(stdout).targets[0];
    expect(target.verdict.cause).toBe('not_running');
    expect(target.verdict.details.hostView.unread.join('\n')).toContain('lsof: lsof is not installed (not found on PATH)');
  });
});

/**
 * The Windows backend end to end, on this Linux machine: netstat and tasklist are programs on PATH
 * that print outputs recorded in Windows' documented formats (test/fixtures/host, English and
 * German), and the port dbdoctor connects to is really refused, on an isolated host's loopback.
 * Everything but the two programs' output is the real CLI.
 */
describe('the Windows backend, with netstat and tasklist printing recorded outputs', () => {
  let host: IsolatedHost;
  let bin: string;
  const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'host');

  beforeAll(async () => {
    host = await IsolatedHost.create();
    bin = mkdtempSync(join(tmpdir(), 'dbdoctor-windows-stubs-'));
  });
  afterAll(async () => {
    if (bin) rmSync(bin, { recursive: true, force: true });
    await host?.destroy();
  });

  test.each([
    ['en', 5432],
    ['de', 5433],
  ] as const)('%s: postgres.exe listening on %i, seen through netstat -ano and tasklist: wrong_port', async (language, port) => {
    const dir = join(bin, language);
    mkdirSync(dir, { recursive: true });
    for (const [program, fixture] of [
      ['netstat', `netstat-ano.${language}.txt`],
      ['tasklist', `tasklist-csv.${language}.txt`],
    ] as const) {
      writeFileSync(join(dir, program), `#!/bin/sh\nexec cat ${JSON.stringify(join(FIXTURES, fixture))}\n`);
      chmodSync(join(dir, program), 0o755);
    }
    const { report, target } = await diagnoseJson(['--platform', 'windows', 'postgresql://postgres@127.0.0.1:5499/postgres'], {
      prefix: host.prefix,
      env: { DBDOCTOR_HOST_BACKEND: 'windows', PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    expect(verdictOf(report)).toBe('process/wrong_port');
    expect(target.verdict.details.listeningPorts).toEqual([port]);
    expect(target.verdict.details.localServers).toMatchObject([{ listensOn: expect.arrayContaining([`0.0.0.0:${port}`]) }]);
  });
});
