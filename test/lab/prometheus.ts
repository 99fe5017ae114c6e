import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from './exporter.js';

/**
 * A real Prometheus for the tests (Debian's prometheus package; test/lab/setup.sh installs it), and
 * its promtool. The server gets its own data directory and a loopback port, inside a test host's
 * prefix when given (then `apiUrl` is where the test reaches it, e.g. through a relay).
 */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** Runs promtool with `args` (and `input` on stdin); resolves with its exit code and output. */
export function promtool(args: readonly string[], input?: string, cwd?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(input ?? '');
  });
}

export interface PromVector {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface PromAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing' | 'inactive';
}

export class PrometheusServer {
  log = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly apiUrl: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }

  /**
   * Starts Prometheus with `config` (YAML text) and `files` beside it, listening on `listen`
   * (host:port); `apiUrl` is where the test reaches that address.
   */
  static async start(options: {
    config: string;
    files?: Record<string, string>;
    listen: string;
    apiUrl: string;
    prefix?: readonly string[];
  }): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-prometheus-'));
    writeFileSync(join(dir, 'prometheus.yml'), options.config);
    for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
    const [command, ...args] = [
      ...(options.prefix ?? []),
      PROMETHEUS,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${options.listen}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ];
    const child = spawn(command ?? PROMETHEUS, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    const server = new PrometheusServer(child, dir, options.apiUrl);
    for (let waited = 0; ; waited += 200) {
      if (child.exitCode !== null) throw new Error(`Prometheus exited (${child.exitCode}):\n${server.log}`);
      const ready = await get(`${options.apiUrl}/-/ready`, { timeoutMs: 2000 }).catch(() => undefined);
      if (ready?.status === 200) break;
      if (waited > 30_000) throw new Error(`Prometheus was not ready within 30 s:\n${server.log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return server;
  }

  /** An instant query through the HTTP API; throws on an API error (a bad expression). */
  async query(expr: string): Promise<PromVector[]> {
    const answer = await get(`${this.apiUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const parsed = JSON.parse(answer.body) as { status: string; error?: string; data?: { resultType: string; result: PromVector[] } };
    if (parsed.status !== 'success') throw new Error(`query ${expr}: ${parsed.error ?? answer.body}`);
    return parsed.data?.result ?? [];
  }

  async alerts(): Promise<PromAlert[]> {
    const answer = await get(`${this.apiUrl}/api/v1/alerts`);
    return (JSON.parse(answer.body) as { data: { alerts: PromAlert[] } }).data.alerts;
  }

  /** The series matching a selector, from the metadata API (every label of every series). */
  async series(match: string): Promise<Record<string, string>[]> {
    const answer = await get(`${this.apiUrl}/api/v1/series?match[]=${encodeURIComponent(match)}`);
    return (JSON.parse(answer.body) as { data: Record<string, string>[] }).data;
  }

  /** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
  async until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const started = Date.now();
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
