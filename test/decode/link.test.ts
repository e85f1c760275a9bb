import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLink, newLinkOut, ETH_IPV4, ETH_IPV6, LINK_OK, LINK_NOT_IP, LINK_TRUNCATED, LINK_UNSUPPORTED } from '../../src/decode/link.js';
import { ethernet, ipv4, ipv6, nullLink, sll, sll2, udp } from '../helpers/packets.js';

const v4 = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: udp({ sport: 1, dport: 2 }) });
const v6 = ipv6({ src: 'fd00::1', dst: 'fd00::2', proto: 17, payload: udp({ sport: 1, dport: 2 }) });

function run(lt: number, frame: Buffer, off = 0): { rc: number; net: number; offset: number; tags: number } {
  const o = newLinkOut();
  const rc = decodeLink(lt, frame, off, frame.length, o);
  return { rc, net: o.net, offset: o.offset, tags: o.vlanTags };
}

describe('decodeLink', () => {
  test('Ethernet IPv4 and IPv6', () => {
    assert.deepEqual(run(1, ethernet(v4)), { rc: LINK_OK, net: ETH_IPV4, offset: 14, tags: 0 });
    assert.deepEqual(run(1, ethernet(v6)), { rc: LINK_OK, net: ETH_IPV6, offset: 14, tags: 0 });
  });
  test('802.1Q and QinQ tags are skipped', () => {
    assert.deepEqual(run(1, ethernet(v4, { vlans: [100] })), { rc: LINK_OK, net: ETH_IPV4, offset: 18, tags: 1 });
    const qinq = ethernet(v6, { vlans: [10, 20] });
    assert.equal(qinq.readUInt16BE(12), 0x88a8);
    assert.deepEqual(run(1, qinq), { rc: LINK_OK, net: ETH_IPV6, offset: 22, tags: 2 });
  });
  test('Ethernet at a non-zero buffer offset', () => {
    const f = Buffer.concat([Buffer.alloc(7, 0xee), ethernet(v4)]);
    assert.deepEqual(run(1, f, 7), { rc: LINK_OK, net: ETH_IPV4, offset: 21, tags: 0 });
  });
  test('ARP and 802.3 length frames are not IP', () => {
    assert.equal(run(1, ethernet(v4, { etherType: 0x0806 })).rc, LINK_NOT_IP);
    assert.equal(run(1, ethernet(v4, { etherType: 100 })).rc, LINK_NOT_IP);
  });
  test('Linux SLL and SLL2', () => {
    assert.deepEqual(run(113, sll(v4)), { rc: LINK_OK, net: ETH_IPV4, offset: 16, tags: 0 });
    assert.deepEqual(run(113, sll(v6)), { rc: LINK_OK, net: ETH_IPV6, offset: 16, tags: 0 });
    assert.deepEqual(run(276, sll2(v4)), { rc: LINK_OK, net: ETH_IPV4, offset: 20, tags: 0 });
    assert.deepEqual(run(276, sll2(v6)), { rc: LINK_OK, net: ETH_IPV6, offset: 20, tags: 0 });
  });
  test('raw IP link types pick the version nibble', () => {
    for (const lt of [101, 12, 14]) {
      assert.equal(run(lt, v4).net, ETH_IPV4);
      assert.equal(run(lt, v6).net, ETH_IPV6);
      assert.equal(run(lt, v6).offset, 0);
    }
    assert.equal(run(101, Buffer.from([0x50, 0])).rc, LINK_NOT_IP);
    assert.deepEqual(run(228, v4), { rc: LINK_OK, net: ETH_IPV4, offset: 0, tags: 0 });
    assert.deepEqual(run(229, v6), { rc: LINK_OK, net: ETH_IPV6, offset: 0, tags: 0 });
  });
  test('BSD null / loop in both byte orders, IPv6 AF values 24, 28, 30', () => {
    for (const lt of [0, 108]) {
      for (const le of [true, false]) {
        assert.deepEqual(run(lt, nullLink(v4, 2, le)), { rc: LINK_OK, net: ETH_IPV4, offset: 4, tags: 0 });
        for (const af of [24, 28, 30]) assert.equal(run(lt, nullLink(v6, af, le)).net, ETH_IPV6);
      }
    }
    assert.equal(run(0, nullLink(v4, 7, true)).rc, LINK_NOT_IP);
  });
  test('truncated and unsupported', () => {
    assert.equal(run(1, Buffer.alloc(13)).rc, LINK_TRUNCATED);
    assert.equal(run(1, ethernet(v4, { vlans: [5] }).subarray(0, 17)).rc, LINK_TRUNCATED);
    assert.equal(run(113, Buffer.alloc(15)).rc, LINK_TRUNCATED);
    assert.equal(run(276, Buffer.alloc(19)).rc, LINK_TRUNCATED);
    assert.equal(run(0, Buffer.alloc(3)).rc, LINK_TRUNCATED);
    assert.equal(run(101, Buffer.alloc(0)).rc, LINK_TRUNCATED);
    assert.equal(run(105, ethernet(v4)).rc, LINK_UNSUPPORTED);
  });
});
