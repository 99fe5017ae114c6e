import { secrets } from '../config/secrets.js';

/**
 * Where the CLI writes, and what it reads from the process. Every byte written passes through
 * the secret registry: the last line of defence against a password in an error message.
 */
export interface CliIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** The terminal's width on stderr, when it is one. */
  readonly stderrColumns?: number;
  /** The terminal's width on stdout, when it is one. */
  readonly stdoutColumns?: number;
  readonly cwd: string;
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
}

export function processIO(): CliIO {
  return {
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stderr.isTTY === true && process.stderr.columns ? { stderrColumns: process.stderr.columns } : {}),
    ...(process.stdout.isTTY === true && process.stdout.columns ? { stdoutColumns: process.stdout.columns } : {}),
    cwd: process.cwd(),
    out: (text) => write(process.stdout, text),
    err: (text) => write(process.stderr, text),
  };
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(secrets.redact(text), () => resolve());
  });
}
