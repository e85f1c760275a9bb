import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Observation } from '../../../src/model/observation.js';
import type { ReceiverSink } from '../../../src/component/types.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { pcapFileFactory } from '../../../src/receivers/pcap_file/factory.js';
import { PcapFileReceiver } from '../../../src/receivers/pcap_file/receiver.js';
import type { PcapFileProgress } from '../../../src/receivers/pcap_file/receiver.js';
import { expandPath, segmentPattern } from '../../../src/receivers/pcap_file/glob.js';
import { PcapWriter, fileSink } from '../../../src/capture/writer.js';
import { testSettings } from '../../helpers/exporter-settings.js';
import { ethernet, ipv4, udp, dnsMessage } from '../../helpers/packets.js';

const FIX = 'test/fixtures/pcap';
const dir = mkdtempSync(join(tmpdir(), 'pw-pcapfile-'));

function recordingSink(): ReceiverSink & { obs: Observation[]; ended: number; failed: Error[] } {
  const s: ReceiverSink & { obs: Observation[]; ended: number; failed: Error[] } = {
    obs: [],
    ended: 0,
    failed: [],
    fail: (err: Error): void => {
      s.failed.push(err);
    },
    emit: (o: Observation): void => {
      s.obs.push(o);
    },
    end: (): void => {
      s.ended++;
    },
  };
  return s;
}

function names(obs: Observation[], evidence: string): string[] {
  return [...new Set(obs.flatMap((o) => o.names.filter((n) => n.evidence === evidence).map((n) => n.name)))].sort();
}

function make(path: string, extra: Record<string, unknown> = {}): { r: PcapFileReceiver; s: ReturnType<typeof testSettings> } {
  const s = testSettings('pcap_file', {}, 'receiver');
  const config = pcapFileFactory.schema.parse({ path, ...extra });
  return { r: pcapFileFactory.create(s, config) as PcapFileReceiver, s };
}

/** A capture of `n` DNS queries for q<i>.example (one UDP packet each). */
function dnsCapture(path: string, n: number, name = (i: number) => `q${i}.example`): void {
  const w = new PcapWriter({ linkType: 1 }, fileSink(path));
  for (let i = 0; i < n; i++) {
    const msg = dnsMessage({ id: i & 0xffff, questions: [{ name: name(i) }] });
    w.writePacket(1_700_000_000 + i, 0, ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.53', proto: 17, payload: udp({ src: '10.0.0.1', dst: '10.0.0.53', sport: 10000 + (i % 50000), dport: 53, payload: msg }) })));
  }
  w.close();
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PastewatchError);
    assert.equal(err.code, code);
    assert.match(err.message, re);
    return true;
  });
}

describe('pcap_file factory', () => {
  test('default config parses, is valid, and unknown keys are rejected', () => {
    const c = createDefaultConfig(pcapFileFactory);
    assert.equal(c.path, '-');
    assert.equal(c.max_flows, 262144);
    assert.equal(c.flow_idle_timeout_ms, 120000);
    assert.equal(c.read_buffer_bytes, 8 * 1024 * 1024);
    assert.deepEqual(pcapFileFactory.validate?.(c), []);
    assert.throws(() => pcapFileFactory.schema.parse({ paht: 'x' }));
  });

  test('validate names missing files, empty patterns and directory wildcards', () => {
    const v = (path: string) => pcapFileFactory.validate?.(pcapFileFactory.schema.parse({ path })) ?? [];
    assert.deepEqual(v(join(dir, 'missing.pcap')), [{ path: ['path'], message: `${join(dir, 'missing.pcap')}: no such file` }]);
    assert.match(v(join(dir, 'none-*.pcap'))[0].message, /no file matches this pattern/);
    assert.match(v(join(dir, '*/x.pcap'))[0].message, /only supported in the file name/);
    assert.deepEqual(v(join(FIX, 'dns.pcap')), []);
  });

  test('shutdown without start is safe and idempotent', async () => {
    const { r } = make(join(FIX, 'dns.pcap'));
    await r.shutdown();
    await r.shutdown();
  });
});

describe('pcap_file reading', () => {
  test('a real capture yields its DNS query names, then the sink ends once', async () => {
    const { r, s } = make(join(FIX, 'dns.pcap'), { flow_report_delay_ms: 0 });
    const sink = recordingSink();
    await r.start(sink);
    const sum = await r.done();
    assert.equal(sink.ended, 1);
    assert.equal(sink.failed.length, 0);
    assert.deepEqual(names(sink.obs, 'dns.query'), ['notpastebin.com', 'paste.ee', 'pastebin.com', 'pastebin.com.evil.example', 'transfer.sh', 'unknown-host.lab', 'www.pastebin.com']);
    assert.equal(sum.errors.length, 0);
    assert.equal(sum.files.length, 1);
    assert.equal(sum.packets, sum.files[0].records);
    assert.ok(sum.packets > 20);
    assert.equal(s.registry.get('pcap_file', 'files'), 1);
    assert.equal(s.registry.get('pcap_file', 'packets'), sum.packets);
    await r.shutdown();
  });

  test('a pattern reads every match in name order; progress reaches the total', async () => {
    const d = join(dir, 'glob');
    mkdirSync(d);
    dnsCapture(join(d, 'b.pcap'), 3, (i) => `b${i}.example`);
    dnsCapture(join(d, 'a.pcap'), 2, (i) => `a${i}.example`);
    writeFileSync(join(d, 'notes.txt'), 'not matched');
    assert.deepEqual(expandPath(join(d, '?.pcap')), [join(d, 'a.pcap'), join(d, 'b.pcap')]);
    const { r, s } = make(join(d, '*.pcap'));
    const progress: PcapFileProgress[] = [];
    r.onProgress = (p) => progress.push(p);
    const sink = recordingSink();
    await r.start(sink);
    await r.done();
    assert.deepEqual(
      sink.obs.filter((o) => o.kind === 'dns').map((o) => o.dns?.query),
      ['a0.example', 'a1.example', 'b0.example', 'b1.example', 'b2.example'],
    );
    const total = readFileSync(join(d, 'a.pcap')).length + readFileSync(join(d, 'b.pcap')).length;
    assert.deepEqual(progress.at(-1), { file: join(d, 'b.pcap'), fileIndex: 1, fileCount: 2, bytesRead: total, totalBytes: total, packets: 5 });
    assert.equal(s.registry.get('pcap_file', 'files'), 2);
  });

  test('stdin (`-`) is read from the given stream', async () => {
    const p = join(dir, 'stdin.pcap');
    dnsCapture(p, 4);
    const s = testSettings('pcap_file', {}, 'receiver');
    const r = new PcapFileReceiver(s, pcapFileFactory.schema.parse({ path: '-' }), { stdin: Readable.from([readFileSync(p)]) });
    const sink = recordingSink();
    await r.start(sink);
    const sum = await r.done();
    assert.equal(sum.packets, 4);
    assert.equal(sum.files[0].name, '<stdin>');
    assert.equal(sink.obs.filter((o) => o.kind === 'dns').length, 4);
    assert.equal(sink.ended, 1);
  });

  test('missing file, no match, directory, bad magic, empty file: start rejects, nothing emitted', async () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, 'PK\x03\x04zip');
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const cases: [string, string, RegExp][] = [
      [join(dir, 'nope.pcap'), 'INPUT_NOT_FOUND', /nope\.pcap: no such file$/],
      [join(dir, 'zz*.pcap'), 'INPUT_NOT_FOUND', /zz\*\.pcap: no file matches this pattern$/],
      [dir, 'INPUT_NOT_FOUND', /: not a regular file$/],
      [bad, 'INPUT_CORRUPT', /bad\.pcap: not a pcap or pcapng file \(magic 0x504b0304\)$/],
      [empty, 'INPUT_CORRUPT', /empty\.pcap: empty file/],
    ];
    for (const [path, code, re] of cases) {
      const { r } = make(path);
      const sink = recordingSink();
      await rejectsWith(r.start(sink), code, re);
      assert.equal(sink.obs.length, 0);
      assert.equal(sink.ended, 0);
      await r.shutdown();
    }
  });

  test('damage mid-file: earlier packets are delivered, the problem is logged with the offset and counted', async () => {
    const good = join(dir, 'ok.pcap');
    dnsCapture(good, 10);
    const bytes = readFileSync(good);
    const recLen = (bytes.length - 24) / 10;
    const broken = Buffer.from(bytes);
    broken.writeUInt32LE(9_999_999, 24 + 6 * recLen + 8); // record 7's caplen
    const d = join(dir, 'damaged');
    mkdirSync(d);
    writeFileSync(join(d, '1-broken.pcap'), broken);
    writeFileSync(join(d, '2-truncated.pcap'), bytes.subarray(0, bytes.length - 5));
    copyFileSync(good, join(d, '3-good.pcap'));
    const { r, s } = make(join(d, '*.pcap'));
    const sink = recordingSink();
    await r.start(sink);
    const sum = await r.done();
    assert.equal(sum.packets, 6 + 9 + 10);
    assert.equal(sink.obs.filter((o) => o.kind === 'dns').length, 25);
    assert.equal(sum.errors.length, 2);
    assert.match(sum.errors[0].message, new RegExp(`1-broken\\.pcap: record captured length 9999999 exceeds the snapshot length 262144 at byte offset ${24 + 6 * recLen}$`));
    assert.match(sum.errors[1].message, new RegExp(`2-truncated\\.pcap: truncated last record \\(${recLen - 5} of its bytes present\\) at byte offset ${24 + 9 * recLen}$`));
    assert.equal(s.registry.get('pcap_file', 'records_skipped', { reason: 'corrupt' }), 1);
    assert.equal(s.registry.get('pcap_file', 'records_skipped', { reason: 'truncated' }), 1);
    assert.equal(s.registry.get('pcap_file', 'files'), 3);
    assert.ok(s.lines.some((l) => l.includes('WARN') && l.includes('1-broken.pcap') && l.includes('stopped reading this file after 6 records')));
    assert.equal(s.health.list()[0].status, 'degraded');
    // A damaged input fails the receiver (instead of end()), naming every problem.
    assert.equal(sink.ended, 0);
    assert.equal(sink.failed.length, 1);
    assert.match(sink.failed[0].message, /^2 capture inputs had problems: .*1-broken\.pcap: .*; .*2-truncated\.pcap: /);
    assert.equal((sink.failed[0] as PastewatchError).code, 'INPUT_CORRUPT');
  });

  test('shutdown stops after the current read and still finishes the engine', async () => {
    const p = join(dir, 'big.pcap');
    dnsCapture(p, 40000);
    const { r } = make(p, { read_buffer_bytes: 512 * 1024 });
    const sink = recordingSink();
    let reads = 0;
    r.onProgress = () => {
      reads++;
      if (reads === 1) void r.shutdown();
    };
    await r.start(sink);
    await r.shutdown();
    const sum = await r.done();
    assert.equal(sum.stopped, true);
    assert.ok(sum.packets > 0 && sum.packets < 40000, `packets ${sum.packets}`);
    // Every packet read became an observation: nothing read was lost.
    assert.equal(sink.obs.filter((o) => o.kind === 'dns').length, sum.packets);
    assert.equal(sink.ended, 1);
  });

  test('glob segment patterns', () => {
    assert.ok(segmentPattern('*.pcap').test('a.b.pcap'));
    assert.ok(!segmentPattern('*.pcap').test('a.pcapng'));
    assert.ok(segmentPattern('cap-??.pcap*').test('cap-01.pcapng'));
    assert.ok(segmentPattern('[ab]*.pcap').test('b1.pcap'));
    assert.ok(!segmentPattern('[!ab]*.pcap').test('b1.pcap'));
    assert.ok(!segmentPattern('a+b.pcap').test('aab.pcap'));
  });
});

describe('pcap_file stdin that stays open', () => {
  test('shutdown ends a read waiting on an idle pipe; what arrived is delivered', async () => {
    const p = join(dir, 'pipe.pcap');
    dnsCapture(p, 3);
    const { PassThrough } = await import('node:stream');
    const pipe = new PassThrough();
    pipe.write(readFileSync(p)); // three packets, then the writer goes quiet without closing
    const s = testSettings('pcap_file', {}, 'receiver');
    const r = new PcapFileReceiver(s, pcapFileFactory.schema.parse({ path: '-' }), { stdin: pipe });
    const sink = recordingSink();
    await r.start(sink);
    await new Promise((res) => setTimeout(res, 100));
    const t0 = Date.now();
    await r.shutdown();
    assert.ok(Date.now() - t0 < 2000);
    const sum = await r.done();
    assert.equal(sum.packets, 3);
    assert.equal(sink.obs.filter((o) => o.kind === 'dns').length, 3);
    assert.equal(sum.errors.length, 0);
    assert.equal(sink.ended, 1);
  });
});
