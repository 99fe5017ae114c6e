import { secrets } from '../config/secrets.js';
import { terminalSafe } from '../text/visible.js';

/**
 * Where the CLI writes, and what it reads from the process. Every byte written passes through
 * the secret registry (the last line of defence against a password in an error message) and
 * through `terminalSafe` (the last against a control sequence from a server or an input: only
 * dbdoctor's own colour and progress-line codes reach the terminal).
 */
export interface CliIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** The terminal's width, when standard output is one. */
  readonly columns?: number;
  /** The terminal's width, when standard error is one (wait's live progress line). */
  readonly stderrColumns?: number;
  readonly cwd: string;
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
}

export function processIO(): CliIO {
  return {
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stdout.isTTY && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
    ...(process.stderr.isTTY && process.stderr.columns > 0 ? { stderrColumns: process.stderr.columns } : {}),
    cwd: process.cwd(),
    out: (text) => write(process.stdout, text),
    err: (text) => write(process.stderr, text),
  };
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(safeOutput(text), () => resolve());
  });
}

/** What every writer does to text before it leaves the process: secrets masked, control characters escaped. */
export function safeOutput(text: string): string {
  return terminalSafe(secrets.redact(text));
}
