import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { HealthRegistry } from '../../../src/component/health.js';
import { TelemetryRegistry } from '../../../src/component/telemetry.js';
import type { ComponentSettings } from '../../../src/component/types.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import { healthCheckFactory } from '../../../src/extensions/health_check/factory.js';
import { HealthCheckExtension } from '../../../src/extensions/health_check/health-check.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { createMemoryLogger } from '../../../src/util/logger.js';

function settings(health = new HealthRegistry()): ComponentSettings {
  const registry = new TelemetryRegistry();
  return { id: 'health_check', kind: 'extension', logger: createMemoryLogger(), telemetry: registry.forComponent('extension', 'health_check'), registry, health, env: {} };
}

async function get(address: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

describe('health_check extension', () => {
  test('default config: loopback 13133, /healthz and /readyz; bad values are rejected', () => {
    assert.deepEqual(createDefaultConfig(healthCheckFactory), { endpoint: '127.0.0.1:13133', liveness_path: '/healthz', readiness_path: '/readyz' });
    assert.equal(healthCheckFactory.schema.safeParse({ endpoint: 'nohost' }).success, false);
    assert.equal(healthCheckFactory.schema.safeParse({ endpoint: '127.0.0.1:70000' }).success, false);
    assert.equal(healthCheckFactory.schema.safeParse({ liveness_path: 'healthz' }).success, false);
    assert.equal(healthCheckFactory.schema.safeParse({ bogus: 1 }).success, false);
    assert.deepEqual(healthCheckFactory.validate!({ endpoint: ':1', liveness_path: '/x', readiness_path: '/x' }), [{ path: ['readiness_path'], message: 'must differ from liveness_path' }]);
  });

  test('shutdown without start is safe, twice', async () => {
    const ext = healthCheckFactory.create(settings(), createDefaultConfig(healthCheckFactory));
    await ext.shutdown();
    await ext.shutdown();
  });

  test('liveness and readiness follow the health registry, with component statuses in the body', async () => {
    const health = new HealthRegistry();
    const ext = new HealthCheckExtension(settings(health), { endpoint: '127.0.0.1:0', liveness_path: '/healthz', readiness_path: '/readyz' });
    await ext.start();
    try {
      const addr = ext.address()!;
      assert.match(addr, /^127\.0\.0\.1:\d+$/);
      // nothing registered yet: live, not ready
      assert.equal((await get(addr, '/healthz')).status, 200);
      assert.equal((await get(addr, '/readyz')).status, 503);
      health.set('receiver', 'pcap', 'starting');
      assert.equal((await get(addr, '/readyz')).status, 503);
      health.set('receiver', 'pcap', 'ok');
      health.set('exporter', 'jsonl', 'ok');
      const ready = await get(addr, '/readyz');
      assert.equal(ready.status, 200);
      const body = JSON.parse(ready.body) as { status: string; components: { id: string; status: string }[] };
      assert.equal(body.status, 'ok');
      assert.deepEqual(body.components.map((c) => `${c.id}=${c.status}`).sort(), ['jsonl=ok', 'pcap=ok']);
      health.set('receiver', 'pcap', 'failed', 'interface went away');
      const live = await get(addr, '/healthz');
      assert.equal(live.status, 503);
      assert.match(live.body, /interface went away/);
      assert.equal((await get(addr, '/readyz')).status, 503);
      assert.equal((await get(addr, '/nope')).status, 404);
      assert.equal((await get(addr, '/healthz', 'POST')).status, 405);
    } finally {
      await ext.shutdown();
    }
    await assert.rejects(fetch(`http://${ext.address()}/healthz`));
  });

  test('a busy port is a LISTEN_FAILED error naming the endpoint', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as AddressInfo).port;
    const ext = new HealthCheckExtension(settings(), { endpoint: `127.0.0.1:${port}`, liveness_path: '/healthz', readiness_path: '/readyz' });
    try {
      await assert.rejects(ext.start(), (err: unknown) => {
        assert.ok(err instanceof PastewatchError);
        assert.equal(err.code, 'LISTEN_FAILED');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}: address already in use`));
        return true;
      });
    } finally {
      await ext.shutdown();
      blocker.close();
    }
  });
});
