import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDns, DnsTcpStream, DNS_TCP_RESET } from '../../src/decode/dns.js';
import { dnsMessage, dnsTcpFraming } from '../helpers/packets.js';

function ok(buf: Buffer, transport: 'udp' | 'tcp' = 'udp') {
  const r = parseDns(buf, 0, buf.length, transport);
  assert.equal(r.ok, true, JSON.stringify(r));
  if (!r.ok) throw new Error('unreachable');
  return r.info;
}

describe('parseDns', () => {
  test('query: id, QR, qtype, lower-case name without trailing dot', () => {
    const info = ok(dnsMessage({ id: 0xbeef, questions: [{ name: 'PasteBin.COM.', type: 28 }] }));
    assert.deepEqual(info, { id: 0xbeef, response: false, rcode: 0, query: 'pastebin.com', qtype: 'AAAA', answers: [], transport: 'udp' });
  });
  test('response with a CNAME chain, A and AAAA, TTLs, compression', () => {
    const m = dnsMessage({
      id: 7, response: true,
      questions: [{ name: 'www.paste.ee' }],
      answers: [
        { name: 'www.paste.ee', type: 5, ttl: 60, data: 'paste.ee.cdn.example.net' },
        { name: 'paste.ee.cdn.example.net', type: 5, ttl: 30, data: 'edge.example.net' },
        { name: 'edge.example.net', type: 1, ttl: 20, data: '203.0.113.9' },
        { name: 'edge.example.net', type: 28, ttl: 20, data: '2001:db8::9' },
      ],
    });
    // Compression really happened: the names repeat but the message is short.
    assert.ok(m.includes(Buffer.from([0xc0])));
    const info = ok(m);
    assert.equal(info.response, true);
    assert.equal(info.query, 'www.paste.ee');
    assert.deepEqual(info.answers, [
      { name: 'www.paste.ee', type: 'CNAME', data: 'paste.ee.cdn.example.net', ttl: 60 },
      { name: 'paste.ee.cdn.example.net', type: 'CNAME', data: 'edge.example.net', ttl: 30 },
      { name: 'edge.example.net', type: 'A', data: '203.0.113.9', ttl: 20 },
      { name: 'edge.example.net', type: 'AAAA', data: '2001:db8::9', ttl: 20 },
    ]);
  });
  test('HTTPS and SVCB records with target and ipv4hint/ipv6hint', () => {
    const info = ok(dnsMessage({
      response: true, questions: [{ name: 'hastebin.com', type: 65 }],
      answers: [
        { name: 'hastebin.com', type: 65, ttl: 300, svc: { target: '', alpn: ['h2'], ipv4hint: ['198.51.100.1', '198.51.100.2'], ipv6hint: ['2001:db8::1'] } },
        { name: '_dns.resolver.arpa', type: 64, ttl: 10, svc: { target: 'dns.Example.net', ipv4hint: ['192.0.2.53'] } },
      ],
    }));
    assert.equal(info.qtype, 'HTTPS');
    assert.deepEqual(info.answers[0], { name: 'hastebin.com', type: 'HTTPS', data: '.', ttl: 300, hints: ['198.51.100.1', '198.51.100.2', '2001:db8::1'] });
    assert.deepEqual(info.answers[1], { name: '_dns.resolver.arpa', type: 'SVCB', data: 'dns.example.net', ttl: 10, hints: ['192.0.2.53'] });
  });
  test('rcode (NXDOMAIN) and unknown record types', () => {
    const info = ok(dnsMessage({ response: true, rcode: 3, questions: [{ name: 'nope.example', type: 16 }], answers: [{ name: 'nope.example', type: 16, rdata: Buffer.from([3, 0x61, 0x62, 0x63]) }] }));
    assert.equal(info.rcode, 3);
    assert.equal(info.qtype, 'TXT');
    assert.deepEqual(info.answers, [{ name: 'nope.example', type: 'TXT', data: '', ttl: 300 }]);
  });
  test('compression loops terminate: self pointer, forward pointer, two-pointer cycle', () => {
    const head = Buffer.from('000101000001000000000000', 'hex');
    const self = Buffer.concat([head, Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    assert.deepEqual(parseDns(self, 0, self.length, 'udp'), { ok: false, reason: 'dns_bad_name' });
    const fwd = Buffer.concat([head, Buffer.from([0xc0, 14, 0xc0, 12, 0, 1, 0, 1])]);
    assert.deepEqual(parseDns(fwd, 0, fwd.length, 'udp'), { ok: false, reason: 'dns_bad_name' });
    // label "a" then a pointer back to the label: a -> a -> a ...
    const cyc = Buffer.concat([head, Buffer.from([1, 0x61, 0xc0, 12, 0, 1, 0, 1])]);
    assert.deepEqual(parseDns(cyc, 0, cyc.length, 'udp'), { ok: false, reason: 'dns_bad_name' });
  });
  test('a name longer than 255 octets is rejected', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    const m = dnsMessage({ questions: [{ name: long }] });
    assert.equal(parseDns(m, 0, m.length, 'udp').ok, false);
  });
  test('truncated answers keep the question and earlier answers', () => {
    const m = dnsMessage({ response: true, questions: [{ name: 'a.example' }], answers: [{ name: 'a.example', type: 1, data: '192.0.2.1' }, { name: 'a.example', type: 1, data: '192.0.2.2' }] });
    const info = ok(m.subarray(0, m.length - 3));
    assert.deepEqual(info.answers.map((a) => a.data), ['192.0.2.1']);
    assert.deepEqual(parseDns(m, 0, 11, 'udp'), { ok: false, reason: 'dns_truncated_header' });
  });
  test('message at an offset inside a larger buffer', () => {
    const m = dnsMessage({ questions: [{ name: 'x.example' }] });
    const b = Buffer.concat([Buffer.alloc(9, 0xff), m, Buffer.alloc(4, 0xff)]);
    const r = parseDns(b, 9, m.length, 'tcp');
    assert.ok(r.ok);
    if (r.ok) { assert.equal(r.info.query, 'x.example'); assert.equal(r.info.transport, 'tcp'); }
  });
});

describe('DnsTcpStream', () => {
  const q1 = dnsMessage({ id: 1, questions: [{ name: 'one.example' }] });
  const q2 = dnsMessage({ id: 2, questions: [{ name: 'two.example' }] });
  const collect = () => {
    const ids: number[] = [];
    const cb = (b: Buffer, o: number, l: number): void => {
      const r = parseDns(b, o, l, 'tcp');
      ids.push(r.ok ? r.info.id : -1);
    };
    return { ids, cb };
  };
  test('two messages in one segment', () => {
    const s = new DnsTcpStream();
    const { ids, cb } = collect();
    const seg = dnsTcpFraming(q1, q2);
    assert.equal(s.push(1000, seg, 0, seg.length, cb), 2);
    assert.deepEqual(ids, [1, 2]);
  });
  test('one message across two segments, with a retransmission in between', () => {
    const s = new DnsTcpStream();
    const { ids, cb } = collect();
    const seg = dnsTcpFraming(q1);
    assert.equal(s.push(5, seg.subarray(0, 7), 0, 7, cb), 0);
    assert.equal(s.push(5, seg.subarray(0, 7), 0, 7, cb), 0); // retransmitted
    const rest = seg.subarray(7);
    assert.equal(s.push(12, rest, 0, rest.length, cb), 1);
    assert.deepEqual(ids, [1]);
  });
  test('a length prefix split after its first byte', () => {
    const s = new DnsTcpStream();
    const { ids, cb } = collect();
    const seg = dnsTcpFraming(q1, q2);
    const cut = q1.length + 3;
    assert.equal(s.push(0, seg, 0, cut, cb), 1);
    assert.equal(s.push(cut, seg, cut, seg.length - cut, cb), 1);
    assert.deepEqual(ids, [1, 2]);
  });
  test('a sequence gap resets the stream', () => {
    const s = new DnsTcpStream();
    const { ids, cb } = collect();
    const seg = dnsTcpFraming(q1);
    s.push(0, seg, 0, 5, cb);
    const later = dnsTcpFraming(q2);
    assert.equal(s.push(500, later, 0, later.length, cb), DNS_TCP_RESET);
    assert.deepEqual(ids, [2]);
  });
});
