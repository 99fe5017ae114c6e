import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BIN, emptyHome } from './dbdoctor.js';

/**
 * `dbdoctor exporter` as a long-running process for the tests: started from the built CLI (inside a
 * test host's prefix, if given), ready when it logs "listening", its whole log kept for the
 * assertions (no password in any line; one line per diagnosis), stopped with SIGTERM.
 */
export class ExporterProcess {
  log = '';
  private exited: Promise<number>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }

  static async start(
    args: readonly string[],
    options: { prefix?: readonly string[]; env?: Record<string, string>; cwd?: string } = {},
  ): Promise<ExporterProcess> {
    const [command, ...argv] = [...(options.prefix ?? []), process.execPath, BIN, 'exporter', ...args];
    const child = spawn(command ?? process.execPath, argv, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome(), LANG: 'C.UTF-8', NO_COLOR: '1', ...options.env },
      cwd: options.cwd ?? emptyHome(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Never leave it behind: a test or benchmark that gave up on it must not keep it running.
        child.kill('SIGKILL');
        reject(new Error(`the exporter did not log "listening" within 20 s:\n${log}`));
      }, 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the exporter exited (${code}) before listening:\n${log}`));
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const listening = /msg=listening url=(\S+)/.exec(log) ?? /"msg":"listening","url":"([^"]+)"/.exec(log);
        if (listening?.[1]) {
          clearTimeout(timer);
          resolve(listening[1]);
        }
      });
    });
    const exporter = new ExporterProcess(child, url);
    exporter.log = log;
    return exporter;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** Resolves with the exit code once the process has ended on its own. */
  get exit(): Promise<number> {
    return this.exited;
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One GET (a fresh connection each time), with optional headers, basic auth and CA. */
export function get(
  url: string,
  options: { headers?: Record<string, string>; auth?: string; ca?: Buffer | string; servername?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'GET',
        agent: false,
        headers: { ...options.headers, ...(options.auth ? { Authorization: `Basic ${Buffer.from(options.auth).toString('base64')}` } : {}) },
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
        response.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The samples of one metric in a text-format scrape: labels and value. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
      const labels: Record<string, string> = {};
      for (const pair of (match?.[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
        labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_all, ch: string) => (ch === 'n' ? '\n' : ch));
      return { labels, value: Number(match?.[2]) };
    });
}
