// Property tests: random and mutated bytes into every decoder never throw, never hang, stay in bounds.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeLink, newLinkOut } from '../../src/decode/link.js';
import { decodeIp, newIpOut } from '../../src/decode/ip.js';
import { decodeTcp, decodeUdp, newL4Out } from '../../src/decode/tcp-udp.js';
import { parseDns, DnsTcpStream } from '../../src/decode/dns.js';
import { parseTlsClientHello, parseHandshakeClientHello } from '../../src/decode/tls-hello.js';
import { parseHttpRequest } from '../../src/decode/http.js';
import { decryptClientInitials, QuicHelloAssembler } from '../../src/decode/quic-initial.js';
import { clientHello, dnsMessage, httpRequest, quicInitial, tlsRecords } from '../helpers/packets.js';

const bytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));

/** A valid sample with a few random bytes overwritten (reaches deeper than pure noise). */
function mutated(sample: Buffer): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat({ max: sample.length }))
    .map(([edits, cut]) => {
      const b = Buffer.from(sample.subarray(0, Math.max(cut, 1)));
      for (const [pos, v] of edits) b[pos % b.length] = v;
      return b;
    });
}

const RUNS = { numRuns: 400 };

describe('decoders never throw on bad bytes', () => {
  test('link / ip / l4', () => {
    const lo = newLinkOut(), io = newIpOut(), l4 = newL4Out();
    fc.assert(fc.property(bytes, fc.constantFrom(0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9), (b, lt) => {
      if (decodeLink(lt, b, 0, b.length, lo) !== 0) return;
      assert.ok(lo.offset <= b.length);
      if (decodeIp(lo.net, b, lo.offset, b.length, io) !== 0) return;
      assert.ok(io.l4Off <= io.l4End || io.l4End <= b.length);
      if (decodeTcp(b, io.l4Off, io.l4End, io.l4WireLen, l4) === 0) assert.ok(l4.payloadOff + l4.payloadLen <= b.length);
      if (decodeUdp(b, io.l4Off, io.l4End, io.l4WireLen, l4) === 0) assert.ok(l4.payloadOff + l4.payloadLen <= b.length);
    }), RUNS);
  });
  test('dns (random and mutated) and the TCP stream', () => {
    const sample = dnsMessage({ response: true, questions: [{ name: 'a.b.example' }], answers: [
      { name: 'a.b.example', type: 5, data: 'c.b.example' }, { name: 'c.b.example', type: 1, data: '192.0.2.1' },
      { name: 'c.b.example', type: 65, svc: { target: 'x.b.example', ipv4hint: ['192.0.2.2'], ipv6hint: ['2001:db8::2'] } }] });
    fc.assert(fc.property(fc.oneof(bytes, mutated(sample)), (b) => {
      const r = parseDns(b, 0, b.length, 'udp');
      if (r.ok) assert.ok(r.info.query.length <= 255);
    }), { numRuns: 1500 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), bytes), { maxLength: 6 }), (segs) => {
      const s = new DnsTcpStream();
      for (const [seq, b] of segs) s.push(seq, b, 0, b.length, (m, o, l) => { parseDns(m, o, l, 'tcp'); });
    }), RUNS);
  });
  test('tls hello (random and mutated)', () => {
    const sample = tlsRecords(clientHello({ sni: 'x.example', alpn: ['h2'], ech: true }), [60]);
    fc.assert(fc.property(fc.oneof(bytes, mutated(sample)), (b) => {
      const r = parseTlsClientHello(b, 0, b.length);
      assert.ok(['parsed', 'need_more', 'not_tls', 'malformed'].includes(r.status));
      if (r.status === 'need_more') assert.ok((r.need ?? 0) > 0);
      parseHandshakeClientHello(b, 0, b.length);
    }), { numRuns: 1500 });
  });
  test('http (random and mutated)', () => {
    const sample = httpRequest('GET', 'http://a.example:1/x', { Host: '[::1]:80' });
    fc.assert(fc.property(fc.oneof(bytes, mutated(sample)), (b) => {
      const r = parseHttpRequest(b, 0, b.length, 128);
      assert.ok(['parsed', 'need_more', 'not_http', 'malformed'].includes(r.status));
    }), { numRuns: 1000 });
  });
  test('quic initial (random and mutated)', () => {
    const sample = quicInitial({ dcid: Buffer.from('0102030405060708', 'hex'), crypto: [{ offset: 0, data: clientHello({ sni: 'q.example' }) }], padTo: 0 });
    fc.assert(fc.property(fc.oneof(bytes, mutated(sample), bytes.map((b) => Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1]), b]))), (b) => {
      const r = decryptClientInitials(b, 0, b.length, () => {});
      assert.ok(r.packets <= b.length);
      new QuicHelloAssembler(2000).push(b, 0, b.length);
    }), { numRuns: 600 });
  });
});
