import { performance } from 'node:perf_hooks';
import { BLACK_HOLE } from '../test/lab/isolated.js';
import { baseEnv, describe, measure, ms, runOnce, summarise, table, type Command, type Sample, type Stats } from './measure.js';
import { APP, diagnose, log, verdict, type Lab, type Section } from './lab.js';

/**
 * Failing targets: how long each tool takes to give a verdict, and which verdict. dbdoctor (its
 * default 10 s deadline), pg_isready (its default 3 s connect timeout), psql with libpq's defaults
 * (no connect_timeout: bounded here by an outer kill) and wait-for-it (-t 10, dbdoctor's default
 * deadline). Then the global deadline's overshoot: `diagnose --timeout T` wall time − T.
 */
export const KILL_AFTER_MS = 30_000;
const WAIT_FOR_IT_TIMEOUT = 10;

interface Target {
  readonly name: string;
  readonly short: string;
  readonly host: string;
  readonly port: number;
  readonly prefix: readonly string[];
  readonly where: string;
}

function targets(lab: Lab): Target[] {
  return [
    {
      name: 'refused (nothing listening)',
      short: 'refused',
      host: '127.0.0.1',
      port: lab.refusedPort,
      prefix: [],
      where: 'a free loopback port (the lab cluster listens on another local port, which dbdoctor sees and names: wrong_port)',
    },
    {
      name: 'black-holed (SYN dropped)',
      short: 'black hole',
      host: BLACK_HOLE,
      port: 5432,
      prefix: lab.host.prefix,
      where: `${BLACK_HOLE} inside the lab namespace: frames go to a MAC nobody has`,
    },
    {
      name: 'silent server (accepts, never answers)',
      short: 'silent server',
      host: '127.0.0.1',
      port: lab.silent.port,
      prefix: [],
      where: 'a loopback TCP server that accepts and sends nothing',
    },
    { name: 'unresolvable (NXDOMAIN)', short: 'NXDOMAIN', host: 'gone.lab', port: 5432, prefix: lab.host.prefix, where: 'the lab DNS server answers NXDOMAIN' },
    {
      name: 'unresolvable (silent resolver)',
      short: 'silent resolver',
      host: 'slow.lab',
      port: 5432,
      prefix: lab.host.prefix,
      where: "the lab DNS server never answers; glibc's default resolv.conf options (timeout 5 s, 2 attempts)",
    },
  ];
}

interface Tool {
  readonly name: string;
  command(lab: Lab, target: Target): Command;
  outcome(sample: Sample): string;
}

const url = (target: Target): string => `postgresql://${APP.user}@${target.host}:${target.port}/${APP.database}`;

const PG_ISREADY_CODES: Record<number, string> = { 0: 'accepting', 1: 'rejecting', 2: 'no response', 3: 'no attempt' };

const TOOLS: readonly Tool[] = [
  {
    name: 'dbdoctor',
    command: (lab, target) => diagnose(lab, [url(target)], { prefix: target.prefix, killAfterMs: KILL_AFTER_MS }),
    outcome: (sample) => verdict(sample.stdout),
  },
  {
    name: 'pg_isready',
    command: (lab, target) => ({
      argv: [...target.prefix, 'pg_isready', '-h', target.host, '-p', String(target.port), '-U', APP.user, '-d', APP.database],
      env: baseEnv({ HOME: lab.home }),
      killAfterMs: KILL_AFTER_MS,
    }),
    outcome: (sample) => `exit ${sample.code} (${PG_ISREADY_CODES[sample.code] ?? '?'})`,
  },
  {
    name: 'psql (libpq defaults)',
    command: (lab, target) => ({
      argv: [...target.prefix, 'psql', '-X', '-w', '-d', `host=${target.host} port=${target.port} user=${APP.user} dbname=${APP.database}`, '-c', 'SELECT 1'],
      env: baseEnv({ HOME: lab.home }),
      killAfterMs: KILL_AFTER_MS,
    }),
    outcome: (sample) => {
      const line = (
        sample.stderr
          .trim()
          .split('\n')
          .find((entry) => entry.trim() !== '') ?? ''
      )
        .replace(/^psql: error: /, '')
        .replace(/^connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: /, '');
      return `exit ${sample.code}: ${line.slice(0, 80)}`;
    },
  },
  {
    name: `wait-for-it -t ${WAIT_FOR_IT_TIMEOUT}`,
    command: (lab, target) => ({
      argv: [...target.prefix, 'wait-for-it', '-t', String(WAIT_FOR_IT_TIMEOUT), `${target.host}:${target.port}`],
      env: baseEnv({ HOME: lab.home }),
      killAfterMs: KILL_AFTER_MS,
    }),
    outcome: (sample) =>
      sample.code === 0
        ? 'exit 0: "is available" (the port is open; nothing checks that a database answers)'
        : sample.code === 124
          ? `exit 124: timeout after ${WAIT_FOR_IT_TIMEOUT} s`
          : `exit ${sample.code}`,
  },
];

/** Runs `jobs` with at most `limit` at a time. */
async function pool<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const index = next++;
        results[index] = await (jobs[index] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

function short(stats: Stats): string {
  return stats.killed > 0 ? `≥${KILL_AFTER_MS / 1000} s (killed)` : ms(stats.median);
}

function cellText(stats: Stats): string {
  return describe(stats, KILL_AFTER_MS);
}

export async function failing(lab: Lab, options: { fastRuns?: number; slowRuns?: number } = {}): Promise<Section> {
  const fastRuns = options.fastRuns ?? 10;
  const slowRuns = options.slowRuns ?? 3;
  const all = targets(lab);
  const cells = all.flatMap((target) => TOOLS.map((tool) => ({ target, tool, command: tool.command(lab, target) })));

  // A pilot run of every cell, all at once, sorts them: what answers within 1.5 s is measured
  // alone, one run after another; what waits on a timer is measured 6 at a time (its time is the
  // timer's, not the CPU's), and its pilot run counts as its first sample.
  log(`failing targets: pilot run of ${cells.length} cells (at most ${KILL_AFTER_MS / 1000} s)`);
  const pilot = await Promise.all(cells.map((cell) => runOnce(cell.command)));
  const slow = pilot.map((sample) => sample.wallMs >= 1500);
  const results: Stats[] = new Array<Stats>(cells.length);

  log(`failing targets: ${slow.filter((entry) => !entry).length} fast cells, ${fastRuns} runs each, alone`);
  for (const [index, cell] of cells.entries()) {
    if (slow[index]) continue;
    results[index] = await measure(cell.command, { runs: fastRuns });
  }
  log(`failing targets: ${slow.filter(Boolean).length} slow cells, up to ${slowRuns} runs each (a killed run is not repeated), 6 at a time`);
  const started = performance.now();
  await pool(
    cells.map((cell, index) => async () => {
      if (!slow[index]) return;
      const samples: Sample[] = [pilot[index] as Sample];
      while (samples.length < slowRuns && !samples.some((sample) => sample.killed)) samples.push(await runOnce(cell.command));
      results[index] = summarise(samples);
    }),
    6,
  );
  log(`failing targets: slow cells took ${ms(performance.now() - started)}`);

  const at = (target: Target, tool: Tool): Stats => results[cells.findIndex((cell) => cell.target === target && cell.tool === tool)] as Stats;
  const timeRows = all.map((target) => [target.name, ...TOOLS.map((tool) => cellText(at(target, tool)))]);
  const outcomeRows = all.map((target) => [
    target.name,
    ...TOOLS.map((tool) => {
      const sample = at(target, tool).samples[0] as Sample;
      return sample.killed ? `no verdict: still waiting when killed at ${KILL_AFTER_MS / 1000} s` : tool.outcome(sample);
    }),
  ]);

  const overshoot = await deadlineOvershoot(lab, all);
  const doctor = TOOLS[0] as Tool;
  const headline = [
    `Failing targets, median time to verdict (dbdoctor / pg_isready / psql / wait-for-it -t ${WAIT_FOR_IT_TIMEOUT}):`,
    ...all.map(
      (target) =>
        `  - ${target.short}: ${TOOLS.map((tool) => short(at(target, tool))).join(' / ')} (dbdoctor: ${at(target, doctor).samples[0] ? verdict((at(target, doctor).samples[0] as Sample).stdout) : '?'})`,
    ),
    ...overshoot.headline,
  ];
  const body = [
    `Targets (PostgreSQL URLs, user \`${APP.user}\`, database \`${APP.database}\`):`,
    '',
    ...all.map((target) => `- **${target.name}**: ${target.where}.`),
    '',
    `Tools: dbdoctor \`diagnose --json\` with its default deadline (10 s); \`pg_isready\` with its default connect timeout (3 s); \`psql\` with libpq's defaults (no \`connect_timeout\`), every run killed after ${KILL_AFTER_MS / 1000} s and reported as "≥${KILL_AFTER_MS / 1000} s (killed)"; \`wait-for-it -t ${WAIT_FOR_IT_TIMEOUT}\` (dbdoctor's default deadline). In the namespace rows every tool runs inside the lab namespace (\`ip netns exec\`), the same for all.`,
    '',
    `How it was run: first one pilot run of every cell at once; cells whose pilot took under 1.5 s were then measured alone, ${fastRuns} runs each; the others, which wait on a timer, were measured 6 at a time with up to ${slowRuns} runs each (the pilot run counts as the first; a run killed at ${KILL_AFTER_MS / 1000} s is not repeated).`,
    '',
    '**Time to verdict** — median (min–max, n runs):',
    '',
    table(['target', ...TOOLS.map((tool) => tool.name)], timeRows),
    '',
    '**What each tool concluded** (first run):',
    '',
    table(['target', ...TOOLS.map((tool) => tool.name)], outcomeRows),
    '',
    overshoot.body,
  ].join('\n');
  return { title: 'Failing targets: time to verdict', body, headline };
}

/** `dbdoctor diagnose --timeout T` against targets that never answer: wall time − T. */
async function deadlineOvershoot(lab: Lab, all: readonly Target[]): Promise<{ body: string; headline: string[] }> {
  const chosen = all.filter((target) => /black-holed|silent/.test(target.name));
  const plans = [
    { timeout: 1, runs: 5 },
    { timeout: 3, runs: 3 },
  ];
  const rows: string[][] = [];
  let worst = -Infinity;
  let worstMedian = -Infinity;
  for (const { timeout, runs } of plans) {
    for (const target of chosen) {
      log(`deadline overshoot: --timeout ${timeout}, ${target.name} (${runs} runs, alone)`);
      const stats = await measure(diagnose(lab, ['--timeout', String(timeout), url(target)], { prefix: target.prefix, killAfterMs: KILL_AFTER_MS }), { runs });
      const over = (value: number): number => value - timeout * 1000;
      worst = Math.max(worst, over(stats.max));
      worstMedian = Math.max(worstMedian, over(stats.median));
      rows.push([
        `--timeout ${timeout}`,
        target.name,
        describe(stats, KILL_AFTER_MS),
        `${signedMs(over(stats.median))} (max ${signedMs(over(stats.max))})`,
        over(stats.max) <= 200 ? 'yes' : '**no**',
        `${verdict(stats.samples[0]?.stdout ?? '')}, exit ${stats.codes.join('/')}`,
      ]);
    }
  }
  const body = [
    `**The global deadline's overshoot**: \`dbdoctor diagnose --timeout T\` against the targets that never answer, each run alone; overshoot = the whole process's wall time − T (it includes Node.js starting and exiting). The goal is ≤ 0.2 s.`,
    '',
    table(['deadline', 'target', 'wall: median (min–max, n)', 'overshoot: median (max)', '≤ 0.2 s?', 'verdict'], rows),
  ].join('\n');
  const summary =
    worst < 0
      ? `every run ended before T (the latest ${Math.round(-worst)} ms before it; median overshoot at most ${signedMs(worstMedian)})`
      : `median overshoot at most ${signedMs(worstMedian)}, worst run ${signedMs(worst)}`;
  const headline = [
    `Global deadline overshoot (whole-process wall − \`--timeout\` T, black hole / silent server / silent resolver, T = 1 s and 3 s): ${summary} — ${worst <= 200 ? 'within' : '**over**'} the ≤ 0.2 s goal.`,
  ];
  return { body, headline };
}

function signedMs(value: number): string {
  return `${value < 0 ? '−' : '+'}${Math.round(Math.abs(value))} ms`;
}
