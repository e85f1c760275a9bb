/**
 * Conformance for every factory in src/components.ts: the default config validates, shutdown without start
 * is safe (twice), and start -> consume -> shutdown delivers every item. Each type has a harness below; a
 * factory without one fails this test, so a new component cannot be registered without its check.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { FACTORIES, checkFactories } from '../src/components.js';
import type { AnyFactory, ComponentKind, ComponentSettings, Exporter, Extension, Processor, Receiver } from '../src/component/types.js';
import { HealthRegistry } from '../src/component/health.js';
import { TelemetryRegistry } from '../src/component/telemetry.js';
import { createMemoryLogger } from '../src/util/logger.js';
import type { Observation } from '../src/model/observation.js';
import type { Detection, PipelineItem } from '../src/model/detection.js';
import { makeDetection } from './helpers/detections.js';
import { startOtlpReceiver } from './helpers/otlp-receiver.js';
import { FakeHubble, fixture, writeLines } from './receivers/hubble/helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Minimal settings a factory needs beyond its defaults (only where a value has no sensible default). */
const REQUIRED: Record<string, Record<string, unknown>> = {
  'exporter:alert_webhook': { endpoint: 'http://127.0.0.1:9/alerts' },
};

function settings(kind: ComponentKind, id: string): ComponentSettings {
  const registry = new TelemetryRegistry();
  return { id, kind, pipelineId: kind === 'processor' ? 'logs' : undefined, logger: createMemoryLogger(), telemetry: registry.forComponent(kind, id), registry, health: new HealthRegistry(), env: {} };
}

function create(f: AnyFactory, overrides: Record<string, unknown> = {}): Receiver | Processor | Exporter | Extension {
  const cfg = f.schema.parse({ ...REQUIRED[`${f.kind}:${f.type}`], ...overrides });
  return (f.create as (s: ComponentSettings, c: unknown) => Receiver | Processor | Exporter | Extension)(settings(f.kind, f.type), cfg);
}

const detections = (n: number): Detection[] =>
  Array.from({ length: n }, (_, i) => {
    const d = makeDetection({ id: `d${i}`, spanId: `${i}`.padStart(16, 'a') });
    // Distinct workloads so dedup keeps each one.
    return { ...d, attributes: { ...d.attributes, 'source.address': `10.0.0.${i + 1}` } };
  });

/** Runs a receiver until `done(emitted)` or a timeout; returns what it emitted. */
async function drive(r: Receiver, act: () => Promise<void>, done: (o: Observation[]) => boolean, timeoutMs = 8000): Promise<Observation[]> {
  const out: Observation[] = [];
  let ended = false;
  const failures: Error[] = [];
  await r.start({ emit: (o) => out.push(o), end: () => (ended = true), fail: (e) => failures.push(e) });
  await act();
  const end = Date.now() + timeoutMs;
  while (!done(out) && !ended && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
  await r.shutdown();
  assert.deepEqual(failures, []);
  return out;
}

type Harness = (f: AnyFactory) => Promise<void>;

const processorHarness: Harness = async (f) => {
  const p = create(f) as Processor;
  await p.start();
  const items = detections(5);
  const out = await lastValueFrom(from(items as PipelineItem[]).pipe(p.operator(), toArray()));
  await p.shutdown();
  assert.deepEqual(out.map((d) => (d as Detection).id).sort(), items.map((d) => d.id).sort(), `${f.type} delivers every detection`);
};

const HARNESSES: Record<string, Harness> = {
  'processor:dns_correlation': processorHarness,
  'processor:enrich': processorHarness,
  'processor:paste_classifier': processorHarness,
  'processor:dedup': processorHarness,

  'exporter:jsonl': async (f) => {
    const path = join(mkdtempSync(join(tmpdir(), 'pw-conf-')), 'x.jsonl');
    const e = create(f, { path }) as Exporter;
    await e.start();
    for (const d of detections(4)) e.consume(d, 'logs');
    await e.flush(Date.now() + 2000);
    await e.shutdown();
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 4);
  },
  'exporter:table': async (f) => {
    const e = create(f, { output: 'stdout' }) as Exporter;
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
    try {
      await e.start();
      for (const d of detections(3)) e.consume(d, 'logs');
      await e.flush(Date.now() + 1000);
      await e.shutdown();
    } finally {
      process.stdout.write = write;
    }
    assert.equal(chunks.join('').trim().split('\n').length, 4, 'heading + 3 rows');
  },
  'exporter:otlp_http': async (f) => {
    const otlp = await startOtlpReceiver();
    try {
      const e = create(f, { endpoint: otlp.url }) as Exporter;
      await e.start();
      for (const d of detections(3)) {
        e.consume(d, 'logs');
        e.consume(d, 'traces');
      }
      await e.flush(Date.now() + 5000);
      await e.shutdown();
      assert.equal(otlp.logs.length, 3);
      assert.equal(otlp.spans.length, 3);
    } finally {
      await otlp.close();
    }
  },
  'exporter:alert_webhook': async (f) => {
    const otlp = await startOtlpReceiver();
    try {
      const e = create(f, { endpoint: `${otlp.url}/alerts` }) as Exporter;
      await e.start();
      for (const d of detections(3)) e.consume(d, 'logs');
      await e.flush(Date.now() + 5000);
      await e.shutdown();
      assert.equal(otlp.webhooks.length, 3);
    } finally {
      await otlp.close();
    }
  },

  'receiver:pcap_file': async (f) => {
    const r = create(f, { path: join(FIXTURES, 'pcap', 'dns.pcap') }) as Receiver;
    const out = await drive(r, async () => {}, () => false);
    assert.ok(out.some((o) => o.kind === 'dns' && o.names.length > 0), 'DNS observations from the fixture');
  },
  'receiver:hubble_file': async (f) => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-conf-'));
    const path = join(dir, 'flows.jsonl');
    copyFileSync(join(FIXTURES, 'hubble', 'egress-scenario.jsonl'), path);
    const r = create(f, { path, follow: false, start_at: 'beginning' }) as Receiver;
    const out = await drive(r, async () => {}, () => false);
    assert.ok(out.length > 0);
  },
  'receiver:hubble': async (f) => {
    const server = new FakeHubble((call) => {
      writeLines(call, fixture('egress-scenario.jsonl'));
    });
    await server.listen('127.0.0.1:0');
    try {
      const r = create(f, { endpoint: server.address, reconnect: { initial_backoff_ms: 50, max_backoff_ms: 200 } }) as Receiver;
      const out = await drive(r, async () => {}, (o) => o.length >= 3);
      assert.ok(out.length >= 3, `observations: ${out.length}`);
    } finally {
      server.kill();
    }
  },
  'receiver:falco': async (f) => {
    const r = create(f, { endpoint: "127.0.0.1:0" }) as Receiver & { url(): string | undefined };
    const alert = JSON.parse(readFileSync(join(FIXTURES, 'falco', readFixtureName()), 'utf8')) as unknown;
    const out = await drive(r, async () => {
      const res = await fetch(r.url()!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
      assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
    }, (o) => o.length >= 1);
    assert.equal(out.length, 1);
  },
  'receiver:pcap': async (f) => {
    // Live capture needs root: verified here only as far as a clear start error when the interface is missing;
    // capture itself is covered by test/receivers/pcap/ (network namespaces).
    const r = create(f, { interface: 'pw-no-such-if0' }) as Receiver;
    await assert.rejects(r.start({ emit: () => {}, end: () => {}, fail: () => {} }), (e: Error & { code?: string }) => ['INTERFACE_NOT_FOUND', 'CAPTURE_UNAVAILABLE', 'CAPTURE_PERMISSION'].includes(e.code ?? ''));
    await r.shutdown();
  },

  'extension:health_check': async (f) => {
    const x = create(f, { endpoint: '127.0.0.1:0' }) as Extension & { address?(): string };
    await x.start();
    try {
      assert.ok(x.address, 'health_check exposes its bound address');
      const res = await fetch(`http://${x.address()}/healthz`);
      assert.equal(res.status, 200);
    } finally {
      await x.shutdown();
    }
  },
};

function readFixtureName(): string {
  return 'falco-paste-connect-ipv4.json';
}

describe('component conformance', () => {
  test('factory types are unique per kind', () => {
    assert.doesNotThrow(() => checkFactories(FACTORIES));
    assert.throws(() => checkFactories([FACTORIES[0], FACTORIES[0]]), /duplicate/);
  });

  for (const f of FACTORIES) {
    describe(`${f.kind} ${f.type}`, () => {
      test('default config (plus required keys) validates', () => {
        const cfg = f.schema.parse({ ...REQUIRED[`${f.kind}:${f.type}`] });
        assert.deepEqual(f.validate?.(cfg as never) ?? [], []);
      });
      test('shutdown without start is safe, twice', async () => {
        const c = create(f);
        await c.shutdown();
        await c.shutdown();
      });
      test('start -> consume -> shutdown delivers every item', async () => {
        const h = HARNESSES[`${f.kind}:${f.type}`];
        assert.ok(h, `no conformance harness for ${f.kind} ${f.type}: add one in test/conformance.test.ts`);
        await h(f);
      });
    });
  }
});
