// Fuzz: mutations of the real packets in test/fixtures/pcap (every capture, every packet) through every
// decoder (link, IP, TCP/UDP, DNS, TLS ClientHello, HTTP, QUIC Initial) and through the whole PacketEngine:
// never a throw, always within the time bound, results within the buffer.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readCapture } from '../../src/capture/reader.js';
import { decodeLink, newLinkOut, LINK_OK } from '../../src/decode/link.js';
import { decodeIp, newIpOut, IP_OK } from '../../src/decode/ip.js';
import { decodeTcp, decodeUdp, newL4Out, L4_OK } from '../../src/decode/tcp-udp.js';
import { parseDns, DnsTcpStream } from '../../src/decode/dns.js';
import { parseTlsClientHello, parseHandshakeClientHello } from '../../src/decode/tls-hello.js';
import { parseHttpRequest } from '../../src/decode/http.js';
import { decryptClientInitials, QuicHelloAssembler } from '../../src/decode/quic-initial.js';
import { PacketEngine } from '../../src/packet/engine.js';
import type { Observation } from '../../src/model/observation.js';
import { lengthBombOf, mutationOf, runs, timed } from './budget.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'pcap');

interface Pkt { linkType: number; data: Buffer; sec: number; nsec: number }
const files = new Map<string, Pkt[]>();
const frames: Buffer[] = [];
const frameLinks: number[] = [];
/** L4 payloads of the fixture packets, split by what they carry. */
const payloads = { dns: [] as Buffer[], tls: [] as Buffer[], http: [] as Buffer[], quic: [] as Buffer[] };

before(async () => {
  for (const f of readdirSync(FIX).sort()) {
    const pkts: Pkt[] = [];
    await readCapture(join(FIX, f), (linkType, sec, nsec, buf, off, len) => {
      pkts.push({ linkType, sec, nsec, data: Buffer.from(buf.subarray(off, off + len)) });
    });
    files.set(f, pkts);
    const lo = newLinkOut(), io = newIpOut(), l4 = newL4Out();
    for (const p of pkts) {
      frames.push(p.data);
      frameLinks.push(p.linkType);
      if (decodeLink(p.linkType, p.data, 0, p.data.length, lo) !== LINK_OK) continue;
      if (decodeIp(lo.net, p.data, lo.offset, p.data.length, io) !== IP_OK) continue;
      const rc = io.proto === 6 ? decodeTcp(p.data, io.l4Off, io.l4End, io.l4WireLen, l4) : io.proto === 17 ? decodeUdp(p.data, io.l4Off, io.l4End, io.l4WireLen, l4) : -1;
      if (rc !== L4_OK || l4.payloadLen === 0) continue;
      const pl = Buffer.from(p.data.subarray(l4.payloadOff, l4.payloadOff + l4.payloadLen));
      if (l4.srcPort === 53 || l4.dstPort === 53) payloads.dns.push(io.proto === 6 ? pl.subarray(2) : pl);
      else if (pl[0] === 0x16) payloads.tls.push(pl);
      else if (/^[A-Z]+ /.test(pl.subarray(0, 8).toString('latin1'))) payloads.http.push(pl);
      else if (io.proto === 17 && (pl[0] & 0x80) !== 0) payloads.quic.push(pl);
    }
  }
});

/** A mutated frame with the link type of the frame it came from (or, sometimes, another one). */
function frameArb(): fc.Arbitrary<[number, Buffer]> {
  return fc.tuple(fc.nat(), fc.boolean(), fc.constantFrom(0, 1, 101, 108, 113, 276, 228, 229)).chain(([i, keep, other]) => {
    const idx = i % frames.length;
    return fc.oneof(mutationOf([frames[idx]]), lengthBombOf([frames[idx]])).map((b): [number, Buffer] => [keep ? frameLinks[idx] : other, b]);
  });
}

function decodeAll(linkType: number, b: Buffer): void {
  const lo = newLinkOut(), io = newIpOut(), l4 = newL4Out();
  if (decodeLink(linkType, b, 0, b.length, lo) !== LINK_OK) return;
  assert.ok(lo.offset <= b.length);
  if (decodeIp(lo.net, b, lo.offset, b.length, io) !== IP_OK) return;
  assert.ok(io.l4Off <= io.l4End && io.l4End <= b.length, `l4 ${io.l4Off}..${io.l4End} of ${b.length}`);
  const rc = io.proto === 6 ? decodeTcp(b, io.l4Off, io.l4End, io.l4WireLen, l4) : io.proto === 17 ? decodeUdp(b, io.l4Off, io.l4End, io.l4WireLen, l4) : -1;
  if (rc !== L4_OK) return;
  assert.ok(l4.payloadOff + l4.payloadLen <= b.length);
  const off = l4.payloadOff, len = l4.payloadLen;
  parseDns(b, off, len, io.proto === 6 ? 'tcp' : 'udp');
  parseTlsClientHello(b, off, len);
  parseHttpRequest(b, off, len, 8192);
  if (io.proto === 17) decryptClientInitials(b, off, len, () => {});
}

describe('fuzz: fixture packets, mutated, through the decoders', () => {
  test('fixtures loaded (every capture has packets of each kind the suite mutates)', () => {
    assert.ok(files.size >= 8, `fixture captures: ${files.size}`);
    for (const [k, v] of Object.entries(payloads)) assert.ok(v.length > 0, `no ${k} payloads in the fixtures`);
  });

  test('link -> ip -> tcp/udp -> every application decoder', () => {
    fc.assert(fc.property(frameArb(), ([lt, b]) => timed('decode chain', () => decodeAll(lt, b))), runs(4));
  });

  test('dns payloads (udp and tcp framing)', () => {
    fc.assert(fc.property(fc.oneof(mutationOf(payloads.dns), lengthBombOf(payloads.dns)), fc.boolean(), (b, tcp) => {
      const r = timed('parseDns', () => parseDns(b, 0, b.length, tcp ? 'tcp' : 'udp'));
      if (r.ok) {
        assert.ok(r.info.query.length <= 255);
        assert.ok(r.info.answers.length <= b.length, 'more answers than bytes');
      }
      const s = new DnsTcpStream();
      const framed = Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
      let seen = 0;
      timed('DnsTcpStream', () => s.push(1000, framed, 0, framed.length, (m, o, l) => { seen++; assert.ok(o + l <= m.length); }));
      assert.ok(seen <= 1 + framed.length / 2);
    }), runs(3));
  });

  test('tls hello payloads', () => {
    fc.assert(fc.property(fc.oneof(mutationOf(payloads.tls), lengthBombOf(payloads.tls)), (b) => {
      const r = timed('parseTlsClientHello', () => parseTlsClientHello(b, 0, b.length));
      assert.ok(['parsed', 'need_more', 'not_tls', 'malformed'].includes(r.status));
      if (r.status === 'need_more') assert.ok((r.need ?? 0) > 0);
      if (r.status === 'parsed' && r.sni !== undefined) assert.ok(r.sni.length <= 255, `sni of ${r.sni.length} chars`);
      if (b.length > 5) timed('parseHandshakeClientHello', () => parseHandshakeClientHello(b, 5, b.length - 5));
    }), runs(3));
  });

  test('http request payloads', () => {
    fc.assert(fc.property(fc.oneof(mutationOf(payloads.http), lengthBombOf(payloads.http)), (b) => {
      const r = timed('parseHttpRequest', () => parseHttpRequest(b, 0, b.length, 8192));
      assert.ok(['parsed', 'need_more', 'not_http', 'malformed'].includes(r.status));
    }), runs(2));
  });

  test('quic initial payloads (decrypt with the derived keys, then assemble)', () => {
    fc.assert(fc.property(fc.oneof(mutationOf(payloads.quic, 3), lengthBombOf(payloads.quic)), (b) => {
      timed('decryptClientInitials', () => decryptClientInitials(b, 0, b.length, () => {}));
      const a = new QuicHelloAssembler(16384);
      timed('QuicHelloAssembler', () => a.push(b, 0, b.length));
    }), runs(1));
  });
});

describe('fuzz: mutated fixture captures through the PacketEngine', () => {
  test('every packet of a capture, some mutated, dropped, repeated or reordered', () => {
    const names = [...files.keys()];
    const arb = fc.record({
      file: fc.constantFrom(...names),
      edits: fc.array(fc.tuple(fc.nat(), fc.constantFrom('mutate', 'drop', 'repeat', 'swap'), fc.nat()), { maxLength: 8 }),
      smallCaps: fc.boolean(),
    });
    fc.assert(fc.property(arb, ({ file, edits, smallCaps }) => {
      const pkts = [...files.get(file)!];
      for (const [i, op, x] of edits) {
        if (pkts.length === 0) break;
        const at = i % pkts.length;
        if (op === 'drop') pkts.splice(at, 1);
        else if (op === 'repeat') pkts.splice(at, 0, pkts[at]);
        else if (op === 'swap') { const j = x % pkts.length; [pkts[at], pkts[j]] = [pkts[j], pkts[at]]; }
        else pkts[at] = { ...pkts[at], data: fc.sample(mutationOf([pkts[at].data], 4), { numRuns: 1, seed: x })[0] };
      }
      const out: Observation[] = [];
      const e = new PacketEngine({
        receiverId: 'fuzz', maxFlows: smallCaps ? 2 : 1000, flowIdleTimeoutMs: 60000, flowReportDelayMs: 2000,
        maxReassemblyBytes: smallCaps ? 256 : 16384, maxReassemblyFlows: smallCaps ? 1 : 100,
      }, (o) => out.push(o));
      timed('engine run', () => {
        for (const p of pkts) e.packet(p.linkType, p.sec, p.nsec, p.data, 0, p.data.length);
        e.finish();
      }, 200);
      const st = e.stats();
      assert.equal(st.packets, pkts.length);
      assert.equal(st.flows_active, 0);
      assert.ok(out.filter((o) => o.kind === 'connection').length <= st.flows_created);
      for (const o of out) for (const n of o.names) assert.ok(typeof n.name === 'string' && n.name.length <= 1024);
    }), runs(0.5));
  });
});
