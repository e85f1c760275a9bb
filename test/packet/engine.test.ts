import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PacketEngine, flowKey, type PacketEngineOptions } from '../../src/packet/engine.js';
import type { Observation } from '../../src/model/observation.js';
import { TelemetryRegistry } from '../../src/component/telemetry.js';
import {
  ACK, FIN, PSH, RST, SYN, clientHello, dnsMessage, dnsTcpFraming, ethernet, httpRequest, ipv4, quicInitial, splitAt,
  tcpFrame, tlsRecords, udp, udpFrame,
} from '../helpers/packets.js';

const C = '10.1.0.5';
const S = '93.184.216.34';

function setup(opts: Partial<PacketEngineOptions> = {}) {
  const out: Observation[] = [];
  const reg = new TelemetryRegistry();
  const e = new PacketEngine({
    receiverId: 'pcap_file/test', maxFlows: 1000, flowIdleTimeoutMs: 120000, flowReportDelayMs: 2000,
    maxReassemblyBytes: 16384, maxReassemblyFlows: 100, ...opts,
  }, (o) => out.push(o), reg.forComponent('receiver', 'pcap_file/test'));
  let t = 1_700_000_000_000; // ms
  const feed = (frame: Buffer, advanceMs = 1): void => {
    t += advanceMs;
    e.packet(1, Math.floor(t / 1000), (t % 1000) * 1e6, frame, 0, frame.length);
  };
  return { e, out, feed, reg, now: () => t };
}

/** A client handshake: SYN, SYN-ACK, ACK; returns the next client and server sequence numbers. */
function handshake(feed: (f: Buffer) => void, sport: number, dport: number, src = C, dst = S): { cseq: number; sseq: number } {
  feed(tcpFrame({ src, dst, sport, dport, seq: 1000, flags: SYN }));
  feed(tcpFrame({ src: dst, dst: src, sport: dport, dport: sport, seq: 5000, ack: 1001, flags: SYN | ACK }));
  feed(tcpFrame({ src, dst, sport, dport, seq: 1001, ack: 5001, flags: ACK }));
  return { cseq: 1001, sseq: 5001 };
}

describe('PacketEngine connections', () => {
  test('TLS flow: one observation at FIN, initiator view counters, SNI/ALPN/ECH', () => {
    const { e, out, feed } = setup();
    const { cseq, sseq } = handshake(feed, 40000, 443);
    const hello = tlsRecords(clientHello({ sni: 'PasteBin.com', alpn: ['h2'], ech: true }));
    feed(tcpFrame({ src: C, dst: S, sport: 40000, dport: 443, seq: cseq, flags: ACK | PSH, payload: hello }));
    feed(tcpFrame({ src: S, dst: C, sport: 443, dport: 40000, seq: sseq, flags: ACK | PSH, payload: Buffer.alloc(3000) }));
    assert.equal(out.length, 0);
    feed(tcpFrame({ src: C, dst: S, sport: 40000, dport: 443, seq: cseq + hello.length, flags: FIN | ACK }));
    assert.equal(out.length, 1);
    const o = out[0];
    assert.equal(o.kind, 'connection');
    assert.equal(o.receiver, 'pcap_file/test');
    assert.equal(o.transport, 'tcp');
    assert.equal(o.networkType, 'ipv4');
    assert.deepEqual(o.source, { address: C, port: 40000 });
    assert.deepEqual(o.destination, { address: S, port: 443 });
    assert.deepEqual(o.names, [{ name: 'pastebin.com', evidence: 'tls.sni' }]);
    assert.deepEqual(o.tls, { ech: true, alpn: ['h2'] });
    assert.equal(o.flow?.packetsSent, 4);
    assert.equal(o.flow?.bytesSent, hello.length);
    assert.equal(o.flow?.packetsReceived, 2);
    assert.equal(o.flow?.bytesReceived, 3000);
    assert.equal(o.flow?.state, 'fin');
    assert.ok(o.flow!.lastSeenUnixNano > o.flow!.firstSeenUnixNano);
    assert.equal(o.timeUnixNano, o.flow?.firstSeenUnixNano);
    // Later packets update nothing visible: no second observation, not even at finish().
    feed(tcpFrame({ src: S, dst: C, sport: 443, dport: 40000, seq: sseq + 3000, flags: FIN | ACK }));
    e.finish();
    assert.equal(out.length, 1);
    assert.equal(e.stats().tls_hellos, 1);
  });

  test('report timing: after flowReportDelayMs of packet time, or on tick, or at finish', () => {
    const { e, out, feed, now } = setup({ flowReportDelayMs: 2000 });
    handshake(feed, 40001, 443);
    feed(tcpFrame({ src: C, dst: S, sport: 40001, dport: 443, seq: 1001, flags: ACK | PSH, payload: Buffer.from('hi') }), 1000);
    assert.equal(out.length, 0);
    // Another flow's packet 2 s later drives the clock: the first flow is reported.
    feed(udpFrame({ src: C, dst: '192.0.2.9', sport: 5000, dport: 9999, payload: Buffer.from('x') }), 1000);
    assert.equal(out.length, 1);
    assert.equal(out[0].source?.port, 40001);
    assert.equal(out[0].flow?.state, 'established');
    // tick() reports the UDP flow once its delay is over.
    e.tick(BigInt(now() + 1999) * 1_000_000n);
    assert.equal(out.length, 1);
    e.tick(BigInt(now() + 2000) * 1_000_000n);
    assert.equal(out.length, 2);
    assert.equal(out[1].transport, 'udp');
    assert.equal(out[1].flow?.state, 'udp');
    // finish() reports what is left (a flow with no name still emits).
    feed(tcpFrame({ src: C, dst: S, sport: 40002, dport: 8080, seq: 1, flags: SYN }));
    e.finish();
    assert.equal(out.length, 3);
    assert.deepEqual(out[2].names, []);
    assert.equal(out[2].flow?.state, 'syn');
    assert.equal(e.stats().flows_active, 0);
  });

  test('RST closes and reports', () => {
    const { out, feed } = setup();
    feed(tcpFrame({ src: C, dst: S, sport: 40003, dport: 443, seq: 1, flags: SYN }));
    feed(tcpFrame({ src: S, dst: C, sport: 443, dport: 40003, seq: 0, ack: 2, flags: RST | ACK }));
    assert.equal(out.length, 1);
    assert.equal(out[0].flow?.state, 'rst');
    assert.equal(out[0].flow?.packetsReceived, 1);
  });

  test('ClientHello split across 2 and 3 TCP segments, out of order, with a retransmission', () => {
    const hello = tlsRecords(clientHello({ sni: 'ghostbin.co', padTo: 1400 }));
    const orders: { cuts: number[]; order: number[]; retransmit?: number }[] = [
      { cuts: [600], order: [1, 0] },
      { cuts: [300, 900], order: [2, 0, 1], retransmit: 0 },
      { cuts: [300, 900], order: [0, 0, 2, 1] },
      { cuts: [2, 700], order: [1, 2, 0] },
    ];
    for (const [i, c] of orders.entries()) {
      const { out, feed, e } = setup();
      const sport = 41000 + i;
      const { cseq } = handshake(feed, sport, 443);
      const parts = splitAt(hello, c.cuts);
      const starts = [0, ...c.cuts];
      const send = (k: number): void => feed(tcpFrame({ src: C, dst: S, sport, dport: 443, seq: cseq + starts[k], flags: ACK | PSH, payload: parts[k] }));
      for (const k of c.order) send(k);
      if (c.retransmit !== undefined) send(c.retransmit);
      feed(tcpFrame({ src: C, dst: S, sport, dport: 443, seq: cseq + hello.length, flags: FIN | ACK }));
      assert.equal(out.length, 1, `case ${i}`);
      assert.deepEqual(out[0].names, [{ name: 'ghostbin.co', evidence: 'tls.sni' }], `case ${i}`);
      assert.equal(e.stats().reassembly_flows, 0);
    }
  });

  test('hello across 2 TLS records in one segment and split mid-record header across segments', () => {
    const hs = clientHello({ sni: 'rentry.co', padTo: 800 });
    const stream = tlsRecords(hs, [400]);
    const { out, feed } = setup();
    const { cseq } = handshake(feed, 42000, 8443);
    const [a, b] = splitAt(stream, [403]); // second segment starts inside the first record
    feed(tcpFrame({ src: C, dst: S, sport: 42000, dport: 8443, seq: cseq, flags: ACK, payload: a }));
    feed(tcpFrame({ src: C, dst: S, sport: 42000, dport: 8443, seq: cseq + a.length, flags: ACK, payload: b }));
    feed(tcpFrame({ src: C, dst: S, sport: 42000, dport: 8443, seq: cseq + stream.length, flags: FIN | ACK }));
    assert.equal(out[0].names[0].name, 'rentry.co');
  });

  test('HTTP Host, absolute-form target and CONNECT on any port', () => {
    const cases: [Buffer, { name: string; evidence: string }[], string][] = [
      [httpRequest('POST', '/api/api_post.php', { HOST: 'Pastebin.com:80' }), [{ name: 'pastebin.com', evidence: 'http.host' }], 'POST'],
      [httpRequest('GET', 'http://paste.ee:8080/r/1', { Host: 'paste.ee:8080' }), [{ name: 'paste.ee', evidence: 'http.host' }, { name: 'paste.ee', evidence: 'http.target' }], 'GET'],
      [httpRequest('CONNECT', 'hastebin.com:443', {}), [{ name: 'hastebin.com', evidence: 'http.connect' }], 'CONNECT'],
    ];
    for (const [i, [req, names, method]] of cases.entries()) {
      const { out, feed } = setup();
      const sport = 43000 + i;
      const { cseq } = handshake(feed, sport, 3128);
      // Headers split across two segments.
      const [a, b] = splitAt(req, [10]);
      feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: cseq, flags: ACK, payload: a }));
      feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: cseq + a.length, flags: ACK | PSH, payload: b }));
      feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: cseq + req.length, flags: FIN | ACK }));
      assert.deepEqual(out[0].names, names);
      assert.equal(out[0].http?.method, method);
      assert.equal(out[0].attributes['network.protocol.name'], 'http');
    }
  });

  test('CONNECT tunnel: the ClientHello sent after the proxy answers is inspected too (split, out of order)', () => {
    const { out, feed } = setup();
    const sport = 43900;
    const { cseq, sseq } = handshake(feed, sport, 3128);
    const req = httpRequest('CONNECT', 'transfer.sh:443', { Host: 'transfer.sh:443' });
    feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: cseq, flags: ACK | PSH, payload: req }));
    const ok = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n');
    feed(tcpFrame({ src: S, dst: C, sport: 3128, dport: sport, seq: sseq, flags: ACK | PSH, payload: ok }));
    const hello = tlsRecords(clientHello({ sni: 'transfer.sh', padTo: 600 }));
    const [a, b] = splitAt(hello, [200]);
    const t = cseq + req.length;
    feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: t + a.length, flags: ACK | PSH, payload: b }));
    feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: t, flags: ACK, payload: a }));
    feed(tcpFrame({ src: C, dst: S, sport, dport: 3128, seq: t + hello.length, flags: FIN | ACK }));
    assert.equal(out[0].names.length, 3, JSON.stringify(out[0].names)); // tls.sni, http.host (curl sends Host on CONNECT), http.connect
    assert.ok(out[0].names.some((n) => n.evidence === 'tls.sni' && n.name === 'transfer.sh'));
    assert.ok(out[0].names.some((n) => n.evidence === 'http.connect' && n.name === 'transfer.sh'));
    assert.equal(out[0].http?.method, 'CONNECT');
  });

  test('mid-stream flow: the side sending to the lower port is the initiator', () => {
    const { out, feed, e } = setup();
    feed(tcpFrame({ src: S, dst: C, sport: 443, dport: 51000, seq: 9, flags: ACK, payload: Buffer.alloc(100) }));
    feed(tcpFrame({ src: C, dst: S, sport: 51000, dport: 443, seq: 7, flags: ACK, payload: Buffer.alloc(10) }));
    e.finish();
    assert.deepEqual(out[0].source, { address: C, port: 51000 });
    assert.equal(out[0].flow?.bytesReceived, 100);
    assert.equal(out[0].flow?.bytesSent, 10);
    assert.equal(out[0].flow?.state, 'established');
  });

  test('IPv6 over QinQ', () => {
    const { out, feed, e } = setup();
    const c6 = '2001:db8::5', s6 = '2001:db8:1::443';
    feed(tcpFrame({ src: c6, dst: s6, sport: 50000, dport: 443, seq: 1, flags: SYN, vlans: [10, 20] }));
    feed(tcpFrame({ src: c6, dst: s6, sport: 50000, dport: 443, seq: 2, flags: ACK, payload: tlsRecords(clientHello({ sni: 'dpaste.org' })), vlans: [10, 20] }));
    e.finish();
    assert.equal(out[0].networkType, 'ipv6');
    assert.deepEqual(out[0].source, { address: c6, port: 50000 });
    assert.deepEqual(out[0].destination, { address: s6, port: 443 });
    assert.equal(out[0].names[0].name, 'dpaste.org');
  });

  test('QUIC: a hello spanning two Initial datagrams gives quic.sni, transport udp, protocol quic', () => {
    const { out, feed, e } = setup();
    const hs = clientHello({ sni: 'paste.ee', alpn: ['h3'], padTo: 1600 });
    const dcid = Buffer.from('1122334455667788', 'hex');
    const p1 = quicInitial({ dcid, packetNumber: 0, crypto: [{ offset: 0, data: hs.subarray(0, 1100) }] });
    const p2 = quicInitial({ dcid, packetNumber: 1, crypto: [{ offset: 1100, data: hs.subarray(1100) }] });
    feed(udpFrame({ src: C, dst: S, sport: 60000, dport: 443, payload: p1 }));
    feed(udpFrame({ src: S, dst: C, sport: 443, dport: 60000, payload: Buffer.alloc(50, 0xc3) }));
    feed(udpFrame({ src: C, dst: S, sport: 60000, dport: 443, payload: p2 }));
    e.finish();
    assert.equal(out.length, 1);
    assert.equal(out[0].transport, 'udp');
    assert.equal(out[0].attributes['network.protocol.name'], 'quic');
    assert.deepEqual(out[0].names, [{ name: 'paste.ee', evidence: 'quic.sni' }]);
    assert.deepEqual(out[0].tls, { ech: false, alpn: ['h3'] });
    assert.equal(out[0].flow?.packetsSent, 2);
    assert.equal(e.stats().quic_hellos, 1);
  });
});

describe('PacketEngine DNS', () => {
  test('UDP query and response: client is the source of both, no connection observation', () => {
    const { out, feed, e } = setup();
    const q = dnsMessage({ id: 9, questions: [{ name: 'Pastebin.com' }] });
    const r = dnsMessage({ id: 9, response: true, questions: [{ name: 'pastebin.com' }], answers: [{ name: 'pastebin.com', type: 1, data: '104.20.1.1', ttl: 99 }] });
    feed(udpFrame({ src: C, dst: '10.0.0.53', sport: 33333, dport: 53, payload: q }));
    feed(udpFrame({ src: '10.0.0.53', dst: C, sport: 53, dport: 33333, payload: r }));
    e.finish();
    assert.equal(out.length, 2);
    for (const o of out) {
      assert.equal(o.kind, 'dns');
      assert.equal(o.transport, 'udp');
      assert.deepEqual(o.source, { address: C, port: 33333 });
      assert.deepEqual(o.destination, { address: '10.0.0.53', port: 53 });
    }
    assert.deepEqual(out[0].names, [{ name: 'pastebin.com', evidence: 'dns.query' }]);
    assert.deepEqual(out[1].names, [{ name: 'pastebin.com', evidence: 'dns.answer' }]);
    assert.deepEqual(out[1].dns?.answers, [{ name: 'pastebin.com', type: 'A', data: '104.20.1.1', ttl: 99 }]);
    assert.equal(out[1].dns?.id, 9);
    assert.equal(e.stats().flows_created, 0);
  });

  test('name interest: DNS messages with no wanted name (question, answer owner or CNAME target) are skipped and counted', () => {
    const { out, feed, e } = setup();
    e.nameInterest = (n) => n === 'pastebin.com' || n.endsWith('.pastebin.com');
    const msgs = [
      dnsMessage({ id: 1, questions: [{ name: 'example.org' }] }),
      dnsMessage({ id: 2, questions: [{ name: 'www.pastebin.com' }] }),
      dnsMessage({ id: 3, response: true, questions: [{ name: 'alias.example' }], answers: [{ name: 'alias.example', type: 5, data: 'pastebin.com', ttl: 5 }, { name: 'pastebin.com', type: 1, data: '104.20.1.1', ttl: 5 }] }),
      dnsMessage({ id: 4, response: true, questions: [{ name: 'example.org' }], answers: [{ name: 'example.org', type: 1, data: '192.0.2.1', ttl: 5 }] }),
    ];
    msgs.forEach((m, i) => feed(udpFrame({ src: C, dst: '10.0.0.53', sport: 40000 + i, dport: 53, payload: m })));
    e.finish();
    assert.deepEqual(out.map((o) => o.dns?.id), [2, 3]);
    assert.equal(e.stats().dns_skipped_uninteresting, 2);
    assert.equal(e.stats().dns_messages, 4);
  });

  test('DNS over TCP: two messages in one segment, one message across two segments', () => {
    const { out, feed, e } = setup();
    const { cseq, sseq } = handshake(feed, 34000, 53, C, '10.0.0.53');
    const q1 = dnsMessage({ id: 1, questions: [{ name: 'a.example' }] });
    const q2 = dnsMessage({ id: 2, questions: [{ name: 'b.example' }] });
    const both = dnsTcpFraming(q1, q2);
    feed(tcpFrame({ src: C, dst: '10.0.0.53', sport: 34000, dport: 53, seq: cseq, flags: ACK | PSH, payload: both }));
    const resp = dnsTcpFraming(dnsMessage({ id: 1, response: true, questions: [{ name: 'a.example' }], answers: [{ name: 'a.example', type: 1, data: '192.0.2.1' }] }));
    const [r1, r2] = splitAt(resp, [9]);
    feed(tcpFrame({ src: '10.0.0.53', dst: C, sport: 53, dport: 34000, seq: sseq, flags: ACK, payload: r1 }));
    assert.equal(out.length, 2);
    feed(tcpFrame({ src: '10.0.0.53', dst: C, sport: 53, dport: 34000, seq: sseq + r1.length, flags: ACK | PSH, payload: r2 }));
    feed(tcpFrame({ src: C, dst: '10.0.0.53', sport: 34000, dport: 53, seq: cseq + both.length, flags: FIN | ACK }));
    e.finish();
    assert.deepEqual(out.map((o) => [o.kind, o.transport, o.dns?.id, o.dns?.response, o.source?.port]), [
      ['dns', 'tcp', 1, false, 34000], ['dns', 'tcp', 2, false, 34000], ['dns', 'tcp', 1, true, 34000],
    ]);
    assert.equal(out[2].dns?.answers[0].data, '192.0.2.1');
  });

  test('malformed DNS is counted, not thrown, and later messages still flow', () => {
    const { out, feed, e } = setup();
    feed(udpFrame({ src: C, dst: '10.0.0.53', sport: 1, dport: 53, payload: Buffer.from([1, 2, 3]) }));
    feed(udpFrame({ src: C, dst: '10.0.0.53', sport: 1, dport: 53, payload: dnsMessage({ questions: [{ name: 'ok.example' }] }) }));
    assert.equal(out.length, 1);
    assert.equal(e.stats().dns_malformed, 1);
    assert.equal(e.stats()['decode_errors.dns_truncated_header'], 1);
  });
});

describe('PacketEngine bounded state', () => {
  test('flow table full: the idle-most flow is evicted (reported first), new flows still tracked', () => {
    const { out, feed, e, reg } = setup({ maxFlows: 4 });
    for (let i = 0; i < 10; i++) feed(tcpFrame({ src: C, dst: S, sport: 20000 + i, dport: 443, seq: 1, flags: SYN }));
    let st = e.stats();
    assert.equal(st.flows_active, 4);
    assert.equal(st.evicted_flows, 6);
    assert.deepEqual(out.map((o) => o.source?.port), [20000, 20001, 20002, 20003, 20004, 20005]);
    // The newest flows are still tracked: their packets create no new flows.
    feed(tcpFrame({ src: S, dst: C, sport: 443, dport: 20009, seq: 1, ack: 2, flags: SYN | ACK }));
    st = e.stats();
    assert.equal(st.flows_created, 10);
    e.finish();
    assert.equal(out.length, 10);
    assert.equal(out[9].flow?.packetsReceived, 1);
    assert.equal(new Set(out.map((o) => o.source?.port)).size, 10);
    assert.equal(reg.get('pcap_file/test', 'evicted', { table: 'flows' }), 6);
    // The engine counts 'observations'; 'emitted' is the runtime's count of what reached the pipelines.
    assert.equal(reg.get('pcap_file/test', 'observations'), 10);
  });

  test('idle flows expire after flowIdleTimeoutMs of packet time', () => {
    const { out, feed, e, now } = setup({ flowIdleTimeoutMs: 10000, flowReportDelayMs: 2000 });
    feed(udpFrame({ src: C, dst: S, sport: 7000, dport: 7001, payload: Buffer.from('a') }));
    e.tick(BigInt(now() + 9000) * 1_000_000n);
    assert.equal(out.length, 1); // reported by the delay
    assert.equal(e.stats().flows_active, 1);
    e.tick(BigInt(now() + 10000) * 1_000_000n);
    assert.equal(e.stats().flows_active, 0);
    assert.equal(e.stats().flows_expired, 1);
    // The same 5-tuple later is a new flow with its own observation.
    feed(udpFrame({ src: C, dst: S, sport: 7000, dport: 7001, payload: Buffer.from('b') }), 20000);
    e.finish();
    assert.equal(out.length, 2);
    assert.equal(e.stats().flows_created, 2);
  });

  test('reassembly buffers are capped per flow and in number of flows', () => {
    const { out, feed, e } = setup({ maxReassemblyFlows: 1, maxReassemblyBytes: 4096 });
    const hello = tlsRecords(clientHello({ sni: 'first.example', padTo: 1000 }));
    handshake(feed, 44000, 443);
    handshake(feed, 44001, 443);
    feed(tcpFrame({ src: C, dst: S, sport: 44000, dport: 443, seq: 1001, flags: ACK, payload: hello.subarray(0, 100) }));
    assert.equal(e.stats().reassembly_flows, 1);
    feed(tcpFrame({ src: C, dst: S, sport: 44001, dport: 443, seq: 1001, flags: ACK, payload: hello.subarray(0, 100) }));
    assert.equal(e.stats().reassembly_flows, 1);
    assert.equal(e.stats().evicted_reassembly, 1);
    feed(tcpFrame({ src: C, dst: S, sport: 44000, dport: 443, seq: 1101, flags: ACK, payload: hello.subarray(100) }));
    feed(tcpFrame({ src: C, dst: S, sport: 44001, dport: 443, seq: 1101, flags: ACK, payload: hello.subarray(100) }));
    e.finish();
    const byPort = new Map(out.map((o) => [o.source?.port, o.names.map((n) => n.name)]));
    assert.deepEqual(byPort.get(44000), []); // its buffer was evicted
    assert.deepEqual(byPort.get(44001), ['first.example']);
    // A hello larger than the per-flow cap is given up, not buffered forever.
    const big = setup({ maxReassemblyBytes: 2000 });
    const huge = tlsRecords(clientHello({ sni: 'big.example', padTo: 6000 }));
    handshake(big.feed, 45000, 443);
    for (let off = 0; off < huge.length; off += 1000) {
      big.feed(tcpFrame({ src: C, dst: S, sport: 45000, dport: 443, seq: 1001 + off, flags: ACK, payload: huge.subarray(off, off + 1000) }));
    }
    assert.equal(big.e.stats().reassembly_gave_up, 1);
    assert.equal(big.e.stats().reassembly_flows, 0);
  });

  test('onNewFlow is called once per flow and DNS query, and its result is attached', () => {
    const { out, feed, e } = setup();
    const calls: string[] = [];
    e.onNewFlow = (f) => { calls.push(`${f.transport} ${f.src.address}:${f.src.port} -> ${f.dst.address}:${f.dst.port}`); return { pid: 42, executableName: 'curl' }; };
    handshake(feed, 46000, 443);
    feed(udpFrame({ src: C, dst: '10.0.0.53', sport: 5353, dport: 53, payload: dnsMessage({ questions: [{ name: 'x.example' }] }) }));
    e.finish();
    assert.deepEqual(calls, [`tcp ${C}:46000 -> ${S}:443`, `udp ${C}:5353 -> 10.0.0.53:53`]);
    assert.equal(out.length, 2);
    assert.ok(out.every((o) => o.process?.pid === 42));
  });

  test('fragments, other protocols, bad link types and garbage are counted, never thrown', () => {
    const { feed, e } = setup();
    feed(ethernet(ipv4({ src: C, dst: S, proto: 17, payload: Buffer.alloc(40), fragOffset: 1480 })));
    feed(ethernet(ipv4({ src: C, dst: S, proto: 1, payload: Buffer.alloc(8) })));
    feed(Buffer.alloc(5));
    feed(ethernet(ipv4({ src: C, dst: S, proto: 17, payload: udp({ sport: 1, dport: 2 }).subarray(0, 4) }))); // UDP header cut
    e.packet(147, 0, 0, Buffer.alloc(60), 0, 60);
    e.packet(1, 0, 0, Buffer.alloc(60), 70, 10);
    const st = e.stats();
    assert.equal(st.packets, 6);
    assert.equal(st.fragments_skipped, 1);
    assert.equal(st.other_l4, 1);
    assert.equal(st['decode_errors.link_truncated'], 1);
    assert.equal(st['decode_errors.l4_truncated'], 1);
    assert.equal(st['decode_errors.link_unsupported'], 1);
    assert.equal(st['decode_errors.empty'], 1);
    assert.equal(st.decode_errors, 4);
  });
});

describe('PacketEngine flow keys', () => {
  test('two different 5-tuples with the same hash key stay separate flows', () => {
    // Brute-force a collision of the 30-bit key among client ports / addresses (birthday bound: ~2^15 tries).
    const seen = new Map<number, [number, number]>();
    let pair: [[number, number], [number, number]] | undefined;
    const s = 0x5db8d822 | 0; // 93.184.216.34
    for (let a = 0; a < 256 && !pair; a++) {
      for (let port = 1024; port < 1024 + 512 && !pair; port++) {
        const c = (0x0a010000 | a) | 0;
        const k = flowKey(c, s, port, 443, 6);
        const prev = seen.get(k);
        if (prev) pair = [prev, [a, port]];
        else seen.set(k, [a, port]);
      }
    }
    assert.ok(pair, 'a collision was found');
    const { out, feed, e } = setup();
    const [[a1, p1], [a2, p2]] = pair;
    const c1 = `10.1.0.${a1}`, c2 = `10.1.0.${a2}`;
    feed(tcpFrame({ src: c1, dst: S, sport: p1, dport: 443, seq: 1, flags: SYN }));
    feed(tcpFrame({ src: c2, dst: S, sport: p2, dport: 443, seq: 1, flags: SYN }));
    feed(tcpFrame({ src: S, dst: c1, sport: 443, dport: p1, seq: 1, ack: 2, flags: SYN | ACK }));
    feed(tcpFrame({ src: c2, dst: S, sport: p2, dport: 443, seq: 2, flags: ACK, payload: tlsRecords(clientHello({ sni: 'two.example' })) }));
    e.finish();
    assert.equal(e.stats().flows_created, 2);
    const byEnd = new Map(out.map((o) => [`${o.source?.address}:${o.source?.port}`, o]));
    const f1 = byEnd.get(`${c1}:${p1}`), f2 = byEnd.get(`${c2}:${p2}`);
    assert.equal(f1?.flow?.packetsReceived, 1);
    assert.equal(f1?.flow?.packetsSent, 1);
    assert.deepEqual(f1?.names, []);
    assert.equal(f2?.flow?.packetsSent, 2);
    assert.equal(f2?.flow?.packetsReceived, 0);
    assert.deepEqual(f2?.names.map((n) => n.name), ['two.example']);
  });
});

test('regression: DNS-over-TCP partial messages are bounded by the reassembly caps', () => {
  // Found by the adversarial benchmark: each DNS-over-TCP connection announcing a 65535-byte message held
  // up to 64 KiB outside the reassembly budget, so a flood of them grew memory with max_flows, not the caps.
  const { e, out, feed } = setup({ maxReassemblyFlows: 3, maxReassemblyBytes: 2048 });
  for (let i = 0; i < 10; i++) {
    feed(tcpFrame({ src: `10.9.0.${i + 1}`, dst: '10.96.0.10', sport: 5000 + i, dport: 53, seq: 1, flags: ACK | PSH, payload: Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(1000)]) }));
  }
  const st = e.stats();
  assert.equal(st.reassembly_flows, 3, 'only the newest three partial messages are held');
  assert.equal(st.evicted_reassembly, 7);
  // A partial message larger than the per-flow cap is dropped, not held.
  feed(tcpFrame({ src: '10.9.1.1', dst: '10.96.0.10', sport: 6000, dport: 53, seq: 1, flags: ACK | PSH, payload: Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(3000)]) }));
  assert.equal(e.stats().reassembly_flows, 3);
  assert.ok(e.stats().dns_tcp_resync >= 1);
  // A DNS message split over two segments still parses, and its flow leaves the reassembly list once complete.
  const msg = dnsTcpFraming(dnsMessage({ id: 3, questions: [{ name: 'pastebin.com' }] }));
  feed(tcpFrame({ src: '10.9.2.1', dst: '10.96.0.10', sport: 7000, dport: 53, seq: 1, flags: ACK | PSH, payload: msg.subarray(0, 10) }));
  feed(tcpFrame({ src: '10.9.2.1', dst: '10.96.0.10', sport: 7000, dport: 53, seq: 11, flags: ACK | PSH, payload: msg.subarray(10) }));
  assert.ok(out.some((o) => o.kind === 'dns' && o.dns?.query === 'pastebin.com'));
  assert.equal(e.stats().reassembly_flows, 2, 'the first segment evicted one partial message; the completed one left');
});
