import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cassandraVersion } from '../test/lab/cassandra.js';
import { FERRETDB, FERRETDB_VERSION } from '../test/lab/mongo.js';
import { pgBinDir } from '../test/lab/postgres.js';
import { coldStart } from './coldstart.js';
import { engines } from './engines.js';
import { explainPastes } from './explain.js';
import { exporterCost } from './exporter.js';
import { failing } from './failing.js';
import { fleet } from './fleet.js';
import { load as serverLoad } from './footprint.js';
import { healthy } from './healthy.js';
import { createLab, log, type Lab, type Section } from './lab.js';
import { ms } from './measure.js';

/**
 * `npm run bench`: sets up the lab, runs every measurement in turn, and writes bench/RESULTS.md
 * from scratch. It asserts no timing: a part that fails is reported as such in RESULTS.md (and the
 * command exits 1), the others still run.
 */
const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'RESULTS.md');

async function output(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, [...args], { env: { ...process.env, LC_ALL: 'C' } });
    return (stdout || stderr).trim().split('\n')[0] ?? '';
  } catch (error) {
    return `unavailable (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
  }
}

async function machine(): Promise<string[]> {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  const os = /PRETTY_NAME="?([^"\n]*)/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '?';
  const dbdoctor = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = await output('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = (await output('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin'])) !== '';
  return [
    `- Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Linux ${release()}; ${os}`,
    `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- dbdoctor ${dbdoctor} (commit ${commit}${dirty ? ', with uncommitted changes in src/ or bin/' : ''}), Node.js ${process.version}`,
    `- PostgreSQL server: ${await output(join(pgBinDir(), 'postgres'), ['--version'])}`,
    `- ${await output('pg_isready', ['--version'])}; ${await output('psql', ['--version'])}`,
    `- ${await output('check_postgres', ['--version'])}`,
    `- wait-for-it: Debian package ${await output('dpkg-query', ['-W', '-f', '${Version}', 'wait-for-it'])} (no --version of its own)`,
    `- GNU time: Debian package ${await output('dpkg-query', ['-W', '-f', '${Version}', 'time'])}`,
    `- FerretDB ${FERRETDB_VERSION} (${FERRETDB.replace(ROOT + '/', '')}); Apache Cassandra ${cassandraVersion()} on ${await output('java', ['-version'])}`,
    '- hyperfine: not used (every measurement is a spawned process timed with performance.now, see bench/measure.ts)',
  ];
}

const HOW_TO_READ = [
  '- Every figure is a **whole process** (spawn to exit) as a user or a cron job would run it: interpreter start-up, connecting, the work, exiting. Nothing is timed from inside a tool.',
  '- "median (min–max, n=…)": the median of n runs, and the fastest and slowest. Spread on a 2-core machine running a database is real; compare medians.',
  '- **Ratios are dbdoctor ÷ the other**: below 1× dbdoctor took less time, above 1× more.',
  '- dbdoctor does more than the tools it is compared with: one verdict over six steps (process, accepting, network, pool, auth, queries), its evidence and the fix. The comparison set (pg_isready plus four check_postgres actions) is the nearest you can assemble from standard tools.',
  '- Failing targets are the point of a diagnosis tool: "time to verdict" is how long until the tool exits with an answer; "≥30 s (killed)" means it had not answered when the benchmark killed it.',
  "- All servers are local (loopback or a network namespace on this machine), so network latency is near zero: the figures are the tools' own costs and timers.",
  '- Regenerate with `npm run bench` (root, Debian; about 6–8 minutes). It asserts nothing: slow figures are reported, not failed.',
];

async function section(name: string, work: () => Promise<Section>): Promise<Section & { failed?: boolean }> {
  const started = performance.now();
  try {
    const result = await work();
    log(`${name}: done in ${ms(performance.now() - started)}`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${name}: FAILED: ${message}`);
    return {
      title: name,
      body: `**Not measured: this part failed.**\n\n\`\`\`text\n${message}\n\`\`\``,
      headline: [`${name}: not measured (failed; see its section).`],
      failed: true,
    };
  }
}

/** The 1-minute load average, sampled every 5 s while the benchmark runs (it counts our own processes too). */
function loadSampler(): { stop(): string } {
  const samples: number[] = [];
  const sample = (): void => void samples.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
  sample();
  const timer = setInterval(sample, 5000);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
      const max = Math.max(...samples);
      const busy = mean > cpus().length;
      return `- Load average (1 min) during the run: mean ${mean.toFixed(1)}, max ${max.toFixed(1)} on ${cpus().length} cores (the benchmark's own processes count: its failing-target pilot alone runs 20 at once; on a quiet machine the mean stays near 2)${busy ? '. **Other work competed for the CPU during this run: figures are slower and more spread than on a quiet machine.**' : ''}`;
    },
  };
}

/**
 * `npm run bench -- --only exporter`: runs that one part and rewrites only its section of
 * RESULTS.md (and its headline lines, which start with its name), leaving the other parts' figures
 * from their last full run.
 */
const PARTS = {
  exporter: { headline: ['Exporter:'], run: exporterCost, lab: true },
  coldstart: { headline: ['Cold start', 'Lazy drivers'], run: (lab: Lab) => coldStart(lab), lab: true },
  fleet: { headline: ['Fleet in one run'], run: (lab: Lab) => fleet(lab), lab: true },
  engines: { headline: ['Other engines'], run: (lab: Lab) => engines(lab), lab: true },
  // explain is offline: it needs no lab (and so no root).
  explain: { headline: ['Explain'], run: () => explainPastes(), lab: false },
} as const satisfies Record<string, { headline: readonly string[]; run: (lab: Lab) => Promise<Section>; lab: boolean }>;

async function only(name: string): Promise<number> {
  const part = Object.entries(PARTS).find(([key]) => key === name)?.[1];
  if (!part) {
    process.stderr.write(`bench: --only takes one of ${Object.keys(PARTS).join(', ')}\n`);
    return 3;
  }
  let result: Section & { failed?: boolean };
  const run: (lab: Lab) => Promise<Section> = part.run;
  if (part.lab) {
    log('setting up the lab (a PostgreSQL cluster, a network namespace, a silent peer)');
    const lab: Lab = await createLab();
    try {
      result = await section(name, () => run(lab));
    } finally {
      await lab.destroy();
    }
  } else {
    // An offline part is given no lab.
    result = await section(name, () => run(undefined as never));
  }
  const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const commit = await output('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const note = `_Measured on its own by \`npm run bench -- --only ${name}\` on ${when} (commit ${commit}, 1-minute load average ${load.toFixed(1)} at the end on ${cpus().length} cores); the other sections come from the last full run._`;
  writeFileSync(RESULTS, spliceSection(readFileSync(RESULTS, 'utf8'), { ...result, body: `${note}\n\n${result.body}` }, part.headline));
  log(`rewrote the "${result.title}" section of ${RESULTS.replace(ROOT + '/', '')}`);
  return result.failed ? 1 : 0;
}

/** RESULTS.md with one section (and its headline lines) replaced, or added at the end. */
export function spliceSection(document: string, section: Section, headlinePrefixes: readonly string[]): string {
  const lines = document.split('\n');
  const headlineAt = lines.indexOf('## Headline');
  const headlineEnd = lines.findIndex((line, index) => index > headlineAt && line.startsWith('## '));
  const kept = lines
    .slice(headlineAt + 1, headlineEnd)
    .filter((line) => !headlinePrefixes.some((prefix) => line.startsWith(`- ${prefix}`)) && line.trim() !== '');
  const headline = [...kept, ...section.headline.map((line) => `- ${line}`)];
  const withHeadline = [...lines.slice(0, headlineAt + 1), '', ...headline, '', ...lines.slice(headlineEnd)];
  const start = withHeadline.indexOf(`## ${section.title}`);
  const block = [`## ${section.title}`, '', section.body, ''];
  if (start < 0) return [...withHeadline, ...block].join('\n');
  const end = withHeadline.findIndex((line, index) => index > start && line.startsWith('## '));
  return [...withHeadline.slice(0, start), ...block, ...(end < 0 ? [] : withHeadline.slice(end))].join('\n');
}

async function main(): Promise<number> {
  const onlyAt = process.argv.indexOf('--only');
  if (onlyAt >= 0) return only(process.argv[onlyAt + 1] ?? '');
  const started = performance.now();
  const load = loadSampler();
  const about = await machine();
  log('setting up the lab (a PostgreSQL cluster, a network namespace, a silent peer)');
  const lab: Lab = await createLab();
  const sections: (Section & { failed?: boolean })[] = [];
  try {
    sections.push(await section('Healthy PostgreSQL', () => healthy(lab)));
    sections.push(await section('Failing targets', () => failing(lab)));
    sections.push(await section('Cold start', () => coldStart(lab)));
    sections.push(await section('Fleets', () => fleet(lab)));
    sections.push(await section('Load on the server', () => serverLoad(lab)));
    sections.push(await section('Exporter', () => exporterCost(lab)));
  } finally {
    await lab.destroy();
  }
  sections.push(await section('MongoDB and Cassandra', () => engines(lab)));
  sections.push(await section('Explain on long pastes', () => explainPastes()));
  about.push(load.stop());

  const document = [
    '# dbdoctor benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) in ${ms(performance.now() - started)}; every figure below comes from that one run. Do not edit by hand.`,
    '',
    '## Headline',
    '',
    ...sections.flatMap((entry) => entry.headline.map((line) => (line.startsWith('  - ') ? line : `- ${line}`))),
    '',
    '## How to read this',
    '',
    ...HOW_TO_READ,
    '',
    '## Machine and versions',
    '',
    ...about,
    '',
    ...sections.flatMap((entry) => [`## ${entry.title}`, '', entry.body, '']),
  ].join('\n');
  writeFileSync(RESULTS, document);
  log(`wrote ${RESULTS.replace(ROOT + '/', '')} in ${ms(performance.now() - started)}`);
  return sections.some((entry) => entry.failed) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
