import { rmSync } from 'node:fs';
import { CassandraNode, cassandraVersion, KEYSPACES, SUPERUSER } from '../test/lab/cassandra.js';
import { ADMIN_USER, Ferret, FERRETDB_VERSION } from '../test/lab/mongo.js';
import { freePort } from '../test/lab/postgres.js';
import { join } from 'node:path';
import { ROOT } from '../test/lab/dbdoctor.js';
import { baseEnv, describe, interleaved, ms, ratio, table, type Stats } from './measure.js';
import { diagnose, log, verdict, type Lab, type Section } from './lab.js';

/**
 * MongoDB (a FerretDB server: the MongoDB wire protocol over SQLite) and Apache Cassandra:
 * dbdoctor's time to verdict on a healthy server and on a refused port, each a whole process.
 */
const PASSWORD = 'bench-ferret-pass';

interface EngineResult {
  readonly engine: string;
  readonly server: string;
  readonly rows: string[][];
  readonly healthy?: Stats;
  readonly refused?: Stats;
  readonly bare?: Stats;
  readonly note?: string;
}

/** Issue 15: a healthy verdict over the whole tree within this many times a bare connect-and-ping script. */
const BARE_GOAL = 1.5;

interface Measured {
  readonly healthy: Stats;
  readonly refused: Stats;
  readonly bare: Stats;
}

/** dbdoctor on the healthy server and on a refused port, and the bare driver script (bench/bare/) on the healthy server, round-robin. */
async function measurePair(lab: Lab, healthyUrl: string, refusedUrl: string, bareScript: string, runs: number): Promise<Measured> {
  const bare = { argv: [process.execPath, join(ROOT, 'bench', 'bare', bareScript), healthyUrl], env: baseEnv({ HOME: lab.home }) };
  const [healthy, refused, bareStats] = (await interleaved([diagnose(lab, [healthyUrl]), diagnose(lab, [refusedUrl]), bare], { runs, warmup: 1 })) as [
    Stats,
    Stats,
    Stats,
  ];
  return { healthy, refused, bare: bareStats };
}

function rowsOf(engine: string, pair: Measured, bareScript: string): string[][] {
  const times = pair.healthy.median / pair.bare.median;
  return [
    [
      engine,
      'healthy (dbdoctor, whole tree)',
      describe(pair.healthy),
      `${verdict(pair.healthy.samples[0]?.stdout ?? '')}, exit ${pair.healthy.codes.join('/')}`,
      `${ratio(pair.healthy.median, pair.bare.median)} — ${times <= BARE_GOAL ? 'met' : '**not met**'} (goal ≤ ${BARE_GOAL}×)`,
    ],
    [
      engine,
      `healthy (bench/bare/${bareScript}: connect, ping, close)`,
      describe(pair.bare),
      `${(pair.bare.samples[0]?.stdout ?? '').trim() || '(no output)'}, exit ${pair.bare.codes.join('/')}`,
      '1.00×',
    ],
    [engine, 'refused port', describe(pair.refused), `${verdict(pair.refused.samples[0]?.stdout ?? '')}, exit ${pair.refused.codes.join('/')}`, ''],
  ];
}

async function mongo(lab: Lab, runs: number): Promise<EngineResult> {
  log(`MongoDB (FerretDB ${FERRETDB_VERSION}): healthy and refused, ${runs} runs each`);
  let server: Ferret | undefined;
  try {
    server = await Ferret.start({ adminPassword: PASSWORD });
    const pair = await measurePair(lab, server.url(ADMIN_USER, PASSWORD), `mongodb://127.0.0.1:${await freePort()}/app`, 'mongodb-ping.mjs', runs);
    return {
      engine: 'MongoDB',
      server: `FerretDB ${FERRETDB_VERSION} (SQLite backend, SCRAM), started in ${ms(server.startMs)}`,
      rows: rowsOf('MongoDB', pair, 'mongodb-ping.mjs'),
      ...pair,
    };
  } catch (error) {
    return {
      engine: 'MongoDB',
      server: `FerretDB ${FERRETDB_VERSION}`,
      rows: [],
      note: `not measured: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    };
  } finally {
    await server?.destroy();
  }
}

async function cassandra(lab: Lab, runs: number): Promise<EngineResult> {
  log(`Cassandra ${cassandraVersion()}: starting a node (takes ~15–30 s), then healthy and refused, ${runs} runs each`);
  let node: CassandraNode | undefined;
  try {
    node = await CassandraNode.create();
    const pair = await measurePair(
      lab,
      node.url(SUPERUSER, KEYSPACES.healthy),
      `cassandra://127.0.0.1:${await freePort()}/?dc=datacenter1`,
      'cassandra-ping.mjs',
      runs,
    );
    return {
      engine: 'Cassandra',
      server: `Apache Cassandra ${cassandraVersion()} (one node, Java 17, 512 MiB heap), started in ${ms(node.info.startMs)} (JVM spawn to first login)`,
      rows: rowsOf('Cassandra', pair, 'cassandra-ping.mjs'),
      ...pair,
    };
  } catch (error) {
    return {
      engine: 'Cassandra',
      server: `Apache Cassandra ${cassandraVersion()}`,
      rows: [],
      note: `not measured: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    };
  } finally {
    if (node) {
      await node.stop();
      rmSync(node.info.root, { recursive: true, force: true });
    }
  }
}

export async function engines(lab: Lab, runs = 10): Promise<Section> {
  const results = [await mongo(lab, runs), await cassandra(lab, runs)];
  const headline = [
    `Other engines, dbdoctor time to verdict (median): ${results
      .map((result) =>
        result.healthy && result.refused && result.bare
          ? `${result.engine} healthy ${ms(result.healthy.median)} (${ratio(result.healthy.median, result.bare.median)} a bare driver connect-and-ping, ${result.healthy.median / result.bare.median <= BARE_GOAL ? 'met' : '**not met**'}: goal ≤ ${BARE_GOAL}×), refused ${ms(result.refused.median)}`
          : `${result.engine} ${result.note ?? 'not measured'}`,
      )
      .join('; ')}.`,
  ];
  const body = [
    `dbdoctor \`diagnose --json\`, whole processes, ${runs} runs of each after one warm-up, healthy, refused and the bare script round-robin. The bare script (bench/bare/) is the least a user would write instead: the same driver connecting, one ping (MongoDB) or one read of \`system.local\` (Cassandra), and closing — where dbdoctor walks the whole tree. The refused port is a free loopback port (with the server running on another port, which dbdoctor may name: wrong_port).`,
    '',
    ...results.map((result) => `- ${result.engine}: ${result.server}${result.note ? ` — **${result.note}**` : ''}`),
    '',
    table(
      ['engine', 'target', 'wall: median (min–max, n)', 'verdict', '÷ the bare script'],
      results.flatMap((result) => result.rows),
    ),
    '',
    "No comparison tool is measured here: neither `mongosh` nor `cqlsh` is in Debian's archive (they come from npm and PyPI), and the benchmark installs only Debian packages; `wait-for-it` would only check the port, as in the PostgreSQL table.",
  ].join('\n');
  return { title: 'MongoDB and Cassandra', body, headline };
}
