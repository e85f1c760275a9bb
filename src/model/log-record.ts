/**
 * The detection as an OTLP-like log record in JSON: what the jsonl exporter writes one per line, and the
 * same fields the otlp_http exporter sends, so what a user greps locally is what the backend stores.
 */
import type { Attributes } from './attributes.js';
import { RULE } from './attributes.js';
import type { Detection } from './detection.js';
import { formatUnixNano } from './time.js';

/** One JSON line. Keys are a public contract (docs/detection-schema.md). */
export interface JsonLogRecord {
  time: string;
  observed_time: string;
  event_name: string;
  severity_number: number;
  severity_text: string;
  body: string;
  trace_id?: string;
  span_id?: string;
  attributes: Attributes;
  resource: Attributes;
}

/** Builds the JSON log record of a detection. */
export function toJsonLogRecord(d: Detection, resource: Attributes): JsonLogRecord {
  return {
    time: formatUnixNano(d.timeUnixNano),
    observed_time: formatUnixNano(d.observedTimeUnixNano),
    event_name: RULE.EVENT_NAME,
    severity_number: d.severityNumber,
    severity_text: d.severityText,
    body: d.body,
    trace_id: d.traceId,
    span_id: d.spanId,
    attributes: d.attributes,
    resource,
  };
}
