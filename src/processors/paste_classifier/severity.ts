/** The category x activity -> OTLP severity mapping (documented in docs/processors/paste_classifier.md). */
import type { Category, CatalogSeverity } from '../../catalog/paste-services.js';
import type { Activity, SeverityText } from '../../model/detection.js';

/** OTLP severity numbers of the bands we use. */
export const SEVERITY_NUMBER: Readonly<Record<SeverityText, number>> = { INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

/**
 * Severity by category and activity. paste and file_drop never go below ERROR (a DNS lookup alone
 * included); an upload to paste, file_drop or request_sink is FATAL; the opt-in, noisy categories stay low.
 */
export const SEVERITY_TABLE: Readonly<Record<Category, Readonly<Record<Activity, SeverityText>>>> = {
  paste: { lookup: 'ERROR', connect: 'ERROR', download: 'ERROR', upload: 'FATAL' },
  file_drop: { lookup: 'ERROR', connect: 'ERROR', download: 'ERROR', upload: 'FATAL' },
  request_sink: { lookup: 'ERROR', connect: 'ERROR', download: 'ERROR', upload: 'FATAL' },
  paste_like: { lookup: 'INFO', connect: 'WARN', download: 'WARN', upload: 'WARN' },
  code_hosting_raw: { lookup: 'INFO', connect: 'INFO', download: 'INFO', upload: 'WARN' },
  cloud_storage: { lookup: 'INFO', connect: 'INFO', download: 'INFO', upload: 'WARN' },
};

/** The severity of a detection: the table's value, raised to the catalog entry's floor when that is higher. */
export function severityFor(category: Category, activity: Activity, floor?: CatalogSeverity): { number: number; text: SeverityText } {
  let text: SeverityText = SEVERITY_TABLE[category]?.[activity] ?? 'ERROR';
  if (floor && SEVERITY_NUMBER[floor] > SEVERITY_NUMBER[text]) text = floor;
  return { number: SEVERITY_NUMBER[text], text };
}
