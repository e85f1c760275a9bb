/**
 * The `health_check` extension: a small HTTP listener the Kubernetes probes (and the Dockerfile's
 * HEALTHCHECK) call. Liveness and readiness come from the service's HealthRegistry; the JSON body lists
 * every component's status so an operator sees which one is not ok.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { ComponentSettings, Extension } from '../../component/types.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { HealthCheckConfig } from './config.js';
import { parseHostPort } from './config.js';

/** Serves liveness and readiness from the service's health registry. */
export class HealthCheckExtension implements Extension {
  private server?: Server;
  private boundAddress?: string;

  constructor(private readonly settings: ComponentSettings, private readonly config: HealthCheckConfig) {}

  /** The bound host:port once started (port 0 in the config picks a free one). */
  address(): string | undefined {
    return this.boundAddress;
  }

  /** Starts listening; rejects with LISTEN_FAILED when the address cannot be bound. */
  async start(): Promise<void> {
    if (this.server) return;
    const ep = parseHostPort(this.config.endpoint)!;
    const { health } = this.settings;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== this.config.liveness_path && path !== this.config.readiness_path) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not_found"}');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const ok = path === this.config.liveness_path ? health.live() : health.ready();
      const body = JSON.stringify({ status: ok ? 'ok' : 'unavailable', components: health.list() });
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)' : describeError(err);
        reject(new PastewatchError('LISTEN_FAILED', `extensions::${this.settings.id}: cannot listen on ${this.config.endpoint}: ${why}`, { cause: err }));
      });
      server.listen(ep.port, ep.host === '' ? undefined : ep.host, () => resolve());
    });
    server.on('error', (err) => this.settings.logger.error(`health listener: ${describeError(err)}`));
    const a = server.address();
    this.boundAddress = typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : this.config.endpoint;
    this.server = server;
    this.settings.logger.info(`health on http://${this.boundAddress}${this.config.liveness_path} and ${this.config.readiness_path}`);
  }

  /** Stops listening; safe without start and when called twice. */
  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}
