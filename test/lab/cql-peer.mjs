// A scripted Cassandra node speaking the real CQL native protocol (v4) to the real cassandra-driver,
// for faults one real node cannot show: a cluster whose peers are down or advertise addresses this
// machine cannot reach, a node that answers Overloaded, work that has been running for minutes.
// It runs as its own process so that it can be started inside an isolated test host.
// Usage: node cql-peer.mjs '<json behaviour>'   (prints its port when listening)
//   { "listen": "127.0.0.1", "overloaded": false, "dc": "dc1",
//     "peers": [{ "peer": "127.0.0.2", "native": "127.0.0.2", "dc": "dc1" }],
//     "queries": [{ "task": "SELECT …", "runningMicros": 400000000 }],
//     "supported": { "X": ["…"] }, "release": "5.0.5", "cluster": "scripted", "startupError": { "code": 10, "message": "…" } }
import { createServer } from 'node:net';
import { BodyReader, encodeError, encodeFrame, ERROR_CODES, OPCODES, readFrame, write } from '../../dist/probes/cassandra/frame.js';

const behaviour = JSON.parse(process.argv[2] ?? '{}');
const listen = behaviour.listen ?? '127.0.0.1';
const dc = behaviour.dc ?? 'dc1';

// Column types of the protocol spec.
const T = { bigint: 0x0002, int: 0x0009, uuid: 0x000c, varchar: 0x000d, inet: 0x0010, set: 0x0022 };
const encoders = {
  varchar: (value) => Buffer.from(String(value), 'utf8'),
  int: (value) => write.int(value),
  bigint: (value) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64BE(BigInt(value));
    return buffer;
  },
  uuid: (value) => Buffer.from(value.replace(/-/g, ''), 'hex'),
  inet: (value) => Buffer.from(value.split('.').map(Number)),
  'set<varchar>': (values) => Buffer.concat([write.int(values.length), ...values.map((item) => write.bytes(Buffer.from(item, 'utf8')))]),
};
const typeOption = (type) => (type === 'set<varchar>' ? Buffer.concat([write.short(T.set), write.short(T.varchar)]) : write.short(T[type]));

/** A RESULT Rows body: columns as [name, type], rows as objects. */
function rows(keyspace, table, columns, values) {
  const metadata = Buffer.concat([
    write.int(0x0001),
    write.int(columns.length),
    write.string(keyspace),
    write.string(table),
    ...columns.flatMap(([name, type]) => [write.string(name), typeOption(type)]),
  ]);
  const body = values.flatMap((row) => columns.map(([name, type]) => write.bytes(row[name] === undefined || row[name] === null ? null : encoders[type](row[name]))));
  return Buffer.concat([write.int(0x0002), metadata, write.int(values.length), ...body]);
}

const hostId = (index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
const NODE_COLUMNS = [['data_center', 'varchar'], ['rack', 'varchar'], ['release_version', 'varchar'], ['tokens', 'set<varchar>'], ['host_id', 'uuid']];

function answer(query) {
  const text = query.replace(/\s+/g, ' ').trim();
  if (/FROM system\.local/i.test(text)) {
    return rows('system', 'local', [['key', 'varchar'], ['cluster_name', 'varchar'], ['partitioner', 'varchar'], ['rpc_address', 'inet'], ['broadcast_address', 'inet'], ['listen_address', 'inet'], ...NODE_COLUMNS], [
      { key: 'local', cluster_name: behaviour.cluster ?? 'scripted', partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner', rpc_address: listen, broadcast_address: listen, listen_address: listen, data_center: dc, rack: 'rack1', release_version: behaviour.release ?? '5.0.5', tokens: ['0'], host_id: hostId(0) },
    ]);
  }
  const peers = (behaviour.peers ?? []).map((peer, index) => ({ peer: peer.peer, rpc_address: peer.native, native_address: peer.native, native_port: port, data_center: peer.dc ?? dc, rack: 'rack1', release_version: '5.0.5', tokens: [String((index + 1) * 1000)], host_id: hostId(index + 1) }));
  if (/FROM system\.peers_v2/i.test(text)) return rows('system', 'peers_v2', [['peer', 'inet'], ['native_address', 'inet'], ['native_port', 'int'], ...NODE_COLUMNS], peers);
  if (/FROM system\.peers/i.test(text)) return rows('system', 'peers', [['peer', 'inet'], ['rpc_address', 'inet'], ...NODE_COLUMNS], peers);
  if (/FROM system_views\.settings/i.test(text)) return rows('system_views', 'settings', [['name', 'varchar'], ['value', 'varchar']], [{ name: 'native_transport_max_concurrent_connections', value: '-1' }]);
  if (/FROM system_views\.clients/i.test(text)) return rows('system_views', 'clients', [['address', 'inet'], ['port', 'int'], ['driver_name', 'varchar']], [{ address: '127.0.0.1', port: 40000, driver_name: 'scripted' }]);
  if (/FROM system_views\.queries/i.test(text)) {
    const running = (behaviour.queries ?? []).map((entry, index) => ({ thread_id: `Native-Transport-Requests-${index + 1}`, queued_micros: 10, running_micros: entry.runningMicros, task: entry.task }));
    return rows('system_views', 'queries', [['thread_id', 'varchar'], ['queued_micros', 'bigint'], ['running_micros', 'bigint'], ['task', 'varchar']], running);
  }
  return rows('system', 'none', [], []);
}

function respond(socket, frame) {
  const reply = (opcode, body) => socket.write(encodeFrame(4, opcode, body, { stream: frame.stream, response: true }));
  if (frame.version !== 4) {
    reply(OPCODES.ERROR, encodeError({ code: ERROR_CODES.protocolError, message: `Invalid or unsupported protocol version (${frame.version}); supported versions are (3/v3, 4/v4)` }));
    return;
  }
  switch (frame.opcode) {
    case OPCODES.OPTIONS:
      return reply(OPCODES.SUPPORTED, write.stringMultimap({ PROTOCOL_VERSIONS: ['3/v3', '4/v4'], CQL_VERSION: ['3.4.7'], COMPRESSION: [], ...behaviour.supported }));
    case OPCODES.STARTUP:
      if (behaviour.startupError) return reply(OPCODES.ERROR, encodeError(behaviour.startupError));
      if (behaviour.overloaded) return reply(OPCODES.ERROR, encodeError({ code: ERROR_CODES.overloaded, message: 'Server is in overloaded state. Cannot accept more requests at this point' }));
      return reply(OPCODES.READY, Buffer.alloc(0));
    case OPCODES.REGISTER:
      return reply(OPCODES.READY, Buffer.alloc(0));
    case OPCODES.QUERY:
      return reply(OPCODES.RESULT, answer(new BodyReader(frame.body).longString()));
    default:
      return reply(OPCODES.ERROR, encodeError({ code: ERROR_CODES.protocolError, message: `opcode ${frame.opcode} is not scripted` }));
  }
}

const server = createServer((socket) => {
  let buffer = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (let read = readFrame(buffer); read; read = readFrame(buffer)) {
      buffer = read.rest;
      respond(socket, read.frame);
    }
  });
});
let port = 0;
server.listen(behaviour.port ?? 0, listen, () => {
  port = server.address().port;
  process.stdout.write(`${port}\n`);
});
