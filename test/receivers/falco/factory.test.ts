import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultConfig } from '../../../src/component/types.js';
import type { Observation } from '../../../src/model/observation.js';
import { parseEndpoint } from '../../../src/receivers/falco/config.js';
import { falcoFactory } from '../../../src/receivers/falco/factory.js';
import { alertBody, makeSettings } from './helpers.js';

test('default config: loopback 2801, path /, 1 MiB, POST and PUT, no auth, no TLS; validates clean', () => {
  const c = createDefaultConfig(falcoFactory);
  assert.deepEqual(c, {
    endpoint: '127.0.0.1:2801',
    path: '/',
    max_body_bytes: 1048576,
    accept_methods: ['POST', 'PUT'],
    auth: { bearer_token: '' },
    tls: { cert_file: '', key_file: '', client_ca_file: '' },
    keep_alive_timeout_ms: 65000,
    request_timeout_ms: 10000,
    drain_timeout_ms: 2000,
    max_output_chars: 1024,
  });
  assert.deepEqual(falcoFactory.validate?.(c), []);
  assert.equal(falcoFactory.type, 'falco');
  assert.equal(falcoFactory.kind, 'receiver');
});

test('schema rejects bad settings with their key', () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ endpoint: 'localhost' }, 'endpoint'],
    [{ endpoint: '127.0.0.1:70000' }, 'endpoint'],
    [{ path: 'alerts' }, 'path'],
    [{ path: '/healthz' }, 'path'],
    [{ max_body_bytes: 0 }, 'max_body_bytes'],
    [{ accept_methods: ['GET'] }, 'accept_methods'],
    [{ accept_methods: [] }, 'accept_methods'],
    [{ auth: { token: 'x' } }, 'auth'],
    [{ listen: ':2801' }, ''],
  ];
  for (const [input, key] of bad) {
    const r = falcoFactory.schema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    assert.equal(String(r.error?.issues[0]?.path[0] ?? ''), key, JSON.stringify(input));
  }
  assert.deepEqual(falcoFactory.validate?.(falcoFactory.schema.parse({ auth: { bearer_token: 'a b' } })), [
    { path: ['auth', 'bearer_token'], message: 'bearer_token must not contain whitespace' },
  ]);
});

test('endpoint forms', () => {
  assert.deepEqual(parseEndpoint('127.0.0.1:2801'), { host: '127.0.0.1', port: 2801 });
  assert.deepEqual(parseEndpoint('[::1]:2801'), { host: '::1', port: 2801 });
  assert.deepEqual(parseEndpoint(':2801'), { host: '', port: 2801 });
  assert.deepEqual(parseEndpoint('pastewatch.falco.svc:80'), { host: 'pastewatch.falco.svc', port: 80 });
  assert.equal(parseEndpoint('::1:2801'), undefined);
  assert.equal(parseEndpoint('127.0.0.1'), undefined);
});

test('conformance: shutdown without start is safe; start -> consume -> shutdown delivers everything', async () => {
  const idle = falcoFactory.create(makeSettings().settings, falcoFactory.schema.parse({}));
  await idle.shutdown();
  await idle.shutdown();

  const { settings, registry } = makeSettings('falco/conf');
  const r = falcoFactory.create(settings, falcoFactory.schema.parse({ endpoint: '127.0.0.1:0' }));
  const got: Observation[] = [];
  await r.start({ emit: (o) => got.push(o), end: () => undefined, fail: (e) => assert.fail(e) });
  const url = (r as unknown as { url(): string }).url();
  const sent = 200;
  // 8 concurrent keep-alive-free senders, 25 alerts each.
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < sent / 8; i++) {
        const n = w * 25 + i;
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertBody(n % 250) });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
    }),
  );
  await r.shutdown();
  assert.equal(got.length, sent);
  assert.equal(registry.get('falco/conf', 'received'), sent);
  assert.ok(got.every((o) => o.receiver === 'falco/conf' && o.kind === 'falco'));
});
