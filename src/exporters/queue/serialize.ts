/**
 * Detection <-> JSON for the durable queue. JSON has no bigint: a bigint becomes {"$bigint":"123"} (its
 * decimal text in a tagged object, so no ordinary string is ever mistaken for one) and is revived on read.
 */
import type { Detection } from '../../model/detection.js';
import { PastewatchError } from '../../util/errors.js';

const TAG = '$bigint';

/** Serialises a detection (bigints included) to one line of JSON without a newline. */
export function serializeDetection(d: Detection): string {
  return JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? { [TAG]: v.toString() } : v));
}

/** Parses what serializeDetection wrote; throws INPUT_CORRUPT when the text is not a serialised detection. */
export function deserializeDetection(text: string): Detection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        if (keys.length === 1 && keys[0] === TAG && typeof o[TAG] === 'string' && /^-?\d+$/.test(o[TAG])) return BigInt(o[TAG]);
      }
      return v;
    });
  } catch (err) {
    throw new PastewatchError('INPUT_CORRUPT', `queued item is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const d = parsed as Partial<Detection> | null;
  if (!d || d.type !== 'detection' || typeof d.traceId !== 'string' || typeof d.timeUnixNano !== 'bigint' || typeof d.attributes !== 'object') {
    throw new PastewatchError('INPUT_CORRUPT', 'queued item is not a serialised detection');
  }
  return d as Detection;
}
