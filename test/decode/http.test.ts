import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseHttpRequest, looksLikeHttpRequest, hostFromAuthority } from '../../src/decode/http.js';
import { httpRequest } from '../helpers/packets.js';

const parse = (b: Buffer, max?: number) => parseHttpRequest(b, 0, b.length, max);

describe('parseHttpRequest', () => {
  test('Host header with port and odd case', () => {
    const req = httpRequest('POST', '/api/api_post.php', { 'User-Agent': 'curl', hOsT: 'PasteBin.com:8080' });
    const r = parse(req);
    assert.deepEqual(r, { status: 'parsed', method: 'POST', target: '/api/api_post.php', host: 'pastebin.com', headLength: req.indexOf('\r\n\r\n') + 4 });
  });
  test('IPv6 literal Host', () => {
    assert.equal(parse(httpRequest('GET', '/', { Host: '[2001:db8::1]:8080' })).host, '2001:db8::1');
  });
  test('absolute-form target (proxy request)', () => {
    const r = parse(httpRequest('GET', 'http://Paste.EE:80/r/abc', { Host: 'paste.ee' }));
    assert.equal(r.targetHost, 'paste.ee');
    assert.equal(r.host, 'paste.ee');
    assert.equal(r.target, 'http://Paste.EE:80/r/abc');
  });
  test('CONNECT authority', () => {
    const r = parse(httpRequest('CONNECT', 'hastebin.com:443', { Host: 'hastebin.com:443' }));
    assert.equal(r.method, 'CONNECT');
    assert.equal(r.connectHost, 'hastebin.com');
    assert.equal(r.targetHost, undefined);
  });
  test('every method is detected; other first bytes are not HTTP', () => {
    for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE']) {
      assert.equal(parse(httpRequest(m, '/', { Host: 'a.example' })).method, m);
    }
    assert.equal(parse(Buffer.from('GETX / HTTP/1.1\r\n\r\n')).status, 'not_http');
    assert.equal(parse(Buffer.from('SSH-2.0-OpenSSH\r\n')).status, 'not_http');
    assert.equal(looksLikeHttpRequest(Buffer.from('\x16\x03\x01'), 0, 3), false);
    assert.equal(looksLikeHttpRequest(Buffer.from('PO'), 0, 2), true);
  });
  test('incomplete headers ask for more; past the bound the complete lines are used', () => {
    const full = httpRequest('GET', '/x', { Host: 'controlc.com', Accept: '*/*' });
    assert.equal(parse(full.subarray(0, 2)).status, 'need_more');
    assert.equal(parse(full.subarray(0, full.length - 2)).status, 'need_more');
    const big = Buffer.concat([Buffer.from('GET /y HTTP/1.1\r\nHost: rentry.co\r\nX-Pad: '), Buffer.alloc(9000, 0x61)]);
    const r = parse(big);
    assert.equal(r.status, 'parsed');
    assert.equal(r.host, 'rentry.co');
    assert.equal(parse(big.subarray(0, 4000)).status, 'need_more');
  });
  test('bare LF line endings', () => {
    assert.equal(parse(Buffer.from('GET / HTTP/1.0\nHost: a.example\n\n')).host, 'a.example');
  });
  test('malformed request line', () => {
    assert.equal(parse(Buffer.from('GET  FOO/1.1\r\n\r\n')).status, 'malformed');
  });
  test('hostFromAuthority', () => {
    assert.equal(hostFromAuthority(' user@Example.COM.:443 '), 'example.com');
    assert.equal(hostFromAuthority('2001:db8::1'), '2001:db8::1');
    assert.equal(hostFromAuthority('[::1]'), '::1');
  });
});

test('regression: credentials in an absolute-form target are redacted before export', () => {
  // Found in the security review: `GET http://user:pass@host/...` went into url.full as sent.
  const r = parseHttpRequest(httpRequest('POST', 'http://ci:hunter2@pastebin.com/api/api_post.php?api_dev_key=k1&x=1', { Host: 'pastebin.com' }), 0, 400, 8192);
  assert.equal(r.status, 'parsed');
  assert.equal(r.target, 'http://REDACTED:REDACTED@pastebin.com/api/api_post.php?api_dev_key=REDACTED&x=1');
  assert.equal(r.targetHost, 'pastebin.com', 'the host is still read from the original target');
});
