// A small real DNS server for the tests (UDP, RFC 1035 wire format). It answers A/AAAA records
// from a JSON table given as argv[2], and for names mapped to "NXDOMAIN", "SERVFAIL" or "SILENT"
// answers that way (SILENT: no answer at all). Unknown names get NXDOMAIN. Entries may also carry
// SRV records ({ priority, weight, port, target }) and TXT records (strings), for mongodb+srv://.
// Usage: node dns-server.mjs '<json table>' [address] [port]
import { createSocket } from 'node:dgram';

const table = JSON.parse(process.argv[2] ?? '{}');
const address = process.argv[3] ?? '127.0.0.53';
const port = Number(process.argv[4] ?? 53);
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 };
const socket = createSocket('udp4');

function readName(buffer, offset) {
  const labels = [];
  while (buffer[offset] !== 0) {
    const length = buffer[offset];
    labels.push(buffer.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += length + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: offset + 1 };
}

function answer(query, rcode, records) {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const rd = query[2] & 0x01;
  header[2] = 0x84 | rd; // QR, AA, RD copied
  header[3] = 0x80 | rcode; // RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const { end } = readName(query, 12);
  const question = query.subarray(12, end + 4);
  const answers = records.map(({ type, bytes }) => {
    const record = Buffer.alloc(12 + bytes.length);
    record.writeUInt16BE(0xc00c, 0); // pointer to the question name
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(5, 6);
    record.writeUInt16BE(bytes.length, 10);
    bytes.copy(record, 12);
    return record;
  });
  return Buffer.concat([header, question, ...answers]);
}

function ipv4(text) {
  return Buffer.from(text.split('.').map(Number));
}

function ipv6(text) {
  const [head, tail = ''] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(groups.flatMap((group) => { const value = parseInt(group || '0', 16); return [value >> 8, value & 0xff]; }));
}

function encodeName(name) {
  const labels = name.replace(/\.$/, '').split('.').filter((label) => label !== '');
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]);
}

function srvData({ priority = 0, weight = 0, port, target }) {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(priority, 0);
  head.writeUInt16BE(weight, 2);
  head.writeUInt16BE(port, 4);
  return Buffer.concat([head, encodeName(target)]);
}

function txtData(text) {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

socket.on('message', (query, remote) => {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const entry = table[name] ?? 'NXDOMAIN';
  if (entry === 'SILENT') return;
  let reply;
  if (typeof entry === 'string') {
    reply = answer(query, RCODE[entry] ?? RCODE.NXDOMAIN, []);
  } else {
    const records = [];
    if (qtype === 1) for (const a of entry.A ?? []) records.push({ type: 1, bytes: ipv4(a) });
    if (qtype === 28) for (const aaaa of entry.AAAA ?? []) records.push({ type: 28, bytes: ipv6(aaaa) });
    if (qtype === 33) for (const srv of entry.SRV ?? []) records.push({ type: 33, bytes: srvData(srv) });
    if (qtype === 16) for (const txt of entry.TXT ?? []) records.push({ type: 16, bytes: txtData(txt) });
    reply = answer(query, RCODE.NOERROR, records);
  }
  socket.send(reply, remote.port, remote.address);
});

socket.bind(port, address, () => process.stdout.write('ready\n'));
