import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter } from '../../../src/receivers/hubble_file/lines.js';

function collect(max: number): { s: LineSplitter; lines: [number, string][]; long: [number, number][] } {
  const lines: [number, string][] = [];
  const long: [number, number][] = [];
  const s = new LineSplitter(max, { line: (t, n) => lines.push([n, t]), tooLong: (n, b) => long.push([n, b]) });
  return { s, lines, long };
}

test('lines split across chunks, CRLF trimmed, a line of exactly max bytes kept, one byte more skipped', () => {
  const c = collect(5);
  c.s.push(Buffer.from('ab'));
  c.s.push(Buffer.from('c\r\n12345\n123456'));
  c.s.push(Buffer.from('7\nxy'));
  c.s.flush();
  assert.deepEqual(c.lines, [
    [1, 'abc'],
    [2, '12345'],
    [4, 'xy'],
  ]);
  assert.deepEqual(c.long, [[3, 7]]);
});

test('skipToNextLine drops a partial first line silently', () => {
  const c = collect(100);
  c.s.skipToNextLine();
  c.s.push(Buffer.from('tail of old\nfresh\n'));
  assert.deepEqual(c.lines, [[1, 'fresh']]);
  assert.deepEqual(c.long, []);
});

test('property: any chunking of a text gives the same lines as splitting it whole', () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z{}":,]{0,12}$/), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 }), (ls, cuts) => {
      const text = ls.map((l) => l + '\n').join('');
      const buf = Buffer.from(text);
      const c = collect(8);
      let i = 0;
      let k = 0;
      while (i < buf.length) {
        const n = cuts[k++ % cuts.length];
        c.s.push(buf.subarray(i, i + n));
        i += n;
      }
      c.s.flush();
      const expected = ls.map((l, j) => [j + 1, l] as [number, string]).filter(([, l]) => Buffer.byteLength(l) <= 8);
      assert.deepEqual(c.lines, expected);
      assert.equal(c.long.length, ls.filter((l) => Buffer.byteLength(l) > 8).length);
    }),
    { numRuns: 300 },
  );
});
