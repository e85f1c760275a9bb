/** Settings of the `hubble` receiver: a streaming GetFlows call to a Cilium agent or hubble-relay. */
import { z } from 'zod';
import { parseRfc3339Nano } from '../../model/time.js';

/** `unix:///abs/path`, `unix:/abs/path`, `host:port` or `[v6]:port`. */
const ENDPOINT_RE = /^(?:unix:(?:\/\/)?\/\S+|(?:\[[0-9a-fA-F:.%]+\]|[A-Za-z0-9._-]+):\d{1,5})$/;

/** true when the endpoint is a unix socket (no TLS needed on a local socket, though it is allowed). */
export function isUnixEndpoint(endpoint: string): boolean {
  return endpoint.startsWith('unix:');
}

/** Checks an endpoint: returns a problem text, or undefined when fine. */
export function endpointProblem(endpoint: string): string | undefined {
  if (!ENDPOINT_RE.test(endpoint)) return 'endpoint must be host:port, [ipv6]:port or unix:///path/to/hubble.sock';
  const m = /:(\d+)$/.exec(endpoint);
  if (!isUnixEndpoint(endpoint) && m && (Number(m[1]) < 1 || Number(m[1]) > 65535)) return 'endpoint port must be 1-65535';
  return undefined;
}

const DURATION_RE = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses `since`: RFC 3339 (`2026-12-04T20:00:00Z`) or a duration back from `nowMs` (`5m`, `1h30m`, `2d`,
 * `90s`). Returns unix nanoseconds, or undefined when it is neither.
 */
export function parseSince(text: string, nowMs: number): bigint | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const abs = parseRfc3339Nano(t);
  if (abs !== undefined) return abs;
  const m = DURATION_RE.exec(t);
  if (!m || m.slice(1).every((g) => g === undefined)) return undefined;
  const [d, h, min, s, ms] = m.slice(1).map((g) => Number(g ?? 0));
  const back = (((d * 24 + h) * 60 + min) * 60 + s) * 1000 + ms;
  return BigInt(nowMs - back) * 1_000_000n;
}

const VERDICTS = ['VERDICT_UNKNOWN', 'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'] as const;
/** Protocol names Hubble's protocol filter accepts (L4 and L7). */
export const FILTER_PROTOCOLS = ['icmp', 'icmpv4', 'icmpv6', 'tcp', 'udp', 'sctp', 'dns', 'http', 'kafka'] as const;

const strs = z.array(z.string().min(1)).optional();
const ports = z.array(z.union([z.string().regex(/^\d{1,5}$/), z.number().int().min(0).max(65535)]).transform(String)).optional();

/** One Hubble FlowFilter in snake_case (fields inside are ANDed; filters in a list are ORed). */
export const flowFilterSchema = z.strictObject({
  source_ip: strs,
  source_pod: strs,
  destination_ip: strs,
  destination_pod: strs,
  verdict: z.array(z.enum(VERDICTS)).optional(),
  event_type: z.array(z.strictObject({ type: z.number().int(), match_sub_type: z.boolean().optional(), sub_type: z.number().int().optional() })).optional(),
  source_fqdn: strs,
  destination_fqdn: strs,
  source_label: strs,
  destination_label: strs,
  protocol: z
    .array(z.string().refine((p) => (FILTER_PROTOCOLS as readonly string[]).includes(p.toLowerCase()), { message: `protocol must be one of ${FILTER_PROTOCOLS.join(', ')}` }))
    .optional(),
  source_port: ports,
  destination_port: ports,
  reply: z.array(z.boolean()).optional(),
  dns_query: z.array(z.string()).optional(),
  node_name: strs,
  traffic_direction: z.array(z.enum(['TRAFFIC_DIRECTION_UNKNOWN', 'INGRESS', 'EGRESS'])).optional(),
});

/** A FlowFilter as configured. */
export type FlowFilterConfig = z.infer<typeof flowFilterSchema>;

/**
 * The default whitelist: egress flows (connections the workloads open) OR DNS L7 flows (the DNS proxy's
 * request/response records, whichever direction Hubble gives them), so names can be correlated.
 */
export const DEFAULT_WHITELIST: FlowFilterConfig[] = [{ traffic_direction: ['EGRESS'] }, { protocol: ['dns'] }];

const tlsSchema = z.strictObject({
  /** Use TLS (hubble-relay with TLS, or an agent's :4244 which is mTLS by default). */
  enabled: z.boolean().default(false),
  /** PEM CA bundle that signed the server certificate; empty uses the system roots. */
  ca_file: z.string().default(''),
  /** PEM client certificate (mTLS), with key_file. */
  cert_file: z.string().default(''),
  /** PEM private key of cert_file. */
  key_file: z.string().default(''),
  /** Name expected in the server certificate (e.g. `*.hubble-relay.cilium.io`, `<node>.<cluster>.hubble-grpc.cilium.io`). */
  server_name: z.string().default(''),
  /** Accept any server certificate (testing only: it defeats TLS's point). */
  insecure_skip_verify: z.boolean().default(false),
});

const reconnectSchema = z.strictObject({
  /** First wait before reconnecting after the stream broke. */
  initial_backoff_ms: z.number().int().positive().default(500),
  /** Longest wait between attempts (the wait doubles up to this). */
  max_backoff_ms: z.number().int().positive().default(30_000),
  /** Random spread of each wait, as a fraction (0.2 = +/-20%), so many pastewatch instances do not reconnect in step. */
  jitter: z.number().min(0).max(1).default(0.2),
});

const filtersSchema = z.strictObject({
  /** Flows must match one of these (empty list = all flows). */
  whitelist: z.array(flowFilterSchema).default(DEFAULT_WHITELIST),
  /** Flows matching one of these are left out. */
  blacklist: z.array(flowFilterSchema).default([]),
});

/** The hubble receiver's config (YAML keys). */
export const hubbleConfigSchema = z.strictObject({
  /** hubble-relay (`host:4245`) or an agent (`unix:///var/run/cilium/hubble.sock`, `host:4244` with mTLS). */
  endpoint: z
    .string()
    .default('localhost:4245')
    .refine((e) => endpointProblem(e) === undefined, { message: 'endpoint must be host:port, [ipv6]:port or unix:///path/to/hubble.sock' }),
  tls: tlsSchema.prefault({}),
  /** Keep streaming new flows (true), or read what the server holds and end (false). */
  follow: z.boolean().default(true),
  /** Start from this time: RFC 3339 or a duration back from now (`5m`, `1h`); empty = only new flows (follow) or the server's buffer. */
  since: z
    .string()
    .default('')
    .refine((s) => s === '' || parseSince(s, Date.now()) !== undefined, { message: 'since must be RFC 3339 (2026-12-04T20:00:00Z) or a duration like 5m, 1h30m, 2d' }),
  /** How many of the most recent flows to ask for first (GetFlowsRequest.number); 0 = not sent, the server decides. */
  number: z.number().int().nonnegative().default(0),
  filters: filtersSchema.prefault({}),
  reconnect: reconnectSchema.prefault({}),
  /** Flows remembered (by uuid, else time + 5-tuple + observation point) to drop the overlap replayed after a reconnect. */
  max_recent_flows: z.number().int().positive().default(65_536),
  /** Connections (5-tuples) remembered to collapse one connection's several flows into one observation. */
  max_connections: z.number().int().positive().default(65_536),
  /** A 5-tuple not seen for this long counts as a new connection. */
  connection_idle_ms: z.number().int().positive().default(120_000),
  /** HTTP/2 keepalive ping interval on the stream (0 = off); >= 5 min suits grpc-go's default ping policy. */
  keepalive_time_ms: z.number().int().nonnegative().default(300_000),
});

/** The parsed hubble receiver config. */
export type HubbleConfig = z.infer<typeof hubbleConfigSchema>;
