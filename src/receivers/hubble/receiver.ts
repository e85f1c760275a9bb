/**
 * The `hubble` receiver: one server-streaming GetFlows call to hubble-relay or a Cilium agent, reconnected
 * forever with exponential backoff and jitter. After a reconnect it asks for flows since the last flow time
 * it saw and drops the replayed overlap (by uuid, else time + 5-tuple + observation point), so nothing is
 * lost and nothing doubled. Health: ok while streaming, degraded while reconnecting.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ComponentSettings, Receiver, ReceiverSink } from '../../component/types.js';
import { HubbleEventHandler } from '../../hubble/events.js';
import { loadObserverProto } from '../../hubble/proto.js';
import { decodeGetFlowsResponse } from '../../hubble/wire.js';
import { formatUnixNano } from '../../model/time.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { HubbleConfig } from './config.js';
import { parseSince } from './config.js';
import { RecentSet, backoffDelay, flowKey } from './recent.js';

/** A protobuf Timestamp as proto-loader takes it. */
interface Timestamp {
  seconds: string;
  nanos: number;
}

function toTimestamp(ns: bigint): Timestamp {
  return { seconds: (ns / 1_000_000_000n).toString(), nanos: Number(ns % 1_000_000_000n) };
}

/** The GetFlowsRequest the receiver sends (exported for tests and docs). */
export function buildRequest(config: HubbleConfig, sinceUnixNano: bigint | undefined): Record<string, unknown> {
  const req: Record<string, unknown> = {
    follow: config.follow,
    whitelist: config.filters.whitelist,
    blacklist: config.filters.blacklist,
  };
  if (sinceUnixNano !== undefined) req.since = toTimestamp(sinceUnixNano);
  else if (config.number > 0) req.number = String(config.number);
  return req;
}

/** grpc-js target for an endpoint (unix sockets pass through; host:port as is). */
function target(endpoint: string): string {
  return endpoint;
}

let rawClient: grpc.ServiceClientConstructor | undefined;

/**
 * The Observer client with GetFlows responses left as bytes: decodeGetFlowsResponse turns them straight
 * into HubbleEvents (several times faster than proto-loader's object graph), and a malformed message is a
 * counted skip instead of a failed call.
 */
function observerClient(): grpc.ServiceClientConstructor {
  if (rawClient) return rawClient;
  const def = loadObserverProto().service.GetFlows;
  rawClient = grpc.makeGenericClientConstructor({ GetFlows: { ...def, responseDeserialize: (b: Buffer): Buffer => b } }, 'Observer');
  return rawClient;
}

/** The hubble GetFlows receiver (type `hubble`). */
export class HubbleReceiver implements Receiver {
  private readonly handler: HubbleEventHandler;
  private readonly recent: RecentSet;
  private client: grpc.Client | undefined;
  private call: grpc.ClientReadableStream<unknown> | undefined;
  private sink: ReceiverSink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closing = false;
  private stopped: Promise<void> | undefined;
  private streaming = false;
  private ended = false;
  /** Largest flow time seen: the `since` of the next reconnect. */
  private lastFlowTime: bigint | undefined;
  private readonly initialSince: bigint | undefined;

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: HubbleConfig,
  ) {
    this.handler = new HubbleEventHandler(settings, { maxConnections: config.max_connections, connectionIdleMs: config.connection_idle_ms });
    this.recent = new RecentSet(config.max_recent_flows);
    this.initialSince = config.since === '' ? undefined : parseSince(config.since, Date.now());
  }

  /** Number of (re)connect attempts made so far after failures (tests). */
  get reconnects(): number {
    return this.attempt;
  }

  /** Builds the channel credentials; rejects with TLS_ERROR when a file cannot be read. */
  private credentials(): grpc.ChannelCredentials {
    const tls = this.config.tls;
    if (!tls.enabled) return grpc.credentials.createInsecure();
    const read = (file: string, what: string): Buffer | null => {
      if (file === '') return null;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new PastewatchError('TLS_ERROR', `receiver ${this.settings.id}: cannot read tls ${what} ${file}: ${describeError(err)}`, { cause: err });
      }
    };
    const verify: grpc.VerifyOptions = tls.insecure_skip_verify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
    try {
      return grpc.credentials.createSsl(read(tls.ca_file, 'ca_file'), read(tls.key_file, 'key_file'), read(tls.cert_file, 'cert_file'), verify);
    } catch (err) {
      if (err instanceof PastewatchError) throw err;
      throw new PastewatchError('TLS_ERROR', `receiver ${this.settings.id}: invalid tls material: ${describeError(err)}`, { cause: err });
    }
  }

  /** Opens the channel and starts the stream; connection failures are retried, not thrown. */
  async start(sink: ReceiverSink): Promise<void> {
    if (this.client || this.stopped) throw new PastewatchError('INTERNAL', `receiver ${this.settings.id}: start() called twice`);
    this.settings.health.set('receiver', this.settings.id, 'starting');
    let creds: grpc.ChannelCredentials;
    try {
      creds = this.credentials();
    } catch (err) {
      this.settings.health.set('receiver', this.settings.id, 'failed', describeError(err));
      throw err;
    }
    const options: grpc.ChannelOptions = {
      // Our own backoff governs retries; keep grpc's reconnect quick so a restarted server is found.
      'grpc.initial_reconnect_backoff_ms': Math.min(this.config.reconnect.initial_backoff_ms, 1000),
      'grpc.max_reconnect_backoff_ms': this.config.reconnect.max_backoff_ms,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    };
    if (this.config.keepalive_time_ms > 0) {
      options['grpc.keepalive_time_ms'] = this.config.keepalive_time_ms;
      options['grpc.keepalive_timeout_ms'] = 20_000;
    }
    if (this.config.tls.enabled && this.config.tls.server_name) {
      options['grpc.ssl_target_name_override'] = this.config.tls.server_name;
      options['grpc.default_authority'] = this.config.tls.server_name;
    }
    const Client = observerClient();
    this.client = new Client(target(this.config.endpoint), creds, options);
    this.sink = sink;
    this.connect();
  }

  private connect(): void {
    this.timer = undefined;
    if (this.closing || !this.client) return;
    const since = this.lastFlowTime ?? this.initialSince;
    const req = buildRequest(this.config, since);
    const client = this.client as unknown as { GetFlows(req: unknown): grpc.ClientReadableStream<unknown> };
    this.settings.logger.debug('GetFlows', { endpoint: this.config.endpoint, since: since === undefined ? undefined : formatUnixNano(since), attempt: this.attempt });
    const call = client.GetFlows(req);
    this.call = call;
    let done = false;
    const finish = (status: grpc.StatusObject | undefined, err: Error | undefined): void => {
      if (done) return;
      done = true;
      if (this.call === call) this.call = undefined;
      if (this.closing) return;
      if (!err && status?.code === grpc.status.OK && !this.config.follow) {
        this.finished();
        return;
      }
      const why = err ? describeError(err) : `stream ended by the server (${status ? grpc.status[status.code] : 'no status'})`;
      this.scheduleReconnect(why);
    };
    call.on('metadata', () => this.markStreaming(call));
    call.on('data', (msg: unknown) => this.onMessage(call, msg));
    call.on('error', (err: Error) => {
      // Deferred so data events delivered just before the status still count.
      setImmediate(() => finish(undefined, err));
    });
    call.on('status', (status: grpc.StatusObject) => {
      setImmediate(() => finish(status, status.code === grpc.status.OK ? undefined : new Error(`${grpc.status[status.code]}: ${status.details}`)));
    });
  }

  private markStreaming(call: grpc.ClientReadableStream<unknown>): void {
    if (this.streaming || this.call !== call || this.closing) return;
    this.streaming = true;
    this.settings.logger.info('streaming flows', { endpoint: this.config.endpoint, since: this.lastFlowTime === undefined ? undefined : formatUnixNano(this.lastFlowTime) });
    this.settings.health.set('receiver', this.settings.id, 'ok');
  }

  private onMessage(call: grpc.ClientReadableStream<unknown>, msg: unknown): void {
    if (this.closing || !this.sink) return;
    this.markStreaming(call);
    this.attempt = 0; // a working stream resets the backoff
    const ev = decodeGetFlowsResponse(msg as Buffer);
    if (typeof ev === 'string') {
      this.settings.telemetry.add('skipped', 1, { reason: ev });
      return;
    }
    if (ev.kind === 'flow') {
      const t = ev.flow.timeUnixNano;
      // The overlap a reconnect with since=last time replays; also guards a relay that repeats itself.
      if (!this.recent.add(flowKey(ev.flow))) {
        this.settings.telemetry.dropped('replayed');
        return;
      }
      if (t !== 0n && (this.lastFlowTime === undefined || t > this.lastFlowTime)) this.lastFlowTime = t;
    }
    const sink = this.sink;
    this.handler.handle(ev, (o) => sink.emit(o));
  }

  private scheduleReconnect(why: string): void {
    if (this.closing) return;
    const wasStreaming = this.streaming;
    this.streaming = false;
    const delay = backoffDelay(this.attempt, this.config.reconnect);
    this.attempt++;
    this.settings.telemetry.add('reconnects');
    this.settings.health.set('receiver', this.settings.id, 'degraded', `reconnecting to ${this.config.endpoint}: ${why}`);
    const fields = { endpoint: this.config.endpoint, error: why, retry_in_ms: delay, attempt: this.attempt };
    // Warn when a working stream breaks and every 10th failed attempt; the rest at debug.
    if (wasStreaming || this.attempt === 1 || this.attempt % 10 === 0) this.settings.logger.warn('hubble stream broken, reconnecting', fields);
    else this.settings.logger.debug('hubble reconnect failed', fields);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private finished(): void {
    if (this.ended) return;
    this.ended = true;
    this.settings.logger.info('hubble stream complete (follow: false)', { endpoint: this.config.endpoint });
    this.settings.health.set('receiver', this.settings.id, 'stopped');
    this.sink?.end();
  }

  /** Cancels the stream and closes the channel; idempotent and safe without start(). */
  shutdown(): Promise<void> {
    this.stopped ??= this.close();
    return this.stopped;
  }

  private async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.removeAllListeners('data');
      call.on('error', () => {}); // the CANCELLED status is ours
      call.cancel();
    }
    this.client?.close();
    this.sink = undefined;
    if (this.client) this.settings.health.set('receiver', this.settings.id, 'stopped');
  }
}
