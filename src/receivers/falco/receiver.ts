/**
 * The falco receiver: an HTTP(S) endpoint for Falco's http_output and falcosidekick's webhook output.
 * Each request is answered as soon as its alerts are handed to the sink (synchronously, i.e. queued),
 * because Falco blocks on every alert. Bad requests are answered with a clear status and reason,
 * counted as dropped{reason}, logged (rate-limited) with the client address, and never crash the server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ComponentSettings, Receiver, ReceiverSink } from '../../component/types.js';
import type { Observation } from '../../model/observation.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { parseAlertBody } from './alert.js';
import { parseEndpoint } from './config.js';
import type { FalcoConfig } from './config.js';
import { mapAlert } from './map.js';

/** Content types read as newline-delimited JSON (one alert per line). */
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines']);

/** Bad-input reasons this receiver counts as dropped{reason}. */
export type FalcoDropReason =
  | 'too_large'
  | 'invalid_json'
  | 'schema_invalid'
  | 'empty_body'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'aborted'
  | 'bad_http'
  | 'tls_handshake'
  | 'shutting_down'
  | 'internal';

/** Logs at warn at most `burst` times per reason per window, then at debug, saying how many it held back. */
class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();
  constructor(
    private readonly logger: Logger,
    private readonly burst = 5,
    private readonly windowMs = 10_000,
  ) {}

  warn(reason: string, msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    let w = this.windows.get(reason);
    if (!w || now - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, count: 0, suppressed: 0 };
      this.windows.set(reason, w);
      if (suppressed > 0) fields = { ...fields, suppressed_before: suppressed };
    }
    if (w.count < this.burst) {
      w.count++;
      this.logger.warn(msg, fields);
    } else {
      w.suppressed++;
      if (this.logger.isLevelEnabled('debug')) this.logger.debug(msg, fields);
    }
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

function sha256(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The falco webhook receiver (type `falco`). */
export class FalcoReceiver implements Receiver {
  private readonly logger: Logger;
  private readonly log: RateLimitedLog;
  private readonly methods: Set<string>;
  private readonly allow: string;
  private readonly tokenDigest: Buffer | undefined;
  private server: Server | undefined;
  private sink: ReceiverSink | undefined;
  private closing = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: FalcoConfig,
  ) {
    this.logger = settings.logger;
    this.log = new RateLimitedLog(settings.logger);
    this.methods = new Set(config.accept_methods);
    this.allow = [...this.methods].join(', ');
    // Digests have equal lengths whatever the token lengths, as timingSafeEqual requires.
    this.tokenDigest = config.auth.bearer_token === '' ? undefined : sha256(config.auth.bearer_token);
  }

  /** The bound address once listening (port 0 in the config resolves to the real port here). */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** The URL alerts are posted to, once listening (http or https, loopback host shown as configured). */
  url(): string | undefined {
    const a = this.address();
    if (!a) return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.config.tls.cert_file ? 'https' : 'http'}://${host}:${a.port}${this.config.path}`;
  }

  /** Binds the listener; resolves once listening, rejects with LISTEN_FAILED or TLS_ERROR. */
  async start(sink: ReceiverSink): Promise<void> {
    if (this.server || this.stopped) throw new PastewatchError('INTERNAL', `receiver ${this.settings.id}: start() called twice`);
    const { endpoint } = this.config;
    const ep = parseEndpoint(endpoint);
    if (!ep) throw new PastewatchError('CONFIG_INVALID', `receiver ${this.settings.id}: endpoint ${JSON.stringify(endpoint)} is not host:port`);
    this.settings.health.set('receiver', this.settings.id, 'starting');
    const server = this.createServer();
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(new PastewatchError('LISTEN_FAILED', `receiver ${this.settings.id}: cannot listen on ${endpoint}: ${describeError(err)}`, { cause: err }));
      };
      server.once('error', onError);
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      if (ep.host === '') server.listen(ep.port, onListening);
      else server.listen(ep.port, ep.host, onListening);
    }).catch((err: unknown) => {
      this.settings.health.set('receiver', this.settings.id, 'failed', describeError(err));
      throw err;
    });
    this.sink = sink;
    server.on('error', (err) => {
      // After listening, a server error (EMFILE on accept ...) means the input died.
      this.logger.error('listener failed', { error: describeError(err) });
      this.settings.health.set('receiver', this.settings.id, 'failed', describeError(err));
      this.sink?.fail(new PastewatchError('LISTEN_FAILED', `receiver ${this.settings.id}: listener on ${endpoint} failed: ${describeError(err)}`, { cause: err }));
    });
    const open = !isLoopback(ep.host);
    if (open && !this.config.tls.cert_file && !this.tokenDigest) {
      this.logger.warn('listening beyond loopback without TLS or a bearer token: anyone who can reach it can post alerts', { endpoint });
    }
    this.logger.info('listening', { url: this.url() });
    this.settings.health.set('receiver', this.settings.id, 'ok');
  }

  /** Stops accepting, lets in-flight requests finish (up to drain_timeout_ms), closes keep-alive sockets. */
  shutdown(): Promise<void> {
    this.stopped ??= this.close();
    return this.stopped;
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.closing = true;
    if (server) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), this.config.drain_timeout_ms);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    }
    this.sink = undefined;
    this.settings.health.set('receiver', this.settings.id, 'stopped');
  }

  private createServer(): Server {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
    const opts = {
      keepAliveTimeout: this.config.keep_alive_timeout_ms,
      requestTimeout: this.config.request_timeout_ms,
      headersTimeout: this.config.request_timeout_ms,
      connectionsCheckingInterval: Math.min(1000, this.config.request_timeout_ms),
    };
    let server: Server;
    const { cert_file, key_file, client_ca_file } = this.config.tls;
    if (cert_file) {
      const read = (file: string, what: string): Buffer => {
        try {
          return readFileSync(file);
        } catch (err) {
          throw new PastewatchError('TLS_ERROR', `receiver ${this.settings.id}: cannot read tls ${what} ${file}: ${describeError(err)}`, { cause: err });
        }
      };
      const tls = {
        cert: read(cert_file, 'cert_file'),
        key: read(key_file, 'key_file'),
        ...(client_ca_file ? { ca: read(client_ca_file, 'client_ca_file'), requestCert: true, rejectUnauthorized: true } : {}),
      };
      try {
        server = createHttpsServer({ ...opts, ...tls }, handler) as unknown as Server;
      } catch (err) {
        throw new PastewatchError('TLS_ERROR', `receiver ${this.settings.id}: tls cert_file ${cert_file} / key_file ${key_file} unusable: ${describeError(err)}`, { cause: err });
      }
      server.on('tlsClientError', (err: Error, socket: Socket) => {
        this.drop('tls_handshake', `TLS handshake failed: ${describeError(err)}`, socket);
      });
    } else {
      server = createHttpServer(opts, handler);
    }
    // Expect: 100-continue (curl on bodies > 1 KiB): refuse oversize bodies before they are sent.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res, true));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const status = timeout ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      this.drop(timeout ? 'aborted' : 'bad_http', timeout ? 'request not received in time' : `malformed HTTP request: ${describeError(err)}`, socket);
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return server;
  }

  private drop(reason: FalcoDropReason, message: string, socket: Socket | undefined): void {
    this.settings.telemetry.dropped(reason);
    this.log.warn(reason, `rejected request: ${message}`, { reason, remote: socket ? `${socket.remoteAddress}:${socket.remotePort}` : undefined });
  }

  private reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    if (this.closing) headers.connection = 'close';
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  }

  private reject(req: IncomingMessage, res: ServerResponse, status: number, reason: FalcoDropReason, message: string, headers: Record<string, string> = {}): void {
    this.drop(reason, message, req.socket);
    // An unread body bigger than we accept is not drained for keep-alive: the connection is closed.
    const len = Number(req.headers['content-length'] ?? (req.headers['transfer-encoding'] ? Infinity : 0));
    if (!req.complete && !(len <= this.config.max_body_bytes)) headers.connection = 'close';
    this.reply(res, status, JSON.stringify({ error: message }), headers);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, expectContinue = false): void {
    try {
      this.route(req, res, expectContinue);
    } catch (err) {
      // A bug of ours must not take the listener down: answer 500 and keep serving.
      this.logger.error('request handler failed', { error: describeError(err) });
      if (!res.headersSent) this.reject(req, res, 500, 'internal', 'internal error');
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? '';
    if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') return this.reject(req, res, 405, 'method_not_allowed', `method ${method} not allowed on /healthz`, { allow: 'GET, HEAD' });
      return this.reply(res, 200, JSON.stringify({ status: this.sink ? 'ok' : 'stopping', receiver: this.settings.id }));
    }
    if (path !== this.config.path) return this.reject(req, res, 404, 'not_found', `no alert endpoint at ${path.slice(0, 200)}: post alerts to ${this.config.path}`);
    if (!this.methods.has(method)) return this.reject(req, res, 405, 'method_not_allowed', `method ${method} not allowed: use ${this.allow}`, { allow: this.allow });
    if (this.tokenDigest && !this.authorized(req.headers.authorization)) {
      return this.reject(req, res, 401, 'unauthorized', 'missing or wrong bearer token', { 'www-authenticate': 'Bearer realm="pastewatch"' });
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') return this.reject(req, res, 415, 'unsupported_media_type', `content-encoding ${encoding} is not supported: send the alert uncompressed`);
    const ctHeader = req.headers['content-type'] ?? '';
    const ct = ctHeader.split(';')[0].trim().toLowerCase();
    const ndjson = NDJSON_TYPES.has(ct);
    if (!ndjson && ct !== '' && ct !== 'application/json' && !ct.endsWith('+json')) {
      const message =
        ct === 'text/plain'
          ? 'content-type text/plain: Falco sends text when json_output is false; set json_output: true (and json_include_output_property / json_include_tags_property: true) so alerts arrive as application/json'
          : `content-type ${ct.slice(0, 100)} is not supported: send application/json or application/x-ndjson`;
      return this.reject(req, res, 415, 'unsupported_media_type', message);
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.config.max_body_bytes) {
      return this.tooLarge(req, res, `body of ${declared} bytes is over max_body_bytes ${this.config.max_body_bytes}`);
    }
    if (this.closing && !this.sink) return this.reject(req, res, 503, 'shutting_down', 'receiver is shutting down');
    if (expectContinue) res.writeContinue();
    this.readBody(req, res, ndjson);
  }

  private authorized(header: string | undefined): boolean {
    if (!header || !this.tokenDigest) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(sha256(m[1]), this.tokenDigest);
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse, message: string): void {
    this.drop('too_large', message, req.socket);
    const body = JSON.stringify({ error: message });
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
    res.end(body);
  }

  private readBody(req: IncomingMessage, res: ServerResponse, ndjson: boolean): void {
    const max = this.config.max_body_bytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        // Stop keeping it: the rest is discarded by node until the connection closes after the 413.
        over = true;
        chunks.length = 0;
        this.tooLarge(req, res, `body over max_body_bytes ${max}`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)).toString('utf8');
      try {
        this.accept(req, res, text, ndjson);
      } catch (err) {
        this.logger.error('alert handling failed', { error: describeError(err) });
        if (!res.headersSent) this.reject(req, res, 500, 'internal', 'internal error');
      }
    });
    req.on('error', (err) => {
      if (!over) this.drop('aborted', `request body aborted: ${describeError(err)}`, req.socket);
    });
  }

  private accept(req: IncomingMessage, res: ServerResponse, text: string, ndjson: boolean): void {
    const parsed = parseAlertBody(text, ndjson);
    if (!parsed.ok) return this.reject(req, res, 400, parsed.reason, parsed.message);
    const sink = this.sink;
    if (!sink) return this.reject(req, res, 503, 'shutting_down', 'receiver is shutting down');
    const counters = this.settings.telemetry;
    const options = { receiverId: this.settings.id, maxOutputChars: this.config.max_output_chars };
    // Map every alert before emitting any, so a body is accepted whole or not at all.
    const observations: Observation[] = [];
    let ignored = 0;
    for (const { alert, raw } of parsed.alerts) {
      const obs = mapAlert(alert, raw, options);
      if (obs) observations.push(obs);
      else ignored++;
    }
    counters.received(parsed.alerts.length);
    if (ignored > 0) counters.add('ignored', ignored, { reason: 'not_network' });
    for (const obs of observations) sink.emit(obs);
    // `emitted` is counted by the pipeline runtime for every receiver (what reached the sink).
    this.reply(res, 200, `{"accepted":${observations.length},"ignored":${ignored}}`);
  }
}
