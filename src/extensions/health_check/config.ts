/** Settings of the `health_check` extension: /healthz (liveness) and /readyz (readiness) over HTTP. */
import { z } from 'zod';

/** Splits `host:port`, `[v6]:port` or `:port` into host ('' = all interfaces) and port; undefined when malformed. */
export function parseHostPort(endpoint: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.%\w]+\]|[^\s:[\]]*):(\d{1,5})$/.exec(endpoint.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1].startsWith('[') ? m[1].slice(1, -1) : m[1], port };
}

const pathSchema = (def: string) =>
  z.string().default(def).refine((s) => s.startsWith('/') && !s.includes('?'), { message: 'must start with "/" and carry no query' });

/** `health_check` extension settings. */
export const healthCheckSchema = z.strictObject({
  /** Listen address; loopback by default (in Kubernetes set 0.0.0.0:13133 so the kubelet can probe it). */
  endpoint: z.string().default('127.0.0.1:13133').refine((s) => parseHostPort(s) !== undefined, { message: 'endpoint must be host:port, [ipv6]:port or :port with a port 0-65535' }),
  /** Liveness path: 200 while no component has failed. */
  liveness_path: pathSchema('/healthz'),
  /** Readiness path: 200 once every component has started and none is degraded or failed. */
  readiness_path: pathSchema('/readyz'),
});

/** Parsed `health_check` settings. */
export type HealthCheckConfig = z.infer<typeof healthCheckSchema>;
