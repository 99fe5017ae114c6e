import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort } from './postgres.js';

/**
 * Real programs that are not the database, listening on a free loopback port, for the "what
 * listens here?" scenarios: Python's http.server (a web server that waits for its client's
 * request), Dropbear (an SSH server, from Debian's dropbear-bin: it speaks first), Redis (from
 * Debian's redis-server: it waits for a command), and a Python socket that accepts and never
 * answers. Each runs as its own process, so /proc names it; stop() ends it and removes its files.
 */
export interface Listener {
  readonly port: number;
  readonly pid: number;
  /** The kernel's name for the process, as dbdoctor reports it (comm). */
  readonly comm: string;
  stop(): Promise<void>;
}

async function started(child: ChildProcess, port: number, comm: string, cleanup: () => void = () => undefined, host = '127.0.0.1'): Promise<Listener> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const until = Date.now() + 15_000;
  while (!(await accepts(port, host))) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`${comm} did not listen on ${host}:${port} (exit ${String(child.exitCode)}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid ?? -1;
  return {
    port,
    pid,
    // What the kernel calls it (an interpreter may be python3 or python3.11, by how it was run).
    comm: existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : comm,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      cleanup();
    },
  };
}

/** Whether something takes a TCP connection on the port (closed at once). */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((path) => existsSync(path)) ?? 'python3';

/** python3 -m http.server on a free port, serving an empty directory. */
export async function pythonHttpServer(): Promise<Listener> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-www-'));
  const child = spawn(PYTHON, ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, port, 'python3', () => rmSync(dir, { recursive: true, force: true }));
}

/** A Python socket that accepts connections and never sends a byte (a hung service); on ::1 when asked. */
export async function pythonSilentServer(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<Listener> {
  const port = await freePort(host);
  const family = host === '::1' ? 'socket.AF_INET6' : 'socket.AF_INET';
  const script = `import socket, time\ns = socket.socket(${family})\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("${host}", ${port}))\ns.listen(64)\nheld = []\nwhile True:\n    held.append(s.accept()[0])\n`;
  const child = spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, port, 'python3', () => undefined, host);
}

/** Dropbear, an SSH server, with its own host key in a temporary directory; it greets first. */
export async function dropbearServer(): Promise<Listener> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-ssh-'));
  const key = join(dir, 'host_key');
  execFileSync('dropbearkey', ['-t', 'ed25519', '-f', key], { stdio: 'ignore' });
  const child = spawn('dropbear', ['-F', '-E', '-s', '-p', `127.0.0.1:${port}`, '-r', key, '-P', join(dir, 'dropbear.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(child, port, 'dropbear', () => rmSync(dir, { recursive: true, force: true }));
}

/** redis-server on a free port, without persistence, in a temporary directory. */
export async function redisServer(): Promise<Listener> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(child, port, 'redis-server', () => rmSync(dir, { recursive: true, force: true }));
}

/**
 * A port that drops connection attempts, on loopback: a Python socket listening with a backlog of
 * zero that never accepts, its accept queue filled at once by its own connections. The kernel then
 * drops every further SYN, so a client's connect gets no answer at all, as from a black-holed
 * address (no namespace or firewall rule needed).
 */
export async function pythonBlackHole(): Promise<Listener> {
  const port = await freePort();
  const script = `import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("127.0.0.1", ${port}))\ns.listen(0)\nfill = []\nfor _ in range(4):\n    c = socket.socket()\n    c.setblocking(False)\n    try:\n        c.connect(("127.0.0.1", ${port}))\n    except BlockingIOError:\n        pass\n    fill.append(c)\nprint("ready", flush=True)\ntime.sleep(3600)\n`;
  const child = spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the black-hole listener did not start')), 15_000);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  return {
    port,
    pid,
    comm: 'python3',
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
