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
  return /^[^\s"=\\\u0000-\u001f\u007f]+$/.test(value) ? value : JSON.stringify(value);
}
