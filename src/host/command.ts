/**
 * One external program run for the host layer (lsof, ps, netstat, tasklist): bounded by a
 * timeout and by the run's signal, its output capped, and every failure an answer rather than an
 * exception — a program that is not installed (ENOENT), not allowed, killed at the deadline or
 * exiting non-zero with nothing to say becomes `{ state: 'failed', reason }`, said in the
 * evidence as what could not be read. Never a shell: the arguments are passed as they are.
 */
export type CommandOutput = { readonly state: 'ran'; readonly stdout: string; readonly stderr: string } | { readonly state: 'failed'; readonly reason: string };

/** The longest any one host command may take, whatever is left of the run. */
export const HOST_COMMAND_TIMEOUT_MS = 3000;

export async function runHostCommand(
  file: string,
  args: readonly string[],
  options: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number; readonly okExitCodes?: readonly number[] } = {},
): Promise<CommandOutput> {
  if (options.signal?.aborted) return { state: 'failed', reason: `${file} not run: no time left` };
  // Loaded when a program is run (macOS, Windows, lsof as the chosen backend), not by every run on Linux (issue 15).
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    try {
      execFile(
        file,
        [...args],
        {
          timeout: options.timeoutMs ?? HOST_COMMAND_TIMEOUT_MS,
          killSignal: 'SIGKILL',
          maxBuffer: 16 * 1024 * 1024,
          windowsHide: true,
          encoding: 'utf8',
          ...(options.signal ? { signal: options.signal } : {}),
        },
        (error, stdout, stderr) => {
          if (!error) return resolve({ state: 'ran', stdout, stderr });
          const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
          // lsof exits 1 when it found nothing to list: an answer, not a failure, when it says
          // nothing on stderr (with /proc hidden it exits 1 too, saying why).
          if (typeof code === 'number' && (options.okExitCodes ?? []).includes(code) && stderr.trim() === '') return resolve({ state: 'ran', stdout, stderr });
          resolve({ state: 'failed', reason: describeFailure(file, error, code, stderr) });
        },
      );
    } catch (error) {
      resolve({ state: 'failed', reason: `${file} could not be started: ${error instanceof Error ? error.message : String(error)}` });
    }
  });
}

function describeFailure(file: string, error: Error & { killed?: boolean; signal?: NodeJS.Signals | null }, code: unknown, stderr: string): string {
  if (code === 'ENOENT') return `${file} is not installed (not found on PATH)`;
  if (code === 'EACCES' || code === 'EPERM') return `${file} may not be run by this user`;
  if (error.name === 'AbortError' || code === 'ABORT_ERR') return `${file} was stopped: no time left under --timeout`;
  if (error.killed === true || error.signal === 'SIGKILL') return `${file} did not answer in time and was stopped`;
  if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `${file} printed more than dbdoctor reads`;
  const firstLine = (stderr.split('\n').find((line) => line.trim() !== '') ?? '').trim().slice(0, 160);
  return `${file} failed${typeof code === 'number' ? ` (exit ${code})` : ''}${firstLine ? `: ${firstLine}` : ''}`;
}
