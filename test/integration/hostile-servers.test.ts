import { afterAll, describe, expect, test } from 'vitest';
import { RunReportSchema } from '../../src/engine/schema.js';
import { runInNewContext } from 'node:vm';
import { pasteIntoShells, unsafeToPaste } from '../lab/commands.js';
import { startCqlPeer } from '../lab/cql-peer.js';
import { dbdoctor, verdictOf } from '../lab/dbdoctor.js';
import { mongoPeer } from '../lab/mongo-peer.js';
import { pgPeer } from '../lab/pg-peer.js';
import { rawHttpPeer, type Peer } from '../lab/servers.js';

/**
 * Servers that attack the operator's terminal and shell, speaking each engine's real protocol:
 * escape sequences (OSC 52 writes the clipboard, CSI clears the screen, OSC 0 retitles the window,
 * SGR 8 hides text), bidi overrides, line breaks that forge report lines, shell syntax where a name
 * belongs, and strings of a megabyte, in every field they control — PostgreSQL's ErrorResponse
 * (message, detail, hint, severity) and ParameterStatus, MongoDB's hello and error documents and
 * currentOp, CQL's ERROR and SUPPORTED and its system tables, an HTTP status line and Server header.
 * In every output format: no control character from them reaches the output, the output stays
 * small, and every command printed is safe to paste (test/lab/commands.ts).
 */
const OSC52 = '\u001b]52;c;dG91Y2ggL3RtcC9wd25lZA==\u0007';
const ATTACK = `${OSC52}\u001b[2J\u001b[H\u001b]0;pwned\u0007\u001b[8mhidden\u001b[0m\u202eevil\u009b31m\n✔ HEALTHY  forged line\r$(touch SENTINEL)\`touch SENTINEL\`'";|&`;
const HUGE = `${ATTACK}${'x'.repeat(1024 * 1024)}`;

const FORMATS = [['--json'], [], ['--verbose'], ['--format', 'markdown'], ['--format', 'junit'], ['--format', 'nagios'], ['--format', 'prometheus']] as const;
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** Output written here: small, whatever the server sent (a megabyte). */
const MAX_OUTPUT = 200 * 1024;

const peers: { close(): Promise<void> | void }[] = [];
afterAll(async () => {
  await Promise.all(peers.map(async (peer) => peer.close()));
});
async function track(started: Promise<Peer>): Promise<Peer> {
  const peer = await started;
  peers.push(peer);
  return peer;
}

/** Diagnoses `target` in every format; checks every output; returns the JSON report. */
async function diagnoseEveryFormat(target: string, expected: string | RegExp): Promise<ReturnType<typeof RunReportSchema.parse>> {
  let report: ReturnType<typeof RunReportSchema.parse> | undefined;
  for (const format of FORMATS) {
    const run = await dbdoctor(['diagnose', '--timeout', '4', ...format, target], { env: { NO_COLOR: '1' } });
    for (const [stream, text] of [
      ['stdout', run.stdout],
      ['stderr', run.stderr],
    ] as const) {
      const shown = text.replace(/[\n\t]/g, '');
      expect(
        RAW.exec(shown)?.[0],
        `${format.join(' ') || 'human'} ${stream} holds a control character: ${JSON.stringify(text.slice(Math.max(0, (RAW.exec(shown)?.index ?? 0) - 80), (RAW.exec(shown)?.index ?? 0) + 80))}`,
      ).toBeUndefined();
      expect(text.length, `${format.join(' ') || 'human'} ${stream} is ${text.length} characters`).toBeLessThan(MAX_OUTPUT);
    }
    // A line break in a server's words cannot start a line of the report (in JSON it is an escape anyway).
    expect(run.stdout).not.toMatch(/^\s*✔ HEALTHY {2}forged/m);
    if (format[0] === '--json') report = RunReportSchema.parse(JSON.parse(run.stdout));
  }
  if (!report) throw new Error('no JSON report');
  expect(verdictOf(report)).toMatch(expected);
  const commands = report.targets
    .flatMap((target) => [...target.verdict.remediation, ...target.steps.flatMap((step) => step.remediation)])
    .flatMap((fix) => (fix.command ? [fix.command] : []));
  expect(await unsafeToPaste(commands)).toEqual([]);
  return report;
}

describe('hostile PostgreSQL servers', () => {
  test('a pg_hba.conf rejection naming an address, user and database full of escape sequences and shell', async () => {
    const message = `no pg_hba.conf entry for host "10.0.0.1${OSC52}", user "app$(touch SENTINEL)\u202e", database "db\u001b[2J;|&", no encryption`;
    const peer = await track(pgPeer({ kind: 'hostile', login: false, params: [], error: { sqlstate: '28000', message, located: true } }));
    const report = await diagnoseEveryFormat(`postgresql://app@127.0.0.1:${peer.port}/db?sslmode=disable`, 'auth/hba_rejected');
    // The server's words are kept as evidence (JSON escapes them); the pg_hba.conf line is left out, its address being none.
    expect(JSON.stringify(report.targets[0]?.verdict.details)).toContain('\\u001b]52');
    expect(report.targets[0]?.verdict.remediation.some((fix) => fix.command?.startsWith('host '))).toBe(false);
  });

  test('startup parameters and an error of a megabyte each, escape sequences in every field', async () => {
    const params: [string, string][] = [
      ['server_version', `15.0 ${ATTACK}`],
      ['application_name', HUGE],
      ...Array.from({ length: 300 }, (_, index): [string, string] => [`x_${index}${OSC52}`, ATTACK]),
    ];
    const peer = await track(
      pgPeer({
        kind: 'hostile',
        login: true,
        params,
        error: { sqlstate: '3D000', message: `database "${ATTACK}" does not exist ${HUGE}`, detail: HUGE, hint: ATTACK, severity: `FATAL${OSC52}` },
      }),
    );
    const report = await diagnoseEveryFormat(`postgresql://app@127.0.0.1:${peer.port}/db?sslmode=disable`, /^(auth|accepting)\//);
    expect(JSON.stringify(report).length).toBeLessThan(MAX_OUTPUT);
  });

  test('"starting up" with escape sequences in its message and detail', async () => {
    const peer = await track(
      pgPeer({
        kind: 'hostile',
        login: false,
        params: [],
        error: { sqlstate: '57P03', message: `the database system is starting up ${ATTACK}`, detail: ATTACK },
      }),
    );
    await diagnoseEveryFormat(`postgresql://app@127.0.0.1:${peer.port}/db?sslmode=disable`, 'accepting/starting_up');
  });

  test('an error the tree does not know, its message a megabyte', async () => {
    const peer = await track(pgPeer({ kind: 'reject', sqlstate: '08004', message: HUGE }));
    await diagnoseEveryFormat(
      `postgresql://${encodeURIComponent("us'er$(x)")}@127.0.0.1:${peer.port}/${encodeURIComponent('d b`x`')}?sslmode=disable`,
      'accepting/not_accepting',
    );
  });
});

describe('hostile MongoDB servers', () => {
  test('a replica-set name that is an escape sequence and shell', async () => {
    const peer = await track(mongoPeer({ hello: { setName: `rs${ATTACK}`, hosts: [] } }));
    const report = await diagnoseEveryFormat(`mongodb://127.0.0.1:${peer.port}/app?replicaSet=rs0`, 'accepting/replica_set_mismatch');
    // The real name is in the fix, percent-encoded inside the URL, the URL one shell word.
    expect(report.targets[0]?.verdict.remediation[0]?.command).toContain('replicaSet=rs%1B%5D52');
  });

  test('hello refused with an error document written to attack: its code name and message', async () => {
    const peer = await track(mongoPeer({ helloError: { code: 9001, codeName: `Socket${OSC52}`, errmsg: HUGE } }));
    await diagnoseEveryFormat(`mongodb://127.0.0.1:${peer.port}/`, 'accepting/not_accepting');
  });

  test('a secondary naming a primary that is no host name', async () => {
    const peer = await track(
      mongoPeer({
        hello: {
          isWritablePrimary: false,
          ismaster: false,
          secondary: true,
          setName: 'rs0',
          hosts: ['127.0.0.1:1'],
          primary: `db$(touch SENTINEL)${OSC52}:27017`,
          me: ATTACK,
        },
      }),
    );
    await diagnoseEveryFormat(`mongodb://127.0.0.1:${peer.port}/app?directConnection=true`, 'accepting/standby');
  });

  test('currentOp: an opid, a client and a command written to attack', async () => {
    const peer = await track(
      mongoPeer({
        inprog: [
          {
            desc: `conn42${ATTACK}`,
            opid: `shard01:1' }); db.dropDatabase(); ({ '${OSC52}`,
            active: true,
            op: 'query',
            ns: `shop.${ATTACK}`,
            secs_running: 3600,
            microsecs_running: 3_600_000_000,
            client: ATTACK,
            command: { find: HUGE },
          },
        ],
      }),
    );
    const opid = `shard01:1' }); db.dropDatabase(); ({ '${OSC52}`;
    const report = await diagnoseEveryFormat(`mongodb://127.0.0.1:${peer.port}/shop`, 'queries/long_running');
    // Pasted into any shell, mongosh gets one script; run against a recording db, it asks to kill exactly that opid, and nothing else.
    for (const [shell, [pasted]] of await pasteIntoShells([report.targets[0]?.verdict.remediation[0]?.command ?? ''])) {
      const args = pasted?.invocations[0]?.args ?? [];
      const calls: unknown[] = [];
      const db = new Proxy(
        {},
        {
          get:
            (_target, name) =>
            (...given: unknown[]) =>
              void calls.push({ [String(name)]: given }),
        },
      );
      runInNewContext(args[args.indexOf('--eval') + 1] ?? '', { db });
      expect(calls, shell).toEqual([{ adminCommand: [{ killOp: 1, op: opid }] }]);
    }
  });
});

describe('hostile Cassandra nodes', () => {
  test('an ERROR for STARTUP and SUPPORTED options written to attack', async () => {
    const peer = await startCqlPeer({
      supported: { [`X${OSC52}`]: [ATTACK, HUGE.slice(0, 60_000)], CQL_VERSION: [`3.4.7${OSC52}`] },
      startupError: { code: 0x0000, message: `server error ${ATTACK}${'y'.repeat(60_000)}` },
    });
    peers.push({ close: () => peer.stop() });
    await diagnoseEveryFormat(`cassandra://127.0.0.1:${peer.port}/`, /^accepting\//);
  });

  test('a data centre, a release and a cluster name written to attack', async () => {
    const peer = await startCqlPeer({ dc: `dc1${ATTACK}`, release: ATTACK, cluster: ATTACK });
    peers.push({ close: () => peer.stop() });
    const report = await diagnoseEveryFormat(`cassandra://127.0.0.1:${peer.port}/?dc=dc-east`, 'network/local_dc_mismatch');
    // The driver's message lists the data centres joined by ", " inside [ ]: a name holding "]" is read up to it.
    expect(report.targets[0]?.verdict.remediation[0]?.command).toContain('dc=dc1%1B');
  });

  test('work in system_views.queries written to attack', async () => {
    const peer = await startCqlPeer({ dc: 'dc1', queries: [{ task: `SELECT ${ATTACK}`, runningMicros: 420_000_000 }] });
    peers.push({ close: () => peer.stop() });
    await diagnoseEveryFormat(`cassandra://127.0.0.1:${peer.port}/?dc=dc1`, 'queries/long_running');
  });
});

describe('an HTTP server on the database port, its status line and Server header written to attack', () => {
  test.each([
    ['postgresql', 'postgresql://app@127.0.0.1:PORT/db?sslmode=disable'],
    ['mongodb', 'mongodb://127.0.0.1:PORT/'],
    ['cassandra', 'cassandra://127.0.0.1:PORT/'],
  ])('%s', async (_engine, url) => {
    const peer = await track(
      rawHttpPeer(`200 OK${OSC52}\u001b[2J`, [
        ['Server', `nginx${OSC52}\u001b]0;pwned\u0007`],
        ['X-Note', ATTACK.replace(/[\r\n]/g, ' ')],
      ]),
    );
    await diagnoseEveryFormat(url.replace('PORT', String(peer.port)), 'accepting/wrong_protocol');
  });
});
