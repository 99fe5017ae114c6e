import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ExporterProcess, get } from '../test/lab/exporter.js';
import { freePort } from '../test/lab/postgres.js';
import { log, type Lab, type Section } from './lab.js';
import { median, ms, table } from './measure.js';

/**
 * `dbdoctor exporter` as Prometheus uses it: one long-running process, 100 targets in its config
 * (60 healthy PostgreSQL URLs over ten role/database pairs, 30 refused ports, 10 a silent peer),
 * scraped over HTTP. Measured from outside the process: its CPU time from /proc/<pid>/stat and its
 * resident memory from /proc/<pid>/status (VmRSS now, VmHWM the peak), and each scrape's wall time.
 * The cost of a probe is the exporter's CPU time over a run of scrapes that each ran a diagnosis
 * (--min-interval 1ms), divided by their number; a cached answer is measured the same way.
 */
const TARGETS = 100;
const SCRAPE_TIMEOUT_S = 5;
/** Rounds of every target at once, each scrape a diagnosis: enough to see whether memory levels off. */
const ROUNDS = 20;

interface Usage {
  readonly cpuMs: number;
  readonly rssMiB: number;
  readonly peakMiB: number;
}

function usage(pid: number): Usage {
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks (100 a second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { cpuMs: ticks * 10, rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

async function fleetFile(lab: Lab, dir: string): Promise<{ file: string; healthy: string[]; refused: string[]; silent: string[] }> {
  const names = { healthy: [] as string[], refused: [] as string[], silent: [] as string[] };
  const lines = ['targets:'];
  for (let index = 0; index < TARGETS; index += 1) {
    const label = `t${String(index + 1).padStart(3, '0')}`;
    let url: string;
    if (index < 60) {
      url = lab.fleetUrls[index % lab.fleetUrls.length] ?? lab.url;
      names.healthy.push(label);
    } else if (index < 90) {
      url = `postgresql://app@127.0.0.1:${await freePort()}/refused${index}`;
      names.refused.push(label);
    } else {
      url = `postgresql://app@127.0.0.1:${lab.silent.port}/silent${index}`;
      names.silent.push(label);
    }
    lines.push(`  - label: ${label}`, `    url: ${JSON.stringify(url)}`);
  }
  const file = join(dir, 'targets.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, ...names };
}

async function scrape(exporter: ExporterProcess, name: string): Promise<number> {
  const started = performance.now();
  const answer = await get(`${exporter.url}/probe?target=${name}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(SCRAPE_TIMEOUT_S) } });
  if (answer.status !== 200) throw new Error(`scrape of ${name}: HTTP ${answer.status}: ${answer.body}`);
  return performance.now() - started;
}

/** Sequential scrapes of `names` (each a fresh diagnosis, or each cached): wall per scrape and the exporter's CPU per scrape. */
async function perProbe(exporter: ExporterProcess, names: readonly string[]): Promise<{ wall: number[]; cpuMs: number }> {
  const before = usage(exporter.pid);
  const wall: number[] = [];
  for (const name of names) wall.push(await scrape(exporter, name));
  return { wall, cpuMs: (usage(exporter.pid).cpuMs - before.cpuMs) / names.length };
}

/**
 * Every target at once, as Prometheus does when all targets fall due together (the worst case: it
 * spreads them over the interval). Scrapes that got no result within their time (503, timed_out:
 * no free diagnosis slot in time) are counted, not failed: that is the exporter's answer.
 */
async function round(exporter: ExporterProcess, names: readonly string[]): Promise<{ ms: number; timedOut: number }> {
  const started = performance.now();
  const answers = await Promise.all(
    names.map((name) => get(`${exporter.url}/probe?target=${name}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(SCRAPE_TIMEOUT_S) } })),
  );
  const unexpected = answers.find((answer) => answer.status !== 200 && answer.status !== 503);
  if (unexpected) throw new Error(`HTTP ${unexpected.status}: ${unexpected.body}`);
  return { ms: performance.now() - started, timedOut: answers.filter((answer) => answer.status === 503).length };
}

export async function exporterCost(lab: Lab): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-bench-exporter-'));
  const fleet = await fleetFile(lab, dir);
  const all = [...fleet.healthy, ...fleet.refused, ...fleet.silent];
  const rows: string[][] = [];
  let diagnoses = 0;
  const memory: string[][] = [];
  let exporter: ExporterProcess | undefined;
  try {
    // Every scrape runs a diagnosis: the cost of a probe.
    exporter = await ExporterProcess.start(['--config', fleet.file, '--listen', '127.0.0.1:0', '--min-interval', '1ms'], { env: { HOME: lab.home } });
    const idle = usage(exporter.pid);
    memory.push(['started, 100 targets loaded, nothing scraped', `${idle.rssMiB.toFixed(0)} MiB`, `${idle.peakMiB.toFixed(0)} MiB`]);
    log('exporter: warming up (one scrape of each kind of target)');
    for (const name of [fleet.healthy[0], fleet.refused[0]]) if (name) await scrape(exporter, name);
    const repeat = (names: readonly string[], times: number): string[] => Array.from({ length: times }, () => names).flat();
    log('exporter: cost per probe, healthy and refused targets (60 scrapes each, one at a time)');
    const healthy = await perProbe(exporter, repeat(fleet.healthy, 1));
    const refused = await perProbe(exporter, repeat(fleet.refused, 2));
    rows.push(
      [
        'healthy PostgreSQL (full tree, one connection)',
        String(healthy.wall.length),
        `${ms(median(healthy.wall))} (${ms(Math.min(...healthy.wall))}–${ms(Math.max(...healthy.wall))})`,
        `${healthy.cpuMs.toFixed(1)} ms`,
      ],
      [
        'refused port (process step)',
        String(refused.wall.length),
        `${ms(median(refused.wall))} (${ms(Math.min(...refused.wall))}–${ms(Math.max(...refused.wall))})`,
        `${refused.cpuMs.toFixed(1)} ms`,
      ],
    );
    log(`exporter: ${ROUNDS} rounds of all ${TARGETS} targets at once (--max-concurrent 16)`);
    const rounds: number[] = [];
    let timedOut = 0;
    const trend: string[][] = [];
    const heaps: number[] = [];
    for (let index = 1; index <= ROUNDS; index += 1) {
      const result = await round(exporter, all);
      rounds.push(result.ms);
      timedOut += result.timedOut;
      if ([1, 2, 5, 10, 15, 20].includes(index)) {
        const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec((await get(`${exporter.url}/metrics`)).body)?.[1];
        const now = usage(exporter.pid);
        heaps.push(Math.round(Number(heap) / 2 ** 20));
        trend.push([
          String(index),
          String(2 + healthy.wall.length + refused.wall.length + index * TARGETS - timedOut),
          `${now.rssMiB.toFixed(0)} MiB`,
          `${(Number(heap) / 2 ** 20).toFixed(0)} MiB`,
        ]);
      }
    }
    const afterRounds = usage(exporter.pid);
    diagnoses = 2 + healthy.wall.length + refused.wall.length + rounds.length * TARGETS - timedOut;
    memory.push([
      `after ${ROUNDS} rounds of all ${TARGETS} targets at once, every scrape a diagnosis (${diagnoses} diagnoses in all)`,
      `${afterRounds.rssMiB.toFixed(0)} MiB`,
      `${afterRounds.peakMiB.toFixed(0)} MiB`,
    ]);
    await exporter.stop();

    // The default minimum interval (15 s): scrapes within it are answered from the cache.
    exporter = await ExporterProcess.start(['--config', fleet.file, '--listen', '127.0.0.1:0'], { env: { HOME: lab.home } });
    await round(exporter, all);
    log('exporter: 5000 cached scrapes (50 rounds of the 100 targets)');
    const cachedBefore = usage(exporter.pid);
    const cachedStarted = performance.now();
    for (let index = 0; index < 50; index += 1) await Promise.all(all.map((name) => get(`${exporter?.url ?? ''}/probe?target=${name}`)));
    const cachedWall = (performance.now() - cachedStarted) / (50 * TARGETS);
    const cached = usage(exporter.pid);
    rows.push([
      'answered from the cache (within --min-interval)',
      String(50 * TARGETS),
      `${ms(cachedWall)} (mean, 100 at a time)`,
      `${((cached.cpuMs - cachedBefore.cpuMs) / (50 * TARGETS)).toFixed(2)} ms`,
    ]);
    memory.push(['default --min-interval 15s: one round, then 5000 cached scrapes', `${cached.rssMiB.toFixed(0)} MiB`, `${cached.peakMiB.toFixed(0)} MiB`]);
    await exporter.stop();
    exporter = undefined;

    const body = [
      `One \`dbdoctor exporter\` process with ${TARGETS} targets in its config (60 healthy PostgreSQL URLs over the ten role/database pairs of the fleet part, 30 refused loopback ports, 10 targets on a silent peer), scraped over HTTP with \`X-Prometheus-Scrape-Timeout-Seconds: ${SCRAPE_TIMEOUT_S}\` (so a diagnosis gets 4.5 s). CPU time is the exporter's own (utime + stime from /proc/<pid>/stat, 10 ms ticks, over the whole run of scrapes, divided by their number); wall time is each scrape from the client's side; memory is VmRSS and VmHWM (the peak) from /proc/<pid>/status.`,
      '',
      '**Cost per probe**',
      '',
      table(['scrape', 'scrapes', 'wall: median (min–max)', 'exporter CPU per scrape'], rows),
      '',
      `**Memory with ${TARGETS} targets**`,
      '',
      table(['after', 'RSS', 'peak RSS'], memory),
      '',
      `Memory as the rounds go on (each round: all ${TARGETS} targets scraped at once, each scrape a diagnosis; the V8 heap in use as the exporter's own /metrics reports it, sampled between collections). The heap in use stays within ${Math.min(...heaps)}–${Math.max(...heaps)} MiB: what the exporter holds does not grow with the scrapes. RSS grows more slowly with each round (${trend[0]?.[2] ?? '?'} after the first, ${trend.at(-1)?.[2] ?? '?'} after the last): V8 and the allocator keep what they once reserved.`,
      '',
      table(['rounds', 'diagnoses', 'RSS', 'V8 heap in use'], trend),
      '',
      `A round took ${ms(median(rounds))} (median of ${rounds.length}; ${ms(Math.min(...rounds))}–${ms(Math.max(...rounds))}) with at most 16 diagnoses at a time; a silent target's diagnosis ends when its connection's share of the 4.5 s (60 %) runs out. Scrapes that found no free diagnosis slot within their 4.5 s, answered 503 (\`timed_out\`, the DbdoctorProbesTimingOut alert): ${timedOut} of ${rounds.length * TARGETS}: all at once is the worst case, Prometheus spreads a job's targets over its interval. A refused port costs more CPU than a healthy server: the process step then reads /proc (every process and listening socket of the machine) to tell not_running from wrong_port.`,
    ].join('\n');
    const headline = [
      `Exporter: a probe costs ${healthy.cpuMs.toFixed(0)} ms CPU (healthy PostgreSQL, ${ms(median(healthy.wall))} per scrape) or ${refused.cpuMs.toFixed(0)} ms (refused port), a cached answer ${((cached.cpuMs - cachedBefore.cpuMs) / (50 * TARGETS)).toFixed(2)} ms; with ${TARGETS} targets it holds ${afterRounds.rssMiB.toFixed(0)} MiB RSS (peak ${afterRounds.peakMiB.toFixed(0)} MiB) after ${diagnoses} diagnoses, and ${cached.rssMiB.toFixed(0)} MiB after 5000 cached scrapes.`,
    ];
    return { title: 'Exporter: cost per probe, memory with 100 targets', body, headline };
  } finally {
    await exporter?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
