import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, from, lastValueFrom, toArray, throwError, concat } from 'rxjs';
import { CatalogMatcher } from '../../../src/catalog/matcher.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import { ATTR, PW } from '../../../src/model/attributes.js';
import type { Detection, PipelineItem } from '../../../src/model/detection.js';
import { observation } from '../../../src/model/observation.js';
import type { Observation } from '../../../src/model/observation.js';
import { formatUnixNano } from '../../../src/model/time.js';
import { DedupProcessor } from '../../../src/processors/dedup/dedup.js';
import { dedupFactory } from '../../../src/processors/dedup/factory.js';
import { MAX_MERGED_NAMES, dedupKey, mergeDetections, mergeInto } from '../../../src/processors/dedup/merge.js';
import { makeDetection } from '../../helpers/detections.js';
import { DnsCorrelationProcessor } from '../../../src/processors/dns_correlation/dns-correlation.js';
import { dnsCorrelationFactory } from '../../../src/processors/dns_correlation/factory.js';
import { buildDetection, matchObservation } from '../../../src/processors/paste_classifier/build-detection.js';
import { pasteClassifierFactory } from '../../../src/processors/paste_classifier/factory.js';
import { PasteClassifierProcessor } from '../../../src/processors/paste_classifier/paste-classifier.js';
import { processorSettings, runThrough } from '../../helpers/processor-settings.js';

const T0 = 1_764_880_000_000_000_000n;
const MS = 1_000_000n;
const matcher = new CatalogMatcher();

interface Opts {
  at?: bigint;
  name?: string;
  pod?: string;
  exe?: string;
  method?: string;
  sent?: number;
  received?: number;
  evidence?: Observation['names'][number]['evidence'];
  src?: string;
}

function det(o: Opts = {}): Detection {
  const obs = observation({
    kind: 'connection',
    timeUnixNano: o.at ?? T0,
    receiver: 'pcap',
    transport: 'tcp',
    source: { address: o.src ?? '10.0.0.5', port: 50000 },
    destination: { address: '104.20.1.1', port: 443 },
    names: [{ name: o.name ?? 'pastebin.com', evidence: o.evidence ?? 'tls.sni' }],
    http: o.method ? { method: o.method } : undefined,
    flow: o.sent !== undefined ? { packetsSent: 1, bytesSent: o.sent, packetsReceived: 1, bytesReceived: o.received ?? 0, firstSeenUnixNano: o.at ?? T0, lastSeenUnixNano: o.at ?? T0, state: 'fin' } : undefined,
    process: o.exe ? { executablePath: o.exe, executableName: o.exe.split('/').pop() } : undefined,
    attributes: o.pod ? { [ATTR.K8S_POD_UID]: o.pod } : {},
  });
  return buildDetection(obs, matchObservation(obs, matcher)!, { environment: 'ci' });
}

function make(cfg: Record<string, unknown> = {}) {
  const settings = processorSettings('dedup');
  return { p: new DedupProcessor(settings, dedupFactory.schema.parse(cfg)), settings };
}

const dets = (items: PipelineItem[]): Detection[] => items.filter((x): x is Detection => x.type === 'detection');

describe('dedup merge', () => {
  test('keys: pod uid, else namespace/pod, else container, else source; plus process and service', () => {
    const a = det({ pod: 'uid-1', exe: '/usr/bin/curl' });
    assert.equal(dedupKey(a), 'uid:uid-1\u0000/usr/bin/curl\u0000pastebin.com');
    assert.equal(dedupKey(det()), 'src:10.0.0.5\u0000\u0000pastebin.com');
    const b = det();
    b.attributes[ATTR.K8S_NAMESPACE_NAME] = 'shop';
    b.attributes[ATTR.K8S_POD_NAME] = 'api';
    b.attributes[ATTR.CONTAINER_ID] = 'c1';
    assert.equal(dedupKey(b), 'pod:shop/api\u0000\u0000pastebin.com');
    delete b.attributes[ATTR.K8S_POD_NAME];
    assert.equal(dedupKey(b), 'ctr:c1\u0000\u0000pastebin.com');
  });

  test('merged detection: first ids, count, seen times, unions, strongest activity and body, highest severity, summed bytes', () => {
    const a = det({ at: T0 + 10n * MS, sent: 100, received: 5000, evidence: 'dns.query', name: 'pastebin.com' });
    const b = det({ at: T0, method: 'POST', sent: 9000, received: 100, name: 'www.pastebin.com' });
    const c = det({ at: T0 + 20n * MS, name: 'pastebin.com', evidence: 'ip.correlated' });
    assert.equal(a.activity, 'download');
    const m = mergeDetections([a, b, c]);
    assert.equal(m.id, a.id);
    assert.equal(m.traceId, a.traceId);
    assert.equal(m.spanId, a.spanId);
    assert.equal(m.observation, a.observation);
    assert.equal(m.count, 3);
    assert.equal(m.firstSeenUnixNano, T0);
    assert.equal(m.lastSeenUnixNano, T0 + 20n * MS);
    assert.equal(m.activity, 'upload');
    assert.equal(m.severityNumber, 21);
    assert.equal(m.severityText, 'FATAL');
    assert.equal(m.body, b.body);
    assert.equal(m.attributes[PW.COUNT], 3);
    assert.equal(m.attributes[PW.FIRST_SEEN], formatUnixNano(T0));
    assert.equal(m.attributes[PW.LAST_SEEN], formatUnixNano(T0 + 20n * MS));
    assert.equal(m.attributes[PW.ACTIVITY], 'upload');
    assert.deepEqual(m.attributes[PW.RECOMMENDATION], b.attributes[PW.RECOMMENDATION]);
    assert.deepEqual(m.attributes[PW.EVIDENCE], ['dns.query', 'tls.sni', 'ip.correlated']);
    assert.deepEqual(m.attributes[PW.NAMES], ['pastebin.com', 'www.pastebin.com']);
    assert.equal(m.attributes[PW.BYTES_SENT], 9100);
    assert.equal(m.attributes[PW.BYTES_RECEIVED], 5100);
    assert.equal(m.attributes[PW.DETECTION_ID], a.id);
    // Inputs untouched.
    assert.equal(a.count, 1);
    assert.equal(a.attributes[PW.COUNT], 1);
  });
});

describe('dedup processor', () => {
  test('default config', () => {
    assert.deepEqual(createDefaultConfig(dedupFactory), { window_ms: 5000, max_groups: 10000 });
    assert.equal(dedupFactory.schema.safeParse({ window_ms: 0 }).success, false);
  });

  test('window in observation time: a later member past first_seen + window closes the group at once', () => {
    const { p, settings } = make({ window_ms: 5000 });
    const src = new Subject<PipelineItem>();
    const out: PipelineItem[] = [];
    let completed = false;
    const sub = src.pipe(p.operator()).subscribe({ next: (x) => out.push(x), complete: () => (completed = true) });
    const obs = observation({ kind: 'dns', timeUnixNano: T0, receiver: 'pcap' });
    src.next(det({ at: T0 }));
    src.next(obs);
    assert.equal(out.length, 1);
    assert.equal(out[0], obs, 'observations pass through at once, untouched');
    src.next(det({ at: T0 + 1000n * MS }));
    src.next(det({ at: T0 + 5000n * MS })); // exactly at the edge: still in
    assert.equal(out.length, 1);
    src.next(det({ at: T0 + 5001n * MS }));
    assert.equal(out.length, 2);
    assert.equal((out[1] as Detection).count, 3);
    assert.equal((out[1] as Detection).lastSeenUnixNano, T0 + 5000n * MS);
    src.complete();
    assert.ok(completed);
    assert.equal(out.length, 3);
    assert.equal((out[2] as Detection).count, 1);
    assert.equal((out[2] as Detection).firstSeenUnixNano, T0 + 5001n * MS);
    assert.equal(settings.registry.get('dedup', 'dropped', { reason: 'dedup' }), 2);
    assert.equal(settings.registry.get('dedup', 'received'), 5);
    assert.equal(settings.registry.get('dedup', 'emitted'), 3);
    sub.unsubscribe();
  });

  test('completion flushes every group; keys separate workloads, processes and services', async () => {
    const { p } = make();
    const out = dets(
      await runThrough(p, [
        det({ pod: 'a' }),
        det({ pod: 'b' }),
        det({ pod: 'a', exe: '/usr/bin/curl' }),
        det({ pod: 'a', name: 'transfer.sh' }),
        det({ pod: 'a', at: T0 + MS }),
        det({ src: '10.0.0.9' }),
        det({ src: '10.0.0.9', at: T0 + 2n * MS }),
      ]),
    );
    assert.deepEqual(
      out.map((d) => `${dedupKey(d).replaceAll('\u0000', '|')} x${d.count}`),
      ['uid:a||pastebin.com x2', 'uid:b||pastebin.com x1', 'uid:a|/usr/bin/curl|pastebin.com x1', 'uid:a||transfer.sh x1', 'src:10.0.0.9||pastebin.com x2'],
    );
  });

  test('a wall-clock timer emits a group window_ms after it opened (live traffic), and stops on completion', async () => {
    const { p } = make({ window_ms: 40 });
    const src = new Subject<PipelineItem>();
    const out: PipelineItem[] = [];
    const done = new Promise<void>((resolve) => src.pipe(p.operator()).subscribe({ next: (x) => out.push(x), complete: resolve }));
    const t0 = Date.now();
    src.next(det({ pod: 'a' }));
    await new Promise((r) => setTimeout(r, 15));
    const tB = Date.now();
    src.next(det({ pod: 'b' }));
    src.next(det({ pod: 'a', at: T0 + MS }));
    const n = (): number => out.length;
    assert.equal(n(), 0);
    while (n() === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
    const seen = Date.now();
    assert.ok(seen - t0 >= 40, 'not before the window');
    assert.equal((out[0] as Detection).attributes[ATTR.K8S_POD_UID], 'a');
    assert.equal((out[0] as Detection).count, 2);
    // b opened later, so unless the machine stalled past its own deadline it is still held.
    if (seen < tB + 40) assert.equal(out.length, 1);
    while (n() === 1 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.equal(out.length, 2, 'b emitted by the rescheduled timer');
    assert.ok(Date.now() - tB >= 40);
    assert.equal((out[1] as Detection).attributes[ATTR.K8S_POD_UID], 'b');
    src.next(det({ pod: 'c' }));
    src.complete();
    await done;
    assert.equal(out.length, 3);
    // Nothing more arrives after completion (the timer was cleared).
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(out.length, 3);
  });

  test('unsubscribe clears the timer', async () => {
    const { p } = make({ window_ms: 20 });
    const src = new Subject<PipelineItem>();
    const out: PipelineItem[] = [];
    const sub = src.pipe(p.operator()).subscribe((x) => out.push(x));
    src.next(det());
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(out.length, 0);
  });

  test('max_groups forces the oldest group out (emitted, counted as evicted)', () => {
    const { p, settings } = make({ max_groups: 2 });
    const src = new Subject<PipelineItem>();
    const out: Detection[] = [];
    src.pipe(p.operator()).subscribe((x) => out.push(x as Detection));
    src.next(det({ pod: 'a' }));
    src.next(det({ pod: 'a', at: T0 + MS }));
    src.next(det({ pod: 'b' }));
    assert.equal(out.length, 0);
    src.next(det({ pod: 'c' }));
    assert.equal(out.length, 1);
    assert.equal(out[0].attributes[ATTR.K8S_POD_UID], 'a');
    assert.equal(out[0].count, 2);
    assert.equal(settings.registry.get('dedup', 'evicted', { table: 'dedup_groups' }), 1);
    src.complete();
    assert.deepEqual(out.map((d) => d.attributes[ATTR.K8S_POD_UID]), ['a', 'b', 'c']);
  });

  test('a source error flushes held groups before the error', async () => {
    const { p } = make();
    const out: PipelineItem[] = [];
    const err = await new Promise<unknown>((resolve) =>
      concat(from([det(), det({ at: T0 + MS })]), throwError(() => new Error('input broke')))
        .pipe(p.operator())
        .subscribe({ next: (x) => out.push(x), error: resolve }),
    );
    assert.equal((err as Error).message, 'input broke');
    assert.equal(out.length, 1);
    assert.equal((out[0] as Detection).count, 2);
  });
});

describe('processors end to end', () => {
  test('dns_correlation -> paste_classifier -> dedup through rxjs', async () => {
    const dc = new DnsCorrelationProcessor(processorSettings('dns_correlation'), createDefaultConfig(dnsCorrelationFactory));
    const cls = new PasteClassifierProcessor(processorSettings('paste_classifier', { GITLAB_CI: 'true' }), createDefaultConfig(pasteClassifierFactory));
    const dd = new DedupProcessor(processorSettings('dedup'), createDefaultConfig(dedupFactory));
    const client = { address: '10.0.0.5', port: 41000 };
    const resp = observation({
      kind: 'dns',
      timeUnixNano: T0,
      receiver: 'pcap',
      transport: 'udp',
      source: client,
      destination: { address: '10.0.0.53', port: 53 },
      names: [{ name: 'transfer.sh', evidence: 'dns.query' }],
      dns: { id: 1, response: true, rcode: 0, query: 'transfer.sh', qtype: 'A', answers: [{ name: 'transfer.sh', type: 'A', data: '144.76.136.153', ttl: 60 }], transport: 'udp' },
    });
    const flowObs = (at: bigint, sent: number): Observation =>
      observation({
        kind: 'connection',
        timeUnixNano: at,
        receiver: 'pcap',
        transport: 'tcp',
        source: client,
        destination: { address: '144.76.136.153', port: 443 },
        flow: { packetsSent: 10, bytesSent: sent, packetsReceived: 5, bytesReceived: 500, firstSeenUnixNano: at, lastSeenUnixNano: at, state: 'fin' },
      });
    const unrelated = observation({ kind: 'connection', timeUnixNano: T0, receiver: 'pcap', destination: { address: '1.1.1.1', port: 443 }, names: [{ name: 'example.com', evidence: 'tls.sni' }] });
    const out = await lastValueFrom(from([resp, flowObs(T0 + 100n * MS, 200), unrelated, flowObs(T0 + 200n * MS, 50000)]).pipe(dc.operator(), cls.operator(), dd.operator(), toArray()));
    assert.equal(out.length, 1);
    const d = out[0] as Detection;
    assert.equal(d.service, 'transfer.sh');
    assert.equal(d.count, 3);
    assert.equal(d.activity, 'upload');
    assert.equal(d.severityText, 'FATAL');
    assert.equal(d.environment, 'ci');
    assert.deepEqual(d.attributes[PW.EVIDENCE], ['dns.query', 'ip.correlated']);
    assert.equal(d.attributes[PW.BYTES_SENT], 50200);
    assert.equal(d.firstSeenUnixNano, T0);
    assert.match(d.body, /^a workload uploaded to transfer\.sh \(via ip\.correlated\) from 10\.0\.0\.5 in ci: possible secret exfiltration/);
  });
});

describe('dedup: endpoints of the strongest member', () => {
  test('a lookup followed by a connection reports the connection endpoints, keeping the first ids', () => {
    const lookup = makeDetection({ id: 'first', activity: 'lookup', matchedName: 'pastebin.com', attributes: { ...makeDetection().attributes, 'destination.address': '10.0.0.53', 'destination.port': 53, 'network.transport': 'udp', 'server.address': 'pastebin.com' } });
    const conn = makeDetection({ id: 'second', activity: 'connect', matchedName: 'www.pastebin.com', attributes: { ...makeDetection().attributes, 'destination.address': '104.20.1.1', 'destination.port': 443, 'network.transport': 'tcp', 'server.address': 'www.pastebin.com' } });
    const m = mergeInto(lookup, conn);
    assert.equal(m.id, 'first');
    assert.equal(m.activity, 'connect');
    assert.equal(m.matchedName, 'www.pastebin.com');
    assert.equal(m.attributes['destination.address'], '104.20.1.1');
    assert.equal(m.attributes['destination.port'], 443);
    assert.equal(m.attributes['network.transport'], 'tcp');
    assert.equal(m.attributes['server.address'], 'www.pastebin.com');
    const back = mergeInto(m, lookup);
    assert.equal(back.attributes['destination.address'], '104.20.1.1', 'a weaker member does not move the endpoints back');
  });
});

test('regression: a flood of random subdomains keeps a group\'s names bounded and merging fast', () => {
  // Found by the adversarial benchmark: 50k lookups of random dpaste.org subdomains from one workload made
  // one group whose names union was copied on every merge (31 s of CPU, unbounded memory).
  const members = Array.from({ length: 20000 }, (_, i) => det({ name: `r${i}.pastebin.com`, at: T0 + BigInt(i) }));
  const t0 = performance.now();
  const m = mergeDetections(members);
  const ms = performance.now() - t0;
  const names = m.attributes[PW.NAMES] as string[];
  assert.equal(names.length, MAX_MERGED_NAMES);
  assert.deepEqual(names.slice(0, 2), ['r0.pastebin.com', 'r1.pastebin.com'], 'the first names seen are kept');
  assert.equal(m.count, 20000, 'every member is still counted');
  assert.ok(ms < 2000, `merging 20000 members took ${ms.toFixed(0)} ms`);
});
