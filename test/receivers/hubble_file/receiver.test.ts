import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { HealthRegistry } from '../../../src/component/health.js';
import { TelemetryRegistry } from '../../../src/component/telemetry.js';
import { createDefaultConfig } from '../../../src/component/types.js';
import type { ComponentSettings } from '../../../src/component/types.js';
import { RecentConnections, mapFlow } from '../../../src/hubble/map.js';
import { normalizeResponse } from '../../../src/hubble/normalize.js';
import type { Observation } from '../../../src/model/observation.js';
import { hubbleFileFactory } from '../../../src/receivers/hubble_file/factory.js';
import { HubbleFileReceiver } from '../../../src/receivers/hubble_file/receiver.js';
import type { HubbleFileOptions } from '../../../src/receivers/hubble_file/receiver.js';
import { PastewatchError } from '../../../src/util/errors.js';
import { createMemoryLogger } from '../../../src/util/logger.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'hubble');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');
const SCENARIO_TEXT = read('egress-scenario.jsonl');
const SCENARIO = SCENARIO_TEXT.split('\n').filter((l) => l !== '');
const dir = mkdtempSync(join(tmpdir(), 'pw-hubble-file-'));

interface H {
  receiver: HubbleFileReceiver;
  emitted: Observation[];
  ended: number;
  failures: Error[];
  registry: TelemetryRegistry;
  logger: ReturnType<typeof createMemoryLogger>;
  health: HealthRegistry;
  skipped(reason?: string): number;
}
const started: H[] = [];
after(async () => {
  for (const h of started) await h.receiver.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function make(overrides: Record<string, unknown>, options: HubbleFileOptions = {}): H {
  const registry = new TelemetryRegistry();
  const logger = createMemoryLogger('debug');
  const health = new HealthRegistry();
  const id = 'hubble_file';
  const settings: ComponentSettings = { id, kind: 'receiver', logger, telemetry: registry.forComponent('receiver', id), registry, health, env: {} };
  const receiver = new HubbleFileReceiver(settings, hubbleFileFactory.schema.parse({ poll_interval_ms: 15, ...overrides }), options);
  const h: H = { receiver, emitted: [], ended: 0, failures: [], registry, logger, health, skipped: (reason) => registry.get(id, 'skipped', reason ? { reason } : undefined) };
  started.push(h);
  return h;
}

async function start(overrides: Record<string, unknown>, options: HubbleFileOptions = {}): Promise<H> {
  const h = make(overrides, options);
  await h.receiver.start({ emit: (o) => h.emitted.push(o), end: () => h.ended++, fail: (e) => h.failures.push(e) });
  return h;
}

async function until(cond: () => boolean, label: string, timeoutMs = 4000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function reference(lines: string[]): Observation[] {
  const ctx = { receiver: 'hubble_file', connections: new RecentConnections({ maxEntries: 1000, idleTimeoutMs: 120_000 }) };
  return lines.flatMap((l) => {
    const ev = normalizeResponse(JSON.parse(l));
    return typeof ev !== 'string' && ev.kind === 'flow' ? mapFlow(ev.flow, ctx).observations : [];
  });
}

/** Destination ports of the SYN-opened connections in the order seen (to check ordering across rotation). */
const sports = (h: H): number[] => h.emitted.filter((o) => o.kind === 'hubble').map((o) => o.source?.port ?? -1);

/** A synthetic connection line with source port `sport` (each its own 5-tuple). */
function synLine(sport: number, usec = sport): string {
  const f = JSON.parse(SCENARIO[2]) as { flow: Record<string, unknown> };
  const flow = { ...f.flow, uuid: `u-${sport}`, time: `2026-12-04T20:00:01.${String(usec).padStart(6, '0')}000Z`, l4: { TCP: { source_port: sport, destination_port: 443, flags: { SYN: true } } } };
  return JSON.stringify({ ...f, flow });
}

describe('hubble_file: finite inputs', () => {
  test('stdin ("-"): every line read, mapped like the gRPC form, then end()', async () => {
    const input = new PassThrough();
    const h = await start({ path: '-' }, { stdin: input });
    // Fed in awkward chunks to cross line boundaries.
    const buf = Buffer.from(SCENARIO_TEXT);
    for (let i = 0; i < buf.length; i += 777) input.write(buf.subarray(i, i + 777));
    input.end();
    await until(() => h.ended === 1, 'end');
    assert.deepEqual(h.emitted, reference(SCENARIO).map((o) => ({ ...o, receiver: 'hubble_file' })));
    assert.equal(h.emitted.length, 8);
    assert.equal(h.registry.get('hubble_file', 'received'), 12);
  });

  test('a file with follow false reads from the beginning and ends', async () => {
    const p = join(dir, 'once.jsonl');
    writeFileSync(p, SCENARIO_TEXT);
    const h = await start({ path: p, follow: false });
    await until(() => h.ended === 1, 'end');
    assert.equal(h.emitted.length, 8);
    assert.deepEqual(h.failures, []);
  });

  test('a gzip-compressed rotated export file (follow false) is decompressed', async () => {
    const p = join(dir, 'events.log.1.gz');
    writeFileSync(p, gzipSync(Buffer.from(SCENARIO_TEXT)));
    const h = await start({ path: p, follow: false });
    await until(() => h.ended === 1, 'end');
    assert.equal(h.emitted.length, 8);
  });

  test('node_status, lost_events, agent_event and debug_event lines are handled, not errors', async () => {
    const p = join(dir, 'events.jsonl');
    writeFileSync(p, read('events-mixed.jsonl'));
    const h = await start({ path: p, follow: false });
    await until(() => h.ended === 1, 'end');
    assert.equal(h.emitted.length, 1);
    assert.equal(h.skipped(), 0);
    assert.equal(h.registry.get('hubble_file', 'hubble_lost_events', { source: 'PERF_EVENT_RING_BUFFER' }), 42);
    assert.equal(h.registry.get('hubble_file', 'hubble_node_status', { state: 'NODE_UNAVAILABLE' }), 1);
    assert.equal(h.registry.get('hubble_file', 'hubble_events', { kind: 'agent_event' }), 1);
    assert.equal(h.registry.get('hubble_file', 'hubble_events', { kind: 'debug_event' }), 1);
    assert.ok(h.logger.lines.some((l) => l.includes('WARN') && l.includes('hubble lost events') && l.includes('num_events_lost=42')));
    assert.ok(h.logger.lines.some((l) => l.includes('WARN') && l.includes('state=NODE_UNAVAILABLE') && l.includes('kind-kind/kind-worker2')));
  });

  test('garbage and over-long lines are counted and logged with file and line, the good lines kept', async () => {
    const p = join(dir, 'garbage.jsonl');
    writeFileSync(p, read('garbage.jsonl'));
    const h = await start({ path: p, follow: false, max_line_bytes: 4096 });
    await until(() => h.ended === 1, 'end');
    assert.deepEqual(h.emitted.map((o) => o.names[0]?.name), ['pastebin.com', 'paste.ee']);
    assert.equal(h.skipped('invalid_json'), 2);
    assert.equal(h.skipped('not_an_object'), 1);
    assert.equal(h.skipped('unknown_record'), 1);
    assert.equal(h.skipped('line_too_long'), 1);
    assert.deepEqual(h.failures, []);
    const warn = (n: number): string | undefined => h.logger.lines.find((l) => l.includes(`skipped line ${n} of ${p}:`));
    assert.match(warn(2) ?? '', /line is not JSON.*reason=invalid_json/);
    assert.match(warn(3) ?? '', /not a JSON object/);
    assert.match(warn(4) ?? '', /none of flow, node_status/);
    assert.match(warn(6) ?? '', /longer than max_line_bytes \(4096\).*bytes=\d{4}/);
    // The torn line (5) is the second invalid_json: logged only once per log_every (1000).
    assert.equal(warn(5), undefined);
  });

  test('log_every: the first skip of a reason and every Nth are logged', async () => {
    const p = join(dir, 'many-bad.jsonl');
    writeFileSync(p, Array.from({ length: 10 }, (_, i) => `bad ${i}`).join('\n') + '\n');
    const h = await start({ path: p, follow: false, log_every: 4 });
    await until(() => h.ended === 1, 'end');
    assert.equal(h.skipped('invalid_json'), 10);
    assert.deepEqual(
      h.logger.lines.filter((l) => l.includes('skipped line')).map((l) => /skipped line (\d+)/.exec(l)?.[1]),
      ['1', '4', '8'],
    );
  });

  test('a missing file that is not followed: start rejects with INPUT_NOT_FOUND naming it', async () => {
    const h = make({ path: join(dir, 'nope.jsonl'), follow: false });
    await assert.rejects(
      h.receiver.start({ emit: () => undefined, end: () => undefined, fail: () => undefined }),
      (e: unknown) => e instanceof PastewatchError && e.code === 'INPUT_NOT_FOUND' && e.message.includes('nope.jsonl'),
    );
  });
});

describe('hubble_file: tailing', () => {
  test('start_at end skips what is there; appended lines (even split mid-line) are read', async () => {
    const p = join(dir, 'tail.jsonl');
    writeFileSync(p, synLine(1000) + '\n' + synLine(1001).slice(0, 50)); // a torn last line too
    const h = await start({ path: p });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(h.emitted.length, 0);
    const l = synLine(1002);
    appendFileSync(p, synLine(1001).slice(50) + '\n' + l.slice(0, 100));
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(p, l.slice(100) + '\n');
    await until(() => h.emitted.length === 1, 'one observation');
    assert.deepEqual(sports(h), [1002]);
    assert.equal(h.skipped(), 0, 'the torn tail before the start point is not reported as garbage');
  });

  test('rotation by rename + new file: the rest of the old file first, then the new one', async () => {
    const p = join(dir, 'events.log');
    writeFileSync(p, '');
    const h = await start({ path: p });
    appendFileSync(p, synLine(2000) + '\n');
    await until(() => h.emitted.length === 1, 'first line');
    // The writer adds to the old file, renames it and starts a new one before the next poll.
    appendFileSync(p, synLine(2001) + '\n' + synLine(2002) + '\n');
    renameSync(p, `${p}.1`);
    writeFileSync(p, synLine(2003) + '\n');
    await until(() => h.emitted.length === 4, 'four observations');
    appendFileSync(p, synLine(2004) + '\n');
    await until(() => h.emitted.length === 5, 'five observations');
    assert.deepEqual(sports(h), [2000, 2001, 2002, 2003, 2004]);
    assert.equal(h.registry.get('hubble_file', 'rotations', { kind: 'rename' }), 1);
  });

  test('copytruncate: the file is cut and rewritten, reading restarts at 0', async () => {
    const p = join(dir, 'ct.log');
    writeFileSync(p, '');
    const h = await start({ path: p });
    appendFileSync(p, synLine(3000) + '\n' + synLine(3001) + '\n');
    await until(() => h.emitted.length === 2, 'two lines');
    copyFileSync(p, `${p}.1`);
    truncateSync(p, 0);
    await new Promise((r) => setTimeout(r, 50));
    appendFileSync(p, synLine(3002) + '\n');
    await until(() => h.emitted.length === 3, 'line after truncation');
    assert.deepEqual(sports(h), [3000, 3001, 3002]);
    assert.equal(h.registry.get('hubble_file', 'rotations', { kind: 'truncate' }), 1);
  });

  test('a followed file that does not exist yet is waited for and read from its start', async () => {
    const p = join(dir, 'later.log');
    const h = await start({ path: p });
    assert.ok(h.logger.lines.some((l) => l.includes('waiting for the hubble flow file') && l.includes(p)));
    await new Promise((r) => setTimeout(r, 40));
    writeFileSync(p, synLine(4000) + '\n');
    await until(() => h.emitted.length === 1, 'line of the new file');
    await h.receiver.shutdown();
    appendFileSync(p, synLine(4001) + '\n');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(h.emitted.length, 1, 'nothing after shutdown');
    assert.equal(h.ended, 0, 'a followed file never ends by itself');
  });
});

describe('hubble_file: factory', () => {
  test('defaults and validation', async () => {
    const d = createDefaultConfig(hubbleFileFactory);
    assert.deepEqual(d, {
      path: '/var/run/cilium/hubble/events.log',
      start_at: 'auto',
      follow: true,
      max_line_bytes: 1048576,
      poll_interval_ms: 250,
      log_every: 1000,
      max_connections: 65536,
      connection_idle_ms: 120000,
    });
    assert.equal(hubbleFileFactory.schema.safeParse({ path: '' }).success, false);
    assert.equal(hubbleFileFactory.schema.safeParse({ start_at: 'middle' }).success, false);
    assert.equal(hubbleFileFactory.schema.safeParse({ max_line_bytes: 0 }).success, false);
    assert.deepEqual(hubbleFileFactory.validate!(hubbleFileFactory.schema.parse({ path: '-', start_at: 'end' })).map((p) => p.path), [['start_at']]);
    const r = make({});
    await r.receiver.shutdown();
    await r.receiver.shutdown();
  });
});
