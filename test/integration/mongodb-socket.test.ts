import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { ADMIN_USER, Ferret } from '../lab/mongo.js';

/**
 * A MongoDB connection string may name a Unix socket as its host, percent-encoded
 * (mongodb://%2Ftmp%2Fmongodb-27017.sock): a real FerretDB listens on one (--listen-unix), and
 * dbdoctor probes it over that socket, never looking the path up as a host name.
 */
const PASSWORD = 'ferret-socket-pass-3';

describe('mongodb over a Unix socket, against a real FerretDB', () => {
  let server: Ferret;
  let socket: string;

  beforeAll(async () => {
    socket = join(mkdtempSync(join(tmpdir(), 'dbdoctor-mongo-sock-')), 'mongodb-27017.sock');
    server = await Ferret.start({ adminPassword: PASSWORD, unix: socket });
  });
  afterAll(async () => server?.destroy());

  test('a socket URL: healthy, reached over the socket with no name lookup', async () => {
    const url = `mongodb://${ADMIN_USER}:${PASSWORD}@${encodeURIComponent(socket)}/?authSource=admin`;
    const { code, report, target } = await diagnoseJson([url]);
    expect(verdictOf(report)).toBe('none/healthy');
    expect(code).toBe(0);
    const network = target.steps.find((step) => step.id === 'network');
    expect(network?.status).toBe('pass');
    const text = JSON.stringify(target.steps);
    expect(text).toContain(socket);
    expect(text).not.toContain('ENOTFOUND');
    expect(text).not.toContain('EBADNAME');
  });

  test('a socket path nobody listens on: not a DNS failure, and the fix names the socket the server has', async () => {
    const missing = join(tmpdir(), `dbdoctor-no-such-${process.pid}`, 'mongodb-27017.sock');
    const url = `mongodb://${ADMIN_USER}:${PASSWORD}@${encodeURIComponent(missing)}/?authSource=admin`;
    const { code, report, target } = await diagnoseJson([url]);
    expect(code).toBe(2);
    // A MongoDB server (this FerretDB) runs on this machine, on another socket.
    expect(verdictOf(report)).toBe('accepting/not_listening');
    expect(target.verdict.message).toContain(missing);
    expect(target.verdict.message).toContain(socket);
    expect(target.verdict.remediation.map((fix) => fix.text).join('\n')).toContain('net.unixDomainSocket.pathPrefix');
  });
});
