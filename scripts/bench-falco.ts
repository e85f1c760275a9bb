/**
 * Load test of the falco receiver on loopback: a child process runs the receiver (one thread, so one
 * core) and counts what reaches its sink; this process drives N keep-alive connections, one request in
 * flight on each (as Falco does: it blocks on every alert), for a bounded time. Reports alerts/s,
 * latency p50/p99/max, the receiver's CPU time, and checks alerts received == alerts sent.
 *
 * The default client writes HTTP/1.1 requests on raw keep-alive sockets and reads each response before
 * sending the next (a lean client, so the load generator does not starve the receiver of the second
 * core); `--client http` uses node's http.request with an http.Agent({ keepAlive: true }) instead.
 *
 * Run: node --import tsx scripts/bench-falco.ts [--duration 10] [--connections 16] [--client raw|http] [--body file.json]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

interface ServerReady {
  type: 'ready';
  port: number;
}
interface ServerStats {
  type: 'stats';
  emitted: number;
  received: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

async function runServer(): Promise<void> {
  const { FalcoReceiver } = await import('../src/receivers/falco/receiver.js');
  const { falcoConfigSchema } = await import('../src/receivers/falco/config.js');
  const { TelemetryRegistry } = await import('../src/component/telemetry.js');
  const { HealthRegistry } = await import('../src/component/health.js');
  const { createLogger } = await import('../src/util/logger.js');
  const registry = new TelemetryRegistry();
  const settings = {
    id: 'falco',
    kind: 'receiver' as const,
    logger: createLogger({ level: 'warn' }),
    telemetry: registry.forComponent('receiver', 'falco'),
    registry,
    health: new HealthRegistry(),
    env: {},
  };
  const receiver = new FalcoReceiver(settings, falcoConfigSchema.parse({ endpoint: '127.0.0.1:0' }));
  let emitted = 0;
  await receiver.start({ emit: () => void emitted++, end: () => undefined, fail: (e) => console.error(e) });
  let cpuStart = process.cpuUsage();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'reset') {
      cpuStart = process.cpuUsage();
    } else if (m.type === 'stats') {
      const cpu = process.cpuUsage(cpuStart);
      const stats: ServerStats = { type: 'stats', emitted, received: registry.get('falco', 'received'), cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 };
      process.send?.(stats);
    } else if (m.type === 'stop') {
      void receiver.shutdown().then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', port: receiver.address()?.port ?? 0 } satisfies ServerReady);
}

function ask<T>(child: ChildProcess, msg: { type: string }, want: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }): void => {
      if (m.type !== want) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    if (msg.type !== 'none') child.send(msg);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runClient(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '16' },
      body: { type: 'string', default: join(ROOT, 'test', 'fixtures', 'falco', 'falco-paste-connect-ipv4.json') },
      warmup: { type: 'string', default: '1' },
      client: { type: 'string', default: 'raw' },
    },
  });
  const durationMs = Number(values.duration) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const connections = Number(values.connections);
  const body = Buffer.from(readFileSync(values.body, 'utf8').trim());

  const child = fork(import.meta.filename, ['--server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await ask<ServerReady>(child, { type: 'none' }, 'ready');
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'falcosecurity/falco' };

  let sent = 0;
  let ok = 0;
  let failed = 0;
  let measuring = false;
  const latencies: number[] = [];
  const done = (status: number, t0: bigint): void => {
    if (status === 200) ok++;
    else failed++;
    if (measuring) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  };

  // node's http client over a keep-alive agent.
  const viaHttp = (): (() => Promise<void>) => () =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          done(res.statusCode ?? 0, t0);
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      sent++;
      req.end(body);
    });

  // One raw keep-alive socket: write a request, read its response (status line + content-length body).
  const sockets: Socket[] = [];
  const viaRaw = async (): Promise<() => Promise<void>> => {
    const head = Buffer.from(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: falcosecurity/falco\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const wire = Buffer.concat([head, body]);
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let buf: Buffer = Buffer.alloc(0);
    let pending: { resolve: () => void; t0: bigint } | undefined;
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (pending) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headText = buf.subarray(0, end).toString('latin1');
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const status = Number(headText.slice(9, 12));
        buf = buf.subarray(end + 4 + len);
        const p = pending;
        pending = undefined;
        done(status, p.t0);
        p.resolve();
      }
    });
    socket.on('error', () => {
      failed++;
      pending?.resolve();
    });
    return () =>
      new Promise<void>((resolve) => {
        pending = { resolve, t0: process.hrtime.bigint() };
        sent++;
        socket.write(wire);
      });
  };

  const senders = values.client === 'http' ? Array.from({ length: connections }, viaHttp) : await Promise.all(Array.from({ length: connections }, viaRaw));

  let stopAt = Date.now() + warmupMs;
  const loop = async (one: () => Promise<void>): Promise<void> => {
    while (Date.now() < stopAt) await one();
  };
  // Warm-up (JIT, connection setup), not measured.
  await Promise.all(senders.map(loop));
  const warmOk = ok;
  child.send({ type: 'reset' });
  measuring = true;
  const t0 = Date.now();
  stopAt = t0 + durationMs;
  await Promise.all(senders.map(loop));
  const elapsed = (Date.now() - t0) / 1000;
  const stats = await ask<ServerStats>(child, { type: 'stats' }, 'stats');
  child.send({ type: 'stop' });
  agent.destroy();
  for (const s of sockets) s.destroy();

  const sorted = Float64Array.from(latencies).sort();
  const measured = ok - warmOk;
  const result = {
    duration_s: Number(elapsed.toFixed(2)),
    connections,
    client: values.client,
    body_bytes: body.length,
    alerts_sent: sent,
    alerts_ok: ok,
    alerts_failed: failed,
    alerts_received_by_sink: stats.emitted,
    none_lost: stats.emitted === ok && failed === 0 && sent === ok,
    alerts_per_s: Math.round(measured / elapsed),
    latency_ms: { p50: +percentile(sorted, 50).toFixed(3), p99: +percentile(sorted, 99).toFixed(3), max: +(sorted.at(-1) ?? NaN).toFixed(3) },
    receiver_cpu_s: +((stats.cpuUserMs + stats.cpuSystemMs) / 1000).toFixed(2),
    receiver_cpu_share_of_one_core: +((stats.cpuUserMs + stats.cpuSystemMs) / 1000 / elapsed).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `falco receiver: ${result.alerts_per_s} alerts/s over ${connections} keep-alive connections, p50 ${result.latency_ms.p50} ms, p99 ${result.latency_ms.p99} ms; ` +
      `sent ${sent}, received ${stats.emitted}${result.none_lost ? ' (none lost)' : ' (MISMATCH)'}`,
  );
  if (!result.none_lost) process.exitCode = 1;
}

if (process.argv.includes('--server')) await runServer();
else await runClient();
