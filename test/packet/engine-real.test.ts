// The engine over captures made by real tools (dig, curl, openssl s_client, tcpdump; see
// scripts/fixtures/make-pcaps.sh): the names it finds must be the ones the tools put on the wire.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { PacketEngine } from '../../src/packet/engine.js';
import type { Observation } from '../../src/model/observation.js';

/** Minimal classic-pcap walk (the capture reader has its own tests; this keeps the engine test self-contained). */
function runPcap(name: string): { out: Observation[]; stats: Record<string, number> } {
  const b = readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url));
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const rd = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = rd(20) & 0xffff;
  const out: Observation[] = [];
  const e = new PacketEngine({ receiverId: 'pcap_file', maxFlows: 1000, flowIdleTimeoutMs: 120000, flowReportDelayMs: 2000, maxReassemblyBytes: 16384, maxReassemblyFlows: 100 }, (o) => out.push(o));
  for (let p = 24; p + 16 <= b.length;) {
    const cap = rd(p + 8);
    e.packet(linkType, rd(p), nano ? rd(p + 4) : rd(p + 4) * 1000, b, p + 16, cap);
    p += 16 + cap;
  }
  e.finish();
  return { out, stats: e.stats() };
}

const names = (out: Observation[], kind: string): string[] =>
  out.filter((o) => o.kind === kind).flatMap((o) => o.names.map((n) => `${n.evidence}=${n.name}`));

describe('PacketEngine on real captures', () => {
  test('dns.pcap: UDP and TCP DNS, CNAME chains, HTTPS hints, IPv6 (dig)', () => {
    const { out, stats } = runPcap('dns.pcap');
    assert.equal(stats.dns_malformed, 0);
    assert.ok(out.every((o) => o.kind === 'dns' && o.destination?.port === 53));
    const q = names(out, 'dns');
    for (const n of ['pastebin.com', 'www.pastebin.com', 'paste.ee', 'transfer.sh']) {
      assert.ok(q.includes(`dns.query=${n}`), n);
      assert.ok(q.includes(`dns.answer=${n}`), n);
    }
    const chain = out.find((o) => o.dns?.response && o.dns.query === 'paste.ee' && o.dns.qtype === 'A');
    assert.deepEqual(chain?.dns?.answers.map((a) => a.type), ['CNAME', 'CNAME', 'A']);
    const https = out.find((o) => o.dns?.response && o.dns.qtype === 'HTTPS' && o.transport === 'udp');
    assert.ok((https?.dns?.answers[0].hints ?? []).length > 0);
    assert.ok(out.some((o) => o.transport === 'tcp'));
    assert.ok(out.some((o) => o.networkType === 'ipv6'));
  });
  test('tls.pcap and split / out-of-order hellos: every SNI found', () => {
    for (const f of ['tls.pcap', 'split.pcap', 'split-ooo.pcap']) {
      const { out } = runPcap(f);
      const sni = names(out, 'connection').filter((n) => n.startsWith('tls.sni='));
      assert.ok(sni.includes('tls.sni=pastebin.com'), f);
      assert.ok(sni.includes('tls.sni=transfer.sh'), f);
      assert.ok(out.every((o) => o.flow && o.flow.bytesSent > 0 && o.flow.bytesReceived > 0), f);
    }
  });
  test('http.pcap: Host, absolute-form target and CONNECT through a proxy', () => {
    const n = names(runPcap('http.pcap').out, 'connection');
    assert.ok(n.includes('http.host=pastebin.com'));
    assert.ok(n.includes('http.target=pastebin.com'));
    assert.ok(n.includes('http.connect=transfer.sh'));
  });
  test('Linux SLL, SLL2 and VLAN-tagged captures decode the same', () => {
    for (const f of ['sll.pcap', 'sll2.pcap', 'vlan.pcap']) {
      const { out, stats } = runPcap(f);
      assert.equal(stats.decode_errors, 0, f);
      assert.ok(names(out, 'connection').some((n) => n.startsWith('tls.sni=')), f);
      assert.ok(names(out, 'connection').some((n) => n.startsWith('http.host=')), f);
      assert.ok(names(out, 'dns').length >= 2, f);
    }
  });
  // quic.pcap exists when the fixture script found ngtcp2's client and server (see make-pcaps.sh).
  const quic = new URL('../fixtures/pcap/quic.pcap', import.meta.url);
  test('quic.pcap: real QUIC v1 Initials (ngtcp2) give quic.sni on udp flows', { skip: !existsSync(quic) && 'no quic.pcap' }, () => {
    const { out, stats } = runPcap('quic.pcap');
    assert.ok(stats.quic_hellos >= 1);
    assert.equal(stats.quic_failed ?? 0, 0);
    const q = out.filter((o) => o.attributes['network.protocol.name'] === 'quic');
    assert.ok(q.length >= 1);
    assert.ok(q.every((o) => o.transport === 'udp' && o.destination?.port === 443 && o.names[0]?.evidence === 'quic.sni'));
    assert.ok(q.some((o) => o.names[0].name === 'pastebin.com'));
  });
});
