import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeIp, newIpOut, IP_OK, IP_NON_FIRST_FRAGMENT, IP_TRUNCATED, IP_BAD_HEADER, IP_EXT_LIMIT, formatIp, formatIpv6Words,
  formatAddressBytes,
} from '../../src/decode/ip.js';
import { decodeTcp, newL4Out, L4_OK } from '../../src/decode/tcp-udp.js';
import { ipv4, ipv6, ipv6Bytes, tcp, udp } from '../helpers/packets.js';

describe('decodeIp IPv4', () => {
  test('plain header, addresses as words, L4 bounds', () => {
    const p = ipv4({ src: '192.0.2.1', dst: '198.51.100.7', proto: 6, payload: Buffer.alloc(30) });
    const o = newIpOut();
    assert.equal(decodeIp(0x0800, p, 0, p.length, o), IP_OK);
    assert.equal(o.version, 4);
    assert.equal(o.proto, 6);
    assert.equal(o.l4Off, 20);
    assert.equal(o.l4End, 50);
    assert.equal(o.l4WireLen, 30);
    assert.equal(formatIp(4, o.s0, 0, 0, 0), '192.0.2.1');
    assert.equal(formatIp(4, o.d0, 0, 0, 0), '198.51.100.7');
    assert.equal(formatAddressBytes(p, o.srcOff, 4), '192.0.2.1');
  });
  test('options (IHL > 5) move the L4 offset', () => {
    const p = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: Buffer.alloc(8), options: Buffer.from([0x94, 4, 0, 0, 1, 1, 1, 0]) });
    const o = newIpOut();
    assert.equal(decodeIp(0x0800, p, 0, p.length, o), IP_OK);
    assert.equal(o.l4Off, 28);
    assert.equal(o.l4WireLen, 8);
  });
  test('Ethernet padding is excluded, capture truncation is honoured', () => {
    const p = Buffer.concat([ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: Buffer.alloc(8) }), Buffer.alloc(18)]);
    const o = newIpOut();
    assert.equal(decodeIp(0x0800, p, 0, p.length, o), IP_OK);
    assert.equal(o.l4End, 28);
    const q = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: Buffer.alloc(1000) });
    assert.equal(decodeIp(0x0800, q, 0, 100, o), IP_OK);
    assert.equal(o.l4End, 100);
    assert.equal(o.l4WireLen, 1000);
  });
  test('fragments: the first is decoded, later ones are skipped', () => {
    const o = newIpOut();
    const first = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: udp({ sport: 5, dport: 53, payload: Buffer.alloc(100) }), moreFragments: true });
    assert.equal(decodeIp(0x0800, first, 0, first.length, o), IP_OK);
    assert.equal(o.firstFragment, true);
    const later = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: Buffer.alloc(40), fragOffset: 1480 });
    assert.equal(decodeIp(0x0800, later, 0, later.length, o), IP_NON_FIRST_FRAGMENT);
  });
  test('bad and truncated headers', () => {
    const o = newIpOut();
    const p = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: Buffer.alloc(0) });
    assert.equal(decodeIp(0x0800, p, 0, 19, o), IP_TRUNCATED);
    const bad = Buffer.from(p); bad[0] = 0x44;
    assert.equal(decodeIp(0x0800, bad, 0, bad.length, o), IP_BAD_HEADER);
    const v = Buffer.from(p); v[0] = 0x65;
    assert.equal(decodeIp(0x0800, v, 0, v.length, o), IP_BAD_HEADER);
    const small = Buffer.from(p); small.writeUInt16BE(10, 2);
    assert.equal(decodeIp(0x0800, small, 0, small.length, o), IP_BAD_HEADER);
  });
});

describe('decodeIp IPv6', () => {
  test('plain header and words', () => {
    const p = ipv6({ src: '2001:db8::1', dst: '2001:db8:0:1::53', proto: 17, payload: Buffer.alloc(8) });
    const o = newIpOut();
    assert.equal(decodeIp(0x86dd, p, 0, p.length, o), IP_OK);
    assert.equal(o.l4Off, 40);
    assert.equal(o.proto, 17);
    assert.equal(formatIp(6, o.s0, o.s1, o.s2, o.s3), '2001:db8::1');
    assert.equal(formatIp(6, o.d0, o.d1, o.d2, o.d3), '2001:db8:0:1::53');
  });
  test('extension headers: hop-by-hop, routing, destination options, AH, first fragment', () => {
    const p = ipv6({
      src: 'fd00::1', dst: 'fd00::2', proto: 6, payload: tcp({ sport: 1, dport: 443 }),
      ext: [{ type: 0 }, { type: 43, body: Buffer.alloc(14) }, { type: 44, moreFragments: true }, { type: 51, body: Buffer.alloc(14) }, { type: 60 }],
    });
    const o = newIpOut();
    assert.equal(decodeIp(0x86dd, p, 0, p.length, o), IP_OK);
    assert.equal(o.proto, 6);
    assert.equal(o.l4Off, 40 + 8 + 16 + 8 + 16 + 8);
    assert.equal(o.firstFragment, true);
    const l4 = newL4Out();
    assert.equal(decodeTcp(p, o.l4Off, o.l4End, o.l4WireLen, l4), L4_OK);
    assert.equal(l4.dstPort, 443);
  });
  test('non-first fragment header is skipped', () => {
    const p = ipv6({ src: 'fd00::1', dst: 'fd00::2', proto: 17, payload: Buffer.alloc(16), ext: [{ type: 44, fragOffset: 1232 }] });
    assert.equal(decodeIp(0x86dd, p, 0, p.length, newIpOut()), IP_NON_FIRST_FRAGMENT);
  });
  test('too many extension headers stop the walk', () => {
    const ext = Array.from({ length: 12 }, () => ({ type: 60 }));
    const p = ipv6({ src: 'fd00::1', dst: 'fd00::2', proto: 17, payload: Buffer.alloc(8), ext });
    assert.equal(decodeIp(0x86dd, p, 0, p.length, newIpOut()), IP_EXT_LIMIT);
  });
  test('truncated extension header', () => {
    const p = ipv6({ src: 'fd00::1', dst: 'fd00::2', proto: 17, payload: Buffer.alloc(0), ext: [{ type: 0, body: Buffer.alloc(30) }] });
    assert.equal(decodeIp(0x86dd, p, 0, 44, newIpOut()), IP_TRUNCATED);
  });
  test('RFC 5952 text', () => {
    const w = (t: string): [number, number, number, number] => {
      const b = ipv6Bytes(t);
      return [b.readInt32BE(0), b.readInt32BE(4), b.readInt32BE(8), b.readInt32BE(12)];
    };
    assert.equal(formatIpv6Words(...w('::')), '::');
    assert.equal(formatIpv6Words(...w('::1')), '::1');
    assert.equal(formatIpv6Words(...w('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(formatIpv6Words(...w('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIpv6Words(...w('::ffff:192.0.2.128')), '::ffff:192.0.2.128');
    assert.equal(formatIpv6Words(...w('fe80::')), 'fe80::');
  });
});
