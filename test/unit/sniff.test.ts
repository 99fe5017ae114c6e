import { describe, expect, test } from 'vitest';
import { identifyProtocol, isVague } from '../../src/net/sniff.js';

describe('what answered on a port', () => {
  const mysqlGreeting = Buffer.concat([Buffer.from([0x4a, 0, 0, 0, 0x0a]), Buffer.from('8.0.36\0'), Buffer.alloc(60, 1)]);
  const mongoReply = Buffer.alloc(40);
  mongoReply.writeInt32LE(40, 0);
  mongoReply.writeInt32LE(2013, 12);
  test.each([
    [Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n'), 'http'],
    [Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]), 'tls'],
    [Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), 'ssh'],
    [Buffer.from('-ERR unknown command\r\n'), 'redis'],
    [Buffer.from('220 mail.example.com ESMTP\r\n'), 'smtp'],
    [mysqlGreeting, 'mysql'],
    [mongoReply, 'mongodb'],
    [Buffer.from([0x45, 0, 0, 0, 0x10, 0x53, 0x46, 0x41, 0x54, 0x41, 0x4c, 0]), 'postgres'],
    [Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]), 'binary'],
    // python's http.server answering a request line it read as HTTP/0.9: the page, no status line.
    [Buffer.from('<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n        <title>Error response</title>'), 'http'],
  ])('%#: %s', (bytes, protocol) => {
    expect(identifyProtocol(bytes).protocol).toBe(protocol);
  });
  test('the sample is printable and short', () => {
    const guess = identifyProtocol(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.alloc(200, 0x41)]));
    expect(guess.sample.length).toBeLessThanOrEqual(80);
    expect(guess.description).toBe('an HTTP server (HTTP/1.1 200 OK)');
  });
  test('a guess that names no program is vague, and another opening is tried for a better name', () => {
    expect(isVague(identifyProtocol(Buffer.from('<!DOCTYPE HTML>\n<html>')))).toBe(true);
    expect(isVague(identifyProtocol(Buffer.from('HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\n\r\n')))).toBe(false);
    expect(isVague(identifyProtocol(Buffer.from('some text line\r\n')))).toBe(true);
    expect(isVague(identifyProtocol(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n')))).toBe(false);
  });
});
