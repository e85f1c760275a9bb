/** Shared setup of hubble receiver tests: an in-process Observer gRPC server and receiver harness. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthRegistry } from '../../../src/component/health.js';
import { TelemetryRegistry } from '../../../src/component/telemetry.js';
import type { ComponentSettings } from '../../../src/component/types.js';
import { loadObserverProto } from '../../../src/hubble/proto.js';
import type { Observation } from '../../../src/model/observation.js';
import { parseRfc3339Nano } from '../../../src/model/time.js';
import { hubbleConfigSchema } from '../../../src/receivers/hubble/config.js';
import { HubbleReceiver } from '../../../src/receivers/hubble/receiver.js';
import { createMemoryLogger } from '../../../src/util/logger.js';
import { toGrpcObject } from '../../../scripts/fixtures/hubble-flows.js';

/** A GetFlows request as the server decoded it. */
export type Req = Record<string, unknown> & { since?: { seconds: string; nanos: number }; follow?: boolean };

/** What the fake server does with one GetFlows call. */
export type Handler = (call: grpc.ServerWritableStream<Req, unknown>) => void;

/** Unix nanoseconds of a request's since, or undefined. */
export function sinceOf(req: Req): bigint | undefined {
  if (!req.since) return undefined;
  return BigInt(req.since.seconds) * 1_000_000_000n + BigInt(req.since.nanos ?? 0);
}

/** RFC 3339 -> unix ns (fixture times). */
export function nsOf(text: string): bigint {
  const ns = parseRfc3339Nano(text);
  if (ns === undefined) throw new Error(`bad time ${text}`);
  return ns;
}

/** An in-process Observer server (real grpc-js, real HTTP/2, the same .proto). */
export class FakeHubble {
  readonly server = new grpc.Server();
  readonly requests: Req[] = [];
  readonly calls: grpc.ServerWritableStream<Req, unknown>[] = [];
  address = '';

  constructor(handler: Handler) {
    this.server.addService(loadObserverProto().service, {
      GetFlows: (call: grpc.ServerWritableStream<Req, unknown>) => {
        this.requests.push(call.request);
        this.calls.push(call);
        call.on('error', () => undefined);
        handler(call);
      },
    });
  }

  /** Binds (`127.0.0.1:0`, `127.0.0.1:PORT`, `unix:/path`); returns the port (0 for unix). */
  listen(addr: string, creds = grpc.ServerCredentials.createInsecure()): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(addr, creds, (err, port) => {
        if (err) reject(err);
        else {
          this.address = addr.startsWith('unix:') ? addr : `127.0.0.1:${port}`;
          resolve(port);
        }
      });
    });
  }

  /** Kills the server and its streams at once (a crash or restart). */
  kill(): void {
    this.server.forceShutdown();
  }
}

/** Writes protojson fixture lines to a call in gRPC object form. */
export function writeLines(call: grpc.ServerWritableStream<Req, unknown>, lines: unknown[]): void {
  for (const l of lines) call.write(toGrpcObject(l));
}

/** Reads a jsonl fixture. */
export function fixture(name: string): Record<string, unknown>[] {
  return readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'hubble', name), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A receiver under test with what it emitted. */
export interface Harness {
  receiver: HubbleReceiver;
  emitted: Observation[];
  ended: number;
  failures: Error[];
  registry: TelemetryRegistry;
  health: HealthRegistry;
  logger: ReturnType<typeof createMemoryLogger>;
  settings: ComponentSettings;
  status(): string | undefined;
}

/** Creates and starts a hubble receiver with test-friendly reconnect timings. */
export async function startReceiver(overrides: Record<string, unknown>, id = 'hubble'): Promise<Harness> {
  const registry = new TelemetryRegistry();
  const health = new HealthRegistry();
  const logger = createMemoryLogger('debug');
  const settings: ComponentSettings = { id, kind: 'receiver', logger, telemetry: registry.forComponent('receiver', id), registry, health, env: {} };
  const config = hubbleConfigSchema.parse({ reconnect: { initial_backoff_ms: 30, max_backoff_ms: 200, jitter: 0.1 }, ...overrides });
  const receiver = new HubbleReceiver(settings, config);
  const h: Harness = {
    receiver,
    emitted: [],
    ended: 0,
    failures: [],
    registry,
    health,
    logger,
    settings,
    status: () => health.list().find((e) => e.id === id)?.status,
  };
  await receiver.start({ emit: (o) => h.emitted.push(o), end: () => h.ended++, fail: (e) => h.failures.push(e) });
  return h;
}

/** Polls until cond() is true or the timeout passes (then throws with the label). */
export async function until(cond: () => boolean, label: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Certificates made by openssl: a CA, a server cert for the relay names and 127.0.0.1, a client cert. */
export interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
}

/** Generates the certificates in a temp dir with the openssl CLI. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'pw-hubble-tls-'));
  const f = (n: string): string => join(dir, n);
  const ossl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  const ca = (name: string): void => {
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`);
  };
  ca('ca');
  ca('other-ca');
  const leaf = (name: string, cn: string, ext: string): void => {
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    execFileSync('sh', ['-c', `printf '%s\\n' "${ext}" > ${f(`${name}.ext`)}`]);
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  leaf('server', '*.hubble-relay.cilium.io', 'subjectAltName=DNS:*.hubble-relay.cilium.io,DNS:localhost,IP:127.0.0.1');
  leaf('client', 'pastewatch.hubble-relay.cilium.io', 'extendedKeyUsage=clientAuth');
  return { dir, ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'), otherCa: f('other-ca.crt') };
}
