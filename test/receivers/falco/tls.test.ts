import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { falcoConfigSchema } from '../../../src/receivers/falco/config.js';
import { falcoFactory } from '../../../src/receivers/falco/factory.js';
import { FalcoReceiver } from '../../../src/receivers/falco/receiver.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { alertBody, makeSettings, startReceiver } from './helpers.js';

let dir: string;
const f = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server cert for 127.0.0.1, a client cert from that CA and one from a stranger CA. */
function makePki(): void {
  dir = mkdtempSync(join(tmpdir(), 'pastewatch-falco-tls-'));
  for (const ca of ['ca', 'rogue-ca']) {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.crt`));
  }
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const leaf = (name: string, ca: string, ext: string): void => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-days', '2', '-extfile', f(ext), '-out', f(`${name}.crt`));
  };
  leaf('server', 'ca', 'server.ext');
  leaf('falco-client', 'ca', 'client.ext');
  leaf('stranger', 'rogue-ca', 'client.ext');
}

function post(url: string, body: string, client?: { cert: string; key: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ca: readFileSync(f('ca.crt')),
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
        agent: false,
      },
      (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('falco receiver TLS', () => {
  before(makePki);
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('HTTPS with a server certificate', async () => {
    const h = await startReceiver({ tls: { cert_file: f('server.crt'), key_file: f('server.key') } });
    try {
      assert.match(h.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      const r = await post(h.url, alertBody(1));
      assert.equal(r.status, 200);
      assert.equal(h.emitted[0]?.destination?.address, '192.0.2.1');
    } finally {
      await h.receiver.shutdown();
    }
  });

  test('mTLS: no client cert and a stranger CA are refused at the handshake; the configured CA is accepted', async () => {
    const h = await startReceiver({ tls: { cert_file: f('server.crt'), key_file: f('server.key'), client_ca_file: f('ca.crt') } });
    try {
      await assert.rejects(post(h.url, alertBody(1)), (err: NodeJS.ErrnoException) => {
        assert.match(`${err.code} ${err.message}`, /certificate|ECONNRESET|alert|socket hang up/i);
        return true;
      });
      await assert.rejects(post(h.url, alertBody(2), { cert: f('stranger.crt'), key: f('stranger.key') }));
      assert.equal(h.emitted.length, 0);
      const ok = await post(h.url, alertBody(3), { cert: f('falco-client.crt'), key: f('falco-client.key') });
      assert.equal(ok.status, 200);
      assert.deepEqual(h.emitted.map((o) => o.destination?.address), ['192.0.2.3']);
      // Handshake failures are counted (the server sees them asynchronously).
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(h.dropped('tls_handshake') >= 2, `tls_handshake=${h.dropped('tls_handshake')}`);
    } finally {
      await h.receiver.shutdown();
    }
  });

  test('unreadable or invalid certificate files: TLS_ERROR at start, problems at validate', async () => {
    const { settings } = makeSettings();
    const missing = new FalcoReceiver(settings, falcoConfigSchema.parse({ endpoint: '127.0.0.1:0', tls: { cert_file: f('nope.crt'), key_file: f('server.key') } }));
    await assert.rejects(missing.start({ emit: () => undefined, end: () => undefined, fail: () => undefined }), (err: unknown) => {
      assert.ok(err instanceof PastewatchError);
      assert.equal(err.code, 'TLS_ERROR');
      assert.ok(err.message.includes('nope.crt'));
      return true;
    });
    writeFileSync(f('garbage.crt'), 'not a certificate');
    const garbage = new FalcoReceiver(makeSettings().settings, falcoConfigSchema.parse({ endpoint: '127.0.0.1:0', tls: { cert_file: f('garbage.crt'), key_file: f('server.key') } }));
    await assert.rejects(garbage.start({ emit: () => undefined, end: () => undefined, fail: () => undefined }), (err: unknown) => {
      assert.ok(err instanceof PastewatchError);
      assert.equal(err.code, 'TLS_ERROR');
      assert.ok(err.message.includes('garbage.crt'), err.message);
      return true;
    });
    const problems = falcoFactory.validate?.(falcoConfigSchema.parse({ tls: { cert_file: f('nope.crt'), client_ca_file: f('ca.crt') } }));
    assert.deepEqual(problems, [
      { path: ['tls', 'key_file'], message: 'key_file is required with cert_file' },
      { path: ['tls', 'cert_file'], message: `cannot read "${f('nope.crt')}" (no such file)` },
    ]);
  });
});
