/**
 * Shared budget of the fuzz suite: PASTEWATCH_FUZZ_RUNS scales every property's run count (the default keeps
 * `npm test` short; `npm run fuzz` sets a large value), and timed() asserts each input is handled within a
 * bound (PASTEWATCH_FUZZ_MS, default 50 ms; an overrun is measured again once so a GC pause does not fail it), so
 * an input that makes a parser spin or go quadratic fails.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';

/** Base number of runs per property (each test multiplies it by its own weight). */
export const FUZZ_RUNS = Math.max(1, Number(process.env.PASTEWATCH_FUZZ_RUNS ?? '') || 1000);
/** Longest time one input may take, ms. */
export const FUZZ_MS = Math.max(1, Number(process.env.PASTEWATCH_FUZZ_MS ?? '') || 50);

/** fast-check parameters for a property weighted `weight` times the base budget (at least 20 runs). */
export function runs(weight = 1): fc.Parameters<unknown> {
  const seed = process.env.PASTEWATCH_FUZZ_SEED ? Number(process.env.PASTEWATCH_FUZZ_SEED) : undefined;
  return { numRuns: Math.max(20, Math.round(FUZZ_RUNS * weight)), ...(seed !== undefined ? { seed } : {}) };
}

/** Runs fn and asserts it returned within `ms` (default FUZZ_MS); returns its result. */
export function timed<T>(what: string, fn: () => T, ms = FUZZ_MS): T {
  const t0 = performance.now();
  const r = fn();
  const dt = performance.now() - t0;
  if (dt > ms) {
    // A GC pause or a busy machine can stall any call once; a slow input is slow every time: measure again.
    const t1 = performance.now();
    fn();
    const dt2 = performance.now() - t1;
    assert.ok(dt2 <= ms, `${what} took ${dt.toFixed(1)} ms, then ${dt2.toFixed(1)} ms (bound ${ms} ms)`);
  }
  return r;
}

/** Async variant of timed(). */
export async function timedAsync<T>(what: string, fn: () => Promise<T>, ms = FUZZ_MS): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  const dt = performance.now() - t0;
  if (dt > ms) {
    const t1 = performance.now();
    await fn();
    const dt2 = performance.now() - t1;
    assert.ok(dt2 <= ms, `${what} took ${dt.toFixed(1)} ms, then ${dt2.toFixed(1)} ms (bound ${ms} ms)`);
  }
  return r;
}

/** One byte-level edit of a mutation. */
type Edit = { op: 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'dup'; at: number; value: number; len: number };

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'dup'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 16 }),
}) as fc.Arbitrary<Edit>;

/** Applies edits to a copy of `b` (positions wrap around the current length). */
export function applyEdits(b: Buffer, edits: readonly Edit[]): Buffer {
  let out = Buffer.from(b);
  for (const e of edits) {
    if (out.length === 0) {
      out = Buffer.from([e.value]);
      continue;
    }
    const at = e.at % out.length;
    switch (e.op) {
      case 'flip': out[at] ^= 1 << (e.value & 7); break;
      case 'set': out[at] = e.value; break;
      case 'insert': out = Buffer.concat([out.subarray(0, at), Buffer.alloc(e.len, e.value), out.subarray(at)]); break;
      case 'delete': out = Buffer.concat([out.subarray(0, at), out.subarray(at + e.len)]); break;
      case 'truncate': out = out.subarray(0, at); break;
      case 'dup': out = Buffer.concat([out.subarray(0, at + e.len), out.subarray(at)]); break;
    }
  }
  return Buffer.from(out);
}

/** Mutations of one of `samples`: flips, overwrites, inserts, deletes, truncations, duplicated runs. */
export function mutationOf(samples: readonly Buffer[], maxEdits = 6): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.nat({ max: samples.length - 1 }), fc.array(edit, { minLength: 1, maxLength: maxEdits }))
    .map(([i, edits]) => applyEdits(samples[i], edits));
}

/** Interesting 16/32-bit values written big- or little-endian at a random place (lengths, counts, offsets). */
export function lengthBombOf(samples: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const v = fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff);
  return fc.tuple(fc.nat({ max: samples.length - 1 }), fc.nat(), v, fc.boolean(), fc.boolean()).map(([i, at, value, wide, le]) => {
    const b = Buffer.from(samples[i]);
    const w = wide ? 4 : 2;
    if (b.length < w) return b;
    const p = at % (b.length - w + 1);
    if (wide) { if (le) b.writeUInt32LE(value >>> 0, p); else b.writeUInt32BE(value >>> 0, p); }
    else if (le) b.writeUInt16LE(value & 0xffff, p);
    else b.writeUInt16BE(value & 0xffff, p);
    return b;
  });
}
