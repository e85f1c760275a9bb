import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadObserverProto } from '../../src/hubble/proto.js';
import { normalizeResponse } from '../../src/hubble/normalize.js';
import { decodeGetFlowsResponse } from '../../src/hubble/wire.js';
import { HUBBLE_ATTR, RecentConnections, httpHost, mapFlow, normalName } from '../../src/hubble/map.js';
import type { MapResult } from '../../src/hubble/map.js';
import type { HubbleFlow } from '../../src/hubble/types.js';
import type { Observation } from '../../src/model/observation.js';
import { BASE, BUILDER, dnsFlow, response, tcpFlow, toGrpcObject, ts } from '../../scripts/fixtures/hubble-flows.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'hubble');
const lines = (name: string): unknown[] =>
  readFileSync(join(FIX, name), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

function flowOf(line: unknown): HubbleFlow {
  const ev = normalizeResponse(line);
  assert.ok(typeof ev !== 'string' && ev.kind === 'flow', `not a flow: ${typeof ev === 'string' ? ev : ev.kind}`);
  return ev.flow;
}

const conns = (): RecentConnections => new RecentConnections({ maxEntries: 1000, idleTimeoutMs: 60_000 });

function mapAll(objs: unknown[]): MapResult[] {
  const ctx = { receiver: 'hubble', connections: conns() };
  return objs.map((o) => mapFlow(flowOf(o), ctx));
}

function one(r: MapResult): Observation {
  assert.equal(r.skipped, undefined, `skipped: ${r.skipped}`);
  assert.equal(r.observations.length, 1);
  return r.observations[0];
}

const T0 = BigInt(BASE) * 1_000_000_000n;

describe('mapFlow on the egress scenario fixture', () => {
  const results = mapAll(lines('egress-scenario.jsonl'));

  test('DNS request -> dns observation from the pod with the query as dns.query', () => {
    const o = one(results[0]);
    assert.equal(o.kind, 'dns');
    assert.equal(o.timeUnixNano, T0 + 317n);
    assert.deepEqual(o.source, { address: '10.244.1.23', port: 41234 });
    assert.deepEqual(o.destination, { address: '10.244.0.5', port: 53 });
    assert.deepEqual(o.names, [{ name: 'pastebin.com', evidence: 'dns.query' }]);
    assert.equal(o.dns?.response, false);
    assert.equal(o.dns?.query, 'pastebin.com');
    assert.deepEqual(o.dns?.answers, []);
    assert.equal(o.transport, 'udp');
    assert.equal(o.attributes['k8s.pod.name'], 'builder-7d9f8c6b5-x2k4q');
  });

  test('DNS response -> swapped so the pod is the source; answers as A records with the TTL', () => {
    const o = one(results[1]);
    assert.equal(o.kind, 'dns');
    assert.deepEqual(o.source, { address: '10.244.1.23', port: 41234 });
    assert.deepEqual(o.destination, { address: '10.244.0.5', port: 53 });
    assert.deepEqual(o.dns, {
      id: 0,
      response: true,
      rcode: 0,
      query: 'pastebin.com',
      qtype: 'A',
      answers: [
        { name: 'pastebin.com', type: 'A', data: '104.20.67.143', ttl: 300 },
        { name: 'pastebin.com', type: 'A', data: '172.67.34.170', ttl: 300 },
      ],
      transport: 'hubble',
    });
    assert.deepEqual(o.names, [{ name: 'pastebin.com', evidence: 'hubble.dns' }]);
    // Workload attributes come from the pod (Hubble's destination of the response), remote from coredns.
    assert.equal(o.attributes['k8s.pod.name'], 'builder-7d9f8c6b5-x2k4q');
    assert.equal(o.attributes['k8s.namespace.name'], 'ci');
    assert.equal(o.attributes['k8s.deployment.name'], 'builder');
    assert.equal(o.attributes[HUBBLE_ATTR.DESTINATION_POD], 'coredns-5d78c9869d-7wq2p');
    assert.equal(o.attributes[HUBBLE_ATTR.L7_TYPE], 'RESPONSE');
  });

  test("one connection's four flows collapse into one observation (SYN from-endpoint)", () => {
    const o = one(results[2]);
    assert.equal(o.kind, 'hubble');
    assert.equal(o.transport, 'tcp');
    assert.equal(o.networkType, 'ipv4');
    assert.deepEqual(o.source, { address: '10.244.1.23', port: 50312 });
    assert.deepEqual(o.destination, { address: '104.20.67.143', port: 443 });
    assert.deepEqual(o.names, []);
    assert.equal(o.blocked, undefined);
    assert.deepEqual(o.attributes, {
      'k8s.namespace.name': 'ci',
      'k8s.pod.name': 'builder-7d9f8c6b5-x2k4q',
      'k8s.cluster.name': 'kind-kind',
      'k8s.deployment.name': 'builder',
      'k8s.node.name': 'kind-worker',
      [HUBBLE_ATTR.SOURCE_LABELS]: BUILDER.labels,
      [HUBBLE_ATTR.SOURCE_IDENTITY]: 48213,
      [HUBBLE_ATTR.SOURCE_WORKLOAD_KIND]: 'Deployment',
      [HUBBLE_ATTR.DESTINATION_IDENTITY]: 2,
      [HUBBLE_ATTR.DESTINATION_LABELS]: ['reserved:world'],
      [HUBBLE_ATTR.DESTINATION_WORLD]: true,
      [HUBBLE_ATTR.VERDICT]: 'FORWARDED',
      [HUBBLE_ATTR.TYPE]: 'L3_L4',
      [HUBBLE_ATTR.TRAFFIC_DIRECTION]: 'EGRESS',
      [HUBBLE_ATTR.TRACE_OBSERVATION_POINT]: 'FROM_ENDPOINT',
      [HUBBLE_ATTR.TRACE_REASON]: 'NEW',
      [HUBBLE_ATTR.UUID]: '5b6f7d2a-1c3e-4f50-9a7b-000000000003',
    });
    assert.equal(results[3].skipped, 'connection_duplicate');
    assert.equal(results[4].skipped, 'reply');
    assert.equal(results[5].skipped, 'connection_duplicate');
  });

  test('destination_names alone names the destination', () => {
    const o = one(results[6]);
    assert.deepEqual(o.names, [{ name: 'paste.ee', evidence: 'hubble.destination_names' }]);
    assert.deepEqual(o.destination, { address: '198.51.100.20', port: 443 });
  });

  test('DROPPED egress -> blocked, with the toFQDNs selector as an attribute', () => {
    const o = one(results[7]);
    assert.equal(o.blocked, true);
    assert.equal(o.attributes[HUBBLE_ATTR.VERDICT], 'DROPPED');
    assert.deepEqual(o.attributes[HUBBLE_ATTR.DESTINATION_FQDN_SELECTORS], ['hastebin.com']);
    assert.equal(o.attributes[HUBBLE_ATTR.DESTINATION_WORLD], true);
  });

  test('DNS response with a CNAME: chain records, addresses owned by the chain end', () => {
    const o = one(results[8]);
    assert.deepEqual(o.dns?.answers, [
      { name: 'dpaste.org', type: 'CNAME', data: 'dpaste-lb.example.net', ttl: 60 },
      { name: 'dpaste-lb.example.net', type: 'A', data: '192.0.2.44', ttl: 60 },
    ]);
    assert.deepEqual(o.names, [
      { name: 'dpaste.org', evidence: 'hubble.dns' },
      { name: 'dpaste-lb.example.net', evidence: 'dns.answer' },
    ]);
  });

  test('L7 HTTP request names the URL host; the response makes nothing', () => {
    const o = one(results[9]);
    assert.equal(o.kind, 'hubble');
    assert.deepEqual(o.names, [{ name: 'dpaste.org', evidence: 'hubble.http' }]);
    assert.deepEqual(o.http, { method: 'POST', target: '/api/v2/' });
    assert.equal(o.attributes['http.request.method'], 'POST');
    assert.equal(results[10].skipped, 'reply');
  });

  test('an unrelated in-cluster connection is still one observation', () => {
    const o = one(results[11]);
    assert.deepEqual(o.destination, { address: '10.96.0.1', port: 443 });
  });
});

describe('mapFlow connection collapsing', () => {
  const p = BUILDER;
  const t = (us: number): string => ts(BASE, us);
  const syn = (us: number, extra: Record<string, unknown> = {}): unknown => response(tcpFlow({ time: t(us), pod: p, dst: '192.0.2.9', dport: 443, sport: 40000, flags: ['SYN'], ...extra }));

  test('a reply alone never makes an observation (is_reply, trace_reason REPLY, SYN+ACK without is_reply)', () => {
    const r = mapAll([
      response(tcpFlow({ time: t(1), pod: p, dst: '192.0.2.9', dport: 443, sport: 40000, flags: ['ACK'], reply: true })),
      response(tcpFlow({ time: t(2), pod: p, dst: '192.0.2.9', dport: 443, sport: 40001, flags: ['ACK'], reason: 'REPLY', omitIsReply: true })),
      response(tcpFlow({ time: t(3), pod: p, dst: '192.0.2.9', dport: 443, sport: 40002, flags: ['SYN', 'ACK'], omitIsReply: true })),
    ]);
    assert.deepEqual(r.map((x) => x.skipped), ['reply', 'reply', 'reply']);
  });

  test('the first non-reply flow of an unknown 5-tuple counts, even without SYN (missed the start)', () => {
    const r = mapAll([response(tcpFlow({ time: t(1), pod: p, dst: '192.0.2.9', dport: 443, sport: 40000, flags: ['ACK', 'PSH'], omitIsReply: true }))]);
    assert.equal(one(r[0]).destination?.address, '192.0.2.9');
  });

  test('after FIN, a new SYN on the same 5-tuple is a new connection; a retransmitted SYN is not', () => {
    const r = mapAll([
      syn(1),
      syn(2),
      response(tcpFlow({ time: t(3), pod: p, dst: '192.0.2.9', dport: 443, sport: 40000, flags: ['FIN', 'ACK'] })),
      syn(4),
    ]);
    assert.deepEqual(r.map((x) => x.skipped), [undefined, 'connection_duplicate', 'connection_duplicate', undefined]);
  });

  test('a 5-tuple idle past connection_idle_ms is a new connection', () => {
    const ctx = { receiver: 'hubble', connections: new RecentConnections({ maxEntries: 10, idleTimeoutMs: 1000 }) };
    const a = mapFlow(flowOf(syn(0)), ctx);
    const b = mapFlow(flowOf(syn(500_000)), ctx); // 0.5 s later: same connection
    const c = mapFlow(flowOf(syn(1_600_000)), ctx); // 1.1 s after the last: new
    assert.deepEqual([a.skipped, b.skipped, c.skipped], [undefined, 'connection_duplicate', undefined]);
  });

  test('the table is bounded and counts evictions', () => {
    let evicted = 0;
    const ctx = { receiver: 'hubble', connections: new RecentConnections({ maxEntries: 3, idleTimeoutMs: 60_000, onEvict: (n) => (evicted += n) }) };
    for (let i = 0; i < 5; i++) mapFlow(flowOf(response(tcpFlow({ time: t(i), pod: p, dst: '192.0.2.9', dport: 443, sport: 41000 + i, flags: ['SYN'] }))), ctx);
    assert.equal(ctx.connections.size, 3);
    assert.equal(evicted, 2);
    // The oldest was evicted: seeing it again makes a new observation; the newest is still a duplicate.
    assert.equal(mapFlow(flowOf(response(tcpFlow({ time: t(10), pod: p, dst: '192.0.2.9', dport: 443, sport: 41000, flags: ['ACK'] }))), ctx).skipped, undefined);
    assert.equal(mapFlow(flowOf(response(tcpFlow({ time: t(11), pod: p, dst: '192.0.2.9', dport: 443, sport: 41004, flags: ['ACK'] }))), ctx).skipped, 'connection_duplicate');
  });

  test('UDP flows collapse too; ICMP and address-less flows are skipped with a reason', () => {
    const udp = (us: number): unknown => ({ flow: { time: t(us), IP: { source: '10.244.1.23', destination: '192.0.2.53', ipVersion: 'IPv4' }, l4: { UDP: { source_port: 5353, destination_port: 443 } }, Type: 'L3_L4', traffic_direction: 'EGRESS' } });
    const icmp = { flow: { time: t(5), IP: { source: '10.244.1.23', destination: '192.0.2.53', ipVersion: 'IPv4' }, l4: { ICMPv4: { type: 8 } }, Type: 'L3_L4' } };
    const sock = { flow: { time: t(6), Type: 'SOCK', source: { ID: 5 } } };
    const r = mapAll([udp(1), udp(2), icmp, sock]);
    assert.equal(one(r[0]).transport, 'udp');
    assert.deepEqual(r.slice(1).map((x) => x.skipped), ['connection_duplicate', 'unsupported_protocol', 'no_l3_l4']);
  });
});

describe('mapFlow DNS and HTTP details', () => {
  const t = (us: number): string => ts(BASE, us);
  test('IPv6 answers become AAAA; names lose the trailing dot and case', () => {
    const f = dnsFlow({ time: t(1), pod: BUILDER, query: 'PasteBin.COM.', response: true, ips: ['2606:4700::6814:438f'], ttl: 120, qtype: 'AAAA' });
    const o = one(mapAll([response(f)])[0]);
    assert.equal(o.dns?.query, 'pastebin.com');
    assert.equal(o.dns?.qtype, 'AAAA');
    assert.deepEqual(o.dns?.answers, [{ name: 'pastebin.com', type: 'AAAA', data: '2606:4700::6814:438f', ttl: 120 }]);
  });

  test('NXDOMAIN: rcode kept, no answers', () => {
    const f = dnsFlow({ time: t(1), pod: BUILDER, query: 'nope.example.', response: true, rcode: 3 });
    const o = one(mapAll([response(f)])[0]);
    assert.equal(o.dns?.rcode, 3);
    assert.deepEqual(o.dns?.answers, []);
    assert.equal(o.attributes[HUBBLE_ATTR.DNS_RCODE], 3);
  });

  test('an empty DNS query is skipped', () => {
    const f = dnsFlow({ time: t(1), pod: BUILDER, query: '.', response: true });
    assert.equal(mapAll([response(f)])[0].skipped, 'dns_no_query');
  });

  test('httpHost: URL host, else Host/:authority header without port; never an IP literal', () => {
    assert.equal(httpHost('http://Paste.EE:8080/x', []), 'paste.ee');
    assert.equal(httpHost('/upload', [{ key: 'Host', value: 'ghostbin.co:80' }]), 'ghostbin.co');
    assert.equal(httpHost('', [{ key: ':authority', value: 'rentry.co' }]), 'rentry.co');
    assert.equal(httpHost('http://192.0.2.1/x', []), undefined);
    assert.equal(httpHost('http://[2001:db8::1]/x', []), undefined);
    assert.equal(httpHost('', []), undefined);
  });

  test('normalName strips one trailing dot and lower-cases', () => {
    assert.equal(normalName(' Example.COM. '), 'example.com');
    assert.equal(normalName('.'), '');
  });

  test('the flow time is used; without one, the fallback time', () => {
    const o = one(mapFlow(flowOf({ flow: { IP: { source: '10.0.0.1', destination: '192.0.2.1' }, l4: { TCP: { source_port: 1, destination_port: 2, flags: { SYN: true } } } } }), { receiver: 'r', connections: conns(), fallbackTimeUnixNano: 42n }));
    assert.equal(o.timeUnixNano, 42n);
    assert.equal(o.networkType, 'ipv4');
  });
});

describe('normalizeResponse: gRPC and jsonpb forms give the same shape', () => {
  const { packageDefinition } = loadObserverProto();
  const respType = packageDefinition['observer.GetFlowsResponse'] as unknown as { serialize(v: unknown): Buffer; deserialize(b: Buffer): unknown };
  const all = [...lines('egress-scenario.jsonl'), ...lines('events-mixed.jsonl').filter((l) => !('agent_event' in (l as object)) && !('debug_event' in (l as object)))];

  test('every fixture line round-trips through protobuf to the same HubbleEvent', () => {
    assert.ok(respType && typeof respType.serialize === 'function');
    for (const line of all) {
      const bytes = respType.serialize(toGrpcObject(line));
      const decoded = respType.deserialize(bytes);
      assert.deepEqual(normalizeResponse(decoded), normalizeResponse(line), JSON.stringify(line).slice(0, 200));
    }
  });

  test('unknown fields on the wire are skipped harmlessly', () => {
    const line = lines('egress-scenario.jsonl')[2];
    const bytes = respType.serialize(toGrpcObject(line));
    // Field 50, wire type 2 (length-delimited) "hi", and field 51 varint 7: a newer server's additions.
    const extra = Buffer.from([0x92, 0x03, 0x02, 0x68, 0x69, 0x98, 0x03, 0x07]);
    const decoded = respType.deserialize(Buffer.concat([bytes, extra]));
    assert.deepEqual(normalizeResponse(decoded), normalizeResponse(line));
  });

  test('node_status, lost_events, agent_event, debug_event lines normalise', () => {
    const evs = lines('events-mixed.jsonl').map((l) => normalizeResponse(l));
    assert.deepEqual(
      evs.map((e) => (typeof e === 'string' ? e : e.kind)),
      ['node_status', 'flow', 'lost_events', 'agent_event', 'debug_event', 'node_status', 'lost_events'],
    );
    const lost = evs[2];
    assert.ok(typeof lost !== 'string' && lost.kind === 'lost_events');
    assert.equal(lost.numEventsLost, 42);
    assert.equal(lost.cpu, 3);
    assert.equal(lost.source, 'PERF_EVENT_RING_BUFFER');
    const ns = evs[5];
    assert.ok(typeof ns !== 'string' && ns.kind === 'node_status');
    assert.deepEqual(ns.nodeNames, ['kind-kind/kind-worker2']);
    assert.equal(ns.state, 'NODE_UNAVAILABLE');
  });

  test('shapes it cannot use come back as reasons', () => {
    assert.equal(normalizeResponse([1]), 'not_an_object');
    assert.equal(normalizeResponse({ flow: 'x' }), 'invalid_flow');
    assert.equal(normalizeResponse({ hello: 1 }), 'unknown_record');
  });

  test('numeric enums from a newer server stay as their number text', () => {
    const f = normalizeResponse({ flow: { verdict: 99, Type: 'L3_L4', trace_observation_point: 'TO_STACK' } });
    assert.ok(typeof f !== 'string' && f.kind === 'flow');
    assert.equal(f.flow.verdict, '99');
  });

  test('property: any JSON value normalises and maps without throwing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const ev = normalizeResponse({ flow: v });
        if (typeof ev !== 'string' && ev.kind === 'flow') mapFlow(ev.flow, { receiver: 'r', connections: conns() });
        const ev2 = normalizeResponse(v);
        if (typeof ev2 !== 'string' && ev2.kind === 'flow') mapFlow(ev2.flow, { receiver: 'r', connections: conns() });
      }),
      { numRuns: 500 },
    );
  });

  test('property: one connection yields exactly one observation whatever the order of its non-first flows', () => {
    const t = (us: number): string => ts(BASE, us);
    const kinds = fc.array(fc.constantFrom('syn', 'ack', 'reply', 'fin'), { minLength: 0, maxLength: 8 });
    fc.assert(
      fc.property(kinds, (rest) => {
        const ctx = { receiver: 'r', connections: conns() };
        const mk = (k: string, i: number): unknown =>
          response(tcpFlow({ time: t(i), pod: BUILDER, dst: '192.0.2.7', dport: 443, sport: 45000, flags: k === 'syn' ? ['SYN'] : k === 'fin' ? ['FIN', 'ACK'] : ['ACK'], reply: k === 'reply' }));
        let n = one(mapFlow(flowOf(mk('syn', 0)), ctx)) ? 1 : 0;
        rest.forEach((k, i) => {
          n += mapFlow(flowOf(mk(k, i + 1)), ctx).observations.length;
        });
        // Only a SYN after a FIN may start a second connection.
        const expected = 1 + rest.reduce((acc, k, i) => acc + (k === 'syn' && rest.slice(0, i).lastIndexOf('fin') > rest.slice(0, i).lastIndexOf('syn') ? 1 : 0), 0);
        assert.equal(n, expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeGetFlowsResponse (direct wire decoder) equals proto-loader + normalizeResponse', () => {
  const { packageDefinition } = loadObserverProto();
  const respType = packageDefinition['observer.GetFlowsResponse'] as unknown as { serialize(v: unknown): Buffer; deserialize(b: Buffer): unknown };
  const same = (line: unknown): void => {
    const bytes = respType.serialize(toGrpcObject(line));
    assert.deepEqual(decodeGetFlowsResponse(bytes), normalizeResponse(respType.deserialize(bytes)));
  };

  test('every fixture line', () => {
    const all = [...lines('egress-scenario.jsonl'), ...lines('events-mixed.jsonl')];
    for (const l of all) same(l);
  });

  test('property: random flows (all field kinds, unknown enum numbers, 64-bit counts, negative int32)', () => {
    const str = fc.string({ maxLength: 12 });
    const ep = fc.record(
      { ID: fc.nat(), identity: fc.nat({ max: 2 ** 32 - 1 }), namespace: str, labels: fc.array(str, { maxLength: 3 }), pod_name: str, workloads: fc.array(fc.record({ name: str, kind: str }), { maxLength: 2 }), cluster_name: str },
      { requiredKeys: [] },
    );
    const l4 = fc.oneof(
      fc.record({ TCP: fc.record({ source_port: fc.nat(65535), destination_port: fc.nat(65535), flags: fc.record({ SYN: fc.boolean(), ACK: fc.boolean(), FIN: fc.boolean(), RST: fc.boolean(), NS: fc.boolean() }, { requiredKeys: [] }) }, { requiredKeys: [] }) }),
      fc.record({ UDP: fc.record({ source_port: fc.nat(65535), destination_port: fc.nat(65535) }, { requiredKeys: [] }) }),
      fc.record({ ICMPv6: fc.record({ type: fc.nat(255) }) }),
      fc.record({ SCTP: fc.record({ source_port: fc.nat(65535) }) }),
    );
    const l7 = fc.record(
      {
        type: fc.constantFrom('REQUEST', 'RESPONSE', 'SAMPLE'),
        latency_ns: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String),
        dns: fc.record({ query: str, ips: fc.array(str, { maxLength: 3 }), ttl: fc.nat(), cnames: fc.array(str, { maxLength: 2 }), rcode: fc.nat(5), qtypes: fc.array(str, { maxLength: 2 }), observation_source: str }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    const time = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).chain((d) => fc.nat(999_999).map((us) => `${d.toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}001Z`));
    const flow = fc.record(
      {
        time,
        uuid: str,
        verdict: fc.oneof(fc.constantFrom('FORWARDED', 'DROPPED', 'AUDIT'), fc.integer({ min: 8, max: 50 })),
        IP: fc.record({ source: str, destination: str, ipVersion: fc.constantFrom('IPv4', 'IPv6', 'IP_NOT_USED') }, { requiredKeys: [] }),
        l4,
        source: ep,
        destination: ep,
        Type: fc.constantFrom('L3_L4', 'L7', 'SOCK'),
        node_name: str,
        source_names: fc.array(str, { maxLength: 2 }),
        destination_names: fc.array(str, { maxLength: 3 }),
        l7,
        event_type: fc.record({ type: fc.integer({ min: -5, max: 200 }), sub_type: fc.integer() }, { requiredKeys: [] }),
        traffic_direction: fc.constantFrom('INGRESS', 'EGRESS'),
        trace_observation_point: fc.constantFrom('TO_STACK', 'FROM_ENDPOINT', 'TO_ENDPOINT', 'FROM_NETWORK'),
        is_reply: fc.boolean(),
        trace_reason: fc.constantFrom('NEW', 'ESTABLISHED', 'REPLY'),
      },
      { requiredKeys: [] },
    );
    const resp = fc.oneof(
      fc.record({ flow, node_name: str, time }, { requiredKeys: ['flow'] }),
      fc.record({ lost_events: fc.record({ source: fc.constantFrom('PERF_EVENT_RING_BUFFER', 'HUBBLE_RING_BUFFER'), num_events_lost: fc.bigInt({ min: 0n, max: 2n ** 53n }).map(String), cpu: fc.integer({ min: -3, max: 64 }) }, { requiredKeys: [] }), time }),
      fc.record({ node_status: fc.record({ state_change: fc.constantFrom('NODE_CONNECTED', 'NODE_GONE'), node_names: fc.array(str, { maxLength: 3 }), message: str }, { requiredKeys: [] }) }),
    );
    fc.assert(fc.property(resp, (r) => same(r)), { numRuns: 400 });
  });

  test('truncated or garbage bytes are invalid_protobuf, never a throw', () => {
    const bytes = respType.serialize(toGrpcObject(lines('egress-scenario.jsonl')[1]));
    assert.equal(decodeGetFlowsResponse(bytes.subarray(0, bytes.length - 7)), 'invalid_protobuf');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
        const r = decodeGetFlowsResponse(Buffer.from(a));
        assert.ok(typeof r === 'string' || typeof r.kind === 'string');
      }),
      { numRuns: 500 },
    );
  });
});
