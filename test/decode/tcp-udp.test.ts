import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTcp, decodeUdp, newL4Out, L4_OK, L4_TRUNCATED, L4_BAD_HEADER, TCP_SYN, TCP_ACK } from '../../src/decode/tcp-udp.js';
import { tcp, udp, ACK, PSH, SYN } from '../helpers/packets.js';

describe('decodeTcp / decodeUdp', () => {
  test('TCP header with options, flags, seq, payload', () => {
    const seg = tcp({ sport: 40000, dport: 443, seq: 0xfffffff0, flags: SYN | ACK, options: Buffer.alloc(12, 1), payload: Buffer.from('hello') });
    const o = newL4Out();
    assert.equal(decodeTcp(seg, 0, seg.length, seg.length, o), L4_OK);
    assert.equal(o.srcPort, 40000);
    assert.equal(o.dstPort, 443);
    assert.equal(o.seq, 0xfffffff0);
    assert.equal(o.flags & (TCP_SYN | TCP_ACK), TCP_SYN | TCP_ACK);
    assert.equal(o.payloadOff, 32);
    assert.equal(o.payloadLen, 5);
    assert.equal(o.wireLen, 5);
  });
  test('TCP payload cut by the snap length keeps the wire length', () => {
    const seg = tcp({ sport: 1, dport: 2, flags: ACK | PSH, payload: Buffer.alloc(1000) });
    const o = newL4Out();
    assert.equal(decodeTcp(seg, 0, 60, seg.length, o), L4_OK);
    assert.equal(o.payloadLen, 40);
    assert.equal(o.wireLen, 1000);
    assert.equal(decodeTcp(seg, 0, 19, seg.length, o), L4_TRUNCATED);
  });
  test('UDP honours its length field', () => {
    const d = Buffer.concat([udp({ sport: 5353, dport: 53, payload: Buffer.alloc(12) }), Buffer.alloc(6)]);
    const o = newL4Out();
    assert.equal(decodeUdp(d, 0, d.length, d.length, o), L4_OK);
    assert.equal(o.payloadLen, 12);
    assert.equal(o.wireLen, 12);
    assert.equal(decodeUdp(d, 0, 7, 7, o), L4_TRUNCATED);
  });
  test('TCP data offset below 5 is a bad header', () => {
    const seg = tcp({ sport: 1, dport: 2 });
    seg[12] = 0x40;
    assert.equal(decodeTcp(seg, 0, seg.length, seg.length, newL4Out()), L4_BAD_HEADER);
  });
});
