import { readFileSync } from 'node:fs';
import { median, runOnce, table, type Command } from './measure.js';
import { APP, diagnose, log, verdict, type Lab, type Section } from './lab.js';
import { CHECK_POSTGRES_ACTIONS, checkPostgres, pgIsReady } from './healthy.js';

/**
 * Load on the server: connections each diagnosis opens and statements it runs, read from the
 * cluster's own log (log_connections=on, log_statement=all), as the footprint() of
 * test/integration/reliability.test.ts does. The comparison tools are counted the same way.
 */
interface Footprint {
  readonly received: number;
  readonly authorized: number;
  readonly statements: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function footprint(lab: Lab, command: Command): Promise<Footprint & { stdout: string }> {
  const offset = readFileSync(lab.cluster.logFile).length;
  const sample = await runOnce(command);
  // Let the server write the last lines (a backend logs its disconnection after the client left).
  await sleep(300);
  const lines = readFileSync(lab.cluster.logFile).subarray(offset).toString('utf8').split('\n');
  return {
    received: lines.filter((line) => / LOG: {2}connection received: /.test(line)).length,
    authorized: lines.filter((line) => / LOG: {2}connection authorized: /.test(line)).length,
    statements: lines
      .filter((line) => / LOG: {2}(statement|execute [^:]*): /.test(line))
      .map((line) => line.replace(/^.* LOG: {2}(statement|execute [^:]*): /, '').trim()),
    stdout: sample.stdout,
  };
}

export async function load(lab: Lab, runs = 3): Promise<Section> {
  await lab.cluster.sql("ALTER SYSTEM SET log_statement = 'all'");
  await lab.cluster.sql('SELECT pg_reload_conf()');
  await sleep(300);
  try {
    const cases: { name: string; command: Command; doctor: boolean }[] = [
      { name: 'dbdoctor diagnose: healthy (full tree)', command: diagnose(lab, [lab.url]), doctor: true },
      { name: 'dbdoctor diagnose: wrong password', command: diagnose(lab, [lab.url.replace(APP.password, 'not-the-password')]), doctor: true },
      { name: 'dbdoctor diagnose: missing database', command: diagnose(lab, [lab.url.replace(`/${APP.database}`, '/nosuchdb')]), doctor: true },
      { name: 'pg_isready', command: pgIsReady(lab), doctor: false },
      ...CHECK_POSTGRES_ACTIONS.map(({ action, args }) => ({
        name: `check_postgres --action=${action}`,
        command: checkPostgres(lab, action, args),
        doctor: false,
      })),
    ];
    const rows: string[][] = [];
    let healthyStatements: readonly string[] = [];
    const headlineParts: string[] = [];
    const set = { received: 0, statements: 0 };
    for (const entry of cases) {
      log(`load on the server: ${entry.name} (${runs} runs)`);
      const results: (Footprint & { stdout: string })[] = [];
      for (let index = 0; index < runs; index += 1) results.push(await footprint(lab, entry.command));
      const first = results[0] as Footprint & { stdout: string };
      const received = median(results.map((result) => result.received));
      const authorized = median(results.map((result) => result.authorized));
      const statements = median(results.map((result) => result.statements.length));
      const range = (values: number[]): string => (Math.min(...values) === Math.max(...values) ? '' : ` (${Math.min(...values)}–${Math.max(...values)})`);
      rows.push([
        entry.name,
        entry.doctor ? verdict(first.stdout) : '',
        `${received}${range(results.map((result) => result.received))}`,
        `${authorized}${range(results.map((result) => result.authorized))}`,
        `${statements}${range(results.map((result) => result.statements.length))}`,
      ]);
      if (!entry.doctor) {
        set.received += received;
        set.statements += statements;
      }
      if (entry.doctor)
        headlineParts.push(
          `${entry.name.replace('dbdoctor diagnose: ', '').replace(' (full tree)', '')} ${received} connection${received === 1 ? '' : 's'} / ${statements} statement${statements === 1 ? '' : 's'}`,
        );
      if (entry.name.includes('healthy')) healthyStatements = first.statements;
    }
    const headline = [
      `Load on the server per dbdoctor diagnosis (server log): ${headlineParts.join('; ')} (pg_isready + the 4 check_postgres actions together: ${set.received} connections / ${set.statements} statements).`,
    ];
    const body = [
      `Counted in the cluster's own log with \`log_connections = on\` and \`log_statement = 'all'\` (switched on for this part only): "connection received" (TCP connections the server accepted), "connection authorized" (the server accepted the credentials; a missing database is refused after it) and "statement:"/"execute:" lines; ${runs} runs of each, median (range when runs differed). check_postgres runs with the thresholds of the healthy comparison.`,
      '',
      table(['run', 'dbdoctor verdict', 'connections received', '"connection authorized" lines', 'statements'], rows),
      '',
      `pg_isready + the four check_postgres actions together: ${set.received} connections, ${set.statements} statements.`,
      '',
      '<details><summary>The statements of one healthy dbdoctor diagnosis, as the server logged them (first line of each)</summary>',
      '',
      '```sql',
      ...healthyStatements.map((statement) => statement.replace(/\s+/g, ' ').slice(0, 300)),
      '```',
      '',
      '</details>',
    ].join('\n');
    return { title: 'Load on the server: connections and statements per diagnosis', body, headline };
  } finally {
    await lab.cluster.sql('ALTER SYSTEM RESET log_statement');
    await lab.cluster.sql('SELECT pg_reload_conf()');
  }
}
