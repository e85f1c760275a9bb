/**
 * Differential test: for every real-tool fixture, the names pastewatch's pcap_file receiver + packet
 * engine emit (DNS question names, TLS SNI, HTTP Host / CONNECT authority) equal the names tshark prints
 * for the same file (case and port normalised). tshark runs with out-of-order TCP reassembly on, so the
 * rewritten split-ooo.pcap is judged by the same rule.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation } from '../../src/model/observation.js';
import { pcapFileFactory } from '../../src/receivers/pcap_file/factory.js';
import { readCapture } from '../../src/capture/reader.js';
import { testSettings } from '../helpers/exporter-settings.js';

const FIX = 'test/fixtures/pcap';
const fixtures = readdirSync(FIX)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort();
const tsharkMissing = spawnSync('tshark', ['--version']).status === 0 ? undefined : 'tshark is not installed';

interface NameSets {
  dns: string[];
  sni: string[];
  http: string[];
}

/** Lower-case, no trailing dot, no :port (IPv6 literals in brackets keep their brackets). */
function norm(name: string): string {
  let n = name.trim().toLowerCase().replace(/\.$/, '');
  const m = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(n);
  if (m) n = m[1];
  return n;
}
const uniq = (xs: string[]): string[] => [...new Set(xs.filter((x) => x !== ''))].sort();

function tsharkNames(file: string): NameSets {
  const r = spawnSync(
    'tshark',
    ['-n', '-o', 'tcp.reassemble_out_of_order:TRUE', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'dns.qry.name', '-e', 'tls.handshake.extensions_server_name', '-e', 'http.host'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  assert.equal(r.status, 0, `tshark failed on ${file}: ${r.stderr}`);
  const out: NameSets = { dns: [], sni: [], http: [] };
  for (const line of r.stdout.split('\n')) {
    const [dns = '', sni = '', host = ''] = line.split('\t');
    out.dns.push(...dns.split(',').map(norm));
    out.sni.push(...sni.split(',').map(norm));
    out.http.push(...host.split(',').map(norm));
  }
  return { dns: uniq(out.dns), sni: uniq(out.sni), http: uniq(out.http) };
}

async function pastewatchNames(file: string): Promise<NameSets> {
  const s = testSettings('pcap_file', {}, 'receiver');
  const r = pcapFileFactory.create(s, pcapFileFactory.schema.parse({ path: file }));
  const obs: Observation[] = [];
  let failure: Error | undefined;
  await r.start({ emit: (o) => void obs.push(o), end: () => undefined, fail: (e) => void (failure = e) });
  await (r as unknown as { done(): Promise<unknown> }).done();
  await r.shutdown();
  assert.equal(failure, undefined, `${file}: ${failure?.message}`);
  const byEvidence = (ev: string[]): string[] => obs.flatMap((o) => o.names.filter((n) => ev.includes(n.evidence)).map((n) => norm(n.name)));
  return {
    dns: uniq(obs.filter((o) => o.kind === 'dns' && o.dns).map((o) => norm(o.dns?.query ?? ''))),
    sni: uniq(byEvidence(['tls.sni', 'quic.sni'])),
    http: uniq(byEvidence(['http.host', 'http.connect'])),
  };
}

describe('names: pastewatch vs tshark on real-tool fixtures', { skip: tsharkMissing }, () => {
  test('there are fixtures to compare', () => {
    assert.ok(fixtures.length >= 9, `fixtures: ${fixtures.join(', ')}`);
  });
  for (const f of fixtures) {
    test(f, async () => {
      const file = join(FIX, f);
      const want = tsharkNames(file);
      const got = await pastewatchNames(file);
      // Each fixture carries names (the comparison would be vacuous otherwise).
      assert.ok(want.dns.length + want.sni.length + want.http.length > 0, `tshark found no names in ${f}`);
      assert.deepEqual(got, want);
    });
  }
  for (const f of fixtures) {
    test(`${f}: every record's timestamp and captured length match tshark's`, async () => {
      const file = join(FIX, f);
      const r = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const want = r.stdout.trim().split('\n');
      const got: string[] = [];
      const res = await readCapture(file, (_lt, sec, nsec, _b, _o, len) => {
        got.push(`${sec}.${String(nsec).padStart(9, '0')}\t${len}`);
      });
      assert.equal(res.end, 'eof');
      assert.deepEqual(got, want);
    });
  }
});
