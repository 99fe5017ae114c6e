import { rmSync } from 'node:fs';
import { CassandraNode, cassandraVersion, KEYSPACES, SUPERUSER } from '../test/lab/cassandra.js';
import { ADMIN_USER, Ferret, FERRETDB_VERSION } from '../test/lab/mongo.js';
import { freePort } from '../test/lab/postgres.js';
import { describe, interleaved, ms, table, type Stats } from './measure.js';
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
  readonly note?: string;
}

async function measurePair(lab: Lab, healthyUrl: string, refusedUrl: string, runs: number): Promise<{ healthy: Stats; refused: Stats }> {
  const [healthy, refused] = (await interleaved([diagnose(lab, [healthyUrl]), diagnose(lab, [refusedUrl])], { runs, warmup: 1 })) as [Stats, Stats];
  return { healthy, refused };
}

function rowsOf(engine: string, pair: { healthy: Stats; refused: Stats }): string[][] {
  return [
    [engine, 'healthy', describe(pair.healthy), `${verdict(pair.healthy.samples[0]?.stdout ?? '')}, exit ${pair.healthy.codes.join('/')}`],
    [engine, 'refused port', describe(pair.refused), `${verdict(pair.refused.samples[0]?.stdout ?? '')}, exit ${pair.refused.codes.join('/')}`],
  ];
}

async function mongo(lab: Lab, runs: number): Promise<EngineResult> {
  log(`MongoDB (FerretDB ${FERRETDB_VERSION}): healthy and refused, ${runs} runs each`);
  let server: Ferret | undefined;
  try {
    server = await Ferret.start({ adminPassword: PASSWORD });
    const pair = await measurePair(lab, server.url(ADMIN_USER, PASSWORD), `mongodb://127.0.0.1:${await freePort()}/app`, runs);
    return { engine: 'MongoDB', server: `FerretDB ${FERRETDB_VERSION} (SQLite backend, SCRAM), started in ${ms(server.startMs)}`, rows: rowsOf('MongoDB', pair), ...pair };
  } catch (error) {
    return { engine: 'MongoDB', server: `FerretDB ${FERRETDB_VERSION}`, rows: [], note: `not measured: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  } finally {
    await server?.destroy();
  }
}

async function cassandra(lab: Lab, runs: number): Promise<EngineResult> {
  log(`Cassandra ${cassandraVersion()}: starting a node (takes ~15–30 s), then healthy and refused, ${runs} runs each`);
  let node: CassandraNode | undefined;
  try {
    node = await CassandraNode.create();
    const pair = await measurePair(lab, node.url(SUPERUSER, KEYSPACES.healthy), `cassandra://127.0.0.1:${await freePort()}/?dc=datacenter1`, runs);
    return { engine: 'Cassandra', server: `Apache Cassandra ${cassandraVersion()} (one node, Java 17, 512 MiB heap), started in ${ms(node.info.startMs)} (JVM spawn to first login)`, rows: rowsOf('Cassandra', pair), ...pair };
  } catch (error) {
    return { engine: 'Cassandra', server: `Apache Cassandra ${cassandraVersion()}`, rows: [], note: `not measured: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
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
      .map((result) => (result.healthy && result.refused ? `${result.engine} healthy ${ms(result.healthy.median)}, refused ${ms(result.refused.median)}` : `${result.engine} ${result.note ?? 'not measured'}`))
      .join('; ')}.`,
  ];
  const body = [
    `dbdoctor \`diagnose --json\`, whole processes, ${runs} runs of each after one warm-up, healthy and refused round-robin. The refused port is a free loopback port (with the server running on another port, which dbdoctor may name: wrong_port).`,
    '',
    ...results.map((result) => `- ${result.engine}: ${result.server}${result.note ? ` — **${result.note}**` : ''}`),
    '',
    table(['engine', 'target', 'wall: median (min–max, n)', 'verdict'], results.flatMap((result) => result.rows)),
    '',
    "No comparison tool is measured here: neither `mongosh` nor `cqlsh` is in Debian's archive (they come from npm and PyPI), and the benchmark installs only Debian packages; `wait-for-it` would only check the port, as in the PostgreSQL table.",
  ].join('\n');
  return { title: 'MongoDB and Cassandra', body, headline };
}
