// Adversarial load, small: floods (SYN with unique 5-tuples, DNS answers with random names, half-sent
// ClientHellos, huge fake TLS records, DNS-over-TCP announcing 65535 bytes) with paste traffic mixed in early
// and late, through the real pipeline with small caps: the caps hold, evictions are counted, and every
// mixed-in paste detection comes out. The large run is `npm run bench:adversarial` (docs/performance.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPasteDetections, runAdversarial, writeAdversarialCapture } from '../../scripts/adversarial.js';
import type { RunCaps, RunReport } from '../../scripts/adversarial.js';

const CAPS: RunCaps = { maxFlows: 500, maxReassemblyFlows: 50, maxReassemblyBytes: 4096, dnsMaxEntries: 300, dedupMaxGroups: 20 };
const SIZES = { syn: 20000, dnsAnswers: 8000, halfHellos: 2000, hugeRecords: 1000, dnsTcpHuge: 1000 };
let dir = '';
let report: RunReport;
let packets = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pw-adv-'));
  const capture = join(dir, 'flood.pcap');
  packets = writeAdversarialCapture(capture, SIZES);
  report = await runAdversarial(capture, join(dir, 'out.jsonl'), CAPS);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const c = (k: string): number => report.counters[k] ?? 0;

test('every packet was read and every flood flow was created (new flows are never refused)', () => {
  assert.equal(c('pcap_file.packets'), packets);
  // SYN flood, half-sent hellos, huge records and DNS-over-TCP each open one flow per packet / connection;
  // the 2 paste connections of each phase add 4 (DNS over UDP makes no flows).
  assert.equal(c('pcap_file.flows_created'), SIZES.syn + SIZES.halfHellos + SIZES.hugeRecords + SIZES.dnsTcpHuge + 4);
});

test('the flow table stays at its cap and counts what it evicted', () => {
  assert.ok(c('pcap_file.evicted{table=flows}') >= c('pcap_file.flows_created') - CAPS.maxFlows, `evicted ${c('pcap_file.evicted{table=flows}')}`);
  // Every evicted flow was reported first: nothing is lost silently.
  assert.equal(c('pcap_file.flows_reported'), c('pcap_file.flows_created') - SIZES.dnsTcpHuge);
});

test('reassembly buffers (half-sent hellos, DNS-over-TCP partial messages) stay at their cap, evictions counted', () => {
  assert.ok(c('pcap_file.evicted{table=reassembly}') >= SIZES.halfHellos + SIZES.dnsTcpHuge - CAPS.maxReassemblyFlows - c('pcap_file.evicted{table=flows}'));
  assert.ok(c('pcap_file.evicted{table=reassembly}') > 0);
  // A fake record length beyond the cap is given up on at once, never buffered.
  assert.equal(c('pcap_file.tls_malformed') + c('pcap_file.reassembly_gave_up') >= SIZES.hugeRecords, true, 'huge fake records are given up on, not buffered');
});

test('the DNS cache stays at max_entries and counts evictions', () => {
  assert.ok(c('dns_correlation@logs.dns_cache_size') <= CAPS.dnsMaxEntries);
  assert.ok(c('dns_correlation@logs.evicted{table=dns_cache}') >= SIZES.dnsAnswers / 2 - CAPS.dnsMaxEntries, `evicted ${c('dns_correlation@logs.evicted{table=dns_cache}')}`);
  assert.equal(c('pcap_file.dns_skipped_uninteresting'), SIZES.dnsAnswers / 2, 'random names outside the catalog never reach the cache');
});

test('every mixed-in paste detection comes out, early and late in the flood', () => {
  assert.deepEqual(missingPasteDetections(report.detections), []);
  const dpaste = report.detections.filter((d) => d.service === 'dpaste.org');
  assert.ok(dpaste.length >= 1 && dpaste.length <= 20, `${dpaste.length} flood detections after dedup`);
});
