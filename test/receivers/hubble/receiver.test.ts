import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthRegistry } from '../../../src/component/health.js';
import { TelemetryRegistry } from '../../../src/component/telemetry.js';
import type { ComponentSettings } from '../../../src/component/types.js';
import { normalizeResponse } from '../../../src/hubble/normalize.js';
import { RecentConnections, mapFlow } from '../../../src/hubble/map.js';
import type { PipelineItem } from '../../../src/model/detection.js';
import type { Observation } from '../../../src/model/observation.js';
import { dnsCorrelationFactory } from '../../../src/processors/dns_correlation/factory.js';
import { pasteClassifierFactory } from '../../../src/processors/paste_classifier/factory.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import { hubbleFactory } from '../../../src/receivers/hubble/factory.js';
import { backoffDelay, flowKey } from '../../../src/receivers/hubble/recent.js';
import { buildRequest } from '../../../src/receivers/hubble/receiver.js';
import { parseSince } from '../../../src/receivers/hubble/config.js';
import { createMemoryLogger } from '../../../src/util/logger.js';
import { FakeHubble, fixture, nsOf, sinceOf, startReceiver, until, writeLines } from './helpers.js';
import type { Harness } from './helpers.js';

const SCENARIO = fixture('egress-scenario.jsonl');
const EVENTS = fixture('events-mixed.jsonl');

/** What a single clean pass over the lines maps to (the reference for "nothing lost, nothing doubled"). */
function reference(lines: unknown[]): Observation[] {
  const ctx = { receiver: 'hubble', connections: new RecentConnections({ maxEntries: 1000, idleTimeoutMs: 120_000 }) };
  const out: Observation[] = [];
  for (const l of lines) {
    const ev = normalizeResponse(l);
    if (typeof ev !== 'string' && ev.kind === 'flow') out.push(...mapFlow(ev.flow, ctx).observations);
  }
  return out;
}

const harnesses: Harness[] = [];
const servers: FakeHubble[] = [];
after(async () => {
  for (const h of harnesses) await h.receiver.shutdown();
  for (const s of servers) s.kill();
});

async function serve(handler: ConstructorParameters<typeof FakeHubble>[0], addr = '127.0.0.1:0'): Promise<FakeHubble> {
  const s = new FakeHubble(handler);
  servers.push(s);
  await s.listen(addr);
  return s;
}

async function receiver(overrides: Record<string, unknown>): Promise<Harness> {
  const h = await startReceiver(overrides);
  harnesses.push(h);
  return h;
}

function procSettings(id: string): ComponentSettings {
  const registry = new TelemetryRegistry();
  return { id, kind: 'processor', pipelineId: 'logs', logger: createMemoryLogger(), telemetry: registry.forComponent('processor', id), registry, health: new HealthRegistry(), env: {} };
}

describe('hubble receiver over a real gRPC stream', () => {
  test('streams the scenario: DNS answers + SYNs become observations that correlate into detections', async () => {
    const srv = await serve((call) => writeLines(call, SCENARIO)); // follow: the stream stays open
    const h = await receiver({ endpoint: srv.address });
    await until(() => h.emitted.length === 8, 'eight observations');
    assert.equal(h.status(), 'ok');
    // The request carried follow and the default whitelist (egress OR dns).
    const req = srv.requests[0];
    assert.equal(req.follow, true);
    assert.deepEqual(req.whitelist, [{ traffic_direction: ['EGRESS'] }, { protocol: ['dns'] }]);
    assert.equal(req.since, undefined);
    assert.deepEqual(h.emitted, reference(SCENARIO));
    const dnsResp = h.emitted.find((o) => o.kind === 'dns' && o.dns?.response && o.dns.query === 'pastebin.com');
    assert.deepEqual(dnsResp?.dns?.answers.map((a) => a.data), ['104.20.67.143', '172.67.34.170']);
    assert.equal(dnsResp?.source?.address, '10.244.1.23');
    const syn = h.emitted.find((o) => o.destination?.address === '104.20.67.143');
    assert.equal(syn?.attributes['k8s.pod.name'], 'builder-7d9f8c6b5-x2k4q');
    assert.deepEqual(syn?.names, []);
    assert.equal(h.registry.get('hubble', 'received'), 12);
    assert.equal(h.emitted.length, 8);
    assert.equal(h.registry.get('hubble', 'dropped', { reason: 'connection_duplicate' }), 2);
    assert.equal(h.registry.get('hubble', 'dropped', { reason: 'reply' }), 2);

    // Through the real dns_correlation and paste_classifier processors.
    const corr = dnsCorrelationFactory.create(procSettings('dns_correlation'), createDefaultConfig(dnsCorrelationFactory));
    const cls = pasteClassifierFactory.create(procSettings('paste_classifier'), createDefaultConfig(pasteClassifierFactory));
    const process = (p: unknown, item: PipelineItem): PipelineItem | undefined => (p as { process(i: PipelineItem): PipelineItem | undefined }).process(item);
    const detections = h.emitted
      .map((o) => process(corr, o))
      .filter((x): x is PipelineItem => x !== undefined)
      .map((o) => process(cls, o))
      .filter((x): x is PipelineItem => x !== undefined && x.type === 'detection');
    const byService = (s: string): PipelineItem[] => detections.filter((d) => d.type === 'detection' && d.service === s);
    // The SYN to 104.20.67.143 learned pastebin.com from the Hubble DNS answer.
    const pb = byService('pastebin.com').find((d) => d.type === 'detection' && d.attributes['destination.address'] === '104.20.67.143');
    assert.ok(pb, `no pastebin connection detection among ${detections.map((d) => (d.type === 'detection' ? `${d.service}/${d.matchedName}` : '')).join(' ')}`);
    assert.ok(byService('paste.ee').length >= 1, 'destination_names alone gives a paste.ee detection');
    assert.ok(byService('dpaste.org').length >= 1, 'the HTTP Host gives a dpaste.org detection');
  });

  test('over a unix socket (the agent form unix:///var/run/cilium/hubble.sock)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-hubble-sock-'));
    const sock = join(dir, 'hubble.sock');
    await serve((call) => {
      writeLines(call, SCENARIO.slice(0, 3));
      call.end();
    }, `unix:${sock}`);
    const h = await receiver({ endpoint: `unix://${sock}`, follow: false });
    await until(() => h.ended === 1, 'end of a follow:false stream');
    assert.deepEqual(h.emitted.map((o) => o.kind), ['dns', 'dns', 'hubble']);
    assert.equal(h.status(), 'stopped');
    assert.deepEqual(h.failures, []);
  });

  test('server restart mid-stream: reconnect with since = last flow time, the replayed overlap dropped', async () => {
    const first = SCENARIO.slice(0, 6);
    const s1 = await serve((call) => writeLines(call, first));
    const port = Number(s1.address.split(':')[1]);
    const h = await receiver({ endpoint: s1.address });
    await until(() => h.registry.get('hubble', 'received') === 6, 'first six flows');
    s1.kill();
    await until(() => h.status() === 'degraded', 'degraded while the server is down');
    assert.match(h.health.list()[0].message ?? '', /reconnecting to 127\.0\.0\.1:/);
    await new Promise((r) => setTimeout(r, 150)); // a few failed attempts
    // The restarted server holds all flows and replays from `since` inclusive (an overlap window).
    const s2 = new FakeHubble((call) => {
      const since = sinceOf(call.request) ?? 0n;
      writeLines(call, SCENARIO.filter((l) => nsOf((l.flow as { time: string }).time) >= since));
    });
    servers.push(s2);
    await s2.listen(`127.0.0.1:${port}`);
    await until(() => h.emitted.length === 8, 'all eight observations after the restart');
    await until(() => h.status() === 'ok', 'ok again');
    const req = s2.requests[0];
    assert.equal(sinceOf(req), nsOf((SCENARIO[5].flow as { time: string }).time), 'since = time of the last flow seen');
    assert.deepEqual(h.emitted, reference(SCENARIO), 'nothing lost, nothing duplicated');
    assert.equal(h.registry.get('hubble', 'dropped', { reason: 'replayed' }), 1);
    assert.ok(h.registry.get('hubble', 'reconnects') >= 1);
    assert.ok(h.logger.lines.some((l) => l.includes('WARN') && l.includes('hubble stream broken, reconnecting')));
  });

  test('node_status and lost_events surface in logs and counters', async () => {
    const srv = await serve((call) => writeLines(call, EVENTS));
    const h = await receiver({ endpoint: srv.address });
    await until(() => h.registry.get('hubble', 'hubble_lost_events') === 49, 'lost events counted');
    assert.equal(h.registry.get('hubble', 'hubble_lost_events', { source: 'PERF_EVENT_RING_BUFFER' }), 42);
    assert.equal(h.registry.get('hubble', 'hubble_lost_events', { source: 'HUBBLE_RING_BUFFER' }), 7);
    assert.equal(h.registry.get('hubble', 'hubble_node_status', { state: 'NODE_UNAVAILABLE' }), 1);
    assert.equal(h.registry.get('hubble', 'hubble_node_status', { state: 'NODE_CONNECTED' }), 1);
    const warnNode = h.logger.lines.find((l) => l.includes('WARN') && l.includes('hubble node status'));
    assert.ok(warnNode, 'a warn line for NODE_UNAVAILABLE');
    assert.match(warnNode, /state=NODE_UNAVAILABLE/);
    assert.match(warnNode, /nodes=kind-kind\/kind-worker2/);
    assert.match(warnNode, /connection refused/);
    const lost = h.logger.lines.filter((l) => l.includes('WARN') && l.includes('hubble lost events'));
    assert.equal(lost.length, 2);
    assert.match(lost[0], /num_events_lost=42/);
    assert.match(lost[0], /source=PERF_EVENT_RING_BUFFER/);
    assert.equal(h.emitted.length, 1, 'the one flow among them');
  });

  test('an unreachable endpoint: degraded, retried with backoff, shutdown stops it cleanly', async () => {
    const srv = await serve(() => undefined);
    const addr = srv.address;
    srv.kill();
    const h = await receiver({ endpoint: addr });
    await until(() => h.receiver.reconnects >= 3, 'three attempts');
    assert.equal(h.status(), 'degraded');
    await h.receiver.shutdown();
    const n = h.receiver.reconnects;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.receiver.reconnects, n, 'no attempts after shutdown');
    assert.equal(h.status(), 'stopped');
    await h.receiver.shutdown(); // idempotent
  });

  test('configured since and filters go into the request', async () => {
    const srv = await serve((call) => call.end());
    const h = await receiver({
      endpoint: srv.address,
      follow: false,
      since: '2026-12-04T20:00:00.5Z',
      filters: { whitelist: [{ destination_port: [443, '80'], verdict: ['DROPPED'] }], blacklist: [{ destination_ip: ['10.96.0.1'] }] },
    });
    await until(() => h.ended === 1, 'end');
    const req = srv.requests[0];
    assert.equal(req.follow ?? false, false);
    assert.equal(sinceOf(req), nsOf('2026-12-04T20:00:00.5Z'));
    assert.deepEqual(req.whitelist, [{ destination_port: ['443', '80'], verdict: ['DROPPED'] }]);
    assert.deepEqual(req.blacklist, [{ destination_ip: ['10.96.0.1'] }]);
  });
});

describe('hubble receiver helpers and config', () => {
  test('backoff doubles to the cap, with bounded jitter', () => {
    const s = { initial_backoff_ms: 500, max_backoff_ms: 30_000, jitter: 0.2 };
    assert.deepEqual([0, 1, 2, 3, 10].map((a) => backoffDelay(a, s, () => 0.5)), [500, 1000, 2000, 4000, 30_000]);
    assert.equal(backoffDelay(0, s, () => 0), 400);
    assert.equal(backoffDelay(0, s, () => 1), 600);
    assert.equal(backoffDelay(20, s, () => 1), 30_000, 'never above the cap');
  });

  test('flowKey: uuid when present, else time + 5-tuple + observation point', () => {
    const ev = normalizeResponse(SCENARIO[2]);
    assert.ok(typeof ev !== 'string' && ev.kind === 'flow');
    assert.equal(flowKey(ev.flow), '5b6f7d2a-1c3e-4f50-9a7b-000000000003');
    const noUuid = normalizeResponse({ flow: { ...(SCENARIO[2].flow as object), uuid: undefined } });
    const other = normalizeResponse({ flow: { ...(SCENARIO[3].flow as object), uuid: undefined } });
    assert.ok(typeof noUuid !== 'string' && noUuid.kind === 'flow' && typeof other !== 'string' && other.kind === 'flow');
    assert.match(flowKey(noUuid.flow), /10\.244\.1\.23\|50312\|104\.20\.67\.143\|443\|tcp\|FROM_ENDPOINT/);
    assert.notEqual(flowKey(noUuid.flow), flowKey(other.flow));
  });

  test('parseSince: RFC 3339 and durations', () => {
    const now = Date.UTC(2026, 11, 4, 21, 0, 0);
    assert.equal(parseSince('5m', now), BigInt(now - 300_000) * 1_000_000n);
    assert.equal(parseSince('1h30m', now), BigInt(now - 5_400_000) * 1_000_000n);
    assert.equal(parseSince('2d', now), BigInt(now - 172_800_000) * 1_000_000n);
    assert.equal(parseSince('2026-12-04T20:00:00Z', now), BigInt(Date.UTC(2026, 11, 4, 20)) * 1_000_000n);
    assert.equal(parseSince('yesterday', now), undefined);
    assert.equal(parseSince('5x', now), undefined);
  });

  test('buildRequest: number only without since', () => {
    const c = hubbleFactory.schema.parse({ number: 100, follow: false });
    assert.equal(buildRequest(c, undefined).number, '100');
    assert.equal(buildRequest(c, 1_500_000_000n).number, undefined);
    assert.deepEqual(buildRequest(c, 1_500_000_000n).since, { seconds: '1', nanos: 500_000_000 });
  });

  test('factory: defaults, and every bad setting reported', () => {
    const d = createDefaultConfig(hubbleFactory);
    assert.equal(d.endpoint, 'localhost:4245');
    assert.equal(d.follow, true);
    assert.deepEqual(d.reconnect, { initial_backoff_ms: 500, max_backoff_ms: 30_000, jitter: 0.2 });
    assert.deepEqual(d.filters.whitelist, [{ traffic_direction: ['EGRESS'] }, { protocol: ['dns'] }]);
    for (const bad of [{ endpoint: 'nope' }, { endpoint: 'host:99999' }, { since: 'yesterday' }, { filters: { whitelist: [{ protocol: ['gopher'] }] } }, { filters: { whitelist: [{ verdict: ['MAYBE'] }] } }, { filters: { whitelist: [{ colour: ['red'] }] } }, { reconnect: { jitter: 2 } }]) {
      assert.equal(hubbleFactory.schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.equal(hubbleFactory.schema.safeParse({ endpoint: 'unix:///var/run/cilium/hubble.sock' }).success, true);
    assert.equal(hubbleFactory.schema.safeParse({ endpoint: '[::1]:4245' }).success, true);
    const problems = hubbleFactory.validate!(hubbleFactory.schema.parse({ tls: { ca_file: '/nonexistent/ca.pem', cert_file: '/x.pem' }, reconnect: { initial_backoff_ms: 1000, max_backoff_ms: 10 } }));
    assert.deepEqual(problems.map((p) => p.path.join('.')).sort(), ['reconnect.max_backoff_ms', 'tls.ca_file', 'tls.cert_file', 'tls.enabled', 'tls.key_file']);
  });

  test('conformance: shutdown without start is safe and idempotent', async () => {
    const registry = new TelemetryRegistry();
    const settings: ComponentSettings = { id: 'hubble', kind: 'receiver', logger: createMemoryLogger(), telemetry: registry.forComponent('receiver', 'hubble'), registry, health: new HealthRegistry(), env: {} };
    const r = hubbleFactory.create(settings, createDefaultConfig(hubbleFactory));
    await r.shutdown();
    await r.shutdown();
  });
});
