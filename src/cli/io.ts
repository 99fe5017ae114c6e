import { secrets } from '../config/secrets.js';
import { terminalSafe } from '../text/visible.js';
import { EXIT_CODES } from '../engine/exit.js';

/**
 * Where the CLI writes, and what it reads from the process. Every byte written passes
 * `terminalSafe` (the last net against a control sequence from a server or an input: only
 * dbdoctor's own colour and progress-line codes reach the terminal).
 *
 * Secrets: what goes to stdout is a document (a report, explain's answer, a runbook, a schema),
 * redacted as a structure before it was rendered (`secrets.redactDocument`): its JSON syntax and
 * its commands are never rewritten. What goes to stderr is prose (an error, wait's progress), and
 * passes the secret net on its way out (`safeOutput`), where rewriting cannot change a meaning.
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
  watchClosedPipes();
  return {
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stdout.isTTY && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
    ...(process.stderr.isTTY && process.stderr.columns > 0 ? { stderrColumns: process.stderr.columns } : {}),
    cwd: process.cwd(),
    out: (text) => write(process.stdout, safeDocument(text)),
    err: (text) => write(process.stderr, safeOutput(text)),
  };
}

/**
 * A reader that stops reading (`dbdoctor --help | head -1`, `… | grep -q ready`) closes the pipe:
 * what is left to write is dropped, and the run ends with its own exit code, not with Node's
 * "Unhandled 'error' event" (EPIPE) and a stack trace. Standard output that cannot be written for
 * another reason (a full disk: ENOSPC, EIO) loses the report: one line on standard error, exit 3
 * (dbdoctor could not run). Standard error that cannot be written is left alone: the exit code
 * still says what happened.
 */
let pipesWatched = false;
function watchClosedPipes(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  process.stderr.on('error', () => undefined);
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    process.stderr.write(`dbdoctor: could not write to standard output (${error.code ?? error.message})\n`, () => process.exit(EXIT_CODES.usage));
  });
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(text, () => resolve());
  });
}

/** What the writers do to prose (stderr) before it leaves the process: secrets masked, control characters escaped. */
export function safeOutput(text: string): string {
  return terminalSafe(secrets.redact(text));
}

/** What the writers do to a document (stdout), already redacted as a structure: control characters escaped. */
export function safeDocument(text: string): string {
  return terminalSafe(text);
}
