import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { PastewatchError } from '../../../src/util/errors.js';
import { FakeHubble, fixture, makeCerts, startReceiver, until, writeLines } from './helpers.js';
import type { Certs, Harness } from './helpers.js';

const LINES = fixture('egress-scenario.jsonl').slice(0, 3);
let certs: Certs;
let tlsServer: FakeHubble;
let mtlsServer: FakeHubble;
const harnesses: Harness[] = [];

before(async () => {
  certs = makeCerts();
  const keyPair = [{ private_key: readFileSync(certs.serverKey), cert_chain: readFileSync(certs.serverCert) }];
  tlsServer = new FakeHubble((call) => writeLines(call, LINES));
  await tlsServer.listen('127.0.0.1:0', grpc.ServerCredentials.createSsl(null, keyPair, false));
  mtlsServer = new FakeHubble((call) => writeLines(call, LINES));
  await mtlsServer.listen('127.0.0.1:0', grpc.ServerCredentials.createSsl(readFileSync(certs.ca), keyPair, true));
});

after(async () => {
  for (const h of harnesses) await h.receiver.shutdown();
  tlsServer?.kill();
  mtlsServer?.kill();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

async function receiver(overrides: Record<string, unknown>): Promise<Harness> {
  const h = await startReceiver(overrides);
  harnesses.push(h);
  return h;
}

describe('hubble receiver TLS', () => {
  test('TLS with the relay CA and server name streams flows', async () => {
    const h = await receiver({ endpoint: tlsServer.address, tls: { enabled: true, ca_file: certs.ca, server_name: 'ui.hubble-relay.cilium.io' } });
    await until(() => h.emitted.length === 3, 'three observations over TLS');
    assert.equal(h.status(), 'ok');
  });

  test('a server certificate from another CA is refused: degraded, nothing emitted', async () => {
    const h = await receiver({ endpoint: tlsServer.address, tls: { enabled: true, ca_file: certs.otherCa, server_name: 'ui.hubble-relay.cilium.io' } });
    await until(() => h.receiver.reconnects >= 2, 'failed attempts');
    assert.equal(h.status(), 'degraded');
    assert.equal(h.emitted.length, 0);
    assert.equal(tlsServer.requests.length, 1, 'only the first, trusted receiver reached the server');
  });

  test('a server name the certificate does not cover is refused', async () => {
    const h = await receiver({ endpoint: tlsServer.address, tls: { enabled: true, ca_file: certs.ca, server_name: 'node1.kind.hubble-grpc.cilium.io' } });
    await until(() => h.receiver.reconnects >= 2, 'failed attempts');
    assert.equal(h.emitted.length, 0);
  });

  test('insecure_skip_verify accepts an unknown CA (testing only)', async () => {
    const h = await receiver({ endpoint: tlsServer.address, tls: { enabled: true, ca_file: certs.otherCa, insecure_skip_verify: true } });
    await until(() => h.emitted.length === 3, 'three observations');
  });

  test('mTLS: with the client certificate it streams; without it the server refuses', async () => {
    const good = await receiver({ endpoint: mtlsServer.address, tls: { enabled: true, ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey, server_name: 'ui.hubble-relay.cilium.io' } });
    await until(() => good.emitted.length === 3, 'three observations over mTLS');
    const bad = await receiver({ endpoint: mtlsServer.address, tls: { enabled: true, ca_file: certs.ca, server_name: 'ui.hubble-relay.cilium.io' } });
    await until(() => bad.receiver.reconnects >= 2, 'refused attempts');
    assert.equal(bad.emitted.length, 0);
    assert.equal(bad.status(), 'degraded');
    assert.equal(mtlsServer.requests.length, 1);
  });

  test('an unreadable CA file fails start with TLS_ERROR naming the file', async () => {
    await assert.rejects(
      startReceiver({ endpoint: tlsServer.address, tls: { enabled: true, ca_file: '/nonexistent/ca.pem' } }),
      (err: unknown) => err instanceof PastewatchError && err.code === 'TLS_ERROR' && err.message.includes('/nonexistent/ca.pem'),
    );
  });
});
