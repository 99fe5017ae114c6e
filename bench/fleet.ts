import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/lab/postgres.js';
import { median, ms, resources, table, type Resources } from './measure.js';
import { diagnose, log, statuses, type Lab, type Section } from './lab.js';

/**
 * Fleets of 1, 10 and 100 targets in one `dbdoctor diagnose --config fleet.yaml` run (dbdoctor
 * diagnoses them concurrently under one deadline): wall time, CPU time and peak RSS from GNU time,
 * and what each added target costs. Mixed: 60 % healthy PostgreSQL URLs (ten roles, each with its
 * own database), 30 % refused ports, 10 % a silent peer; and the same without the silent peer, so
 * that the wall time is not just the silent target's timer.
 */
const SIZES = [1, 10, 100] as const;
/** Issue 15: 100 mixed targets in one run within this peak RSS. */
const RSS_GOAL_MIB = 100;

interface Composition {
  readonly name: string;
  /** Shares of healthy, refused, silent targets. */
  readonly shares: readonly [number, number, number];
}

const MIXED: Composition = { name: 'mixed (60 % healthy, 30 % refused, 10 % silent peer)', shares: [0.6, 0.3, 0.1] };
const NO_SILENT: Composition = { name: 'healthy and refused only (2 : 1)', shares: [2 / 3, 1 / 3, 0] };

async function fleetFile(lab: Lab, size: number, composition: Composition, dir: string): Promise<string> {
  const silent = Math.round(size * composition.shares[2]);
  const refused = Math.round(size * composition.shares[1]);
  const healthy = Math.max(1, size - silent - refused);
  const urls: string[] = [];
  for (let index = 0; index < healthy; index += 1) urls.push(lab.fleetUrls[index % lab.fleetUrls.length] ?? lab.url);
  for (let index = 0; index < refused; index += 1) urls.push(`postgresql://app@127.0.0.1:${await freePort()}/refused${index}`);
  for (let index = 0; index < silent; index += 1) urls.push(`postgresql://app@127.0.0.1:${lab.silent.port}/silent${index}`);
  const lines = [
    'targets:',
    ...urls.slice(0, size).flatMap((url, index) => [`  - label: t${String(index + 1).padStart(3, '0')}`, `    url: ${JSON.stringify(url)}`]),
  ];
  const file = join(dir, `fleet-${size}-${composition.shares[2] > 0 ? 'mixed' : 'fast'}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

interface Point {
  readonly size: number;
  readonly wallMs: number;
  readonly wallRange: string;
  readonly cpuS: number;
  readonly rssMiB: number;
  readonly statuses: string;
  readonly runs: number;
}

async function point(lab: Lab, size: number, composition: Composition, dir: string, runs: number): Promise<Point> {
  const file = await fleetFile(lab, size, composition, dir);
  const samples: Resources[] = [];
  for (let index = 0; index < runs; index += 1) samples.push(await resources(diagnose(lab, ['--config', file], { killAfterMs: 60_000 })));
  return {
    size,
    wallMs: median(samples.map((sample) => sample.wallMs)),
    wallRange: `${ms(Math.min(...samples.map((sample) => sample.wallMs)))}–${ms(Math.max(...samples.map((sample) => sample.wallMs)))}`,
    cpuS: median(samples.map((sample) => sample.userS + sample.systemS)),
    rssMiB: median(samples.map((sample) => sample.maxRssKiB / 1024)),
    statuses: statuses(samples[0]?.stdout ?? ''),
    runs,
  };
}

export async function fleet(lab: Lab, runs = 3): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdoctor-bench-fleet-'));
  const results = new Map<Composition, Point[]>();
  try {
    for (const composition of [MIXED, NO_SILENT]) {
      const points: Point[] = [];
      for (const size of SIZES) {
        if (size === 1 && composition === NO_SILENT) {
          points.push(results.get(MIXED)?.[0] as Point);
          continue;
        }
        log(`fleet: ${size} target${size === 1 ? '' : 's'}, ${composition.name} (${runs} runs under /usr/bin/time -v)`);
        points.push(await point(lab, size, composition, dir, runs));
      }
      results.set(composition, points);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const marginal = (points: readonly Point[]): { wallMs: number; cpuMs: number; rssMiB: number } => {
    const [, ten, hundred] = points as [Point, Point, Point];
    return { wallMs: (hundred.wallMs - ten.wallMs) / 90, cpuMs: ((hundred.cpuS - ten.cpuS) * 1000) / 90, rssMiB: (hundred.rssMiB - ten.rssMiB) / 90 };
  };
  const sections: string[] = [];
  for (const [composition, points] of results) {
    const extra = marginal(points);
    sections.push(
      `**${composition.name}**`,
      '',
      table(
        ['targets', 'wall: median (min–max)', 'CPU user+sys (median)', 'peak RSS (median)', 'statuses (first run)'],
        points.map((entry) => [
          String(entry.size),
          `${ms(entry.wallMs)} (${entry.wallRange})`,
          `${entry.cpuS.toFixed(2)} s`,
          `${entry.rssMiB.toFixed(0)} MiB`,
          entry.statuses,
        ]),
      ),
      '',
      `Each target past the 10th adds ${ms(extra.wallMs)} wall, ${ms(extra.cpuMs)} CPU and ${extra.rssMiB.toFixed(2)} MiB peak RSS ((100 − 10) ÷ 90).`,
      '',
    );
  }
  const mixed = results.get(MIXED) as Point[];
  const mixedExtra = marginal(mixed);
  const headline = [
    `Fleet in one run (mixed healthy/refused/silent): 1 / 10 / 100 targets take ${mixed.map((entry) => ms(entry.wallMs)).join(' / ')} wall and ${mixed.map((entry) => `${entry.rssMiB.toFixed(0)} MiB`).join(' / ')} peak RSS (100 targets: ${(mixed[2]?.rssMiB ?? Infinity) <= RSS_GOAL_MIB ? 'met' : '**not met**'}, issue 15's goal ≤ ${RSS_GOAL_MIB} MiB); each target past the 10th adds ${ms(mixedExtra.cpuMs)} CPU and ${mixedExtra.rssMiB.toFixed(2)} MiB.`,
  ];
  const body = [
    `One \`dbdoctor diagnose --json --config fleet.yaml\` process per run, ${runs} runs per point, under GNU time (\`/usr/bin/time -v\`: "Maximum resident set size", user and system time). Healthy targets cycle through ten role/database pairs of one local PostgreSQL (max_connections 200); refused targets are distinct free loopback ports; silent targets are one loopback peer that accepts and never answers (different database names, so distinct targets). The silent targets hold the run until their timer fires, so the mixed fleet's wall time from 10 targets up is that timer; the second table leaves them out.`,
    '',
    ...sections,
  ].join('\n');
  return { title: 'Fleets: 1, 10, 100 targets in one run', body, headline };
}
