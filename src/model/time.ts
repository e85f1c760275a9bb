/** Time helpers: unix nanoseconds as bigint, RFC 3339 text with nanoseconds. */

/** Current wall-clock time in unix nanoseconds (millisecond precision plus hrtime drift-free offset). */
export function nowUnixNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Unix nanoseconds from seconds + nanoseconds parts (as pcap timestamps come). */
export function unixNano(sec: number, nsec: number): bigint {
  return BigInt(sec) * 1_000_000_000n + BigInt(nsec);
}

let cachedSec = NaN;
let cachedPrefix = '';

/** RFC 3339 UTC text with 9 fractional digits, e.g. 2026-12-04T20:46:33.123456789Z. */
export function formatUnixNano(ns: bigint): string {
  const frac = (ns % 1_000_000_000n + 1_000_000_000n) % 1_000_000_000n;
  const sec = Number((ns - frac) / 1_000_000_000n);
  // Detections come in bursts within the same second: the date part is formatted once per second.
  if (sec !== cachedSec) {
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
    cachedSec = sec;
  }
  return `${cachedPrefix}.${frac.toString().padStart(9, '0')}Z`;
}

/** Parses RFC 3339 with up to 9 fractional digits into unix nanoseconds; undefined when invalid. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(text.trim());
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}${m[3].toUpperCase()}`);
  if (Number.isNaN(base)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(base) * 1_000_000n + frac;
}
