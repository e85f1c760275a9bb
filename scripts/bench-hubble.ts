/**
 * Hubble receivers benchmark: decode-and-map rate of realistic flows
 *   1. from a local gRPC server (a child process, so this process measures only the client) streaming N
 *      pre-encoded GetFlowsResponse messages into the `hubble` receiver;
 *   2. from a jsonpb file of N lines read by the `hubble_file` receiver (follow: false);
 *   3. normalize + mapFlow alone on pre-parsed objects (the mapping's own cost).
 * Run: node --import tsx scripts/bench-hubble.ts [N]   (default 200000). Prints flows/s by wall clock and
 * per CPU second of this process. Target: >= 100k flows/s each on one core.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HealthRegistry } from '../src/component/health.js';
import { TelemetryRegistry } from '../src/component/telemetry.js';
import type { ComponentSettings } from '../src/component/types.js';
import { RecentConnections, mapFlow } from '../src/hubble/map.js';
import { normalizeResponse } from '../src/hubble/normalize.js';
import { GET_FLOWS_PATH, loadObserverProto } from '../src/hubble/proto.js';
import { hubbleConfigSchema } from '../src/receivers/hubble/config.js';
import { HubbleReceiver } from '../src/receivers/hubble/receiver.js';
import { hubbleFileConfigSchema } from '../src/receivers/hubble_file/config.js';
import { HubbleFileReceiver } from '../src/receivers/hubble_file/receiver.js';
import { createLogger } from '../src/util/logger.js';
import { scenario, toGrpcObject } from './fixtures/hubble-flows.js';

type Json = Record<string, unknown>;

/** N realistic responses: the scenario's 12-flow pattern repeated with fresh ports, uuids and times. */
function flows(n: number): Json[] {
  const base = scenario();
  const out: Json[] = [];
  const t0 = Date.UTC(2026, 11, 4, 20) * 1000; // microseconds
  for (let i = 0; out.length < n; i++) {
    for (const r of base) {
      if (out.length >= n) break;
      const f = structuredClone(r.flow) as Json & { l4?: { TCP?: Json; UDP?: Json }; IP: Json };
      const us = t0 + out.length * 7;
      f.time = `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}123Z`;
      f.uuid = `bench-${out.length}`;
      const port = 10_000 + (i % 50_000);
      const l4 = f.l4?.TCP ?? f.l4?.UDP;
      if (l4) {
        if (l4.source_port === 53 || l4.source_port === 443 || l4.source_port === 80) l4.destination_port = port;
        else l4.source_port = port;
      }
      out.push({ flow: f, node_name: 'kind-worker', time: f.time });
    }
  }
  return out;
}

function settings(id: string): ComponentSettings {
  const registry = new TelemetryRegistry();
  return { id, kind: 'receiver', logger: createLogger({ level: 'error' }), telemetry: registry.forComponent('receiver', id), registry, health: new HealthRegistry(), env: {} };
}

/**
 * Prints the rates: by wall clock, and per CPU second of this process (user + system, all threads, so GC
 * helpers count; the gRPC server runs in a child process and does not). On a shared or loaded machine the
 * CPU figure is the one to compare.
 */
function report(label: string, n: number, wallMs: number, cpuMs: number, emitted: number): void {
  const fmt = (v: number): string => Math.round(v).toLocaleString('en-US').padStart(9);
  console.log(`${label.padEnd(34)} ${String(n).padStart(8)} flows  ${wallMs.toFixed(0).padStart(6)} ms  ${fmt((n / wallMs) * 1000)} flows/s wall  ${fmt((n / cpuMs) * 1000)} flows/s per CPU-s  (${emitted} observations)`);
}

/** Runs fn and returns wall and process CPU milliseconds. */
async function measure(fn: () => Promise<void> | void): Promise<{ wall: number; active: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, active: (cpu.user + cpu.system) / 1000 };
}

/**
 * Child mode: a minimal gRPC server on node:http2 that streams N pre-encoded, pre-framed GetFlowsResponse
 * messages in large writes, so the server is never the bottleneck and the parent measures its client.
 * (grpc-js's own server writes one message at a time and tops out well below the client's rate.)
 */
async function serve(n: number): Promise<void> {
  const { packageDefinition } = loadObserverProto();
  const resp = packageDefinition['observer.GetFlowsResponse'] as unknown as { serialize(v: unknown): Buffer };
  const framed: Buffer[] = [];
  for (const f of flows(n)) {
    const msg = resp.serialize(toGrpcObject(f));
    const hdr = Buffer.alloc(5);
    hdr.writeUInt32BE(msg.length, 1);
    framed.push(hdr, msg);
  }
  const body = Buffer.concat(framed);
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== GET_FLOWS_PATH) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
      return;
    }
    stream.on('data', () => undefined); // the request message
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    const CH = 1 << 20;
    let off = 0;
    const pump = (): void => {
      while (off < body.length) {
        const ok = stream.write(body.subarray(off, off + CH));
        off += CH;
        if (!ok) {
          stream.once('drain', pump);
          return;
        }
      }
      stream.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
}

async function benchGrpc(n: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const s = settings('hubble');
  const r = new HubbleReceiver(s, hubbleConfigSchema.parse({ endpoint: `127.0.0.1:${port}`, follow: false }));
  let emitted = 0;
  const m = await measure(() => new Promise<void>((resolve, reject) => {
    void r.start({ emit: () => emitted++, end: resolve, fail: reject });
  }));
  await r.shutdown();
  child.kill();
  const received = s.registry.get('hubble', 'received');
  if (received !== n) throw new Error(`gRPC bench received ${received} of ${n}`);
  report('gRPC GetFlows -> hubble receiver', n, m.wall, m.active, emitted);
}

async function benchFile(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-hubble-'));
  const p = join(dir, 'flows.jsonl');
  writeFileSync(p, flows(n).map((f) => JSON.stringify(f)).join('\n') + '\n');
  const s = settings('hubble_file');
  const r = new HubbleFileReceiver(s, hubbleFileConfigSchema.parse({ path: p, follow: false }));
  let emitted = 0;
  const m = await measure(() => new Promise<void>((resolve, reject) => {
    void r.start({ emit: () => emitted++, end: resolve, fail: reject });
  }));
  await r.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const received = s.registry.get('hubble_file', 'received');
  if (received !== n) throw new Error(`file bench received ${received} of ${n}`);
  report('jsonpb file -> hubble_file', n, m.wall, m.active, emitted);
}

async function benchMap(n: number): Promise<void> {
  const objs = flows(n);
  const ctx = { receiver: 'bench', connections: new RecentConnections({ maxEntries: 65_536, idleTimeoutMs: 120_000 }) };
  let emitted = 0;
  const m = await measure(() => {
    for (const o of objs) {
      const ev = normalizeResponse(o);
      if (typeof ev !== 'string' && ev.kind === 'flow') emitted += mapFlow(ev.flow, ctx).observations.length;
    }
  });
  report('normalize + mapFlow only', n, m.wall, m.active, emitted);
}

const argv = process.argv.slice(2);
if (argv[0] === '--serve') {
  await serve(Number(argv[1]));
} else {
  const n = Number(argv[0] ?? 200_000);
  console.log(`node ${process.version}, ${n} flows per run (12-flow connection pattern: DNS req/resp, 4 TCP flows of one connection, L7 HTTP ...)`);
  // `BENCH_ONLY=grpc|file|map` runs one path (for profiling).
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'map') await benchMap(n);
  if (!only || only === 'file') await benchFile(n);
  if (!only || only === 'grpc') await benchGrpc(n);
}
