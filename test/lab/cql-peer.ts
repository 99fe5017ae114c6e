import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Starts test/lab/cql-peer.mjs (a scripted CQL node), optionally inside an isolated host. */
export interface CqlPeerBehaviour {
  readonly listen?: string;
  readonly port?: number;
  readonly dc?: string;
  readonly overloaded?: boolean;
  readonly peers?: readonly { readonly peer: string; readonly native: string; readonly dc?: string }[];
  readonly queries?: readonly { readonly task: string; readonly runningMicros: number }[];
  /** A hostile node: extra SUPPORTED options, its own release and cluster names, an ERROR for STARTUP. */
  readonly supported?: Readonly<Record<string, readonly string[]>>;
  readonly release?: string;
  readonly cluster?: string;
  readonly startupError?: { readonly code: number; readonly message: string };
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'cql-peer.mjs');

export async function startCqlPeer(behaviour: CqlPeerBehaviour, prefix: readonly string[] = []): Promise<{ port: number; stop(): void }> {
  const [file, ...args] = [...prefix, process.execPath, SCRIPT, JSON.stringify(behaviour)];
  const child = spawn(file ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the scripted CQL peer exited (${code})`)));
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return { port, stop: () => child.kill('SIGKILL') };
}
