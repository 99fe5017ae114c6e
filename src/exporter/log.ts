/**
 * The exporter's log: one line per event, in logfmt (as Prometheus and its exporters log) or JSON
 * lines, to stderr. Lines are built from masked fields only, and the writer passes them through the
 * secret registry as every other byte dbdoctor writes.
 */
export const LOG_FORMATS = ['logfmt', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function createLogger(write: (line: string) => void, format: LogFormat, minimum: LogLevel, now: () => Date = () => new Date()): Logger {
  const rank = (level: LogLevel): number => LOG_LEVELS.indexOf(level);
  const emit = (level: LogLevel, msg: string, fields: Fields = {}): void => {
    if (rank(level) < rank(minimum)) return;
    const record: Record<string, string | number | boolean> = { ts: now().toISOString(), level, msg };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
    write(`${format === 'json' ? JSON.stringify(record) : logfmt(record)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

function logfmt(record: Readonly<Record<string, string | number | boolean>>): string {
  return Object.entries(record)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? quoted(value) : String(value)}`)
    .join(' ');
}

/** A bare word when it can be one; else double-quoted with JSON's escapes (control characters visible). */
function quoted(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[^\s"=\\\u0000-\u001f\u007f]+$/.test(value) ? value : JSON.stringify(value);
}

/**
 * Lines that anyone who reaches the exporter can cause (a scrape of an unknown target, a malformed
 * probe, a scrape too short to diagnose): at most `burst` of each kind per window are written as
 * they come; the rest are counted, and one line at the end of the window says how many there were
 * and gives a few of their subjects. So a flood of 20,000 bad requests is a handful of lines, not
 * 20,000, and nothing is lost silently.
 */
export class ThrottledLog {
  private readonly kinds = new Map<
    string,
    { windowStart: number; written: number; suppressed: number; examples: Set<string>; timer?: NodeJS.Timeout; msg: string }
  >();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 60_000,
    private readonly burst = 5,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A warning, with `subject` (a target name, a remote address) kept as an example when it is not
   * written; counted under `key`: its message,
   * or the message and a configured target's name when each target deserves its own lines.
   */
  warn(msg: string, fields: Fields & { readonly subject?: string }, key = msg): void {
    const at = this.now();
    let kind = this.kinds.get(key);
    if (!kind || at - kind.windowStart >= this.windowMs) {
      if (kind) this.summarise(key);
      kind = { windowStart: at, written: 0, suppressed: 0, examples: new Set(), msg };
      this.kinds.set(key, kind);
    }
    const { subject, ...rest } = fields;
    if (kind.written < this.burst) {
      kind.written += 1;
      this.log.warn(msg, rest);
      return;
    }
    kind.suppressed += 1;
    if (subject !== undefined && kind.examples.size < 5) kind.examples.add(subject);
    kind.timer ??= setTimeout(() => this.summarise(key), Math.max(0, kind.windowStart + this.windowMs - at)).unref();
  }

  /** Writes what is still counted (at shutdown). */
  flush(): void {
    for (const key of [...this.kinds.keys()]) this.summarise(key);
  }

  private summarise(key: string): void {
    const kind = this.kinds.get(key);
    if (!kind) return;
    clearTimeout(kind.timer);
    this.kinds.delete(key);
    if (kind.suppressed === 0) return;
    this.log.warn(`${kind.msg} (more, not logged one by one)`, {
      suppressed: kind.suppressed,
      window_s: Math.round(this.windowMs / 1000),
      examples: [...kind.examples].join(',') || undefined,
    });
  }
}
