import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDns, generateMixed, DECOYS, PASTE_NAMES } from '../../scripts/gen-capture.js';
import type { Observation } from '../../src/model/observation.js';
import { pcapFileFactory } from '../../src/receivers/pcap_file/factory.js';
import type { PcapFileReceiver } from '../../src/receivers/pcap_file/receiver.js';
import { testSettings } from '../helpers/exporter-settings.js';

async function observe(file: string): Promise<Observation[]> {
  const r = pcapFileFactory.create(testSettings('pcap_file', {}, 'receiver'), pcapFileFactory.schema.parse({ path: file })) as PcapFileReceiver;
  const obs: Observation[] = [];
  await r.start({ emit: (o) => void obs.push(o), end: () => undefined, fail: (e) => assert.fail(e) });
  await r.done();
  return obs;
}

/** Evidence -> name -> count, over the names of interest. */
function counts(obs: Observation[], interesting: Set<string>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = { 'dns.query': {}, 'tls.sni': {}, 'http.host': {} };
  for (const o of obs) {
    for (const n of o.names) {
      if (!interesting.has(n.name) || !(n.evidence in out)) continue;
      // A DNS response repeats the question; count queries only, as the truth does.
      if (n.evidence === 'dns.query' && o.dns?.response) continue;
      out[n.evidence][n.name] = (out[n.evidence][n.name] ?? 0) + 1;
    }
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'pw-gen-'));

test('the mixed capture is reproducible and its ground truth is what the engine sees', async () => {
  const a = generateMixed(dir, 7, 30000);
  const first = readFileSync(a.file);
  const b = generateMixed(dir, 7, 30000);
  assert.ok(readFileSync(b.file).equals(first), 'same seed, same bytes');
  assert.ok(a.packets >= 30000 && a.packets < 36000, `packets ${a.packets}`);
  assert.ok(Object.keys(a.splitSni).length > 0);
  const obs = await observe(a.file);
  const got = counts(obs, new Set([...PASTE_NAMES, ...DECOYS]));
  const want: Record<string, Record<string, number>> = { 'dns.query': {}, 'tls.sni': {}, 'http.host': {} };
  for (const src of [a.paste, a.decoys]) for (const [ev, m] of Object.entries(src)) Object.assign(want[ev], m);
  assert.deepEqual(got, want);
  // About 72% of packets belong to TLS flows: the bulk dominates, so port 443 flows carry most observations' bytes.
  const tlsFlows = obs.filter((o) => o.kind === 'connection' && o.destination?.port === 443).length;
  const httpFlows = obs.filter((o) => o.kind === 'connection' && o.destination?.port === 80).length;
  assert.ok(tlsFlows > 100 && httpFlows > 50, `tls ${tlsFlows} http ${httpFlows}`);
});

test('the DNS-only capture has short flows of ~114-byte packets and its paste queries', async () => {
  const t = generateDns(dir, 3, 20000);
  assert.ok(t.flows >= 9000, `flows ${t.flows}`);
  const avg = t.bytes / t.packets;
  assert.ok(avg > 105 && avg < 125, `average frame ${avg}`);
  const obs = await observe(t.file);
  const got = counts(obs, new Set([...PASTE_NAMES, ...DECOYS]));
  assert.deepEqual(got['dns.query'], { ...t.paste['dns.query'], ...t.decoys['dns.query'] });
});
