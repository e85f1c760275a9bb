import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseTlsClientHello, parseHandshakeClientHello, looksLikeTlsHello } from '../../src/decode/tls-hello.js';
import { clientHello, tlsRecords } from '../helpers/packets.js';

describe('parseTlsClientHello', () => {
  test('SNI, ALPN, no ECH', () => {
    const s = tlsRecords(clientHello({ sni: 'PasteBin.com.', alpn: ['h2', 'http/1.1'] }));
    const r = parseTlsClientHello(s, 0, s.length);
    assert.deepEqual(r, { status: 'parsed', ech: false, alpn: ['h2', 'http/1.1'], sni: 'pastebin.com' });
  });
  test('ECH extension flag', () => {
    const s = tlsRecords(clientHello({ sni: 'public.example', ech: true }));
    const r = parseTlsClientHello(s, 0, s.length);
    assert.equal(r.status, 'parsed');
    assert.equal(r.ech, true);
    assert.equal(r.sni, 'public.example');
  });
  test('a hello fragmented over 2 and 3 TLS records', () => {
    const hs = clientHello({ sni: 'ghostbin.co', padTo: 700 });
    for (const sizes of [[100], [3, 200], [1, 1, 1]]) {
      const s = tlsRecords(hs, sizes);
      const r = parseTlsClientHello(s, 0, s.length);
      assert.equal(r.status, 'parsed', `sizes ${sizes.join(',')}`);
      assert.equal(r.sni, 'ghostbin.co');
    }
  });
  test('need more bytes: each prefix asks for more, with a growing target', () => {
    const s = tlsRecords(clientHello({ sni: 'rentry.co', padTo: 600 }), [250]);
    let last = 0;
    for (const n of [1, 4, 5, 100, 254, 255, 260, s.length - 1]) {
      const r = parseTlsClientHello(s, 0, n);
      assert.equal(r.status, 'need_more', `prefix ${n}`);
      assert.ok((r.need ?? 0) > n && (r.need ?? 0) <= s.length, `need ${r.need} for ${n}`);
      assert.ok((r.need ?? 0) >= last);
      last = r.need ?? 0;
    }
  });
  test('not TLS vs malformed', () => {
    assert.equal(parseTlsClientHello(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16).status, 'not_tls');
    assert.equal(parseTlsClientHello(Buffer.from([0x16, 0x03, 0x09, 0, 5]), 0, 5).status, 'not_tls');
    // A ServerHello (handshake type 2) is not a ClientHello.
    assert.equal(parseTlsClientHello(Buffer.from([0x16, 3, 3, 0, 4, 2, 0, 0, 0]), 0, 9).status, 'not_tls');
    const s = tlsRecords(clientHello({ sni: 'x.example' }));
    const bad = Buffer.from(s);
    bad.writeUInt16BE(0xffff, 5 + 4 + 2 + 32 + 1 + 32); // cipher-suite length runs past the end
    assert.equal(parseTlsClientHello(bad, 0, bad.length).status, 'malformed');
    assert.equal(parseTlsClientHello(Buffer.from([0x16, 3, 1, 0, 0]), 0, 5).status, 'malformed');
  });
  test('looksLikeTlsHello is a cheap prefix check', () => {
    assert.equal(looksLikeTlsHello(Buffer.from([0x16]), 0, 1), true);
    assert.equal(looksLikeTlsHello(Buffer.from([0x17, 3, 3]), 0, 3), false);
  });
  test('raw handshake bytes (QUIC CRYPTO stream)', () => {
    const hs = clientHello({ sni: 'dpaste.org', alpn: ['h3'] });
    assert.deepEqual(parseHandshakeClientHello(hs, 0, hs.length), { status: 'parsed', ech: false, alpn: ['h3'], sni: 'dpaste.org' });
    assert.deepEqual(parseHandshakeClientHello(hs, 0, 10), { status: 'need_more', need: hs.length, ech: false, alpn: [] });
    assert.equal(parseHandshakeClientHello(Buffer.from([2, 0, 0, 0]), 0, 4).status, 'not_tls');
  });
});
