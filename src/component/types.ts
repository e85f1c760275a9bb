/**
 * Component contracts: Factory (type, kind, defaults, validation, create) and the Receiver, Processor,
 * Exporter and Extension lifecycles the pipeline runtime drives. Every component folder exports one
 * factory; src/components.ts is the one explicit list of them.
 */
import type { OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { PipelineItem } from '../model/detection.js';
import type { Observation } from '../model/observation.js';
import type { Logger } from '../util/logger.js';
import type { ComponentCounters, TelemetryRegistry } from './telemetry.js';
import type { HealthRegistry } from './health.js';

/** The four kinds of component, as in the collector's config sections. */
export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';

/** Pipeline signal: `logs` pipelines export log records, `traces` pipelines export spans. */
export type Signal = 'logs' | 'traces';

/** A config problem found by a factory's own cross-field check; path is relative to the component. */
export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

/** What every component is given when it is created. */
export interface ComponentSettings {
  /** Component id as written in the config, `type[/name]`. */
  id: string;
  kind: ComponentKind;
  /** For processors: the pipeline this instance belongs to. */
  pipelineId?: string;
  logger: Logger;
  /** This component's counters. */
  telemetry: ComponentCounters;
  /** The whole registry (the metrics extension exposes it). */
  registry: TelemetryRegistry;
  health: HealthRegistry;
  /** The environment to read (process.env in production; tests pass their own). */
  env: Record<string, string | undefined>;
}

/** Lifecycle shared by all components. shutdown() must be safe without start() and when called twice. */
export interface Lifecycle {
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Where a receiver puts what it observed. */
export interface ReceiverSink {
  /** Hands one observation to every pipeline that uses this receiver (synchronous). */
  emit(obs: Observation): void;
  /** A finite receiver has delivered all of its input (a capture file was read to its end). */
  end(): void;
  /**
   * The receiver's input failed (a corrupt capture, a listener that died). What was emitted before stays
   * delivered; the service logs the error, counts it and makes the run's exit status say so. A finite
   * receiver that fails has ended (it need not call end()).
   */
  fail(err: Error): void;
}

/**
 * A predicate over hostnames: true when a name could matter downstream. The runtime hands receivers the
 * union of their pipelines' interests so the packet path can skip building observations no pipeline can use.
 */
export type NameInterest = (name: string) => boolean;

/** Turns an input into Observations. */
export interface Receiver {
  /**
   * Optional early filter: DNS messages none of whose names pass may be counted and skipped instead of
   * emitted. Called before start(); undefined means every observation is wanted.
   */
  setNameInterest?(interest: NameInterest | undefined): void;
  /** Starts producing into the sink. Rejects with a PastewatchError when the input cannot be opened. */
  start(sink: ReceiverSink): Promise<void>;
  /** Stops producing; after it resolves the receiver emits nothing more. Idempotent. */
  shutdown(): Promise<void>;
}

/** An rxjs stage of a pipeline, instantiated per pipeline. */
export interface Processor extends Lifecycle {
  /**
   * A processor that drops every observation whose names it does not care about (the classifier) returns
   * that interest, so receivers can skip such DNS messages before building them.
   */
  nameInterest?(): NameInterest | undefined;
  /** The operator; it must flush what it holds when its source completes. */
  operator(): OperatorFunction<PipelineItem, PipelineItem>;
}

/** Sends items somewhere. consume() never throws for delivery problems: it queues and reports. */
export interface Exporter extends Lifecycle {
  consume(item: PipelineItem, signal: Signal): void;
  /**
   * Delivers (or durably persists) everything consumed so far, giving up at the deadline (epoch ms).
   * Called during shutdown before shutdown(); resolves, never rejects.
   */
  flush(deadlineMs: number): Promise<void>;
}

/** Process-wide helpers (health endpoint, metrics listener). */
export type Extension = Lifecycle;

interface FactoryBase<K extends ComponentKind, C> {
  type: string;
  kind: K;
  /** One sentence for `pastewatch components` and docs. */
  description: string;
  /** Zod schema: strict objects with defaults, so schema.parse({}) is the default config. */
  schema: z.ZodType<C>;
  /** Cross-field checks the schema cannot express (files readable, ranges related ...). */
  validate?(config: C): ConfigProblem[];
}

/** Makes receivers of one type. */
export interface ReceiverFactory<C = unknown> extends FactoryBase<'receiver', C> {
  create(settings: ComponentSettings, config: C): Receiver;
}
/** Makes processors of one type. */
export interface ProcessorFactory<C = unknown> extends FactoryBase<'processor', C> {
  create(settings: ComponentSettings, config: C): Processor;
}
/** Makes exporters of one type. */
export interface ExporterFactory<C = unknown> extends FactoryBase<'exporter', C> {
  create(settings: ComponentSettings, config: C): Exporter;
}
/** Makes extensions of one type. */
export interface ExtensionFactory<C = unknown> extends FactoryBase<'extension', C> {
  create(settings: ComponentSettings, config: C): Extension;
}

/** Any factory. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFactory = ReceiverFactory<any> | ProcessorFactory<any> | ExporterFactory<any> | ExtensionFactory<any>;

/** The default config of a factory: its schema applied to an empty object. */
export function createDefaultConfig<C>(factory: { schema: z.ZodType<C> }): C {
  return factory.schema.parse({});
}
