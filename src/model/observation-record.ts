/** An Observation as one JSON object (for `scan --observations` and debugging): bigints become text. */
import type { Observation } from './observation.js';
import { formatUnixNano } from './time.js';

/** The JSON form of an observation; event_name distinguishes it from detections. */
export function toObservationRecord(o: Observation): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    time: formatUnixNano(o.timeUnixNano),
    event_name: 'pastewatch.observation',
    kind: o.kind,
    receiver: o.receiver,
    transport: o.transport,
    network_type: o.networkType,
    source: o.source,
    destination: o.destination,
    names: o.names,
  };
  if (o.dns) rec.dns = o.dns;
  if (o.flow) {
    rec.flow = { ...o.flow, firstSeen: formatUnixNano(o.flow.firstSeenUnixNano), lastSeen: formatUnixNano(o.flow.lastSeenUnixNano) };
    delete (rec.flow as Record<string, unknown>).firstSeenUnixNano;
    delete (rec.flow as Record<string, unknown>).lastSeenUnixNano;
  }
  if (o.http) rec.http = o.http;
  if (o.tls) rec.tls = o.tls;
  if (o.process) rec.process = o.process;
  if (o.blocked) rec.blocked = true;
  if (Object.keys(o.attributes).length) rec.attributes = o.attributes;
  return rec;
}

/** JSON.stringify that writes bigints as decimal strings. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
