// A byte relay between network namespaces, through Unix sockets (a socket file is reachable from
// every network namespace that sees the file system). Run once inside a namespace and once outside,
// it lets a process in a test host reach one loopback port of this machine, or the reverse, and
// nothing else. Each argument is "LISTEN=CONNECT", each side "tcp:HOST:PORT" or "unix:PATH";
// "ready" is printed once every listener is up. A refused connection upstream closes the client's.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

function endpoint(text) {
  const unix = /^unix:(.+)$/.exec(text);
  if (unix) return { path: unix[1] };
  const tcp = /^tcp:(.+):(\d+)$/.exec(text);
  if (tcp) return { host: tcp[1], port: Number(tcp[2]) };
  throw new Error(`relay: not an endpoint: ${text}`);
}

const listeners = process.argv.slice(2).map((pair) => {
  const [from, to] = pair.split('=');
  const listen = endpoint(from ?? '');
  const target = endpoint(to ?? '');
  if (listen.path) rmSync(listen.path, { force: true });
  const server = createServer((client) => {
    const upstream = createConnection(target);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, resolve);
  });
});

await Promise.all(listeners);
process.stdout.write('ready\n');
