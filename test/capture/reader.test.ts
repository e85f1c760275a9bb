import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readCapture, captureFormatOf, MAX_CAPLEN } from '../../src/capture/reader.js';
import { PcapWriter, PcapngWriter, memorySink, fileSink } from '../../src/capture/writer.js';
import { PastewatchError } from '../../src/util/errors.js';

interface Rec {
  linkType: number;
  sec: number;
  nsec: number;
  data: string;
}

const dir = mkdtempSync(join(tmpdir(), 'pw-reader-'));
let seq = 0;
function tmpFile(bytes: Buffer, name = `f${seq++}.cap`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function readAll(input: string | Readable, opts: Parameters<typeof readCapture>[2] = {}): Promise<{ recs: Rec[]; result: Awaited<ReturnType<typeof readCapture>> }> {
  const recs: Rec[] = [];
  const result = await readCapture(
    input,
    (linkType, sec, nsec, buf, off, len) => {
      recs.push({ linkType, sec, nsec, data: buf.subarray(off, off + len).toString('hex') });
    },
    opts,
  );
  return { recs, result };
}

function pkt(i: number, len = 20 + (i % 50)): Buffer {
  const b = Buffer.alloc(len);
  for (let j = 0; j < len; j++) b[j] = (i * 7 + j) & 0xff;
  return b;
}

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PastewatchError, `expected PastewatchError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, re);
    return true;
  });
}

describe('classic pcap', () => {
  for (const [nanosecond, bigEndian] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    test(`reads ${nanosecond ? 'ns' : 'µs'} ${bigEndian ? 'big' : 'little'}-endian`, async () => {
      const sink = memorySink();
      const w = new PcapWriter({ linkType: 1, nanosecond, bigEndian }, sink);
      w.writePacket(1_700_000_000, 123_456_789, pkt(1));
      w.writePacket(1_700_000_001, 999_999_999, pkt(2), 1500);
      w.close();
      const bytes = sink.buffer();
      assert.equal(bytes.readUInt32BE(0), bigEndian ? (nanosecond ? 0xa1b23c4d : 0xa1b2c3d4) : nanosecond ? 0x4d3cb2a1 : 0xd4c3b2a1);
      const { recs, result } = await readAll(tmpFile(bytes));
      assert.equal(result.format, 'pcap');
      assert.equal(result.end, 'eof');
      assert.equal(result.records, 2);
      assert.equal(result.offset, bytes.length);
      assert.deepEqual(recs, [
        { linkType: 1, sec: 1_700_000_000, nsec: nanosecond ? 123_456_789 : 123_456_000, data: pkt(1).toString('hex') },
        { linkType: 1, sec: 1_700_000_001, nsec: nanosecond ? 999_999_999 : 999_999_000, data: pkt(2).toString('hex') },
      ]);
    });
  }

  test('link type comes from the header (FCS bits masked)', async () => {
    const sink = memorySink();
    const w = new PcapWriter({ linkType: 276 }, sink);
    w.writePacket(1, 0, pkt(3));
    w.close();
    const b = sink.buffer();
    b.writeUInt32LE(276 | (0x1 << 26), 20); // an FCS-length flag in the upper bits
    const { recs } = await readAll(tmpFile(b));
    assert.equal(recs[0].linkType, 276);
  });

  test('records spanning read boundaries are carried over (many records, smallest buffer)', async () => {
    const sink = memorySink();
    const w = new PcapWriter({ linkType: 1 }, sink);
    const want: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const p = pkt(i, 40 + ((i * 131) % 1400));
      want.push(p.toString('hex'));
      w.writePacket(1000 + i, i * 1000, p);
    }
    w.close();
    const bytes = sink.buffer();
    assert.ok(bytes.length > 3 * 512 * 1024);
    let chunks = 0;
    let lastProgress = 0;
    const { recs, result } = await readAll(tmpFile(bytes), {
      bufferSize: 1,
      onChunk: () => chunks++,
      onProgress: (n, total) => {
        assert.equal(total, bytes.length);
        lastProgress = n;
      },
    });
    assert.ok(chunks >= 4, `chunks ${chunks}`);
    assert.equal(lastProgress, bytes.length);
    assert.equal(result.records, 6000);
    assert.deepEqual(
      recs.map((r) => r.data),
      want,
    );
    assert.equal(recs[5999].sec, 6999);
  });

  test('reads from a Readable in odd-sized chunks', async () => {
    const sink = memorySink();
    const w = new PcapWriter({ linkType: 113 }, sink);
    for (let i = 0; i < 300; i++) w.writePacket(i, 0, pkt(i));
    w.close();
    const bytes = sink.buffer();
    const parts: Buffer[] = [];
    for (let o = 0, k = 1; o < bytes.length; o += k, k = (k * 7) % 97 + 1) parts.push(bytes.subarray(o, o + k));
    const { recs, result } = await readAll(Readable.from(parts));
    assert.equal(result.name, '<stdin>');
    assert.equal(result.records, 300);
    assert.equal(recs[299].data, pkt(299).toString('hex'));
    assert.equal(recs[0].linkType, 113);
  });

  test('shouldStop stops after the current chunk and reports where', async () => {
    const sink = memorySink();
    const w = new PcapWriter({ linkType: 1 }, sink);
    for (let i = 0; i < 20000; i++) w.writePacket(i, 0, pkt(i, 100));
    w.close();
    const { result } = await readAll(tmpFile(sink.buffer()), { bufferSize: 1, shouldStop: () => true });
    assert.equal(result.end, 'stopped');
    assert.ok(result.records > 0 && result.records < 20000);
    assert.equal(result.offset, 24 + result.records * 116);
  });
});

describe('pcapng', () => {
  test('two interfaces, resolutions, offsets, SPB, skipped blocks, both byte orders across sections', async () => {
    const sink = memorySink();
    const w = new PcapngWriter({}, sink);
    const eth = w.addInterface({ linkType: 1, name: 'veth0' });
    const sll = w.addInterface({ linkType: 276, tsresol: { base: 10, exp: 9 }, tsoffset: 100 });
    w.writeBlock(4, Buffer.from([1, 0, 8, 0, 127, 0, 0, 1, 120, 0, 0, 0, 0, 0, 0, 0])); // NRB
    w.writePacket(eth, 1_700_000_000, 250_000_000, pkt(1));
    w.writePacket(sll, 1_800_000_000, 987_654_321, pkt(2));
    w.writeBlock(5, Buffer.alloc(20)); // ISB
    w.writeBlock(0x00000bad, Buffer.alloc(9)); // custom
    w.writePacket(7, 1, 0, pkt(9)); // unknown interface: counted, skipped
    w.section(true); // big-endian section: interfaces reset
    const bin = w.addInterface({ linkType: 101, snaplen: 16, tsresol: { base: 2, exp: 20 } });
    w.writePacket(bin, 1_700_000_123, 500_000_000, pkt(3));
    w.writeSimplePacket(pkt(4, 40)); // SPB: interface 0, truncated to its snaplen 16
    w.close();
    const bytes = sink.buffer();
    const { recs, result } = await readAll(tmpFile(bytes, 'a.pcapng'));
    assert.equal(result.format, 'pcapng');
    assert.equal(result.end, 'eof');
    assert.equal(result.sections, 2);
    assert.deepEqual(result.skipped, { unknown_interface: 1 });
    assert.deepEqual(recs, [
      { linkType: 1, sec: 1_700_000_000, nsec: 250_000_000, data: pkt(1).toString('hex') },
      { linkType: 276, sec: 1_800_000_100, nsec: 987_654_321, data: pkt(2).toString('hex') },
      { linkType: 101, sec: 1_700_000_123, nsec: 500_000_000, data: pkt(3).toString('hex') },
      { linkType: 101, sec: 0, nsec: 0, data: pkt(4, 40).subarray(0, 16).toString('hex') },
    ]);
  });

  test('nanosecond timestamps above 2^53 units are split exactly', async () => {
    const sink = memorySink();
    const w = new PcapngWriter({ bigEndian: true }, sink);
    const i = w.addInterface({ linkType: 1, tsresol: { base: 10, exp: 9 } });
    const times: [number, number][] = [
      [1_764_881_193, 999_999_999],
      [1_764_881_194, 0],
      [1_764_881_194, 1],
      [4_000_000_000, 123_456_789],
    ];
    for (const [s, n] of times) w.writePacket(i, s, n, pkt(s));
    w.close();
    const { recs } = await readAll(tmpFile(sink.buffer()));
    assert.deepEqual(
      recs.map((r) => [r.sec, r.nsec]),
      times,
    );
  });

  test('a large skipped block spanning reads is passed over', async () => {
    const sink = memorySink();
    const w = new PcapngWriter({}, sink);
    w.addInterface({ linkType: 1 });
    w.writePacket(0, 1, 0, pkt(1));
    w.writeBlock(0x40000bad, Buffer.alloc(1_500_000, 0x41)); // custom block bigger than the buffer
    w.writePacket(0, 2, 0, pkt(2));
    w.close();
    const { recs, result } = await readAll(tmpFile(sink.buffer()), { bufferSize: 1 });
    assert.equal(result.end, 'eof');
    assert.deepEqual(
      recs.map((r) => r.sec),
      [1, 2],
    );
  });

  test('tshark reads what the writer writes (when installed)', async (t) => {
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('tshark', ['--version']).status !== 0) return t.skip('tshark not installed');
    const sink = memorySink();
    const w = new PcapngWriter({}, sink);
    w.addInterface({ linkType: 1, tsresol: { base: 10, exp: 9 } });
    w.addInterface({ linkType: 101 });
    for (let i = 0; i < 5; i++) w.writePacket(i % 2, 1_700_000_000 + i, 5, pkt(i, 60));
    w.close();
    const p = tmpFile(sink.buffer(), 'ts.pcapng');
    const r = spawnSync('tshark', ['-r', p, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[4], /^1700000004\.00000000\d\t60$/);
  });
});

describe('damage', () => {
  test('bad magic names the file and the magic', async () => {
    const p = tmpFile(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'notes.txt');
    await rejects(readAll(p), 'INPUT_CORRUPT', new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a pcap or pcapng file \\(magic 0x47455420\\)`));
  });

  test('empty file and missing file', async () => {
    await rejects(readAll(tmpFile(Buffer.alloc(0))), 'INPUT_CORRUPT', /empty file/);
    await rejects(readAll(join(dir, 'nope.pcap')), 'INPUT_NOT_FOUND', /nope\.pcap: no such file/);
    await rejects(readAll(dir), 'INPUT_NOT_FOUND', /is a directory/);
  });

  test('truncated file header', async () => {
    await rejects(readAll(tmpFile(Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]))), 'INPUT_CORRUPT', /truncated file header/);
  });

  test('absurd caplen stops the read; earlier records are delivered', async () => {
    const sink = memorySink();
    const w = new PcapWriter({ linkType: 1, snaplen: 65535 }, sink);
    for (let i = 0; i < 3; i++) w.writePacket(i, 0, pkt(i, 100));
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(MAX_CAPLEN * 4, 8);
    w.writeRaw(bad);
    w.writePacket(9, 0, pkt(9, 100));
    w.close();
    const p = tmpFile(sink.buffer());
    const { recs, result } = await readAll(p);
    assert.equal(recs.length, 3);
    assert.equal(result.records, 3);
    assert.equal(result.end, 'damaged');
    assert.equal(result.offset, 24 + 3 * 116);
    assert.equal(result.error?.code, 'INPUT_CORRUPT');
    assert.match(result.error?.message ?? '', new RegExp(`: record captured length 1048576 exceeds the snapshot length 65535 at byte offset ${24 + 3 * 116}$`));
    assert.ok(result.error?.message.startsWith(p));
  });

  test('truncated last record: earlier records delivered, counted and reported', async () => {
    const sink = memorySink();
    const w = new PcapWriter({ linkType: 1 }, sink);
    for (let i = 0; i < 4; i++) w.writePacket(i, 0, pkt(i, 100));
    w.close();
    const full = sink.buffer();
    const { recs, result } = await readAll(tmpFile(full.subarray(0, full.length - 30)));
    assert.equal(recs.length, 3);
    assert.equal(result.end, 'damaged');
    assert.deepEqual(result.skipped, { truncated: 1 });
    assert.match(result.error?.message ?? '', /truncated last record \(86 of its bytes present\) at byte offset 372$/);
  });

  test('pcapng: block length not a multiple of 4, too small, trailer mismatch, truncated', async () => {
    const make = (): Buffer => {
      const sink = memorySink();
      const w = new PcapngWriter({}, sink);
      w.addInterface({ linkType: 1 });
      w.writePacket(0, 1, 0, pkt(1, 64));
      w.writePacket(0, 2, 0, pkt(2, 64));
      w.close();
      return sink.buffer();
    };
    const good = make();
    const secondAt = 28 + 20 + 96; // SHB + IDB + first EPB
    const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
      ['odd', (b) => (b.writeUInt32LE(97, secondAt + 4), b), /block length 97 is not a multiple of 4 at byte offset 144$/],
      ['small', (b) => (b.writeUInt32LE(8, secondAt + 4), b), /block length 8 is too small at byte offset 144$/],
      ['huge', (b) => (b.writeUInt32LE(0x7ffffff0, secondAt + 4), b), /block length 2147483632 is too large at byte offset 144$/],
      ['trailer', (b) => (b.writeUInt32LE(100, secondAt + 92), b), /does not match its trailing copy 100 at byte offset 144$/],
      ['truncated', (b) => b.subarray(0, b.length - 10), /truncated last block \(86 of its bytes present\) at byte offset 144$/],
    ];
    for (const [label, mutate, re] of cases) {
      const { recs, result } = await readAll(tmpFile(mutate(Buffer.from(good))));
      assert.equal(recs.length, 1, label);
      assert.equal(recs[0].sec, 1, label);
      assert.equal(result.end, 'damaged', label);
      assert.match(result.error?.message ?? '', re, label);
    }
  });

  test('format sniffing', () => {
    assert.equal(captureFormatOf(Buffer.from([0xd4, 0xc3, 0xb2, 0xa1])), 'pcap');
    assert.equal(captureFormatOf(Buffer.from([0xa1, 0xb2, 0x3c, 0x4d])), 'pcap');
    assert.equal(captureFormatOf(Buffer.from([0x0a, 0x0d, 0x0d, 0x0a])), 'pcapng');
    assert.equal(captureFormatOf(Buffer.from('GIF8')), undefined);
  });

  test('fileSink writes what memorySink holds', async () => {
    const p = join(dir, 'fs.pcap');
    const w = new PcapWriter({ linkType: 1 }, fileSink(p));
    w.writePacket(5, 6000, pkt(5));
    w.close();
    const b = readFileSync(p);
    assert.equal(b.length, 24 + 16 + pkt(5).length);
    const { recs } = await readAll(p);
    assert.deepEqual(recs, [{ linkType: 1, sec: 5, nsec: 6000, data: pkt(5).toString('hex') }]);
  });
});
