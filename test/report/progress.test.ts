import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProgress } from '../../src/report/progress.js';

test('progress line: percent and sizes when the total is known, rate from elapsed time', () => {
  assert.equal(formatProgress(400 * 1024 * 1024, 800 * 1024 * 1024, 1_000_000, 500), 'scanning 50% 400/800 MB, 1,000,000 packets 2,000,000 packets/s');
  assert.equal(formatProgress(10 * 1024 * 1024, 0, 42, 0), 'scanning 10 MB, 42 packets');
  assert.equal(formatProgress(900, 800, 1, 1000), 'scanning 100% 0/0 MB, 1 packets 1 packets/s');
});
