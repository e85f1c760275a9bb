/** A plain-text table of detections for humans (scan --format table, the CI gate's summary). */
import type { Detection } from '../model/detection.js';
import { ATTR, PW } from '../model/attributes.js';

/** One row's cells, in column order. */
export function detectionRow(d: Detection): string[] {
  const a = d.attributes;
  const src = a[ATTR.SOURCE_ADDRESS] ? `${String(a[ATTR.SOURCE_ADDRESS])}${a[ATTR.SOURCE_PORT] ? `:${String(a[ATTR.SOURCE_PORT])}` : ''}` : '-';
  const proc = a[ATTR.PROCESS_EXECUTABLE_NAME] ? `${String(a[ATTR.PROCESS_EXECUTABLE_NAME])}${a[ATTR.PROCESS_PID] !== undefined ? ` (${String(a[ATTR.PROCESS_PID])})` : ''}` : '-';
  const evidence = Array.isArray(a[PW.EVIDENCE]) ? (a[PW.EVIDENCE] as string[]).join(',') : String(a[PW.EVIDENCE] ?? '');
  return [d.severityText, d.service, d.matchedName, evidence, d.activity, src, proc, String(d.count)];
}

/** Column headings matching detectionRow. */
export const TABLE_HEADINGS = ['SEVERITY', 'SERVICE', 'NAME', 'EVIDENCE', 'ACTIVITY', 'SOURCE', 'PROCESS', 'COUNT'];

/**
 * Cell text safe for a terminal: control characters (ESC, CR, BEL ...) become \xNN. A DNS name may hold any
 * byte, so a hostile workload could otherwise write terminal escape sequences into the operator's table.
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Renders rows under headings with aligned columns. */
export function renderTable(headings: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map(printable));
  const widths = headings.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const cut = (s: string, w: number): string => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (cells: string[]): string => cells.map((c, i) => cut(c, widths[i])).join('  ').trimEnd();
  return [line(headings), ...rows.map(line)].join('\n') + '\n';
}

/** The detections table, or a one-line "no detections" text. */
export function renderDetections(ds: readonly Detection[]): string {
  if (ds.length === 0) return 'no paste-service traffic detected\n';
  return renderTable(TABLE_HEADINGS, ds.map(detectionRow));
}
