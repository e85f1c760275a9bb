/**
 * An OTLP/HTTP test receiver on 127.0.0.1:0 that accepts what a collector accepts: POST /v1/logs and /v1/traces
 * as application/x-protobuf or application/json (415 otherwise), optionally gzip-encoded. Protobuf is decoded
 * by protobufjs against the OTLP message schema below (the opentelemetry-proto field numbers; no npm package
 * ships a current copy of the .proto files: otlp-transformer <= 0.219 ships generated code that predates
 * LogRecord.event_name, later versions a hand-written writer only). Responses can be scripted (503 x N, 429
 * with Retry-After, 400 with a message); every request is recorded; other paths record their JSON body (for
 * webhooks). Optional TLS.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; string event_name = 12; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16; string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Event events = 11; uint32 dropped_events_count = 12; repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message RpcStatus { int32 code = 1; string message = 2; }
`;

const root = protobuf.parse(OTLP_PROTO).root;
const LogsRequest = root.lookupType('otlp.ExportLogsServiceRequest');
const TraceRequest = root.lookupType('otlp.ExportTraceServiceRequest');
const RpcStatus = root.lookupType('otlp.RpcStatus');

/** An attribute map as decoded (ints as numbers, arrays as arrays, kvlists as objects). */
export type DecodedAttributes = Record<string, unknown>;

/** One log record as it arrived. */
export interface ReceivedLog {
  resource: DecodedAttributes;
  scope: { name: string; version: string };
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: unknown;
  eventName: string;
  attributes: DecodedAttributes;
  traceId: string;
  spanId: string;
  flags: number;
}

/** One span as it arrived. */
export interface ReceivedSpan {
  resource: DecodedAttributes;
  scope: { name: string; version: string };
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: DecodedAttributes;
  events: { name: string; timeUnixNano: string; attributes: DecodedAttributes }[];
  status: { code: number; message: string };
  flags: number;
}

/** One HTTP request as it arrived. */
export interface ReceivedRequest {
  path: string;
  contentType: string;
  contentEncoding: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body after gunzip. */
  body: Buffer;
  /** The status answered. */
  status: number;
}

/** A scripted answer: status (and optional Retry-After / error message), used for `times` requests. */
export interface ScriptedResponse {
  status: number;
  times?: number;
  retryAfter?: string;
  message?: string;
  /** Delay before answering (to test timeouts). */
  delayMs?: number;
}

/** The running receiver. */
export interface OtlpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  logs: ReceivedLog[];
  spans: ReceivedSpan[];
  /** JSON bodies that arrived on paths other than /v1/logs and /v1/traces (webhooks), in order. */
  webhooks: { path: string; body: unknown; headers: Record<string, string | string[] | undefined> }[];
  /** Queues answers for a path ('*' = any path); once used up the receiver answers 200. */
  script(path: string, responses: ScriptedResponse[]): void;
  /** Resolves when at least n log records (or spans, or webhooks) arrived, rejects after timeoutMs. */
  waitFor(what: 'logs' | 'spans' | 'webhooks' | 'requests', n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const hex = (b: unknown): string => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : typeof b === 'string' ? b : '');
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function anyValue(v: unknown): unknown {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (o.stringValue !== undefined) return o.stringValue;
  if (o.boolValue !== undefined) return o.boolValue;
  if (o.intValue !== undefined) return Number(String(o.intValue));
  if (o.doubleValue !== undefined) return Number(o.doubleValue);
  if (o.arrayValue !== undefined) return (((o.arrayValue as { values?: unknown[] }).values) ?? []).map(anyValue);
  if (o.kvlistValue !== undefined) return attrs((o.kvlistValue as { values?: unknown[] }).values);
  if (o.bytesValue !== undefined) return hex(o.bytesValue);
  return undefined;
}

function attrs(list: unknown): DecodedAttributes {
  const out: DecodedAttributes = {};
  for (const kv of (list as { key: string; value: unknown }[] | undefined) ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function scopeOf(s: unknown): { name: string; version: string } {
  const o = (s ?? {}) as { name?: string; version?: string };
  return { name: o.name ?? '', version: o.version ?? '' };
}

/** Flattens an ExportLogsServiceRequest (from protobufjs toObject or OTLP/JSON; both camelCase). */
function flattenLogs(req: Record<string, unknown>): ReceivedLog[] {
  const out: ReceivedLog[] = [];
  for (const rl of (req.resourceLogs as Record<string, unknown>[] | undefined) ?? []) {
    const resource = attrs((rl.resource as { attributes?: unknown } | undefined)?.attributes);
    for (const sl of (rl.scopeLogs as Record<string, unknown>[] | undefined) ?? []) {
      const scope = scopeOf(sl.scope);
      for (const lr of (sl.logRecords as Record<string, unknown>[] | undefined) ?? []) {
        out.push({
          resource,
          scope,
          timeUnixNano: str(lr.timeUnixNano),
          observedTimeUnixNano: str(lr.observedTimeUnixNano),
          severityNumber: Number(lr.severityNumber ?? 0),
          severityText: str(lr.severityText),
          body: anyValue(lr.body),
          eventName: str(lr.eventName),
          attributes: attrs(lr.attributes),
          traceId: hex(lr.traceId),
          spanId: hex(lr.spanId),
          flags: Number(lr.flags ?? 0),
        });
      }
    }
  }
  return out;
}

function flattenSpans(req: Record<string, unknown>): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (req.resourceSpans as Record<string, unknown>[] | undefined) ?? []) {
    const resource = attrs((rs.resource as { attributes?: unknown } | undefined)?.attributes);
    for (const ss of (rs.scopeSpans as Record<string, unknown>[] | undefined) ?? []) {
      const scope = scopeOf(ss.scope);
      for (const sp of (ss.spans as Record<string, unknown>[] | undefined) ?? []) {
        const st = (sp.status ?? {}) as { code?: number; message?: string };
        out.push({
          resource,
          scope,
          traceId: hex(sp.traceId),
          spanId: hex(sp.spanId),
          parentSpanId: hex(sp.parentSpanId),
          traceState: str(sp.traceState),
          name: str(sp.name),
          kind: Number(sp.kind ?? 0),
          startTimeUnixNano: str(sp.startTimeUnixNano),
          endTimeUnixNano: str(sp.endTimeUnixNano),
          attributes: attrs(sp.attributes),
          events: ((sp.events as Record<string, unknown>[] | undefined) ?? []).map((e) => ({ name: str(e.name), timeUnixNano: str(e.timeUnixNano), attributes: attrs(e.attributes) })),
          status: { code: Number(st.code ?? 0), message: st.message ?? '' },
          flags: Number(sp.flags ?? 0),
        });
      }
    }
  }
  return out;
}

/** Decodes an OTLP request body the way a collector does. Throws on a body that does not parse. */
export function decodeOtlp(path: '/v1/logs' | '/v1/traces', contentType: string, body: Buffer): ReceivedLog[] | ReceivedSpan[] {
  const type = path === '/v1/logs' ? LogsRequest : TraceRequest;
  const obj: Record<string, unknown> = contentType.startsWith('application/json')
    ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
    : (type.toObject(type.decode(body), { longs: String, enums: Number, bytes: Buffer }) as Record<string, unknown>);
  return path === '/v1/logs' ? flattenLogs(obj) : flattenSpans(obj);
}

/** Starts a receiver; pass tls {key, cert} (PEM) for https. */
export async function startOtlpReceiver(opts: { tls?: { key: Buffer | string; cert: Buffer | string } } = {}): Promise<OtlpReceiver> {
  const scripts = new Map<string, ScriptedResponse[]>();
  const waiters: (() => void)[] = [];
  const rec: Omit<OtlpReceiver, 'url' | 'port' | 'close'> = {
    requests: [],
    logs: [],
    spans: [],
    webhooks: [],
    script(path, responses) {
      scripts.set(path, responses.map((r) => ({ ...r, times: r.times ?? 1 })));
    },
    waitFor(what, n, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): boolean => {
          if (rec[what].length >= n) {
            clearTimeout(timer);
            resolve();
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} ${what}, have ${rec[what].length}`)), timeoutMs);
        const again = (): void => {
          if (!check()) waiters.push(again);
        };
        if (!check()) waiters.push(again);
      });
    },
  };
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const nextScripted = (path: string): ScriptedResponse | undefined => {
    for (const key of [path, '*']) {
      const list = scripts.get(key);
      if (list && list.length) {
        const r = list[0];
        r.times = (r.times ?? 1) - 1;
        if (r.times <= 0) list.shift();
        return r;
      }
    }
    return undefined;
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '/').split('?')[0];
        const contentType = String(req.headers['content-type'] ?? '');
        const contentEncoding = String(req.headers['content-encoding'] ?? '');
        let body = Buffer.concat(chunks);
        const answer = (status: number, payload: string | Buffer = '', type = 'application/json', extra: Record<string, string> = {}): void => {
          rec.requests.push({ path, contentType, contentEncoding, headers: req.headers, body, status });
          res.writeHead(status, { 'content-type': type, ...extra });
          res.end(payload);
          notify();
        };
        const scripted = nextScripted(path);
        if (scripted?.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
        if (contentEncoding === 'gzip') {
          try {
            body = gunzipSync(body);
          } catch {
            return answer(400, JSON.stringify({ code: 3, message: 'bad gzip body' }));
          }
        }
        if (scripted && scripted.status !== 200) {
          const extra: Record<string, string> = scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {};
          if (contentType === 'application/x-protobuf') {
            return answer(scripted.status, Buffer.from(RpcStatus.encode(RpcStatus.create({ code: 3, message: scripted.message ?? '' })).finish()), 'application/x-protobuf', extra);
          }
          return answer(scripted.status, JSON.stringify({ code: 3, message: scripted.message ?? '' }), 'application/json', extra);
        }
        if (path === '/v1/logs' || path === '/v1/traces') {
          if (req.method !== 'POST') return answer(405);
          if (contentType !== 'application/x-protobuf' && !contentType.startsWith('application/json')) return answer(415, 'unsupported content type', 'text/plain');
          let decoded: ReceivedLog[] | ReceivedSpan[];
          try {
            decoded = decodeOtlp(path, contentType, body);
          } catch (err) {
            return answer(400, JSON.stringify({ code: 3, message: `cannot decode: ${(err as Error).message}` }));
          }
          if (path === '/v1/logs') rec.logs.push(...(decoded as ReceivedLog[]));
          else rec.spans.push(...(decoded as ReceivedSpan[]));
          return contentType === 'application/x-protobuf' ? answer(200, Buffer.alloc(0), 'application/x-protobuf') : answer(200, '{}');
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          parsed = body.toString('utf8');
        }
        rec.webhooks.push({ path, body: parsed, headers: req.headers });
        return answer(200, '{"ok":true}');
      })();
    });
  };

  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(rec as OtlpReceiver, {
    port,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
