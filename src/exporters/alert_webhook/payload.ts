/** Pure builders of the alert bodies: a generic JSON object or a Slack `{"text": ...}` message. */
import { ATTR, PW } from '../../model/attributes.js';
import type { AttrValue } from '../../model/attributes.js';
import type { Detection } from '../../model/detection.js';

/** The generic alert (one per deduplicated detection). Keys are a public contract (docs/exporters/alert_webhook.md). */
export interface GenericAlert {
  title: string;
  severity: string;
  severity_number: number;
  service: string;
  service_name: string;
  name: string;
  activity: string;
  environment: string;
  process?: string;
  ci_run_url?: string;
  trace_url?: string;
  trace_id: string;
  span_id: string;
  body: string;
  detection_id: string;
  count: number;
  attributes: Record<string, AttrValue>;
}

/** The detection's trace link: its pastewatch.trace.url, else the template filled in, else undefined. */
export function traceUrl(d: Detection, template: string): string | undefined {
  const own = d.attributes[PW.TRACE_URL];
  if (typeof own === 'string' && own) return own;
  if (!template) return undefined;
  return template.replaceAll('{trace_id}', d.traceId).replaceAll('{span_id}', d.spanId);
}

/** "curl (pid 42)" from the detection's process attributes, when known. */
function processText(d: Detection): string | undefined {
  const name = d.attributes[ATTR.PROCESS_EXECUTABLE_NAME];
  const pid = d.attributes[ATTR.PROCESS_PID];
  if (name === undefined && pid === undefined) return undefined;
  return `${name ?? 'process'}${pid !== undefined ? ` (pid ${pid})` : ''}`;
}

/** The short title of an alert. */
export function alertTitle(d: Detection): string {
  return `pastewatch: ${d.activity} to ${d.serviceName} (${d.service})`;
}

/** Builds the generic JSON alert. */
export function genericAlert(d: Detection, keys: readonly string[], traceTemplate: string): GenericAlert {
  const attributes: Record<string, AttrValue> = {};
  for (const k of keys) if (d.attributes[k] !== undefined) attributes[k] = d.attributes[k];
  const ci = d.attributes[ATTR.CICD_PIPELINE_RUN_URL_FULL];
  const out: GenericAlert = {
    title: alertTitle(d),
    severity: d.severityText,
    severity_number: d.severityNumber,
    service: d.service,
    service_name: d.serviceName,
    name: d.matchedName,
    activity: d.activity,
    environment: d.environment,
    trace_id: d.traceId,
    span_id: d.spanId,
    body: d.body,
    detection_id: d.id,
    count: d.count,
    attributes,
  };
  const proc = processText(d);
  if (proc) out.process = proc;
  if (typeof ci === 'string' && ci) out.ci_run_url = ci;
  const tu = traceUrl(d, traceTemplate);
  if (tu) out.trace_url = tu;
  return out;
}

/** Escapes the three characters Slack's mrkdwn reserves. */
export function slackEscape(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Builds the Slack message: title, body, context line with <url|CI run> and <url|trace> links. */
export function slackAlert(d: Detection, traceTemplate: string): { text: string } {
  const parts: string[] = [`env ${d.environment}`];
  const proc = processText(d);
  if (proc) parts.push(`process ${slackEscape(proc)}`);
  if (d.count > 1) parts.push(`${d.count} times`);
  const ci = d.attributes[ATTR.CICD_PIPELINE_RUN_URL_FULL];
  if (typeof ci === 'string' && ci) parts.push(`<${ci}|CI run>`);
  const tu = traceUrl(d, traceTemplate);
  parts.push(tu ? `<${tu}|trace>` : `trace ${d.traceId}`);
  return { text: `:rotating_light: *${slackEscape(alertTitle(d))}* [${d.severityText}]\n${slackEscape(d.body)}\n${parts.join(' | ')}` };
}
