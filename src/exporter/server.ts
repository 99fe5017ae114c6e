import { readdirSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import { InputError } from '../config/errors.js';
import { maskUrlPasswords, secrets } from '../config/secrets.js';
import { CONTENT_TYPE } from './exposition.js';
import { ThrottledLog, type Logger } from './log.js';
import { endpointOf, renderSelf, type RequestOutcome } from './metrics.js';
import type { BudgetSource } from '../engine/deadline.js';
import type { Answer, Scheduler } from './scheduler.js';
import type { ClientCertificateRule, WebConfig } from './webconfig.js';

/**
 * The exporter's HTTP(S) server, in the blackbox exporter's multi-target pattern:
 *   /probe?target=<name>  one diagnosis of a target named in the config file, as metrics
 *   /metrics              the exporter's own health
 *   /-/healthy /-/ready   liveness, and readiness (false once shutting down)
 * A target is only ever a name from the config file: the query string cannot make the exporter
 * connect anywhere else (no server-side request forgery), and it carries no credentials.
 */
export interface ServerOptions {
  /** undefined: every interface. */
  readonly host: string | undefined;
  readonly port: number;
  readonly configFile: string;
  readonly version: string;
  /** The longest a diagnosis may take when the scrape does not say (--timeout). */
  readonly timeoutMs: number;
  /** Taken off the scrape's own timeout, for rendering and the way back (--timeout-offset). */
  readonly timeoutOffsetMs: number;
  readonly web: WebConfig;
}

export interface RunningServer {
  readonly url: string;
  readonly address: AddressInfo;
  /** Stops taking scrapes, lets the diagnoses in flight end (within their deadlines), then closes. */
  shutdown(reason: string): Promise<void>;
  /**
   * A web config read again (SIGHUP): headers, users and the TLS certificate, key, CA and versions
   * apply to the next request or handshake. Turning TLS on or off, or changing client_auth_type,
   * needs a new server: the reason is returned and the running config kept.
   */
  reconfigure(web: WebConfig): string | undefined;
  /** The targets changed (SIGHUP): the connection limits follow their number. */
  targetsChanged(): void;
}

/**
 * Connections, and how long a client may take, so that idle or slow clients cannot hold the server
 * (slowloris). Node's defaults suit a web server behind a proxy, not an exporter anyone on the
 * network reaches: a request may take 300 s to arrive, a TLS handshake 120 s, and incomplete
 * requests are looked at every 30 s, so 1100 idle sockets once locked everyone out for 28 s.
 * A scrape is one small GET: its headers come at once.
 */
export const CONNECTION_LIMITS = {
  /** The whole request head, from the first byte (or from the connection, if none came). */
  headersTimeoutMs: 5_000,
  /** The whole request: a GET has no body, so this is the head again, with room. */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive connection between scrapes (Node's default). */
  keepAliveTimeoutMs: 5_000,
  /** A TLS client that connects and sends no handshake. */
  handshakeTimeoutMs: 5_000,
  /** How often the server looks for requests past those timeouts (Node: 30 s). */
  checkEveryMs: 1_000,
  /** Open connections at most, and from one address, scaled to the targets: a Prometheus holds about one per target it scrapes at a time, and keeps it a few seconds after. */
  total: (targets: number): number => Math.max(1024, 4 * targets),
  perAddress: (targets: number): number => Math.max(256, 2 * targets),
} as const;
/** How long a diagnosis may take to wrap up once its deadline fires, before the scrape stops waiting. */
const SETTLE_MS = 250;
/** A target name longer than this is not one; it is cut in messages and logs. */
const NAME_SHOWN = 80;

export async function startServer(options: ServerOptions, scheduler: Scheduler, log: Logger): Promise<RunningServer> {
  const requests: Record<RequestOutcome, number> = {
    fresh: 0,
    cached: 0,
    shared: 0,
    unknown_target: 0,
    invalid: 0,
    timed_out: 0,
    too_short: 0,
    shutting_down: 0,
  };
  let state: 'starting' | 'ready' | 'stopping' = 'starting';
  // Lines that any client can cause are rate-limited (log.ts).
  const throttled = new ThrottledLog(log);
  let web = options.web;
  const { tls } = options.web;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(web.headers)) response.setHeader(name, value);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    const url = requestUrl(request.url);
    if (!url) return send(response, 400, 'a request path must start with /\n');
    const path = url.pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return send(response, 405, `${request.method ?? '?'} is not supported: use GET\n`, { Allow: 'GET, HEAD' });
    if (path === '/-/healthy') return send(response, 200, 'Healthy\n');
    if (path === '/-/ready')
      return state === 'ready' ? send(response, 200, 'Ready\n') : send(response, 503, state === 'stopping' ? 'Shutting down\n' : 'Starting\n');
    const certificate = clientCertificateProblem(request, web.tls?.verify);
    if (certificate) return send(response, 403, `${certificate}\n`);
    if (web.users) {
      const outcome = await web.users.verify(request.headers.authorization);
      // Too many password checks already wait (a flood of wrong ones): answer at once, not later.
      if (outcome.kind === 'busy') return send(response, 429, 'Too many password checks in progress: try again\n', { 'Retry-After': '1' });
      if (outcome.kind === 'refused')
        return send(response, 401, 'Unauthorized: this exporter requires basic authentication\n', {
          'WWW-Authenticate': 'Basic realm="dbdoctor exporter", charset="UTF-8"',
        });
    }
    if (path === '/probe') return probe(request, response, url);
    if (path === '/metrics')
      return send(
        response,
        200,
        renderSelf({
          version: options.version,
          targets: scheduler.names,
          requests,
          diagnoses: new Map(scheduler.names.map((name) => [name, scheduler.diagnosesOf(name)])),
          inFlight: scheduler.inFlight,
          waiting: scheduler.waiting,
          process: processFigures(),
        }),
        { 'Content-Type': CONTENT_TYPE },
      );
    if (path === '/') return send(response, 200, landing(options, scheduler.names));
    return send(response, 404, `no such page: ${shown(path)}; the exporter serves /probe?target=<name>, /metrics, /-/healthy and /-/ready\n`);
  };

  const probe = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const started = performance.now();
    const remote = request.socket.remoteAddress ?? '?';
    const unknownParameter = [...url.searchParams.keys()].find((key) => key !== 'target');
    const names = url.searchParams.getAll('target');
    const invalid = (message: string): void => {
      requests.invalid += 1;
      throttled.warn('probe refused', { reason: message, remote, subject: remote });
      send(response, 400, `${message}\n`);
    };
    if (unknownParameter !== undefined)
      return invalid(`unknown parameter "${shown(unknownParameter)}": /probe takes one parameter, target=<name of a target in ${options.configFile}>`);
    const [name] = names;
    if (names.length !== 1 || name === undefined || name === '')
      return invalid(`give one target: /probe?target=<name>, with a name from ${options.configFile} (${listed(scheduler.names)})`);
    if (!scheduler.has(name)) {
      requests.unknown_target += 1;
      const looksLikeAddress = /:\/\/|@|^[\w.-]+:\d+$|=/.test(name);
      const message = looksLikeAddress
        ? `unknown target "${shown(name)}": targets are named in ${options.configFile}, never given as a URL or address in the query string; add it there with a label, then probe it by that label`
        : `unknown target "${shown(name)}": the targets in ${options.configFile} are ${listed(scheduler.names)}`;
      throttled.warn('unknown target', { target: shown(name), remote, subject: shown(name) });
      return send(response, 400, `${message}\n`);
    }
    if (state === 'stopping') {
      requests.shutting_down += 1;
      return send(response, 503, 'the exporter is shutting down\n');
    }
    const budget = scrapeBudget(request.headers['x-prometheus-scrape-timeout-seconds'], options.timeoutMs, options.timeoutOffsetMs);
    const budgetMs = budget.ms;
    let answer: Answer;
    try {
      answer = await scheduler.probe(name, budgetMs, SETTLE_MS, budget.source);
    } catch (error) {
      log.error('diagnosis failed', { target: name, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      return send(response, 500, `the diagnosis of ${name} failed inside dbdoctor; see the exporter's log\n`);
    }
    requests[answer.kind] += 1;
    const entry = answer.entry;
    if (answer.kind === 'fresh' && entry) {
      const { report } = entry;
      // The verdict's own words (with what was measured) are here, not in a label: they change from one diagnosis to the next.
      log.info('diagnosed', {
        target: name,
        engine: report.engine,
        status: report.status,
        step: report.verdict.step ?? 'none',
        cause: report.verdict.cause,
        duration_ms: report.durationMs,
        budget_ms: entry.budgetMs,
        endpoint: endpointOf(report),
        message: report.verdict.message,
      });
    }
    // Per target (they are the config file's): a short timeout sent on purpose cannot flood the log.
    if (answer.kind === 'timed_out')
      throttled.warn('no result in time', { target: name, reason: answer.reason, served: entry ? 'last result' : 'nothing' }, `no result in time ${name}`);
    if (answer.kind === 'too_short')
      throttled.warn(
        'scrape timeout too short',
        { target: name, reason: answer.reason, served: entry ? 'last result' : 'nothing', remote },
        `too short ${name}`,
      );
    log.debug('probe', { target: name, served: answer.kind, remote, ms: Math.round(performance.now() - started) });
    if (!entry) return send(response, 503, `${answer.kind === 'timed_out' || answer.kind === 'too_short' ? answer.reason : 'no result'}\n`);
    return send(response, 200, entry.text, { 'Content-Type': CONTENT_TYPE });
  };

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      log.error('request failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      if (!response.headersSent) send(response, 500, 'internal error\n');
      else response.destroy();
    });
  };

  const limits = {
    headersTimeout: CONNECTION_LIMITS.headersTimeoutMs,
    requestTimeout: CONNECTION_LIMITS.requestTimeoutMs,
    keepAliveTimeout: CONNECTION_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: CONNECTION_LIMITS.checkEveryMs,
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          ...limits,
          handshakeTimeout: CONNECTION_LIMITS.handshakeTimeoutMs,
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.requestCert,
          rejectUnauthorized: tls.verify === 'required',
          minVersion: tls.minVersion,
          maxVersion: tls.maxVersion,
        },
        listener,
      )
    : createHttpServer(limits, listener);
  server.maxConnections = CONNECTION_LIMITS.total(scheduler.names.length);
  server.on('clientError', (_error, socket) => socket.destroy());
  // One address may not take every connection: past its share, its new connections are closed at once.
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '?';
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > CONNECTION_LIMITS.perAddress(scheduler.names.length)) {
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => reject(listenError(error, options.host, options.port));
    server.once('error', failed);
    server.listen({ ...(options.host !== undefined ? { host: options.host } : {}), port: options.port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`the exporter listens on ${String(address)}, not a TCP address`);
  state = 'ready';
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      // While the diagnoses in flight end (each within its deadline), the server still answers:
      // /-/ready says 503 and new probes are refused with 503, so that a load balancer and
      // Prometheus see why, rather than a refused connection. Then it stops listening.
      state = 'stopping';
      log.info('shutting down', { reason, diagnoses_in_flight: scheduler.inFlight });
      await scheduler.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The answers to the scrapes that waited are on their way; idle keep-alive connections go now.
      server.closeIdleConnections();
      const late = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(late);
      await web.users?.close();
      throttled.flush();
      log.info('stopped', { reason });
    })();
    return stopping;
  };
  const reconfigure = (next: WebConfig): string | undefined => {
    if ((web.tls === undefined) !== (next.tls === undefined)) return `turning TLS ${next.tls ? 'on' : 'off'} needs a restart`;
    if (web.tls && next.tls && (web.tls.requestCert !== next.tls.requestCert || web.tls.verify !== next.tls.verify))
      return 'a change of client_auth_type needs a restart';
    if (next.tls && server instanceof HttpsServer) {
      server.setSecureContext({
        cert: next.tls.cert,
        key: next.tls.key,
        ...(next.tls.ca ? { ca: next.tls.ca } : {}),
        minVersion: next.tls.minVersion,
        maxVersion: next.tls.maxVersion,
      });
    }
    const previous = web.users;
    // The same users: the same checker, with what it remembers.
    web = previous && next.users?.sameUsers(previous) ? { ...next, users: previous } : next;
    if (previous && web.users !== previous) {
      // Checks in flight on the old one finish first (the worker answers within about a second).
      setTimeout(() => void previous.close(), 10_000).unref();
    }
    if (next.users && web.users !== next.users) void next.users.close();
    return undefined;
  };
  const targetsChanged = (): void => {
    server.maxConnections = CONNECTION_LIMITS.total(scheduler.names.length);
  };
  return { url, address, shutdown, reconfigure, targetsChanged };
}

/**
 * The time one diagnosis gets: the exporter's --timeout, or less when the scrape says it waits less
 * (X-Prometheus-Scrape-Timeout-Seconds): the scrape's timeout less --timeout-offset, for the answer's
 * way back, but never less than half the scrape's timeout (an offset as long as the timeout would
 * leave nothing). So a 10 s scrape gives 9.5 s with the default offset of 0.5 s, a 2 s one 1.5 s,
 * and a 0.5 s one 250 ms, which is less than a diagnosis needs (MIN_DIAGNOSIS_MS).
 */
export function scrapeBudget(
  header: string | string[] | undefined,
  timeoutMs: number,
  offsetMs: number,
): { readonly ms: number; readonly source: BudgetSource } {
  const text = Array.isArray(header) ? header[0] : header;
  const seconds = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  const exporter: BudgetSource = { name: "the exporter's --timeout" };
  if (!Number.isFinite(seconds) || seconds <= 0) return { ms: timeoutMs, source: exporter };
  const scrapeMs = seconds * 1000;
  const offset = scrapeMs - offsetMs >= scrapeMs / 2;
  const ms = Math.round(offset ? scrapeMs - offsetMs : scrapeMs / 2);
  if (ms >= timeoutMs) return { ms: timeoutMs, source: exporter };
  const detail = offset
    ? `X-Prometheus-Scrape-Timeout-Seconds ${seconds} less --timeout-offset ${offsetMs / 1000}`
    : `half of X-Prometheus-Scrape-Timeout-Seconds ${seconds}, as --timeout-offset ${offsetMs / 1000} is more than half`;
  return { ms, source: { name: "the scrape's deadline", detail } };
}

/**
 * The request's path and query. Resolved against a base, "//probe?target=x" would be a URL whose
 * host is "probe" and whose path is "/": the index page, answered 200 to a scrape. A path is kept
 * as sent (so "//probe" is no page), and an absolute URL (from a proxy) gives its own path.
 */
export function requestUrl(raw: string | undefined): URL | undefined {
  const text = raw ?? '/';
  if (text.startsWith('/')) return new URL(`http://exporter${text}`);
  try {
    const absolute = new URL(text);
    return absolute.protocol === 'http:' || absolute.protocol === 'https:' ? new URL(`http://exporter${absolute.pathname}${absolute.search}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Why the exporter cannot listen where --listen says, in one line with the way out. */
export function listenError(error: Error, host: string | undefined, port: number): Error {
  const code = 'code' in error ? String(error.code) : '';
  const where = `--listen ${host === undefined ? '' : host.includes(':') ? `[${host}]` : host}:${port}`;
  const shown = host ?? 'every interface';
  switch (code) {
    case 'EADDRINUSE':
      return new InputError(
        `${where}: the address is already in use: another process listens on port ${port}${host === undefined ? '' : ` of ${host}`}`,
        `stop it, or choose another port with --listen; to see which process: ss -ltnp 'sport = :${port}'`,
      );
    case 'EADDRNOTAVAIL':
      return new InputError(
        `${where}: ${shown} is not an address of this machine`,
        `listen on one of its addresses (ip -brief address), on 127.0.0.1, or on every interface with --listen :${port}`,
      );
    case 'EACCES':
    case 'EPERM':
      return new InputError(
        `${where}: not permitted to listen on port ${port}${port < 1024 ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : ''}`,
        `choose a port above 1023, e.g. --listen ${host === undefined ? '' : host.includes(':') ? `[${host}]` : host}:9187`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new InputError(
        `${where}: the name ${shown} does not resolve to an address of this machine (${code})`,
        'give an IP address, or :PORT for every interface',
      );
    case 'EAFNOSUPPORT':
      return new InputError(`${where}: this machine has no IPv6 (${code})`, `listen on an IPv4 address, or on every interface with --listen :${port}`);
    default:
      return new InputError(`${where}: cannot listen there (${code || error.message})`, 'check the address and port given to --listen');
  }
}

function send(response: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  // The safety net every byte dbdoctor writes passes through: a registered secret never leaves.
  const text = secrets.redact(body);
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}

/** Text from the request, as it may be shown back: passwords masked, control characters visible, cut short. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  const visible = maskUrlPasswords(text).replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return visible.length > NAME_SHOWN ? `${visible.slice(0, NAME_SHOWN)}…` : visible;
}

function listed(names: readonly string[]): string {
  const first = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${first} and ${names.length - 10} more (see / for all)` : first;
}

function landing(options: ServerOptions, names: readonly string[]): string {
  return [
    `dbdoctor exporter ${options.version}: diagnoses on scrape`,
    '',
    '  /probe?target=<name>  one diagnosis of a target named in the config file, as metrics',
    "  /metrics              the exporter's own health",
    '  /-/healthy, /-/ready  liveness and readiness',
    '',
    `Targets (${options.configFile}):`,
    ...names.map((name) => `  /probe?target=${encodeURIComponent(name)}`),
    '',
  ].join('\n');
}

/**
 * The client-certificate rules Node's own verification does not cover: a certificate that must be
 * present whatever signs it (RequireAnyClientCert), and one that must verify only when given.
 */
function clientCertificateProblem(request: IncomingMessage, verify: ClientCertificateRule | undefined): string | undefined {
  if (verify === undefined || verify === 'none' || verify === 'required') return undefined;
  const socket = request.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  if (verify === 'any' && !presented) return 'Forbidden: this exporter requires a client certificate';
  if (verify === 'if_given' && presented && !socket.authorized)
    return `Forbidden: the client certificate does not verify (${String(socket.authorizationError)})`;
  return undefined;
}

function processFigures(): { cpuSeconds: number; rssBytes: number; heapUsedBytes: number; startSeconds: number; openFds: number | undefined } {
  const cpu = process.cpuUsage();
  let openFds: number | undefined;
  try {
    // Linux's /proc, or /dev/fd (macOS and the BSDs list this process's descriptors there).
    openFds = readdirSync(process.platform === 'linux' ? '/proc/self/fd' : '/dev/fd').length - 1;
  } catch {
    openFds = undefined;
  }
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBytes: process.memoryUsage.rss(),
    heapUsedBytes: process.memoryUsage().heapUsed,
    startSeconds: Math.round(performance.timeOrigin) / 1000,
    openFds,
  };
}
