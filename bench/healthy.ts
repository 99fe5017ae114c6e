import { interleaved, describe, ms, ratio, table, baseEnv, type Command, type Stats } from './measure.js';
import { join } from 'node:path';
import { pgBinDir } from '../test/lab/postgres.js';
import { APP, diagnose, log, verdict, type Lab, type Section } from './lab.js';

/**
 * A healthy PostgreSQL, the full tree: `dbdoctor diagnose` against pg_isready plus the
 * check_postgres actions that cover the same ground (backends ~ pool, txn_idle and query_time ~
 * queries, locks ~ blocked sessions), each a whole process, run round-robin. The thresholds given
 * to check_postgres are dbdoctor's defaults (idle in transaction 5 min, long-running 5 min).
 */
export const CHECK_POSTGRES_ACTIONS: readonly { action: string; args: readonly string[] }[] = [
  { action: 'backends', args: [] },
  { action: 'txn_idle', args: ['--critical=5 minutes'] },
  { action: 'query_time', args: ['--critical=5 minutes'] },
  { action: 'locks', args: [] },
];

export function pgIsReady(lab: Lab): Command {
  return { argv: ['pg_isready', '-h', lab.cluster.host, '-p', String(lab.cluster.port), '-U', APP.user, '-d', APP.database], env: baseEnv({ HOME: lab.home }) };
}

/**
 * pg_isready as PostgreSQL builds it, the C program itself: Debian's `pg_isready` on PATH is its
 * Perl wrapper (pg_wrapper), which picks a cluster's version first (issue 15 reports both).
 */
export function pgIsReadyBinary(lab: Lab): Command {
  const [, ...args] = pgIsReady(lab).argv;
  return { argv: [join(pgBinDir(), 'pg_isready'), ...args], env: baseEnv({ HOME: lab.home }) };
}

export function checkPostgres(lab: Lab, action: string, extra: readonly string[]): Command {
  return {
    argv: [
      'check_postgres',
      `--action=${action}`,
      `--host=${lab.cluster.host}`,
      `--port=${lab.cluster.port}`,
      `--dbuser=${APP.user}`,
      `--dbname=${APP.database}`,
      ...extra,
    ],
    env: baseEnv({ HOME: lab.home, PGPASSWORD: APP.password }),
  };
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The comparison set as one process: sh running each tool in turn (as a cron job would). */
function wholeSet(lab: Lab): Command {
  const commands = [pgIsReady(lab), ...CHECK_POSTGRES_ACTIONS.map(({ action, args }) => checkPostgres(lab, action, args))];
  return {
    argv: ['sh', '-c', commands.map((command) => command.argv.map(shellQuote).join(' ')).join('; ')],
    env: baseEnv({ HOME: lab.home, PGPASSWORD: APP.password }),
  };
}

export async function healthy(lab: Lab, runs = 10): Promise<Section> {
  log(`healthy PostgreSQL: dbdoctor vs pg_isready + check_postgres (${runs} runs each, round-robin)`);
  const tools: { name: string; command: Command }[] = [
    { name: 'dbdoctor diagnose (full tree)', command: diagnose(lab, [lab.url]) },
    { name: 'the set, sequentially (sh -c "pg_isready; check_postgres ×4")', command: wholeSet(lab) },
    { name: 'pg_isready', command: pgIsReady(lab) },
    ...CHECK_POSTGRES_ACTIONS.map(({ action, args }) => ({ name: `check_postgres --action=${action}`, command: checkPostgres(lab, action, args) })),
    // Not one of the set (the set runs the wrapper, as a user on Debian would): beside it for comparison.
    { name: `pg_isready, the C program (${join(pgBinDir(), 'pg_isready')}; the row "pg_isready" is Debian's Perl wrapper)`, command: pgIsReadyBinary(lab) },
  ];
  const parts = 1 + CHECK_POSTGRES_ACTIONS.length;
  const stats = await interleaved(
    tools.map((tool) => tool.command),
    { runs, warmup: 1 },
  );
  const [doctor, set] = stats as [Stats, Stats, ...Stats[]];
  const sumOfParts = stats.slice(2, 2 + parts).reduce((sum, entry) => sum + entry.median, 0);
  const outcome = (index: number): string => {
    const sample = stats[index]?.samples[0];
    if (!sample) return '';
    if (index === 0) return `${verdict(sample.stdout)}, exit ${stats[index]?.codes.join('/')}`;
    const first = sample.stdout.trim().split('\n')[0] ?? '';
    return `exit ${stats[index]?.codes.join('/')}${
      first && index > 1
        ? `: ${first
            .replace(/\(host:[^)]*\) \(port=\d+\) /, '')
            .replace(/ \|.*$/, '')
            .slice(0, 70)}`
        : ''
    }`;
  };
  const rows = tools.map((tool, index) => [
    tool.name,
    describe(stats[index] as Stats),
    `${ratio(doctor.median, (stats[index] as Stats).median)}`,
    outcome(index),
  ]);
  const headline = [
    `Healthy PostgreSQL, full tree: dbdoctor ${ms(doctor.median)} vs ${ms(set.median)} for pg_isready + 4 check_postgres actions run in sequence: **${ratio(doctor.median, set.median)}** (dbdoctor ÷ the set); per tool: ${tools
      .slice(2, 2 + parts)
      .map((tool, index) => `${tool.name.replace('check_postgres --action=', '')} ${ratio(doctor.median, (stats[index + 2] as Stats).median)}`)
      .join(', ')} (pg_isready is Debian's wrapper; the C program alone: ${ratio(doctor.median, (stats[2 + parts] as Stats).median)}).`,
  ];
  const body = [
    `Target: \`postgresql://${APP.user}:****@127.0.0.1:PORT/${APP.database}\` on a local PostgreSQL 15 (the role has \`pg_monitor\`, so check_postgres sees the same server views). Every tool is a whole process; ${runs} measured runs each after one warm-up, run round-robin (one run of each tool in turn) so that drift in the machine's load affects all alike. check_postgres gets dbdoctor's default thresholds where it needs one (\`--critical='5 minutes'\` for txn_idle and query_time).`,
    '',
    table(['tool', 'wall: median (min–max, n)', 'dbdoctor ÷ this', 'outcome'], rows),
    '',
    `Sum of the five tools' medians: ${ms(sumOfParts)} (dbdoctor ÷ sum: ${ratio(doctor.median, sumOfParts)}); the sequential set as one process: ${ms(set.median)}. p90: dbdoctor ${ms(doctor.p90)}, the set ${ms(set.p90)}.`,
    '',
    'What the two sides cover: dbdoctor walks process → accepting → network → pool → auth → queries in one process (one Node.js start; the connections and statements it costs the server are counted under "Load on the server"); pg_isready only asks whether the server accepts connections (no login), and each check_postgres action is a Perl start plus a `psql` process that logs in and runs one query.',
  ].join('\n');
  return { title: 'Healthy PostgreSQL: dbdoctor vs pg_isready + check_postgres', body, headline };
}
