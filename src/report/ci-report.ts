/**
 * The CI gate's report: a JSON document other tools read (docs/ci-gate.md describes it), a markdown
 * section for GITHUB_STEP_SUMMARY, and GitHub workflow-command annotations.
 */
import type { Detection } from '../model/detection.js';
import { ATTR, PW } from '../model/attributes.js';
import { formatUnixNano } from '../model/time.js';
import { detectionRow, TABLE_HEADINGS } from './table.js';

/** Version of the report's JSON shape; bumped on incompatible change. */
export const CI_REPORT_SCHEMA = 'pastewatch.ci-report/v1';

/** One detection as the report lists it. */
export interface CiReportDetection {
  id: string;
  time: string;
  severity_text: string;
  severity_number: number;
  service: string;
  category: string;
  name: string;
  evidence: string[];
  activity: string;
  count: number;
  process?: { pid?: number; executable?: string; command_line?: string };
  source?: string;
  destination?: string;
  trace_id: string;
  span_id: string;
  trace_url?: string;
  body: string;
}

/** The whole report (JSON file written by --report). */
export interface CiReport {
  schema: typeof CI_REPORT_SCHEMA;
  command: string[];
  started_at: string;
  ended_at: string;
  duration_ms: number;
  /** The wrapped command's exit code; null when a signal killed it. */
  command_exit_code: number | null;
  /** The signal that killed the command, if any. */
  command_signal: string | null;
  /** pastewatch's own exit code. */
  exit_code: number;
  enforce: boolean;
  /** Verdict: clean, detected (reported only) or blocked (--enforce failed the step). */
  outcome: 'clean' | 'detected' | 'enforced';
  allowed_domains: string[];
  trace: { trace_id: string; span_id: string; parent_span_id?: string; traceparent: string };
  ci: Record<string, string | number | boolean>;
  detections: CiReportDetection[];
  capture: { receivers: string[]; problems: string[] };
}

/** Maps a detection to its report entry. */
export function reportDetection(d: Detection): CiReportDetection {
  const a = d.attributes;
  const str = (k: string): string | undefined => (a[k] === undefined ? undefined : String(a[k]));
  const num = (k: string): number | undefined => (typeof a[k] === 'number' ? (a[k] as number) : undefined);
  const hostPort = (addr: string, port: string): string | undefined => (a[addr] ? `${String(a[addr])}${a[port] ? `:${String(a[port])}` : ''}` : undefined);
  const process = a[ATTR.PROCESS_PID] !== undefined || a[ATTR.PROCESS_EXECUTABLE_NAME] !== undefined
    ? { pid: num(ATTR.PROCESS_PID), executable: str(ATTR.PROCESS_EXECUTABLE_PATH) ?? str(ATTR.PROCESS_EXECUTABLE_NAME), command_line: str(ATTR.PROCESS_COMMAND_LINE) }
    : undefined;
  return {
    id: d.id,
    time: formatUnixNano(d.timeUnixNano),
    severity_text: d.severityText,
    severity_number: d.severityNumber,
    service: d.service,
    category: d.category,
    name: d.matchedName,
    evidence: Array.isArray(a[PW.EVIDENCE]) ? (a[PW.EVIDENCE] as string[]) : [],
    activity: d.activity,
    count: d.count,
    process,
    source: hostPort(ATTR.SOURCE_ADDRESS, ATTR.SOURCE_PORT),
    destination: hostPort(ATTR.DESTINATION_ADDRESS, ATTR.DESTINATION_PORT),
    trace_id: d.traceId,
    span_id: d.spanId,
    trace_url: str(PW.TRACE_URL),
    body: d.body,
  };
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown section appended to GITHUB_STEP_SUMMARY. */
export function renderMarkdownSummary(r: CiReport, detections: readonly Detection[]): string {
  const head = r.outcome === 'clean'
    ? '### pastewatch: no paste-service egress\n'
    : `### pastewatch: paste-service egress detected${r.outcome === 'enforced' ? ' (step failed by --enforce)' : ''}\n`;
  const cmd = `\`${r.command.join(' ').replace(/`/g, "'")}\``;
  const lines = [head, `Command ${cmd} exited ${r.command_signal ? `on signal ${r.command_signal}` : `with ${String(r.command_exit_code)}`} after ${(r.duration_ms / 1000).toFixed(1)} s. Trace \`${r.trace.trace_id}\`.`, ''];
  if (detections.length) {
    lines.push(`| ${TABLE_HEADINGS.join(' | ')} |`, `|${TABLE_HEADINGS.map(() => '---').join('|')}|`);
    for (const d of detections) lines.push(`| ${detectionRow(d).map(mdCell).join(' | ')} |`);
    lines.push('');
    const urls = r.detections.filter((d) => d.trace_url);
    for (const d of urls) lines.push(`- [trace of ${d.service} ${d.activity}](${d.trace_url})`);
    if (urls.length) lines.push('');
    lines.push('<details><summary>What to do</summary>', '', ...detections.slice(0, 1).flatMap((d) => (Array.isArray(d.attributes[PW.RECOMMENDATION]) ? (d.attributes[PW.RECOMMENDATION] as string[]).map((x) => `- ${x}`) : [])), '', '</details>', '');
  }
  if (r.capture.problems.length) lines.push(...r.capture.problems.map((p) => `> capture problem: ${p}`), '');
  return lines.join('\n') + '\n';
}

/** Escapes text for a workflow command's message / property. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** GitHub annotations: `::error` when the step is enforced or severity >= ERROR, else `::warning`. */
export function renderGithubAnnotations(r: CiReport): string {
  return r.detections.map((d) => {
    const level = r.outcome === 'enforced' || d.severity_number >= 17 ? 'error' : 'warning';
    const title = `pastewatch: ${d.activity} ${d.service}`;
    return `::${level} title=${escapeProperty(title)}::${escapeData(d.body)}`;
  }).join('\n') + (r.detections.length ? '\n' : '');
}
