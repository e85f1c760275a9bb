// Fuzz: mutated pcap / pcapng fixture files through readCapture (as a stream and as a file): the read ends
// with the records before the damage plus a clear INPUT_CORRUPT error, or counted skips, or rejects with a
// PastewatchError; never another exception, never a hang.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { readCapture } from '../../src/capture/reader.js';
import type { CaptureReadResult } from '../../src/capture/reader.js';
import { PastewatchError } from '../../src/util/errors.js';
import { lengthBombOf, mutationOf, runs, timedAsync } from './budget.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'pcap');
const samples = readdirSync(FIX).sort().map((f) => readFileSync(join(FIX, f)));
let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'pw-fuzz-cap-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Reads `b` and checks the outcome; returns the result or the (expected) PastewatchError. */
async function readChecked(input: string | Readable, size: number): Promise<CaptureReadResult | PastewatchError> {
  let delivered = 0;
  let bytes = 0;
  try {
    const r = await readCapture(input, (_lt, _s, ns, buf, off, len) => {
      delivered++;
      bytes += len;
      assert.ok(off >= 0 && off + len <= buf.length, 'record outside the buffer');
      assert.ok(ns >= 0 && ns < 1e9, `nsec ${ns}`);
    }, { name: 'fuzz.pcap', bufferSize: 512 * 1024 });
    assert.equal(r.records, delivered);
    assert.equal(r.packetBytes, bytes);
    assert.ok(r.offset <= size, `offset ${r.offset} beyond ${size}`);
    if (r.end === 'damaged') {
      assert.ok(r.error instanceof PastewatchError && r.error.code === 'INPUT_CORRUPT');
      assert.match(r.error.message, /^fuzz\.pcap: .* at byte offset \d+/);
    } else assert.equal(r.end, 'eof');
    return r;
  } catch (err) {
    assert.ok(err instanceof PastewatchError, `not a PastewatchError: ${String(err)}`);
    assert.equal(err.code, 'INPUT_CORRUPT');
    assert.match(err.message, /^fuzz\.pcap: /);
    assert.equal(delivered, 0, 'rejected after delivering records');
    return err;
  }
}

const mutatedFile = fc.oneof(mutationOf(samples, 8), lengthBombOf(samples));

describe('fuzz: capture readers', () => {
  test('mutated captures as a stream (chunked at random sizes)', async () => {
    await fc.assert(fc.asyncProperty(mutatedFile, fc.integer({ min: 1, max: 4096 }), async (b, chunk) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < b.length; i += chunk) parts.push(b.subarray(i, i + chunk));
      // The bound grows with the number of chunks: each is one async iteration of the stream, not parser work.
      await timedAsync('readCapture(stream)', () => readChecked(Readable.from(parts), b.length), 200 + parts.length * 0.05);
    }), runs(1));
  });

  test('mutated captures as files', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(mutatedFile, async (b) => {
      const p = join(dir, `m${n++ % 4}.pcap`);
      writeFileSync(p, b);
      const r = await timedAsync('readCapture(file)', () => readChecked(p, b.length), 200);
      if (!(r instanceof PastewatchError)) assert.equal(r.totalBytes, b.length);
    }), runs(0.3));
  });

  test('regression: the same bytes give the same records as a file and as a one-byte-chunk stream', async () => {
    await fc.assert(fc.asyncProperty(mutationOf(samples, 3), async (b) => {
      const p = join(dir, 'same.pcap');
      writeFileSync(p, b);
      const a = await readChecked(p, b.length);
      const parts: Buffer[] = [];
      for (let i = 0; i < b.length; i += 7) parts.push(b.subarray(i, i + 7));
      const s = await readChecked(Readable.from(parts), b.length);
      if (a instanceof PastewatchError || s instanceof PastewatchError) {
        assert.equal(a instanceof PastewatchError, s instanceof PastewatchError);
        return;
      }
      assert.equal(s.records, a.records);
      assert.equal(s.end, a.end);
    }), runs(0.1));
  });
});
