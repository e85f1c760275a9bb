// The hubble receivers' hot-path tables and caches (src/hubble/map.ts RecentConnections,
// src/receivers/hubble/recent.ts RecentSet, the string cache of src/hubble/wire.ts) checked against plain
// Map/Set reference models and against proto-loader, so the speed-ups keep the exact behaviour.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentConnections, mapFlow } from '../../src/hubble/map.js';
import { normalizeResponse } from '../../src/hubble/normalize.js';
import { loadObserverProto } from '../../src/hubble/proto.js';
import { decodeGetFlowsResponse } from '../../src/hubble/wire.js';
import { observation } from '../../src/model/observation.js';
import { RecentSet } from '../../src/receivers/hubble/recent.js';
import { BASE, BUILDER, dnsFlow, response, scenario, tcpFlow, toGrpcObject, ts } from '../../scripts/fixtures/hubble-flows.js';

/** The previous RecentSet (two Set generations): the reference model. */
class ModelSet {
  private cur = new Set<string>();
  private old = new Set<string>();
  constructor(private readonly half: number) {}
  add(key: string): boolean {
    if (this.cur.has(key) || this.old.has(key)) return false;
    this.cur.add(key);
    if (this.cur.size >= this.half) {
      this.old = this.cur;
      this.cur = new Set();
    }
    return true;
  }
  get size(): number {
    return this.cur.size + this.old.size;
  }
}

interface Entry {
  lastSeen: bigint;
  closed: boolean;
}

/** The previous RecentConnections (two Map generations keyed on the joined 5-tuple): the reference model. */
class ModelConnections {
  private cur = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  evicted = 0;
  constructor(
    private readonly half: number,
    private readonly idleNs: bigint,
  ) {}
  private get(key: string): Entry | undefined {
    const e = this.cur.get(key);
    if (e) return e;
    const o = this.old.get(key);
    if (o) {
      this.old.delete(key);
      this.insert(key, o);
    }
    return o;
  }
  private insert(key: string, e: Entry): void {
    this.cur.set(key, e);
    if (this.cur.size >= this.half) {
      this.evicted += this.old.size;
      this.old = this.cur;
      this.cur = new Map();
    }
  }
  observe(key: string, at: bigint, syn: boolean, closing: boolean): boolean {
    const e = this.get(key);
    if (!e) {
      this.insert(key, { lastSeen: at, closed: closing });
      return true;
    }
    const fresh = at - e.lastSeen > this.idleNs || (e.closed && syn);
    e.closed = fresh ? closing : closing || e.closed;
    if (at > e.lastSeen) e.lastSeen = at;
    return fresh;
  }
  touch(key: string, at: bigint, closing: boolean): void {
    const e = this.get(key);
    if (!e) return;
    if (at > e.lastSeen) e.lastSeen = at;
    if (closing) e.closed = true;
  }
  get size(): number {
    return this.cur.size + this.old.size;
  }
}

describe('RecentSet (typed-array generations) behaves as the two-Set model', () => {
  test('property: random keys from a small space, several capacities', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 100, maxLength: 2000, size: 'max' }), (max, ks) => {
        const s = new RecentSet(max);
        const m = new ModelSet(Math.max(1, Math.ceil(max / 2)));
        for (const k of ks) {
          const key = `k${k}`;
          assert.equal(s.add(key), m.add(key), key);
          assert.equal(s.size, m.size);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('keys with equal text are one key; distinct keys stay distinct across table growth', () => {
    const s = new RecentSet(100_000);
    for (let i = 0; i < 20_000; i++) assert.equal(s.add(`5b6f7d2a-${i}`), true);
    assert.equal(s.size, 20_000);
    for (let i = 0; i < 20_000; i += 97) assert.equal(s.add(['5b6f7d2a', String(i)].join('-')), false);
    assert.equal(s.add(''), true);
    assert.equal(s.add(''), false);
  });
});

describe('RecentConnections (typed-array generations) behaves as the two-Map model', () => {
  test('5-tuples are compared field by field (no joined-text aliasing)', () => {
    const c = new RecentConnections({ maxEntries: 100, idleTimeoutMs: 60_000 });
    // Both would join to `tcp|a|1|2|b|3`: still two connections.
    assert.equal(c.observe('tcp', 'a|1', 2, 'b', 3, 1n, true, false), true);
    assert.equal(c.observe('tcp', 'a', 1, '2|b', 3, 1n, true, false), true);
    assert.equal(c.observe('udp', 'a', 1, '2|b', 3, 1n, true, false), true);
    assert.equal(c.observe('tcp', 'a', 1, '2|b', 3, 2n, false, false), false);
    assert.equal(c.size, 3);
  });

  test('property: without ambiguous addresses, size and evictions equal the model', () => {
    const op = fc.record({
      touch: fc.boolean(),
      sa: fc.constantFrom('10.0.0.1', '10.0.0.2', 'fd00::1'),
      sp: fc.integer({ min: 0, max: 12 }),
      dp: fc.constantFrom(443, 53, 80),
      dt: fc.integer({ min: 0, max: 400 }),
      syn: fc.boolean(),
      closing: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.array(op, { minLength: 100, maxLength: 2000, size: 'max' }), (max, ops) => {
        let evicted = 0;
        const c = new RecentConnections({ maxEntries: max, idleTimeoutMs: 300, onEvict: (n) => (evicted += n) });
        const m = new ModelConnections(Math.max(1, Math.ceil(max / 2)), 300n * 1_000_000n);
        let at = 0n;
        for (const o of ops) {
          at += BigInt(o.dt) * 1_000_000n;
          const key = `tcp|${o.sa}|${o.sp}|192.0.2.9|${o.dp}`;
          if (o.touch) {
            c.touch('tcp', o.sa, o.sp, '192.0.2.9', o.dp, at, o.closing);
            m.touch(key, at, o.closing);
          } else assert.equal(c.observe('tcp', o.sa, o.sp, '192.0.2.9', o.dp, at, o.syn, o.closing), m.observe(key, at, o.syn, o.closing), key);
          assert.equal(c.size, m.size);
        }
        assert.equal(evicted, m.evicted);
      }),
      { numRuns: 60 },
    );
  });

  test('clear forgets every connection', () => {
    const c = new RecentConnections({ maxEntries: 10_000, idleTimeoutMs: 60_000 });
    for (let p = 0; p < 3000; p++) assert.equal(c.observe('tcp', '10.0.0.1', p, '192.0.2.9', 443, 1n, true, false), true);
    assert.equal(c.observe('tcp', '10.0.0.1', 7, '192.0.2.9', 443, 2n, false, false), false);
    assert.equal(c.size, 3000);
    c.clear();
    assert.equal(c.size, 0);
    assert.equal(c.observe('tcp', '10.0.0.1', 7, '192.0.2.9', 443, 3n, false, false), true);
  });
});

describe('wire decoder string cache', () => {
  const { packageDefinition } = loadObserverProto();
  const respType = packageDefinition['observer.GetFlowsResponse'] as unknown as { serialize(v: unknown): Buffer; deserialize(b: Buffer): unknown };
  const same = (line: unknown): void => {
    const bytes = respType.serialize(toGrpcObject(line));
    assert.deepEqual(decodeGetFlowsResponse(bytes), normalizeResponse(respType.deserialize(bytes)));
  };
  const withLabels = (labels: string[], ns: string, node = 'kind-worker'): unknown => {
    const line = response(tcpFlow({ time: ts(BASE, 1), pod: { ...BUILDER, namespace: ns, labels }, dst: '192.0.2.9', dport: 443, sport: 40000, flags: ['SYN'] }), node);
    return line;
  };

  test('many distinct strings (slot collisions, replacements) decode to their own text', () => {
    // 6000 distinct labels and namespaces overflow the 4096 slots: every lookup must still check the bytes.
    for (let i = 0; i < 6000; i++) same(withLabels([`k8s:app=w${i}`, `k8s:team=${i % 7}`], `ns-${i}`, `node-${i % 13}`));
    // Equal lengths and equal last bytes, different starts: the slot hash does not see the start.
    for (let i = 0; i < 200; i++) same(withLabels([`a${String(i).padStart(3, '0')}-same-tail-bytes`, `b${String(i).padStart(3, '0')}-same-tail-bytes`], 'x'));
  });

  test('non-ASCII, empty-adjacent and long strings are decoded exactly (never served from the cache)', () => {
    const long = 'k8s:io.kubernetes.pod.annotation=' + 'v'.repeat(200);
    const labels = ['k8s:app=café', 'k8s:app=cafe', 'k8s:emoji=\u{1F600}', 'k8s:app=caf\u00e9', long, long.slice(0, 96), long.slice(0, 97)];
    for (let round = 0; round < 3; round++) same(withLabels(labels, round === 1 ? 'žluť' : 'ci'));
    const bytes = respType.serialize(toGrpcObject(withLabels(labels, 'ci')));
    const ev = decodeGetFlowsResponse(bytes);
    assert.ok(typeof ev !== 'string' && ev.kind === 'flow');
    assert.deepEqual(ev.flow.source?.labels, labels);
  });

  test('a repeated string comes back as the same text on every message', () => {
    const bytes = respType.serialize(toGrpcObject(response(dnsFlow({ time: ts(BASE, 1), pod: BUILDER, query: 'pastebin.com.', response: true, ips: ['104.20.67.143'] }))));
    const a = decodeGetFlowsResponse(bytes);
    const b = decodeGetFlowsResponse(Buffer.from(bytes));
    assert.ok(typeof a !== 'string' && a.kind === 'flow' && typeof b !== 'string' && b.kind === 'flow');
    assert.equal(a.flow.l7?.dns?.query, 'pastebin.com.');
    assert.deepEqual(a, b);
  });
});

describe('mapFlow observations keep the field order of observation()', () => {
  test('every scenario flow: same keys in the same order as observation() builds', () => {
    const ctx = { receiver: 'hubble', connections: new RecentConnections({ maxEntries: 1000, idleTimeoutMs: 60_000 }) };
    let n = 0;
    for (const r of scenario()) {
      const ev = normalizeResponse(r);
      if (typeof ev === 'string' || ev.kind !== 'flow') continue;
      for (const o of mapFlow(ev.flow, ctx).observations) {
        const { type: _t, names: _n, attributes: _a, ...rest } = o;
        const ref = observation({ ...rest, names: o.names, attributes: o.attributes });
        assert.deepEqual(Object.keys(o), Object.keys(ref));
        assert.deepEqual(o, ref);
        assert.equal(JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), JSON.stringify(ref, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
        n++;
      }
    }
    assert.ok(n >= 3, `only ${n} observations`);
  });
});
