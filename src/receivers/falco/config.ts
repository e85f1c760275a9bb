/** Settings of the `falco` receiver: an HTTP(S) webhook for Falco http_output and falcosidekick. */
import { z } from 'zod';

/** `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 picks a free port (tests). */
export const ENDPOINT_RE = /^(\[[0-9a-fA-F:.%a-zA-Z0-9]+\]|[^\s:[\]]*):(\d{1,5})$/;

/** Splits an endpoint into host (brackets removed; '' = all interfaces) and port; undefined when malformed. */
export function parseEndpoint(endpoint: string): { host: string; port: number } | undefined {
  const m = ENDPOINT_RE.exec(endpoint.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}

const tlsSchema = z.strictObject({
  /** PEM certificate chain served to clients; with key_file, turns the listener into HTTPS. */
  cert_file: z.string().default(''),
  /** PEM private key of cert_file. */
  key_file: z.string().default(''),
  /** PEM CA bundle: when set, clients must present a certificate signed by it (mTLS). */
  client_ca_file: z.string().default(''),
});

const authSchema = z.strictObject({
  /** When set, requests must carry `Authorization: Bearer <token>` (falcosidekick custom header). */
  bearer_token: z.string().default(''),
});

/** The falco receiver's config (YAML keys). */
export const falcoConfigSchema = z.strictObject({
  /** Listen address; loopback by default. */
  endpoint: z
    .string()
    .default('127.0.0.1:2801')
    .refine((s) => parseEndpoint(s) !== undefined, { message: 'endpoint must be host:port, [ipv6]:port or :port with a port 0-65535' }),
  /** URL path alerts are posted to (falcosidekick and Falco post to `/`). */
  path: z
    .string()
    .default('/')
    .refine((s) => s.startsWith('/') && !s.includes('?') && s !== '/healthz', { message: 'path must start with "/", carry no query and not be /healthz' }),
  /** Largest accepted request body; bigger requests get 413 without being read. */
  max_body_bytes: z.number().int().positive().default(1024 * 1024),
  /** HTTP methods accepted on `path`. */
  accept_methods: z.array(z.enum(['POST', 'PUT'])).min(1).default(['POST', 'PUT']),
  auth: authSchema.prefault({}),
  tls: tlsSchema.prefault({}),
  /** How long an idle keep-alive connection is kept open (Falco's libcurl reuses its connection). */
  keep_alive_timeout_ms: z.number().int().positive().default(65_000),
  /** A request (headers and body) must arrive within this time, or the connection is closed. */
  request_timeout_ms: z.number().int().positive().default(10_000),
  /** On shutdown, in-flight requests may finish for this long before their connections are cut. */
  drain_timeout_ms: z.number().int().nonnegative().default(2_000),
  /** Longest `falco.output` attribute kept (characters); the rest is cut with an ellipsis. */
  max_output_chars: z.number().int().nonnegative().default(1024),
});

/** The parsed falco receiver config. */
export type FalcoConfig = z.infer<typeof falcoConfigSchema>;
