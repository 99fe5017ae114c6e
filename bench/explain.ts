import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, emptyHome } from '../test/lab/dbdoctor.js';
import { log, type Section } from './lab.js';
import { baseEnv, describe, measure, ms, table, type Stats } from './measure.js';
import { adversarialPastes, ordinaryPastes, type Paste } from './pastes.js';

/**
 * `dbdoctor explain` on long pastes: a short error, logs of 1 KB, 50 KB and 200 KB ending in the
 * error, and adversarial pastes of 200 KB (one long token, runs of the characters explain's
 * patterns repeat; bench/pastes.ts). Each is a whole process, the paste piped to `explain --json -`
 * as an operator would; the figure is time to the verdict. It needs no lab (explain is offline).
 */
const KILL_AFTER_MS = 120_000;

export async function explainPastes(options: { bin?: string; runs?: number } = {}): Promise<Section> {
  const bin = options.bin ?? BIN;
  const runs = options.runs ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-bench-explain-'));
  const home = emptyHome();
  try {
    const pastes: Paste[] = [
      { name: 'one error line', text: 'FATAL:  password authentication failed for user "app"\n' },
      ...ordinaryPastes(),
      ...adversarialPastes(),
    ];
    const rows: string[][] = [];
    const measured: { paste: Paste; stats: Stats }[] = [];
    for (const [index, paste] of pastes.entries()) {
      const file = join(dir, `paste-${index}.txt`);
      writeFileSync(file, paste.text);
      log(`explain: ${paste.name} (${kib(paste.text.length)})`);
      const stats = await measure(
        { argv: [process.execPath, bin, 'explain', '--json', '-'], env: baseEnv({ HOME: home, NO_COLOR: '1' }), stdin: file, killAfterMs: KILL_AFTER_MS },
        { runs, warmup: 1, budgetMs: 60_000 },
      );
      measured.push({ paste, stats });
      rows.push([paste.name, kib(paste.text.length), describe(stats, KILL_AFTER_MS), answer(stats)]);
    }
    const adversarial = measured.slice(1 + ordinaryPastes().length);
    const slowest = adversarial.reduce((worst, entry) => (entry.stats.median > worst.stats.median ? entry : worst));
    const figure = (name: string): string => ms(measured.find((entry) => entry.paste.name === name)?.stats.median ?? Number.NaN);
    return {
      title: 'Explain on long pastes',
      headline: [
        `Explain (median, whole process): one error line ${figure('one error line')}; logs of 1 KB ${figure('1 KB log + error')}, 50 KB ${figure('50 KB log + error')}, 200 KB ${figure('200 KB log + error')}; the slowest of ${adversarial.length} adversarial 200 KB pastes ("${slowest.paste.name}") ${ms(slowest.stats.median)}.`,
      ],
      body: [
        `Each paste is piped to \`dbdoctor explain --json -\` (whole process, ${runs} runs after 1 warm-up); every paste ends in the same psql error, so the answer should always be auth/auth_failed. The adversarial pastes (bench/pastes.ts) are 200 KB of characters explain's patterns repeat: before the fix of the super-linear patterns, 200 KB of them took minutes.`,
        '',
        table(['paste', 'size', 'wall: median (min–max, n)', 'answer'], rows),
      ].join('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

function kib(length: number): string {
  return length < 1024 ? `${length} B` : `${Math.round(length / 1024)} KiB`;
}

/** The verdict of the last run, "step/cause" or its status. */
function answer(stats: Stats): string {
  const last = stats.samples.at(-1);
  if (!last || last.killed) return 'killed';
  try {
    const report = JSON.parse(last.stdout) as { status?: string; verdict?: { step?: string; cause?: string } | null };
    return report.verdict ? `${report.verdict.step}/${report.verdict.cause}` : (report.status ?? '?');
  } catch {
    return 'no JSON';
  }
}
