/**
 * Pure mapping of detections to the OpenTelemetry SDK's ReadableLogRecord / ReadableSpan, built by hand so the
 * ids are exactly the detection's (no sampler, no id generator: an unsampled parent still exports).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR, PW, RULE } from '../../model/attributes.js';
import type { Attributes } from '../../model/attributes.js';
import type { Detection } from '../../model/detection.js';
import { VERSION } from '../../version.js';

/** The instrumentation scope of everything pastewatch exports (one object: the serializers group by identity). */
export const SCOPE = { name: 'pastewatch', version: VERSION } as const;

/** The span name of a detection. */
export function spanName(d: Detection): string {
  return `pastebin egress ${d.service}`;
}

/** Unix nanoseconds -> HrTime [seconds, nanoseconds]. */
export function toHrTime(ns: bigint): HrTime {
  const s = ns / 1_000_000_000n;
  return [Number(s), Number(ns - s * 1_000_000_000n)];
}

function traceState(d: Detection): TraceState | undefined {
  return d.traceState ? new TraceState(d.traceState) : undefined;
}

/** The detection's own span context (what its log record correlates with). */
export function detectionSpanContext(d: Detection): SpanContext {
  return { traceId: d.traceId, spanId: d.spanId, traceFlags: d.traceFlags, traceState: traceState(d) };
}

/** One log record per detection: event `plaintext_communication`, the jsonl line's attributes, the span's ids. */
export function toReadableLogRecord(d: Detection, resource: Resource): ReadableLogRecord {
  return {
    hrTime: toHrTime(d.timeUnixNano),
    hrTimeObserved: toHrTime(d.observedTimeUnixNano),
    spanContext: detectionSpanContext(d),
    severityNumber: d.severityNumber as SeverityNumber,
    severityText: d.severityText,
    body: d.body,
    eventName: RULE.EVENT_NAME,
    resource,
    instrumentationScope: SCOPE,
    attributes: d.attributes,
    droppedAttributesCount: 0,
  };
}

/** The few attributes the span itself carries; the full set rides on its event (and on the log record). */
function spanAttributes(a: Attributes, d: Detection): Attributes {
  const out: Attributes = { [PW.SERVICE]: d.service, [PW.ACTIVITY]: d.activity, [PW.DETECTION_ID]: d.id, [ATTR.SECURITY_RULE_NAME]: RULE.NAME };
  for (const k of [ATTR.SERVER_ADDRESS, ATTR.SERVER_PORT, PW.CATEGORY, PW.ENVIRONMENT, PW.COUNT, ATTR.PROCESS_EXECUTABLE_NAME, ATTR.K8S_POD_NAME, ATTR.K8S_NAMESPACE_NAME]) {
    if (a[k] !== undefined) out[k] = a[k];
  }
  return out;
}

/**
 * One INTERNAL span per detection, child of the CI context: ids exactly the detection's, start = first seen,
 * end = last seen (at least +1 ms), status ERROR for WARN and above (a policy violation to highlight in trace
 * views), and the detection as the span event `plaintext_communication`.
 */
export function toReadableSpan(d: Detection, resource: Resource): ReadableSpan {
  const startNs = d.firstSeenUnixNano > 0n ? d.firstSeenUnixNano : d.timeUnixNano;
  const endNs = d.lastSeenUnixNano > startNs ? d.lastSeenUnixNano : startNs + 1_000_000n;
  const startTime = toHrTime(startNs);
  const endTime = toHrTime(endNs);
  const ctx = detectionSpanContext(d);
  const parent: SpanContext | undefined = d.parentSpanId ? { traceId: d.traceId, spanId: d.parentSpanId, traceFlags: d.traceFlags, traceState: ctx.traceState, isRemote: true } : undefined;
  return {
    name: spanName(d),
    kind: SpanKind.INTERNAL,
    spanContext: () => ctx,
    parentSpanContext: parent,
    startTime,
    endTime,
    duration: toHrTime(endNs - startNs),
    ended: true,
    status: d.severityNumber >= 13 ? { code: SpanStatusCode.ERROR, message: `${RULE.NAME}: ${d.body}` } : { code: SpanStatusCode.UNSET },
    attributes: spanAttributes(d.attributes, d),
    links: [],
    events: [{ name: RULE.EVENT_NAME, time: toHrTime(d.timeUnixNano), attributes: d.attributes, droppedAttributesCount: 0 }],
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
