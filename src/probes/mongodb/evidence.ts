import type { Document } from 'bson';
import type { Evidence } from '../../engine/schema.js';
import { reachEvidence } from '../common/network.js';
import type { SeedProbe, Survey } from './survey.js';

/** Slices of the survey, shaped as evidence for the step that talks about them. */
export function seedsEvidence(survey: Survey): Evidence {
  return reachEvidence(
    survey.seeds.map((seed) => seed.entry),
    survey.seeds.find((seed) => seed.connected)?.connected,
  );
}

/** A seed as people read it: host:port, [v6]:port, or a Unix socket's path (which has no port). */
export function whereOf(seed: { host: string; port: number } | undefined): string {
  if (!seed) return 'the server';
  if (isSocketPath(seed.host)) return seed.host;
  return `${seed.host.includes(':') ? `[${seed.host}]` : seed.host}:${seed.port}`;
}

/** A seed that is a Unix socket: the driver gives its path (mongodb://%2Ftmp%2Fmongodb-27017.sock). */
export function isSocketPath(host: string): boolean {
  return host.startsWith('/');
}

/** What hello said, in the fields an operator reads. */
export function helloEvidence(reply: Document): Evidence {
  const pick = [
    'setName',
    'hosts',
    'passives',
    'arbiters',
    'primary',
    'me',
    'isWritablePrimary',
    'ismaster',
    'secondary',
    'msg',
    'maxWireVersion',
    'saslSupportedMechs',
    'ok',
    'code',
    'codeName',
    'errmsg',
  ];
  const out: Evidence = {};
  for (const key of pick) if (reply[key] !== undefined) out[key] = reply[key];
  return out;
}

export function protocolEvidence(seed: SeedProbe): Evidence {
  const { hello, tls, otherWay } = seed;
  return {
    server: whereOf(seed),
    ...(seed.connected ? { connectedTo: seed.connected.address } : {}),
    ...(tls ? { tls: { ...tls } } : {}),
    ...(hello
      ? hello.outcome === 'reply'
        ? { hello: helloEvidence(hello.reply), helloMs: hello.durationMs }
        : {
            hello: {
              outcome: hello.outcome,
              ...('bytes' in hello ? { bytesReceived: hello.bytes.length } : {}),
              ...('code' in hello ? { code: hello.code, message: hello.message } : {}),
              durationMs: hello.durationMs,
            },
          }
      : {}),
    ...(otherWay ? { secondAttempt: { ...otherWay } } : {}),
    ...(seed.buildInfo?.version ? { serverVersion: seed.buildInfo.version } : {}),
    ...(seed.buildInfo?.ferretdbVersion ? { ferretdbVersion: seed.buildInfo.ferretdbVersion } : {}),
  };
}
