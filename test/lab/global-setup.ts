import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Once per test run: a directory where the shared Apache Cassandra (test/lab/cassandra.ts) records
 * itself when a test file first needs it; at the end, that node is stopped and deleted. A run that
 * needs no Cassandra (the unit tests) never starts one.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-run-'));
  project.provide('cassandraRunDir', dir);
  return async () => {
    const file = join(dir, 'node.json');
    if (existsSync(file)) {
      const node = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; root: string; startMs: number };
      console.log(`shared Apache Cassandra: started in ${(node.startMs / 1000).toFixed(1)} s (JVM spawn to first login)`);
      await stop(node.pid);
      rmSync(node.root, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** A process that exists and is not a zombie (a JVM whose parent has not reaped it yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function stop(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < 20_000 && isAlive(pid); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
