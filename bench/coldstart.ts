import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BIN } from '../test/lab/dbdoctor.js';
import { baseEnv, describe, interleaved, ms, ratio, runOnce, table, type Command, type Stats } from './measure.js';
import { diagnose, dbdoctorEnv, log, verdict, type Lab, type Section } from './lab.js';

/**
 * Cold start: `dbdoctor --version` and `dbdoctor diagnose` on a refused port against `node -e 0`
 * (the floor any Node.js CLI pays), and the proof that database drivers load lazily: a
 * PostgreSQL-only run must not load mongodb or cassandra-driver.
 */
const HEAVY = ['mongodb', 'bson', 'mongodb-connection-string-url', 'cassandra-driver'] as const;

/**
 * Two independent witnesses of what a process loads from node_modules: a module-resolution hook
 * (NODE_OPTIONS=--import, as test/integration/drivers-lazy.test.ts does) sees every ESM import
 * and dynamic import(); NODE_DEBUG=module sees every CommonJS require.
 */
function hookFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dbdoctor-bench-hook-')), 'hook.mjs');
  const resolve = `export async function resolve(s, c, n) { const r = await n(s, c); if (r.url.includes('/node_modules/')) process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }`;
  writeFileSync(file, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolve)}));\n`);
  return file;
}

/** The packages (top-level names under node_modules) a process loaded, from its stderr. */
function packagesLoaded(stderr: string): Set<string> {
  const found = new Set<string>();
  for (const match of stderr.matchAll(/node_modules\/((?:@[^/\s]+\/)?[^/\s'"]+)\//g)) if (match[1] && !/^@[^/]*$/.test(match[1])) found.add(match[1]);
  return found;
}

/** Issue 15's goals, as ratios against `node -e 0` measured in the same run. */
const GOALS = { version: 1.3, help: 1.3, refused: 1.5, healthy: 2 } as const;

function goal(value: number, limit: number): string {
  return `${value <= limit ? 'met' : '**not met**'} (goal ≤ ${limit}×)`;
}

export async function coldStart(lab: Lab, runs = 20): Promise<Section> {
  log(`cold start: node -e 0, dbdoctor --version, --help, diagnose (refused port, healthy full tree) — ${runs} runs each, round-robin`);
  const refused = `postgresql://app@127.0.0.1:${lab.refusedPort}/app`;
  const commands: { name: string; command: Command; goal?: number }[] = [
    { name: '`node -e 0`', command: { argv: [process.execPath, '-e', '0'], env: baseEnv({ HOME: lab.home }) } },
    { name: '`dbdoctor --version`', command: { argv: [process.execPath, BIN, '--version'], env: dbdoctorEnv(lab) }, goal: GOALS.version },
    { name: '`dbdoctor --help`', command: { argv: [process.execPath, BIN, '--help'], env: dbdoctorEnv(lab) }, goal: GOALS.help },
    { name: '`dbdoctor diagnose --json` (refused port)', command: diagnose(lab, [refused]), goal: GOALS.refused },
    { name: '`dbdoctor diagnose --json` (healthy PostgreSQL, full tree)', command: diagnose(lab, [lab.url]), goal: GOALS.healthy },
  ];
  const stats = await interleaved(
    commands.map((entry) => entry.command),
    { runs, warmup: 2 },
  );
  const [node, version, help, refusedRun, healthyRun] = stats as [Stats, Stats, Stats, Stats, Stats];
  const rows = commands.map((entry, index) => {
    const entryStats = stats[index] as Stats;
    const times = entryStats.median / node.median;
    return [
      entry.name,
      describe(entryStats),
      ratio(entryStats.median, node.median),
      `+${ms(entryStats.median - node.median)}`,
      entry.goal === undefined ? '' : goal(times, entry.goal),
    ];
  });
  const refusedVerdict = verdict(refusedRun.samples[0]?.stdout ?? '');

  log('cold start: which packages each engine loads (module hook + NODE_DEBUG=module)');
  const hook = hookFile();
  const witnessEnv = { NODE_OPTIONS: `--import ${hook}`, NODE_DEBUG: 'module' };
  const checks = [
    { name: 'PostgreSQL, healthy, full tree', args: [lab.url] },
    { name: 'PostgreSQL, refused port', args: [refused] },
    { name: 'MongoDB, refused port (control: the witnesses do see a driver)', args: [`mongodb://127.0.0.1:${lab.refusedPort}/app`] },
    { name: 'Cassandra, refused port (control)', args: [`cassandra://127.0.0.1:${lab.refusedPort}/?dc=datacenter1`] },
  ];
  const moduleRows: string[][] = [];
  let postgresClean = true;
  let controlsSeen = true;
  for (const check of checks) {
    const sample = await runOnce(diagnose(lab, check.args, { env: witnessEnv }));
    const loaded = packagesLoaded(sample.stderr);
    const heavy = HEAVY.filter((name) => loaded.has(name));
    if (check.name.startsWith('PostgreSQL') && heavy.length > 0) postgresClean = false;
    if (check.name.startsWith('MongoDB') && !loaded.has('mongodb')) controlsSeen = false;
    if (check.name.startsWith('Cassandra') && !loaded.has('cassandra-driver')) controlsSeen = false;
    moduleRows.push([check.name, verdict(sample.stdout), [...loaded].sort().join(', ') || '(none)', heavy.length > 0 ? heavy.join(', ') : 'none']);
  }
  rmSync(dirname(hook), { recursive: true, force: true });
  const moduleLine = `Lazy drivers: a PostgreSQL-only run (healthy full tree, and refused) loads ${postgresClean ? '**neither** `mongodb` nor `cassandra-driver`' : '**a MongoDB or Cassandra package** (see the table)'} — ${postgresClean ? 'PASS' : 'FAIL'}; ${controlsSeen ? 'the MongoDB and Cassandra control runs show the witnesses do see those drivers when they load' : '**but a control run did not show its driver: the witnesses may be blind**'}.`;

  const headline = [
    `Cold start (median, ratios to \`node -e 0\` ${ms(node.median)} in the same run): \`--version\` ${ratio(version.median, node.median)} ${goal(version.median / node.median, GOALS.version)}; \`--help\` ${ratio(help.median, node.median)} ${goal(help.median / node.median, GOALS.help)}; refused port (${refusedVerdict}) ${ratio(refusedRun.median, node.median)} ${goal(refusedRun.median / node.median, GOALS.refused)}; healthy full tree ${ratio(healthyRun.median, node.median)} ${goal(healthyRun.median / node.median, GOALS.healthy)}.`,
    moduleLine,
  ];
  const body = [
    `${runs} measured runs of each after 2 warm-ups, round-robin (one run of each in turn, so that drift in the machine's load touches all alike); the goals are issue 15's. The refused-port diagnosis is the whole tree's first step failing (nothing listens there), so it is start-up plus the process step's look at the host (here ${refusedVerdict}: the lab's PostgreSQL listens on another port). The CLI runs from its bundle (scripts/bundle.ts: one CommonJS file, dist/bundle/main.cjs, with V8's cache of its compiled code trained at build time; \`--version\` alone is answered by bin/dbdoctor.js without it).`,
    '',
    table(['command', 'wall: median (min–max, n)', '÷ node -e 0', 'above node -e 0', "issue 15's goal"], rows),
    '',
    moduleLine,
    '',
    'Packages loaded from node_modules, seen by a module-resolution hook (`NODE_OPTIONS=--import`, every ESM import and `import()`) and by `NODE_DEBUG=module` (every CommonJS `require`):',
    '',
    table(['run', 'verdict', 'packages loaded', 'MongoDB / Cassandra packages'], moduleRows),
  ].join('\n');
  return { title: 'Cold start and lazy drivers', body, headline };
}
