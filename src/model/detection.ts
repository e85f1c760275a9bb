/**
 * A Detection is a classified Observation: a workload talked to (or looked up) a paste-like service.
 * Exporters turn it into an OTLP log record, a span with a span event, a JSON line or an alert.
 */
import type { Attributes } from './attributes.js';
import type { Observation } from './observation.js';

/** What the workload did with the service. */
export type Activity = 'upload' | 'download' | 'lookup' | 'connect';

/** Where the workload runs. */
export type Environment = 'ci' | 'staging' | 'production' | 'development' | 'unknown';

/** OTLP severity text for the numbers we use. */
export type SeverityText = 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

/** A classified, enriched, possibly deduplicated detection. */
export interface Detection {
  type: 'detection';
  /** Stable id (hex) for this detection (and its dedup group). */
  id: string;
  /** Time of the (first) observation, unix nanoseconds. */
  timeUnixNano: bigint;
  /** When pastewatch made the detection, unix nanoseconds. */
  observedTimeUnixNano: bigint;
  /** The catalog entry matched, e.g. `pastebin.com`. */
  service: string;
  /** Human service name, e.g. `Pastebin`. */
  serviceName: string;
  category: string;
  /** The name that was seen and matched (e.g. `www.pastebin.com`). */
  matchedName: string;
  activity: Activity;
  environment: Environment;
  severityNumber: number;
  severityText: SeverityText;
  /** Short human text for alerts and the log body. */
  body: string;
  /** Full attribute map: the public contract (docs/detection-schema.md). */
  attributes: Attributes;
  /**
   * The detection's own span: trace id (the parent's when the observation had a traceParent, else new) and
   * span id (new), assigned by the classifier. Log records carry them; the traces exporter creates the span.
   */
  traceId: string;
  spanId: string;
  /** Parent span id (the CI context's span), when there is one. */
  parentSpanId?: string;
  traceFlags: number;
  traceState?: string;
  /** Dedup bookkeeping. */
  count: number;
  firstSeenUnixNano: bigint;
  lastSeenUnixNano: bigint;
  /** The observation that produced it (the first one, for a deduplicated group). */
  observation: Observation;
}

/** An item on a pipeline: observations go in, detections come out of the classifier. */
export type PipelineItem = Observation | Detection;

/** True when the item is a Detection. */
export function isDetection(item: PipelineItem): item is Detection {
  return item.type === 'detection';
}
