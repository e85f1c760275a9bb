import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { Service } from '../../src/pipeline/service.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { FAKE_FACTORIES, events, interests, received, resetFakes } from '../helpers/fake-components.js';
import type { Observation } from '../../src/model/observation.js';

const make = (yaml: string) => {
  const cfg = loadConfigText(yaml, 'test.yaml', { env: {}, factories: FAKE_FACTORIES });
  const logger = createMemoryLogger();
  return { service: new Service(cfg, { logger, env: {} }), logger };
};

const TWO_PIPELINES = `
receivers:
  scripted: { count: 4 }
processors:
  tag: { value: v }
exporters:
  record/a:
  record/b:
service:
  pipelines:
    logs:
      receivers: [scripted]
      processors: [tag]
      exporters: [record/a]
    traces:
      receivers: [scripted]
      processors: [tag]
      exporters: [record/a, record/b]
`;

describe('pipeline runtime', () => {
  beforeEach(resetFakes);

  test('starts exporters -> processors -> receivers and shuts down in reverse with flush before shutdown', async () => {
    const { service } = make(TWO_PIPELINES);
    await service.start();
    const result = await service.run();
    assert.deepEqual(result, { receiverErrors: [], timedOut: false });
    assert.deepEqual(events, [
      'start exporter record/a',
      'start exporter record/b',
      'start processor tag@logs',
      'start processor tag@traces',
      'start receiver scripted',
      'shutdown receiver scripted',
      'flush exporter record/a',
      'flush exporter record/b',
      'shutdown processor tag@logs',
      'shutdown processor tag@traces',
      'shutdown exporter record/a',
      'shutdown exporter record/b',
    ]);
  });

  test('a shared receiver feeds every pipeline; processors are per pipeline; exporters see the signal', async () => {
    const { service } = make(TWO_PIPELINES);
    await service.start();
    await service.run();
    const a = received.get('record/a')!;
    assert.equal(a.length, 8);
    assert.deepEqual(a.filter((x) => x.signal === 'logs').map((x) => (x.item as Observation).attributes), [0, 1, 2, 3].map((seq) => ({ seq, tag_logs: 'v' })));
    assert.deepEqual(a.filter((x) => x.signal === 'traces').map((x) => (x.item as Observation).attributes), [0, 1, 2, 3].map((seq) => ({ seq, tag_traces: 'v' })));
    assert.equal(received.get('record/b')!.length, 4);
    assert.equal(service.registry.get('logs', 'observations'), 4);
    assert.equal(service.registry.get('scripted', 'emitted'), 4);
  });

  test('an exporter that fails does not stop the others', async () => {
    const { service, logger } = make(`
receivers: { scripted: { count: 3 } }
exporters: { record/bad: { throw_on_consume: true }, record/good: {} }
service: { pipelines: { logs: { receivers: [scripted], exporters: [record/bad, record/good] } } }
`);
    await service.start();
    await service.run();
    assert.equal(received.get('record/good')!.length, 3);
    assert.equal(service.registry.get('record/bad', 'failed'), 3);
    assert.ok(logger.lines.some((l) => l.includes('exporter record/bad failed to take an item: backend exploded')));
    assert.equal(service.health.list().find((e) => e.id === 'record/bad')?.status, 'stopped');
  });

  test('a receiver whose input fails keeps what it emitted and reports the error', async () => {
    const { service } = make(`
receivers: { scripted: { count: 10, fail_after: 2 } }
exporters: { record: {} }
service: { pipelines: { logs: { receivers: [scripted], exporters: [record] } } }
`);
    await service.start();
    const r = await service.run();
    assert.equal(received.get('record')!.length, 2);
    assert.equal(r.receiverErrors.length, 1);
    assert.match(r.receiverErrors[0].error.message, /input broke after 2/);
  });

  test('shutdown of an endless receiver drains, and shutdown is idempotent', async () => {
    const { service } = make(`
receivers: { scripted: { count: 1000000, interval_ms: 1, finite: false } }
exporters: { record: {} }
service: { pipelines: { logs: { receivers: [scripted], exporters: [record] } } }
`);
    await service.start();
    await new Promise((r) => setTimeout(r, 30));
    const [a, b] = await Promise.all([service.shutdown('test'), service.shutdown('again')]);
    assert.equal(a, b);
    const n = received.get('record')!.length;
    assert.ok(n > 0, 'received something before shutdown');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(received.get('record')!.length, n, 'nothing after shutdown');
  });

  test('name interests are pushed down to receivers: the union of pipelines, or none when a pipeline wants everything', async () => {
    const { service } = make(`
receivers: { scripted/a: { count: 0 }, scripted/b: { count: 0 } }
processors: { tag/paste: { interest_suffix: pastebin.com }, tag/file: { interest_suffix: transfer.sh }, tag/all: {} }
exporters: { record: {} }
service:
  pipelines:
    logs: { receivers: [scripted/a, scripted/b], processors: [tag/paste], exporters: [record] }
    logs/2: { receivers: [scripted/a], processors: [tag/all, tag/file], exporters: [record] }
    logs/3: { receivers: [scripted/b], processors: [tag/all], exporters: [record] }
`);
    await service.start();
    await service.run();
    const a = interests.get('scripted/a');
    assert.ok(a, 'scripted/a got an interest');
    assert.equal(a('www.pastebin.com'), true);
    assert.equal(a('transfer.sh'), true);
    assert.equal(a('example.org'), false);
    assert.ok(interests.has('scripted/b'));
    assert.equal(interests.get('scripted/b'), undefined, 'a pipeline without an interested processor wants every observation');
  });

  test('shutdown without start is safe', async () => {
    const { service } = make(TWO_PIPELINES);
    const r = await service.shutdown();
    assert.equal(r.timedOut, false);
  });

  test('the shutdown deadline bounds a slow exporter flush', async () => {
    const { service, logger } = make(`
receivers: { scripted: { count: 1 } }
exporters: { record: { flush_delay_ms: 2000 } }
service:
  shutdown: { timeout_ms: 100 }
  pipelines: { logs: { receivers: [scripted], exporters: [record] } }
`);
    await service.start();
    const t0 = Date.now();
    const r = await service.run();
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 1500);
    assert.ok(logger.lines.some((l) => l.includes('exporter record flush did not finish before the shutdown deadline')));
  });
});

describe('self-telemetry listener', () => {
  beforeEach(resetFakes);

  test('serves Prometheus metrics whose counters move, and health that flips when an exporter degrades', async () => {
    const { service } = make(`
receivers: { scripted: { count: 1000000, interval_ms: 2, finite: false } }
exporters: { record: {} }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines: { logs: { receivers: [scripted], exporters: [record] } }
`);
    await service.start();
    try {
      const base = `http://${service.metricsAddress()}`;
      await new Promise((r) => setTimeout(r, 30));
      const scrape = async (): Promise<number> => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const m = /^pastewatch_emitted_total\{kind="receiver",component="scripted"\} (\d+)$/m.exec(text);
        assert.ok(m, text.slice(0, 2000));
        assert.match(text, /pastewatch_process_resident_memory_bytes/);
        return Number(m[1]);
      };
      const a = await scrape();
      await new Promise((r) => setTimeout(r, 40));
      const b = await scrape();
      assert.ok(a > 0 && b > a, `counter moved: ${a} -> ${b}`);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      service.health.set('exporter', 'record', 'degraded', 'backend down');
      const r = await fetch(`${base}/readyz`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { components: { id: string; status: string; message?: string }[] };
      assert.deepEqual(body.components.find((c) => c.id === 'record'), { ...body.components.find((c) => c.id === 'record'), status: 'degraded', message: 'backend down' });
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      await service.shutdown();
    }
  });
});
