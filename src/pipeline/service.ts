/**
 * The pipeline runtime: builds the components a config uses, wires them with rxjs (receivers fan out to
 * every pipeline that lists them, processors are instantiated per pipeline, each pipeline fans out to its
 * exporters), and drives the lifecycle: start exporters -> processors -> receivers; shut down receivers
 * first, let processors drain, flush exporters within a deadline. A finite run (capture files) ends when
 * every receiver has ended and everything downstream is flushed.
 */
import { Subject, merge } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import type { ComponentSettings, Exporter, Extension, NameInterest, Processor, Receiver, ReceiverSink, Signal } from '../component/types.js';
import { HealthRegistry } from '../component/health.js';
import { TelemetryRegistry } from '../component/telemetry.js';
import type { ComponentEntry, LoadedConfig } from '../config/load.js';
import type { PipelineItem } from '../model/detection.js';
import type { Observation } from '../model/observation.js';
import { describeError } from '../util/errors.js';
import type { MetricsServer } from './metrics.js';
import type { OtlpMetricsExport } from './otlp-metrics.js';
import type { Logger } from '../util/logger.js';

/** Options for a Service. */
export interface ServiceOptions {
  logger: Logger;
  env: Record<string, string | undefined>;
  registry?: TelemetryRegistry;
  health?: HealthRegistry;
}

/** How a run ended. */
export interface RunResult {
  /** Receivers that reported their input failed (corrupt capture ...), with the error. */
  receiverErrors: { id: string; error: Error }[];
  /** Set when shutdown hit its deadline before exporters were flushed. */
  timedOut: boolean;
}

interface ReceiverSlot {
  id: string;
  receiver: Receiver;
  subject: Subject<Observation>;
  ended: boolean;
  started: boolean;
}

interface PipelineSlot {
  id: string;
  signal: Signal;
  processors: { id: string; processor: Processor }[];
  exporters: { id: string; exporter: Exporter }[];
  subscription?: Subscription;
  completed: Promise<void>;
}

/** A running set of pipelines built from a LoadedConfig. */
export class Service {
  readonly registry: TelemetryRegistry;
  readonly health: HealthRegistry;
  private readonly logger: Logger;
  private readonly receivers = new Map<string, ReceiverSlot>();
  private readonly exporters = new Map<string, Exporter>();
  private readonly extensions = new Map<string, Extension>();
  private readonly pipelines: PipelineSlot[] = [];
  private readonly receiverErrors: { id: string; error: Error }[] = [];
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private shutdownPromise?: Promise<RunResult>;
  private metrics?: MetricsServer;
  private otlpMetrics?: OtlpMetricsExport;
  private resolveAllEnded!: () => void;
  private readonly allEnded: Promise<void>;

  constructor(private readonly config: LoadedConfig, private readonly opts: ServiceOptions) {
    this.logger = opts.logger;
    this.registry = opts.registry ?? new TelemetryRegistry();
    this.health = opts.health ?? new HealthRegistry();
    this.allEnded = new Promise((r) => (this.resolveAllEnded = r));
    this.build();
  }

  private settings(kind: ComponentSettings['kind'], id: string, pipelineId?: string): ComponentSettings {
    const label = pipelineId ? `${kind}/${id} in ${pipelineId}` : `${kind}/${id}`;
    return {
      id,
      kind,
      pipelineId,
      logger: this.logger.child(label),
      telemetry: this.registry.forComponent(kind, pipelineId ? `${id}@${pipelineId}` : id),
      registry: this.registry,
      health: this.health,
      env: this.opts.env,
    };
  }

  /** Instantiates only the components some pipeline (or service.extensions) uses. */
  private build(): void {
    const cfg = this.config;
    const need = <F extends ComponentEntry['factory']>(map: Map<string, ComponentEntry<F>>, id: string): ComponentEntry<F> => {
      const e = map.get(id);
      if (!e) throw new Error(`component ${id} is not configured`); // the loader already rejected this
      return e;
    };
    for (const id of cfg.service.extensions) {
      const e = need(cfg.extensions, id);
      this.extensions.set(id, e.factory.create(this.settings('extension', id), e.config));
    }
    for (const p of cfg.pipelines) {
      for (const id of p.receivers) {
        if (this.receivers.has(id)) continue;
        const e = need(cfg.receivers, id);
        const receiver = e.factory.create(this.settings('receiver', id), e.config);
        this.receivers.set(id, { id, receiver, subject: new Subject<Observation>(), ended: false, started: false });
      }
      for (const id of p.exporters) {
        if (this.exporters.has(id)) continue;
        const e = need(cfg.exporters, id);
        this.exporters.set(id, e.factory.create(this.settings('exporter', id), e.config));
      }
      const processors = p.processors.map((id) => {
        const e = need(cfg.processors, id);
        return { id, processor: e.factory.create(this.settings('processor', id, p.id), e.config) };
      });
      const exporters = p.exporters.map((id) => ({ id, exporter: this.exporters.get(id)! }));
      this.pipelines.push({ id: p.id, signal: p.signal, processors, exporters, completed: Promise.resolve() });
    }
  }

  /** Starts everything (exporters, processors, receivers). On a failure, what started is shut down and the error rethrown. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('service already started');
    this.state = 'starting';
    try {
      const metricsAddress = this.config.service.telemetry.metrics.address;
      if (metricsAddress) this.metrics = await (await import('./metrics.js')).startMetricsServer(metricsAddress, this.registry, this.health, this.logger.child('metrics'));
      const otlpMetrics = this.config.service.telemetry.metrics.otlp;
      if (otlpMetrics.endpoint) this.otlpMetrics = (await import('./otlp-metrics.js')).startOtlpMetrics(otlpMetrics, this.registry, this.opts.env, this.logger.child('otlp-metrics'));
      for (const [id, ext] of this.extensions) await this.startOne('extension', id, () => ext.start());
      for (const [id, exp] of this.exporters) await this.startOne('exporter', id, () => exp.start());
      for (const p of this.pipelines) for (const { id, processor } of p.processors) await this.startOne('processor', `${id}@${p.id}`, () => processor.start());
      this.wire();
      this.pushDownInterest();
      for (const slot of this.receivers.values()) {
        await this.startOne('receiver', slot.id, () => slot.receiver.start(this.sinkFor(slot)));
        slot.started = true;
      }
      if (this.receivers.size === 0) this.resolveAllEnded();
      this.state = 'running';
      this.logger.info('pipelines running', { pipelines: this.pipelines.map((p) => p.id).join(','), receivers: [...this.receivers.keys()].join(','), exporters: [...this.exporters.keys()].join(',') });
    } catch (err) {
      this.state = 'running';
      await this.shutdown('start failed');
      throw err;
    }
  }

  private async startOne(kind: string, id: string, fn: () => Promise<void>): Promise<void> {
    this.health.set(kind, id, 'starting');
    await fn();
    this.health.set(kind, id, 'ok');
    this.logger.debug(`started ${kind} ${id}`);
  }

  private sinkFor(slot: ReceiverSlot): ReceiverSink {
    const counters = this.registry.forComponent('receiver', slot.id);
    return {
      emit: (obs) => {
        if (slot.ended) return;
        counters.emitted();
        slot.subject.next(obs);
      },
      end: () => this.endReceiver(slot),
      fail: (error) => {
        this.receiverErrors.push({ id: slot.id, error });
        counters.failed('input');
        this.health.set('receiver', slot.id, 'failed', describeError(error));
        this.logger.error(`receiver ${slot.id}: ${describeError(error)}`);
        this.endReceiver(slot);
      },
    };
  }

  private endReceiver(slot: ReceiverSlot): void {
    if (slot.ended) return;
    slot.ended = true;
    slot.subject.complete();
    if ([...this.receivers.values()].every((s) => s.ended)) this.resolveAllEnded();
  }

  /**
   * Tells each receiver which names its pipelines can use: the union of their classifiers' interests, or
   * nothing (everything is wanted) as soon as one pipeline fed by the receiver has no such processor.
   */
  private pushDownInterest(): void {
    for (const slot of this.receivers.values()) {
      if (!slot.receiver.setNameInterest) continue;
      const interests: NameInterest[] = [];
      let all = false;
      for (const p of this.pipelines) {
        if (!this.config.pipelines.find((x) => x.id === p.id)!.receivers.includes(slot.id)) continue;
        const i = p.processors.map(({ processor }) => processor.nameInterest?.()).find((x) => x !== undefined);
        if (i) interests.push(i);
        else all = true;
      }
      if (all || interests.length === 0) slot.receiver.setNameInterest(undefined);
      else slot.receiver.setNameInterest(interests.length === 1 ? interests[0] : (name) => interests.some((f) => f(name)));
    }
  }

  /** Connects receivers -> processors -> exporters for every pipeline. */
  private wire(): void {
    for (const p of this.pipelines) {
      let stream: Observable<PipelineItem> = merge(...this.config.pipelines.find((x) => x.id === p.id)!.receivers.map((id) => this.receivers.get(id)!.subject));
      for (const { processor } of p.processors) stream = stream.pipe(processor.operator());
      const counters = p.exporters.map(({ id }) => this.registry.forComponent('exporter', id));
      const out = this.registry.forComponent('pipeline', p.id);
      p.completed = new Promise<void>((resolve) => {
        p.subscription = stream.subscribe({
          next: (item) => {
            out.add(item.type === 'detection' ? 'detections' : 'observations');
            for (let i = 0; i < p.exporters.length; i++) {
              const { id, exporter } = p.exporters[i];
              counters[i].received();
              try {
                exporter.consume(item, p.signal);
              } catch (err) {
                // One exporter failing must not stop the others.
                counters[i].failed('consume');
                this.health.set('exporter', id, 'degraded', describeError(err));
                this.logger.error(`exporter ${id} failed to take an item: ${describeError(err)}`);
              }
            }
          },
          error: (err: unknown) => {
            this.logger.error(`pipeline ${p.id} stopped on a processor error: ${describeError(err)}`);
            resolve();
          },
          complete: () => resolve(),
        });
      });
    }
  }

  /** The metrics listener's bound address (host:port), when one is configured and running. */
  metricsAddress(): string | undefined {
    return this.metrics?.address;
  }

  /** Resolves when every receiver has ended on its own (finite input) and the service has shut down. */
  async run(): Promise<RunResult> {
    await this.allEnded;
    return this.shutdown('input ended');
  }

  /**
   * Shuts down: receivers first, then processors drain (their operators flush when the source completes),
   * then exporters flush and stop, all within service.shutdown.timeout_ms. Idempotent.
   */
  shutdown(reason = 'shutdown'): Promise<RunResult> {
    this.shutdownPromise ??= this.doShutdown(reason);
    return this.shutdownPromise;
  }

  private async doShutdown(reason: string): Promise<RunResult> {
    this.state = 'stopping';
    const deadline = Date.now() + this.config.service.shutdown.timeout_ms;
    let timedOut = false;
    this.logger.debug(`shutting down: ${reason}`);
    const withDeadline = async (what: string, p: Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const left = Math.max(0, deadline - Date.now());
      const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
      try {
        const r = await Promise.race([p.then(() => 'ok' as const, (err: unknown) => {
          this.logger.error(`${what}: ${describeError(err)}`);
          return 'ok' as const;
        }), t]);
        if (r === 'timeout') {
          timedOut = true;
          this.logger.warn(`${what} did not finish before the shutdown deadline`);
        }
      } finally {
        clearTimeout(timer);
      }
    };
    for (const slot of this.receivers.values()) {
      await withDeadline(`receiver ${slot.id} shutdown`, slot.receiver.shutdown());
      this.endReceiver(slot);
      this.health.set('receiver', slot.id, 'stopped');
    }
    await withDeadline('draining pipelines', Promise.all(this.pipelines.map((p) => p.completed)));
    for (const [id, exp] of this.exporters) await withDeadline(`exporter ${id} flush`, exp.flush(deadline));
    for (const p of this.pipelines) {
      p.subscription?.unsubscribe();
      for (const { id, processor } of p.processors) await withDeadline(`processor ${id} shutdown`, processor.shutdown());
    }
    for (const [id, exp] of this.exporters) {
      await withDeadline(`exporter ${id} shutdown`, exp.shutdown());
      this.health.set('exporter', id, 'stopped');
    }
    for (const [id, ext] of this.extensions) await withDeadline(`extension ${id} shutdown`, ext.shutdown());
    if (this.metrics) await withDeadline('metrics listener close', this.metrics.close());
    // Last, so the final export carries the exporters' flush counts; it resolves by the deadline on its own (a
    // backend that is down is self-telemetry trouble, not a shutdown that timed out).
    if (this.otlpMetrics) await this.otlpMetrics.shutdown(deadline);
    this.state = 'stopped';
    return { receiverErrors: this.receiverErrors, timedOut };
  }
}
