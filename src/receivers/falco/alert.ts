/**
 * Falco alert bodies: JSON parsing (one alert, a JSON array, or newline-delimited alerts) and schema
 * checks. Only known keys are read from parsed objects, always through Object.hasOwn, so a key such as
 * `__proto__` or `constructor` in a body can neither pollute prototypes nor stand in for a real field.
 */
import { parseRfc3339Nano } from '../../model/time.js';

/** A Falco alert as Falco's json_output and falcosidekick send it (only the keys pastewatch reads). */
export interface FalcoAlert {
  /** RFC 3339 UTC with 9 fractional digits. */
  time: string;
  rule: string;
  priority?: string;
  source?: string;
  hostname?: string;
  output?: string;
  /** Field values keep their JSON types; missing fields are null. Read with ownField(). */
  output_fields: Record<string, unknown>;
  tags?: string[];
  /** falcosidekick adds a v4 uuid. */
  uuid?: string;
}

/** One alert of a request body with the exact JSON text it came from (for lossless number reads). */
export interface ParsedAlert {
  alert: FalcoAlert;
  raw: string;
}

/** The outcome of reading a body: its alerts, or why it was rejected (reason is a counter label). */
export type BodyResult =
  | { ok: true; alerts: ParsedAlert[] }
  | { ok: false; reason: 'empty_body' | 'invalid_json' | 'schema_invalid'; message: string };

/** The value of an object's own key, never an inherited one (`constructor`, `__proto__` ...). */
export function ownField(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one parsed JSON value against the alert schema; returns the alert or a reason text. */
export function validateAlert(v: unknown): FalcoAlert | string {
  if (!isPlainObject(v)) return `an alert must be a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`;
  const rule = ownField(v, 'rule');
  if (typeof rule !== 'string' || rule === '') return 'missing "rule" (a non-empty string)';
  const time = ownField(v, 'time');
  if (typeof time !== 'string') return 'missing "time" (RFC 3339 text)';
  if (parseRfc3339Nano(time) === undefined) return `"time" is not RFC 3339: ${JSON.stringify(time.slice(0, 64))}`;
  const of = ownField(v, 'output_fields');
  if (!isPlainObject(of)) return 'missing "output_fields" (an object)';
  const alert: FalcoAlert = { time, rule, output_fields: of };
  for (const key of ['priority', 'source', 'hostname', 'output', 'uuid'] as const) {
    const val = ownField(v, key);
    if (val === undefined || val === null) continue;
    if (typeof val !== 'string') return `"${key}" must be a string, got ${typeof val}`;
    alert[key] = val;
  }
  const tags = ownField(v, 'tags');
  if (tags !== undefined && tags !== null) {
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return '"tags" must be an array of strings';
    alert.tags = tags as string[];
  }
  return alert;
}

function parseOne(text: string, where: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: `${where}is not valid JSON (${(err as Error).message})` };
  }
}

/**
 * Reads a request body. `ndjson` (application/x-ndjson) reads one alert per non-empty line. Otherwise
 * the body is one JSON alert or an array of alerts; when it is not valid JSON as a whole but has several
 * lines, each line is read as an alert. All or nothing: one bad alert rejects the body, so a client's
 * retry never duplicates what was accepted.
 */
export function parseAlertBody(text: string, ndjson: boolean): BodyResult {
  if (text.trim() === '') return { ok: false, reason: 'empty_body', message: 'the body is empty: expected a Falco alert in JSON' };
  if (!ndjson) {
    const whole = parseOne(text, 'the body ');
    if ('value' in whole) {
      const values = Array.isArray(whole.value) ? (whole.value as unknown[]) : [whole.value];
      if (values.length === 0) return { ok: false, reason: 'schema_invalid', message: 'the body is an empty array' };
      const alerts: ParsedAlert[] = [];
      for (let i = 0; i < values.length; i++) {
        const a = validateAlert(values[i]);
        if (typeof a === 'string') return { ok: false, reason: 'schema_invalid', message: values.length > 1 ? `alert ${i + 1}: ${a}` : a };
        // Array elements share one text, so they get none: their time then comes from `time`.
        alerts.push({ alert: a, raw: values.length === 1 ? text : '' });
      }
      return { ok: true, alerts };
    }
    if (!text.trimEnd().includes('\n')) return { ok: false, reason: 'invalid_json', message: whole.error };
  }
  const lines = text.split('\n');
  const alerts: ParsedAlert[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const one = parseOne(line, `line ${i + 1} `);
    if ('error' in one) return { ok: false, reason: 'invalid_json', message: one.error };
    const a = validateAlert(one.value);
    if (typeof a === 'string') return { ok: false, reason: 'schema_invalid', message: `line ${i + 1}: ${a}` };
    alerts.push({ alert: a, raw: line });
  }
  if (alerts.length === 0) return { ok: false, reason: 'empty_body', message: 'the body has no alerts' };
  return { ok: true, alerts };
}
