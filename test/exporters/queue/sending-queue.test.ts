import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backoffMs, parseRetryAfter } from '../../../src/exporters/queue/backoff.js';
import { retrySchema, sendingQueueSchema } from '../../../src/exporters/queue/config.js';
import { SendingQueue } from '../../../src/exporters/queue/sending-queue.js';
import type { BatchSender } from '../../../src/exporters/queue/sending-queue.js';
import { deserializeDetection, serializeDetection } from '../../../src/exporters/queue/serialize.js';
import type { Detection } from '../../../src/model/detection.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { makeDetection } from '../../helpers/detections.js';
import { testSettings } from '../../helpers/exporter-settings.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';

const retry = retrySchema.parse({ initial_interval_ms: 10, max_interval_ms: 50, max_elapsed_ms: 0 });

function fileQueue(dir: string, send: BatchSender, over: Record<string, unknown> = {}, settings = testSettings('q')): SendingQueue {
  return new SendingQueue({ name: 'logs', queue: sendingQueueSchema.parse({ storage: 'file', directory: dir, ...over }), retry, directory: dir, send, settings });
}

describe('queue serialisation', () => {
  test('a detection round-trips with its bigints', () => {
    const d = makeDetection({ attributes: { 'odd.string': '123n', nested: ['$bigint'] } });
    const back = deserializeDetection(serializeDetection(d));
    assert.deepEqual(back, d);
    assert.equal(typeof back.timeUnixNano, 'bigint');
    assert.equal(typeof back.observation.flow?.lastSeenUnixNano, 'bigint');
    assert.equal(back.attributes['odd.string'], '123n');
  });

  test('corrupt text is a clear INPUT_CORRUPT error', () => {
    assert.throws(() => deserializeDetection('{"type":"detection"'), (e: unknown) => e instanceof PastewatchError && e.code === 'INPUT_CORRUPT');
    assert.throws(() => deserializeDetection('{"type":"observation"}'), /not a serialised detection/);
  });
});

describe('backoff', () => {
  test('grows by 1.5x with +-20 % jitter, capped; Retry-After wins', () => {
    const cfg = { initial_interval_ms: 1000, max_interval_ms: 5000 };
    assert.equal(backoffMs(1, cfg, undefined, () => 0.5), 1000);
    assert.equal(backoffMs(2, cfg, undefined, () => 0.5), 1500);
    assert.equal(backoffMs(3, cfg, undefined, () => 0), 1800); // 2250 * 0.8
    assert.equal(backoffMs(20, cfg, undefined, () => 1), 5000);
    assert.equal(backoffMs(1, cfg, 3000), 3000);
    assert.equal(backoffMs(1, cfg, 10 ** 9), 50000);
    assert.equal(parseRetryAfter('7'), 7000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z')), 10000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('sending queue', () => {
  test('file storage: items are on disk when enqueue returns; a new queue on the directory sends them first, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-q-'));
    const down: BatchSender = async () => ({ kind: 'retry', message: 'down' });
    const q1 = fileQueue(dir, down);
    q1.open();
    const ds = Array.from({ length: 5 }, () => makeDetection());
    for (const d of ds) assert.equal(q1.enqueue(d), true);
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.seg')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    assert.equal(onDisk.trim().split('\n').length, 5);
    q1.start();
    await q1.shutdown();

    // simulate a crash during a 6th append: a torn line without newline
    const seg = readdirSync(dir).filter((f) => f.endsWith('.seg')).sort().at(-1)!;
    appendFileSync(join(dir, seg), '{"type":"detec');
    const got: Detection[] = [];
    const s = testSettings('q');
    const q2 = fileQueue(dir, async (b) => {
      got.push(...b);
      return { kind: 'ok', status: 200, body: Buffer.alloc(0), contentType: '' };
    }, { batch_size: 2 }, s);
    q2.open();
    assert.deepEqual(q2.depth().items, 5);
    q2.start();
    const late = makeDetection();
    q2.enqueue(late);
    await q2.flush(Date.now() + 2000);
    await q2.shutdown();
    assert.deepEqual(got.map((d) => d.spanId), [...ds, late].map((d) => d.spanId));
    assert.ok(s.lines.some((l) => l.includes('interrupted write')));
    // all committed: a third queue finds nothing
    const q3 = fileQueue(dir, down);
    q3.open();
    assert.equal(q3.depth().items, 0);
    await q3.shutdown();
  });

  test('full disk queue drops the NEW item with a counted, logged reason; earlier items still delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-q-'));
    let up = false;
    const got: Detection[] = [];
    const s = testSettings('q');
    const one = serializeDetection(makeDetection()).length + 1;
    const q = fileQueue(dir, async (b) => {
      if (!up) return { kind: 'retry', message: 'down' };
      got.push(...b);
      return { kind: 'ok', status: 200, body: Buffer.alloc(0), contentType: '' };
    }, { max_bytes: one * 3 + 10 }, s);
    q.open();
    q.start();
    const ds = Array.from({ length: 5 }, () => makeDetection());
    const accepted = ds.map((d) => q.enqueue(d));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    assert.equal(s.registry.get('q', 'dropped', { reason: 'queue_full' }), 2);
    assert.equal(s.lines.filter((l) => l.includes('full') && l.includes('queue_full')).length, 1);
    assert.equal(s.registry.get('q', 'logs_queue_items'), 3);
    up = true;
    await q.flush(Date.now() + 2000);
    await q.shutdown();
    assert.deepEqual(got.map((d) => d.spanId), ds.slice(0, 3).map((d) => d.spanId));
    assert.equal(s.registry.get('q', 'logs_queue_items'), 0);
  });

  test('memory queue: queue_size cap, retries exhausted after max_elapsed_ms are counted', async () => {
    const s = testSettings('q');
    const q = new SendingQueue({
      name: '',
      queue: sendingQueueSchema.parse({ queue_size: 2 }),
      retry: retrySchema.parse({ initial_interval_ms: 10, max_interval_ms: 20, max_elapsed_ms: 60 }),
      send: async () => ({ kind: 'retry', message: 'backend down' }),
      settings: s,
    });
    q.start();
    assert.equal(q.enqueue(makeDetection()), true);
    assert.equal(q.enqueue(makeDetection()), true);
    assert.equal(q.enqueue(makeDetection()), false);
    await q.flush(Date.now() + 1000);
    await q.shutdown();
    assert.equal(s.registry.get('q', 'failed', { reason: 'retries_exhausted' }), 2);
    assert.equal(s.registry.get('q', 'dropped', { reason: 'queue_full' }), 1);
  });

  test('an unusable directory is a clear error at open, and consume drops with a count', async () => {
    const s = testSettings('q');
    const file = join(mkdtempSync(join(tmpdir(), 'pw-q-')), 'plain-file');
    writeFileSync(file, 'x');
    const q = fileQueue(join(file, 'queue'), async () => ({ kind: 'retry', message: 'x' }), {}, s);
    assert.throws(() => q.open(), (e: unknown) => e instanceof PastewatchError && e.message.includes(`sending queue directory ${file}/queue is not usable`) && /ENOTDIR/.test(e.message));
    assert.equal(q.enqueue(makeDetection()), false);
    assert.equal(s.registry.get('q', 'dropped', { reason: 'queue_unavailable' }), 1);
    await q.shutdown();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

function runChild(endpoint: string, dir: string, count: number): { done: Promise<void>; kill: () => void; out: () => string } {
  const script = fileURLToPath(new URL('../otlp_http/queue-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, endpoint, dir, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`child did not queue in time: ${out}`)), 15000);
    child.stdout.on('data', () => {
      if (out.includes('QUEUED')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', () => clearTimeout(t));
  });
  return { done, kill: () => child.kill('SIGKILL'), out: () => out };
}

describe('durability', () => {
  test('SIGKILL while items wait on disk (backend down); a restart with the backend up delivers them all, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-kill-'));
    const deadPort = await freePort();
    const first = runChild(`http://127.0.0.1:${deadPort}`, dir, 7);
    await first.done;
    first.kill();
    const r = await startOtlpReceiver();
    const second = runChild(r.url, dir, 0);
    try {
      await second.done;
      await r.waitFor('logs', 7, 10000);
      assert.deepEqual(r.logs.map((l) => l.attributes['kill.seq']), [0, 1, 2, 3, 4, 5, 6]);
    } finally {
      second.kill();
      await r.close();
    }
  });
});
