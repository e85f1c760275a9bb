// Property test: random and mutated packets into PacketEngine.packet never throw and always terminate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketEngine } from '../../src/packet/engine.js';
import type { Observation } from '../../src/model/observation.js';
import {
  ACK, PSH, clientHello, dnsMessage, dnsTcpFraming, httpRequest, quicInitial, tcpFrame, tlsRecords, udpFrame,
} from '../helpers/packets.js';

const samples = [
  tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 443, seq: 1, flags: ACK | PSH, payload: tlsRecords(clientHello({ sni: 'a.example' }), [40]) }),
  tcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 80, seq: 1, flags: ACK | PSH, payload: httpRequest('GET', '/', { Host: 'b.example' }) }),
  tcpFrame({ src: 'fd00::1', dst: 'fd00::2', sport: 1234, dport: 53, seq: 1, flags: ACK | PSH, payload: dnsTcpFraming(dnsMessage({ questions: [{ name: 'c.example' }] })) }),
  udpFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 53, payload: dnsMessage({ questions: [{ name: 'd.example' }] }) }),
  udpFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 443, payload: quicInitial({ dcid: Buffer.alloc(8, 1), crypto: [{ offset: 0, data: clientHello({ sni: 'e.example' }) }] }) }),
];

const packet = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat())
    .map(([s, edits, cut]) => {
      const b = Buffer.from(s.subarray(0, Math.max(1, cut % (s.length + 1))));
      for (const [p, v] of edits) b[p % b.length] = v;
      return b;
    }),
);

test('PacketEngine.packet never throws on random / mutated packets and emits well-formed observations', () => {
  fc.assert(fc.property(fc.array(fc.tuple(packet, fc.constantFrom(1, 0, 101, 113, 276, 42), fc.nat({ max: 5000 })), { maxLength: 30 }), (pkts) => {
    const out: Observation[] = [];
    const e = new PacketEngine({ receiverId: 'fuzz', maxFlows: 8, flowIdleTimeoutMs: 3000, flowReportDelayMs: 1000, maxReassemblyBytes: 2048, maxReassemblyFlows: 2 }, (o) => out.push(o));
    let t = 0;
    for (const [b, lt, dt] of pkts) {
      t += dt;
      e.packet(lt, Math.floor(t / 1000), (t % 1000) * 1e6, b, 0, b.length);
    }
    e.finish();
    const st = e.stats();
    assert.equal(st.packets, pkts.length);
    assert.equal(st.flows_active, 0);
    for (const o of out) {
      assert.ok(o.kind === 'dns' || o.kind === 'connection');
      assert.ok(o.source && o.destination);
    }
    // At most one connection observation per created flow.
    assert.ok(out.filter((o) => o.kind === 'connection').length <= st.flows_created);
  }), { numRuns: 300 });
});
