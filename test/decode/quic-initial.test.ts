import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  deriveClientInitialKeys, headerProtectionMask, decryptClientInitials, QuicHelloAssembler, looksLikeQuicInitial,
} from '../../src/decode/quic-initial.js';
import { clientHello, quicInitial } from '../helpers/packets.js';

const DCID = Buffer.from('8394c8f03e515708', 'hex');
const RFC_PACKET = Buffer.from(readFileSync(new URL('../fixtures/decode/rfc9001-a2-client-initial.hex', import.meta.url), 'utf8').trim(), 'hex');
// RFC 9001 A.2: the CRYPTO frame of the sample client Initial (packet number 2), padded to 1162 bytes.
const RFC_CRYPTO_FRAME = Buffer.from(
  '060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff',
  'hex');

describe('QUIC v1 client Initial (RFC 9001 Appendix A)', () => {
  test('A.1 key derivation matches the published secrets, key, IV and hp', () => {
    const k = deriveClientInitialKeys(DCID);
    assert.equal(k.initialSecret.toString('hex'), '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44');
    assert.equal(k.clientSecret.toString('hex'), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
    assert.equal(k.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
    assert.equal(k.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
    assert.equal(k.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
  });
  test('A.2 header protection mask from the published sample', () => {
    const k = deriveClientInitialKeys(DCID);
    const mask = headerProtectionMask(k.hp, Buffer.from('d1b1c98dd7689fb8ec11d242b123dc9b', 'hex'));
    assert.equal(mask.subarray(0, 5).toString('hex'), '437b9aec36');
  });
  test('A.2 published protected packet decrypts to the published CRYPTO frame; SNI example.com, ALPN "alpn"', () => {
    assert.equal(RFC_PACKET.length, 1200);
    const frames: { off: number; data: string }[] = [];
    const r = decryptClientInitials(RFC_PACKET, 0, RFC_PACKET.length, (off, d) => frames.push({ off, data: d.toString('hex') }));
    assert.deepEqual(r, { status: 'ok', packets: 1, dcid: '8394c8f03e515708' });
    assert.equal(frames.length, 1);
    assert.equal(frames[0].off, 0);
    assert.equal(frames[0].data, RFC_CRYPTO_FRAME.subarray(4).toString('hex')); // frame type, offset, 2-byte length stripped
    const a = new QuicHelloAssembler();
    const h = a.push(RFC_PACKET, 0, RFC_PACKET.length);
    assert.equal(h.status, 'parsed');
    assert.equal(h.hello?.sni, 'example.com');
    assert.deepEqual(h.hello?.alpn, ['alpn']);
  });
  test('our encrypt helper reproduces the published packet byte for byte', () => {
    const hello = RFC_CRYPTO_FRAME.subarray(4);
    const built = quicInitial({ dcid: DCID, packetNumber: 2, pnLength: 4, crypto: [{ offset: 0, data: hello }], padTo: 1200 });
    assert.equal(built.toString('hex'), RFC_PACKET.toString('hex'));
  });
  test('a hello spanning two Initial packets (two datagrams, delivered out of order)', () => {
    const hs = clientHello({ sni: 'paste.ee', alpn: ['h3'], padTo: 1500 });
    const dcid = Buffer.from('0011223344556677', 'hex');
    const p1 = quicInitial({ dcid, packetNumber: 0, crypto: [{ offset: 0, data: hs.subarray(0, 1000) }] });
    const p2 = quicInitial({ dcid, packetNumber: 1, crypto: [{ offset: 1000, data: hs.subarray(1000) }] });
    assert.ok(looksLikeQuicInitial(p1, 0, p1.length));
    const a = new QuicHelloAssembler();
    assert.equal(a.push(p2, 0, p2.length).status, 'need_more');
    const r = a.push(p1, 0, p1.length);
    assert.equal(r.status, 'parsed');
    assert.equal(r.hello?.sni, 'paste.ee');
  });
  test('several CRYPTO frames out of order in one packet, and coalesced packets in one datagram', () => {
    const hs = clientHello({ sni: 'Ghostbin.co', padTo: 900 });
    const dcid = Buffer.from('a1a2a3a4a5a6a7a8a9', 'hex');
    const one = quicInitial({ dcid, crypto: [{ offset: 500, data: hs.subarray(500) }, { offset: 0, data: hs.subarray(0, 300) }, { offset: 250, data: hs.subarray(250, 520) }] });
    const r1 = new QuicHelloAssembler().push(one, 0, one.length);
    assert.equal(r1.status, 'parsed');
    assert.equal(r1.hello?.sni, 'ghostbin.co');
    const a = quicInitial({ dcid, packetNumber: 0, crypto: [{ offset: 0, data: hs.subarray(0, 400) }], padTo: 0 });
    const b = quicInitial({ dcid, packetNumber: 1, crypto: [{ offset: 400, data: hs.subarray(400) }], padTo: 0 });
    const dgram = Buffer.concat([a, b]);
    const frames: number[] = [];
    const res = decryptClientInitials(dgram, 0, dgram.length, (off) => frames.push(off));
    assert.equal(res.packets, 2);
    assert.deepEqual(frames, [0, 400]);
    assert.equal(new QuicHelloAssembler().push(dgram, 0, dgram.length).hello?.sni, 'ghostbin.co');
  });
  test('a flipped ciphertext bit fails authentication; other versions and short headers are not ours', () => {
    const bad = Buffer.from(RFC_PACKET);
    bad[100] ^= 1;
    assert.equal(decryptClientInitials(bad, 0, bad.length, () => {}).status, 'decrypt_failed');
    assert.equal(new QuicHelloAssembler().push(bad, 0, bad.length).status, 'malformed');
    const v2 = Buffer.from(RFC_PACKET);
    v2.writeUInt32BE(0x6b3343cf, 1);
    assert.equal(decryptClientInitials(v2, 0, v2.length, () => {}).status, 'unsupported_version');
    assert.equal(decryptClientInitials(Buffer.from([0x40, 1, 2, 3]), 0, 4, () => {}).status, 'not_quic');
    assert.equal(looksLikeQuicInitial(Buffer.from([0x40, 0, 0, 0, 1, 0, 0]), 0, 7), false);
  });
  test('the CRYPTO byte cap stops a hostile stream', () => {
    const hs = clientHello({ sni: 'a.example', padTo: 3000 });
    const dcid = Buffer.from('0102030405060708', 'hex');
    const p = quicInitial({ dcid, crypto: [{ offset: 0, data: hs.subarray(0, 1100) }] });
    const a = new QuicHelloAssembler(1000);
    assert.equal(a.push(p, 0, p.length).status, 'malformed');
    assert.equal(a.bufferedBytes, 0);
  });
});
