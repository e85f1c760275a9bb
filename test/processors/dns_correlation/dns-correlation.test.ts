import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DnsCache } from '../../../src/processors/dns_correlation/dns-cache.js';
import { DnsCorrelationProcessor } from '../../../src/processors/dns_correlation/dns-correlation.js';
import { dnsCorrelationFactory } from '../../../src/processors/dns_correlation/factory.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import { observation } from '../../../src/model/observation.js';
import type { DnsRecord, Observation } from '../../../src/model/observation.js';
import type { PipelineItem } from '../../../src/model/detection.js';
import { processorSettings, runThrough } from '../../helpers/processor-settings.js';

const T0 = 1_700_000_000_000_000_000n;
const S = 1_000_000_000n;

function dnsResponse(query: string, answers: DnsRecord[], at = T0, client = '10.0.0.5', rcode = 0): Observation {
  return observation({
    kind: 'dns',
    timeUnixNano: at,
    receiver: 'pcap_file',
    transport: 'udp',
    source: { address: client, port: 40000 },
    destination: { address: '10.0.0.53', port: 53 },
    names: [{ name: query, evidence: 'dns.query' }],
    dns: { id: 1, response: true, rcode, query, qtype: 'A', answers, transport: 'udp' },
  });
}

function conn(ip: string, at: bigint, client = '10.0.0.5', names: Observation['names'] = []): Observation {
  return observation({ kind: 'connection', timeUnixNano: at, receiver: 'pcap_file', transport: 'tcp', source: { address: client, port: 50000 }, destination: { address: ip, port: 443 }, names });
}

const A = (name: string, ip: string, ttl = 300): DnsRecord => ({ name, type: 'A', data: ip, ttl });
const CNAME = (name: string, target: string, ttl = 300): DnsRecord => ({ name, type: 'CNAME', data: target, ttl });

function make(cfg: Record<string, unknown> = {}) {
  const settings = processorSettings('dns_correlation');
  const p = new DnsCorrelationProcessor(settings, dnsCorrelationFactory.schema.parse(cfg));
  return { p, settings };
}

const namesOf = (item: PipelineItem): string[] => (item.type === 'observation' ? item.names.map((n) => `${n.name}/${n.evidence}`) : []);

describe('dns_correlation config', () => {
  test('defaults and validation', () => {
    assert.deepEqual(createDefaultConfig(dnsCorrelationFactory), { min_ttl_s: 30, max_ttl_s: 3600, max_entries: 100000, max_names_per_address: 64, scope: 'global' });
    assert.deepEqual(dnsCorrelationFactory.validate!(dnsCorrelationFactory.schema.parse({ min_ttl_s: 100, max_ttl_s: 50 })), [{ path: ['max_ttl_s'], message: 'must be >= min_ttl_s (100)' }]);
    assert.equal(dnsCorrelationFactory.schema.safeParse({ scope: 'everywhere' }).success, false);
    assert.equal(dnsCorrelationFactory.schema.safeParse({ max_entries: 0 }).success, false);
  });
});

describe('dns_correlation processor', () => {
  test('a CNAME chain: the final A address learns the query and every name in the chain', async () => {
    const { p, settings } = make();
    const dns = dnsResponse('www.pastebin.com', [
      CNAME('www.pastebin.com', 'pastebin.com.cdn.example.net'),
      CNAME('pastebin.com.cdn.example.net', 'edge.example.net'),
      A('edge.example.net', '104.20.1.1'),
    ]);
    const c = conn('104.20.1.1', T0 + S);
    const out = await runThrough(p, [dns, c, conn('1.2.3.4', T0 + S)]);
    assert.equal(out.length, 3);
    assert.equal(out[0], dns, 'dns observations pass through as they are');
    assert.deepEqual(namesOf(out[1]).sort(), ['edge.example.net/ip.correlated', 'pastebin.com.cdn.example.net/ip.correlated', 'www.pastebin.com/ip.correlated']);
    assert.deepEqual(c.names, [], 'the input observation is not mutated');
    assert.deepEqual(namesOf(out[2]), []);
    assert.equal(settings.registry.get('dns_correlation', 'learned'), 3);
    assert.equal(settings.registry.get('dns_correlation', 'correlated'), 1);
    assert.equal(settings.registry.get('dns_correlation', 'received'), 3);
    assert.equal(settings.registry.get('dns_correlation', 'emitted'), 3);
  });

  test('names already present are not repeated', async () => {
    const { p } = make();
    const out = await runThrough(p, [dnsResponse('pastebin.com', [A('pastebin.com', '104.20.1.1')]), conn('104.20.1.1', T0, '10.0.0.5', [{ name: 'pastebin.com', evidence: 'tls.sni' }])]);
    assert.deepEqual(namesOf(out[1]), ['pastebin.com/tls.sni']);
  });

  test('TTL expires in observation time', async () => {
    const { p, settings } = make();
    const out = await runThrough(p, [dnsResponse('paste.ee', [A('paste.ee', '5.5.5.5', 60)]), conn('5.5.5.5', T0 + 60n * S), conn('5.5.5.5', T0 + 61n * S), conn('5.5.5.5', T0 + 2n * S)]);
    assert.deepEqual(namesOf(out[1]), ['paste.ee/ip.correlated']);
    assert.deepEqual(namesOf(out[2]), []);
    // Expired entries are gone for good (an older observation arriving late does not revive them).
    assert.deepEqual(namesOf(out[3]), []);
    assert.equal(settings.registry.get('dns_correlation', 'expired'), 1);
  });

  test('TTL floor and ceiling', async () => {
    const { p } = make({ min_ttl_s: 30, max_ttl_s: 3600 });
    const out = await runThrough(p, [
      dnsResponse('a.example', [A('pastebin.com', '1.1.1.1', 0)]),
      dnsResponse('b.example', [A('paste.ee', '2.2.2.2', 86400)]),
      conn('1.1.1.1', T0 + 29n * S),
      conn('2.2.2.2', T0 + 3599n * S),
      conn('1.1.1.1', T0 + 31n * S),
      conn('2.2.2.2', T0 + 3601n * S),
    ]);
    assert.deepEqual(namesOf(out[2]).sort(), ['a.example/ip.correlated', 'pastebin.com/ip.correlated']);
    assert.deepEqual(namesOf(out[3]).sort(), ['b.example/ip.correlated', 'paste.ee/ip.correlated']);
    assert.deepEqual(namesOf(out[4]), []);
    assert.deepEqual(namesOf(out[5]), []);
  });

  test('the smallest TTL along a chain applies to the names before it', () => {
    const cache = new DnsCache({ minTtlS: 1, maxTtlS: 10000, maxEntries: 10 });
    cache.learn(dnsResponse('x.example', [CNAME('x.example', 'y.example', 10), A('y.example', '9.9.9.9', 1000)]).dns!, T0);
    assert.deepEqual(cache.lookup('9.9.9.9', T0 + 11n * S), ['y.example']);
  });

  test('max_entries evicts the least recently learned address, counted', async () => {
    const { p, settings } = make({ max_entries: 2 });
    const out = await runThrough(p, [
      dnsResponse('one.example', [A('one.example', '1.0.0.1')]),
      dnsResponse('two.example', [A('two.example', '1.0.0.2')]),
      dnsResponse('one.example', [A('one.example', '1.0.0.1')]), // refreshes one: two is now the oldest
      dnsResponse('three.example', [A('three.example', '1.0.0.3')]),
      conn('1.0.0.1', T0),
      conn('1.0.0.2', T0),
      conn('1.0.0.3', T0),
    ]);
    assert.deepEqual(namesOf(out[4]), ['one.example/ip.correlated']);
    assert.deepEqual(namesOf(out[5]), []);
    assert.deepEqual(namesOf(out[6]), ['three.example/ip.correlated']);
    assert.equal(settings.registry.get('dns_correlation', 'evicted', { table: 'dns_cache' }), 1);
    assert.equal(p.cache.size, 2);
  });

  test('HTTPS/SVCB ipv4hint and ipv6hint addresses learn the owner name', async () => {
    const { p } = make();
    const https: DnsRecord = { name: 'webhook.site', type: 'HTTPS', data: '.', ttl: 300, hints: ['7.7.7.7', '2001:DB8::7'] };
    const out = await runThrough(p, [dnsResponse('webhook.site', [https]), conn('7.7.7.7', T0), conn('2001:db8::7', T0)]);
    assert.deepEqual(namesOf(out[1]), ['webhook.site/ip.correlated']);
    assert.deepEqual(namesOf(out[2]), ['webhook.site/ip.correlated']);
  });

  test('questions, errors (NXDOMAIN) and empty answers teach nothing', async () => {
    const { p, settings } = make();
    const q = dnsResponse('pastebin.com', [A('pastebin.com', '3.3.3.3')]);
    q.dns!.response = false;
    const out = await runThrough(p, [q, dnsResponse('pastebin.com', [A('pastebin.com', '3.3.3.3')], T0, '10.0.0.5', 3), conn('3.3.3.3', T0)]);
    assert.deepEqual(namesOf(out[2]), []);
    assert.equal(settings.registry.get('dns_correlation', 'learned'), 0);
  });

  test('scope per_source: only answers delivered to the same client count', async () => {
    const { p } = make({ scope: 'per_source' });
    const out = await runThrough(p, [dnsResponse('pastebin.com', [A('pastebin.com', '4.4.4.4')], T0, '10.0.0.5'), conn('4.4.4.4', T0, '10.0.0.6'), conn('4.4.4.4', T0, '10.0.0.5')]);
    assert.deepEqual(namesOf(out[1]), []);
    assert.deepEqual(namesOf(out[2]), ['pastebin.com/ip.correlated']);
    const g = make();
    const out2 = await runThrough(g.p, [dnsResponse('pastebin.com', [A('pastebin.com', '4.4.4.4')], T0, '10.0.0.5'), conn('4.4.4.4', T0, '10.0.0.6')]);
    assert.deepEqual(namesOf(out2[1]), ['pastebin.com/ip.correlated']);
  });

  test('hubble and falco observations are annotated too; detections pass through', async () => {
    const { p } = make();
    const hub = observation({ kind: 'hubble', timeUnixNano: T0, receiver: 'hubble', destination: { address: '6.6.6.6', port: 443 } });
    const fal = observation({ kind: 'falco', timeUnixNano: T0, receiver: 'falco', destination: { address: '6.6.6.6', port: 443 } });
    const det = { type: 'detection' } as unknown as PipelineItem;
    const out = await runThrough(p, [dnsResponse('transfer.sh', [A('transfer.sh', '6.6.6.6')]), hub, fal, det]);
    assert.deepEqual(namesOf(out[1]), ['transfer.sh/ip.correlated']);
    assert.deepEqual(namesOf(out[2]), ['transfer.sh/ip.correlated']);
    assert.equal(out[3], det);
  });

  test('a malformed DNS observation is passed on, counted, and does not stop the stream', async () => {
    const { p, settings } = make();
    const bad = dnsResponse('pastebin.com', []);
    (bad.dns as unknown as { answers: unknown }).answers = null;
    const out = await runThrough(p, [bad, dnsResponse('pastebin.com', [A('pastebin.com', '8.8.4.4')]), conn('8.8.4.4', T0)]);
    assert.equal(out.length, 3);
    assert.equal(out[0], bad);
    assert.deepEqual(namesOf(out[2]), ['pastebin.com/ip.correlated']);
    assert.equal(settings.registry.get('dns_correlation', 'failed', { reason: 'correlate' }), 1);
    assert.match(settings.logger.lines.join('\n'), /dns_correlation: skipped an item/);
  });

  test('DnsCache keeps at most max names per address', () => {
    const cache = new DnsCache({ minTtlS: 30, maxTtlS: 3600, maxEntries: 10, maxNamesPerAddress: 2 });
    for (const n of ['a.example', 'b.example', 'c.example']) cache.learnOne('1.1.1.1', n, 300, T0);
    assert.deepEqual(cache.lookup('1.1.1.1', T0), ['b.example', 'c.example']);
  });
});
