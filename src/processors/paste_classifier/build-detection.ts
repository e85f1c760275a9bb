/**
 * Pure parts of the classifier: which names of an observation match the catalog (and which is the best
 * evidence), the environment, and the Detection itself with its full attribute contract
 * (docs/detection-schema.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CatalogEntry } from '../../catalog/paste-services.js';
import type { CatalogMatcher } from '../../catalog/matcher.js';
import { normaliseName } from '../../catalog/matcher.js';
import type { Attributes } from '../../model/attributes.js';
import { ATTR, PW, RULE } from '../../model/attributes.js';
import type { Activity, Detection, Environment } from '../../model/detection.js';
import type { Evidence, Observation } from '../../model/observation.js';
import { formatUnixNano, nowUnixNano } from '../../model/time.js';
import type { ActivityThresholds } from './activity.js';
import { DEFAULT_THRESHOLDS, classifyActivity } from './activity.js';
import { ACTIVITY_VERB, SHORT_ACTIONS, implication, recommendations } from './guidance.js';
import { severityFor } from './severity.js';
import { redactUrl } from '../../util/redact.js';

/** Evidence from strongest to weakest: the name the client itself sent beats names inferred from DNS. */
export const EVIDENCE_PRECEDENCE: readonly Evidence[] = [
  'tls.sni',
  'quic.sni',
  'http.host',
  'http.connect',
  'http.target',
  'hubble.http',
  'hubble.destination_names',
  'falco.fd.sip.name',
  'dns.query',
  'dns.answer',
  'hubble.dns',
  'ip.correlated',
];

const RANK = new Map<string, number>(EVIDENCE_PRECEDENCE.map((e, i) => [e, i]));
const rank = (e: string): number => RANK.get(e) ?? EVIDENCE_PRECEDENCE.length;

/** One observed name that matched a catalog entry. */
export interface NameMatch {
  /** The normalised name as seen (e.g. `www.pastebin.com`). */
  name: string;
  evidence: Evidence;
  entry: CatalogEntry;
}

/** Every matching name of an observation and the one chosen (best evidence, first seen on ties). */
export interface ClassifierMatch {
  primary: NameMatch;
  matches: NameMatch[];
}

/** Matches every name of the observation; undefined when none matches. */
export function matchObservation(obs: Observation, matcher: CatalogMatcher): ClassifierMatch | undefined {
  let primary: NameMatch | undefined;
  let matches: NameMatch[] | undefined;
  for (const ne of obs.names) {
    if (typeof ne?.name !== 'string') continue;
    const entry = matcher.match(ne.name);
    if (!entry) continue;
    const m: NameMatch = { name: normaliseName(ne.name), evidence: ne.evidence, entry };
    (matches ??= []).push(m);
    if (!primary || rank(m.evidence) < rank(primary.evidence)) primary = m;
  }
  return primary && matches ? { primary, matches } : undefined;
}

/** The environment setting (auto, or a fixed one). */
export type EnvironmentSetting = 'auto' | 'ci' | 'staging' | 'production' | 'development';

/**
 * A fixed setting wins; auto is `ci` when a CI provider was detected or the observation carries cicd.*
 * attributes, else `production` (the safe assumption: production guidance).
 */
export function resolveEnvironment(setting: EnvironmentSetting, ciDetected: boolean, obs: Observation): Environment {
  if (setting !== 'auto') return setting;
  if (ciDetected) return 'ci';
  for (const k in obs.attributes) if (k.startsWith('cicd.')) return 'ci';
  return 'production';
}

/** How buildDetection is parameterised. */
export interface BuildOptions {
  environment: Environment;
  thresholds?: ActivityThresholds;
  /** `pastewatch.trace.url` template with {trace_id} / {span_id}; '' or undefined = none. */
  traceUrlTemplate?: string;
  /** Detection time (tests pin it); now by default. */
  nowUnixNano?: bigint;
  /** Random hex of n bytes (tests pin it); by default ids are derived from the observation (see detectionIds). */
  randomHex?: (bytes: number) => string;
}

/** Salt for this process: ids are stable within a run and differ between runs. */
const RUN_SALT = randomBytes(16).toString('hex');

/**
 * Detection id, span id and (without a parent) trace id, derived from the observation and the service.
 * Processors are instantiated per pipeline, so a `logs` and a `traces` pipeline each classify the same
 * observation: deriving the ids (instead of drawing them) makes the log record and the span agree.
 */
export function detectionIds(obs: Observation, service: string): { id: string; spanId: string; traceId: string } {
  const ep = (e: Observation['source']): string => (e ? `${e.address}:${e.port}` : '');
  const h = createHash('sha256')
    .update(`${RUN_SALT}|${obs.receiver}|${obs.kind}|${obs.timeUnixNano}|${ep(obs.source)}|${ep(obs.destination)}|${obs.transport ?? ''}|${service}`)
    .digest('hex');
  return { id: h.slice(0, 16), spanId: h.slice(16, 32), traceId: h.slice(32, 64) };
}

/** Who did it, for the body: `curl (pid 4242)`, `pod ns/name`, `container 0123456789ab` or `a workload`. */
export function actorText(obs: Observation): string {
  const p = obs.process;
  const exe = p?.executableName ?? (typeof obs.attributes[ATTR.PROCESS_EXECUTABLE_NAME] === 'string' ? (obs.attributes[ATTR.PROCESS_EXECUTABLE_NAME] as string) : undefined);
  const pid = p?.pid ?? (typeof obs.attributes[ATTR.PROCESS_PID] === 'number' ? (obs.attributes[ATTR.PROCESS_PID] as number) : undefined);
  if (exe) return pid !== undefined ? `${exe} (pid ${pid})` : exe;
  if (pid !== undefined) return `pid ${pid}`;
  const pod = obs.attributes[ATTR.K8S_POD_NAME];
  if (typeof pod === 'string' && pod) {
    const ns = obs.attributes[ATTR.K8S_NAMESPACE_NAME];
    return `pod ${typeof ns === 'string' && ns ? `${ns}/` : ''}${pod}`;
  }
  const cid = p?.containerId ?? obs.attributes[ATTR.CONTAINER_ID];
  if (typeof cid === 'string' && cid) return `container ${cid.slice(0, 12)}`;
  return 'a workload';
}

/** The one-line body: who, did what, to which service (name via evidence), from where, in which environment, why it matters, what to do. */
export function bodyText(obs: Observation, m: NameMatch, activity: Activity, env: Environment): string {
  const via = m.name === m.entry.domain ? `via ${m.evidence}` : `${m.name} via ${m.evidence}`;
  const from = obs.source?.address ? ` from ${obs.source.address}` : '';
  const blocked = obs.blocked ? ' (blocked)' : '';
  return `${actorText(obs)} ${ACTIVITY_VERB[activity]} ${m.entry.domain} (${via})${from} in ${env}${blocked}: ${implication(activity, env)} — ${SHORT_ACTIONS[env]}`;
}

function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** Builds the Detection of an observation that matched: ids, activity, severity, body and every attribute. */
export function buildDetection(obs: Observation, match: ClassifierMatch, opts: BuildOptions): Detection {
  const m = match.primary;
  const derived = detectionIds(obs, m.entry.domain);
  const hex = opts.randomHex;
  const env = opts.environment;
  const activity = classifyActivity(obs, opts.thresholds ?? DEFAULT_THRESHOLDS);
  const sev = severityFor(m.entry.category, activity, m.entry.severity);
  const id = hex ? hex(8) : derived.id;
  const traceId = obs.traceParent?.traceId ?? (hex ? hex(16) : derived.traceId);
  const spanId = hex ? hex(8) : derived.spanId;
  const t = obs.timeUnixNano;
  const seen = formatUnixNano(t);
  const recs = recommendations(activity, env);

  // Receiver/enrichment attributes first: the contract keys below win over a same-named copied key.
  const a: Attributes = { ...obs.attributes };
  const str = (k: string): string | undefined => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof a[k] === 'number' ? (a[k] as number) : undefined);

  a[ATTR.SERVER_ADDRESS] = m.name;
  a[ATTR.SOURCE_ADDRESS] = obs.source?.address ?? str(ATTR.SOURCE_ADDRESS) ?? '';
  a[ATTR.SOURCE_PORT] = obs.source?.port ?? num(ATTR.SOURCE_PORT) ?? 0;
  a[ATTR.DESTINATION_ADDRESS] = obs.destination?.address ?? str(ATTR.DESTINATION_ADDRESS) ?? '';
  a[ATTR.DESTINATION_PORT] = obs.destination?.port ?? num(ATTR.DESTINATION_PORT) ?? 0;
  if (obs.destination?.port) a[ATTR.SERVER_PORT] = obs.destination.port;
  a[ATTR.NETWORK_TRANSPORT] = obs.transport ?? (obs.dns && obs.dns.transport !== 'hubble' ? obs.dns.transport : undefined) ?? str(ATTR.NETWORK_TRANSPORT) ?? '';
  if (obs.networkType) a[ATTR.NETWORK_TYPE] = obs.networkType;

  a[PW.SERVICE] = m.entry.domain;
  a[PW.CATEGORY] = m.entry.category;
  a[PW.EVIDENCE] = uniq(match.matches.map((x) => x.evidence));
  a[PW.NAMES] = uniq(match.matches.map((x) => x.name));
  a[PW.ACTIVITY] = activity;
  a[PW.ENVIRONMENT] = env;
  a[PW.RECOMMENDATION] = recs;
  a[PW.IMPORTANCE] = RULE.IMPORTANCE;
  a[ATTR.SECURITY_RULE_NAME] = RULE.NAME;
  a[ATTR.SECURITY_RULE_CATEGORY] = RULE.CATEGORY;
  a[ATTR.SECURITY_RULE_DESCRIPTION] = RULE.DESCRIPTION;
  a[ATTR.SECURITY_RULE_REFERENCE] = RULE.REFERENCE;
  a[ATTR.SECURITY_RULE_RULESET_NAME] = RULE.RULESET;
  a[PW.ATTACK_TACTIC_ID] = RULE.TACTIC_ID;
  a[PW.ATTACK_TACTIC_NAME] = RULE.TACTIC_NAME;
  a[PW.ATTACK_TECHNIQUE_ID] = RULE.TECHNIQUE_ID;
  a[PW.ATTACK_TECHNIQUE_NAME] = RULE.TECHNIQUE_NAME;
  a[PW.ATTACK_SUBTECHNIQUE_ID] = RULE.SUBTECHNIQUE_ID;
  a[PW.ATTACK_SUBTECHNIQUE_NAME] = RULE.SUBTECHNIQUE_NAME;
  a[PW.COUNT] = 1;
  a[PW.FIRST_SEEN] = seen;
  a[PW.LAST_SEEN] = seen;
  a[PW.DETECTION_ID] = id;
  a[PW.RECEIVER] = obs.receiver;

  if (obs.flow) {
    a[PW.BYTES_SENT] = obs.flow.bytesSent;
    a[PW.BYTES_RECEIVED] = obs.flow.bytesReceived;
    a[PW.PACKETS_SENT] = obs.flow.packetsSent;
    a[PW.PACKETS_RECEIVED] = obs.flow.packetsReceived;
  }
  if (obs.http?.method) a[ATTR.HTTP_REQUEST_METHOD] = obs.http.method.toUpperCase();
  // Redacted again here: observations from other receivers (or hand-built ones) may carry a raw target.
  if (obs.http?.target && /^https?:\/\//i.test(obs.http.target)) a[ATTR.URL_FULL] = redactUrl(obs.http.target);
  if (obs.dns) {
    if (obs.dns.query) a[ATTR.DNS_QUESTION_NAME] = obs.dns.query;
    const answers = obs.dns.answers.filter((r) => r.type === 'A' || r.type === 'AAAA').map((r) => r.data);
    if (answers.length) a[ATTR.DNS_ANSWERS] = answers;
  }
  const p = obs.process;
  if (p) {
    if (p.pid !== undefined) a[ATTR.PROCESS_PID] = p.pid;
    if (p.ppid !== undefined) a[ATTR.PROCESS_PARENT_PID] = p.ppid;
    if (p.executableName) a[ATTR.PROCESS_EXECUTABLE_NAME] = p.executableName;
    if (p.executablePath) a[ATTR.PROCESS_EXECUTABLE_PATH] = p.executablePath;
    if (p.commandLine) a[ATTR.PROCESS_COMMAND_LINE] = p.commandLine;
    if (p.user) a[ATTR.PROCESS_OWNER] = p.user;
    if (p.uid !== undefined) a[ATTR.PROCESS_USER_ID] = p.uid;
    if (p.ancestry?.length) a[PW.PROCESS_ANCESTRY] = [...p.ancestry];
    if (p.containerId) a[ATTR.CONTAINER_ID] = p.containerId;
  }
  if (obs.tls) a[PW.TLS_ECH] = obs.tls.ech;
  if (obs.blocked !== undefined) a[PW.BLOCKED] = obs.blocked;
  if (opts.traceUrlTemplate) a[PW.TRACE_URL] = opts.traceUrlTemplate.replaceAll('{trace_id}', traceId).replaceAll('{span_id}', spanId);

  return {
    type: 'detection',
    id,
    timeUnixNano: t,
    observedTimeUnixNano: opts.nowUnixNano ?? nowUnixNano(),
    service: m.entry.domain,
    serviceName: m.entry.service,
    category: m.entry.category,
    matchedName: m.name,
    activity,
    environment: env,
    severityNumber: sev.number,
    severityText: sev.text,
    body: bodyText(obs, m, activity, env),
    attributes: a,
    traceId,
    spanId,
    parentSpanId: obs.traceParent?.spanId,
    traceFlags: obs.traceParent?.traceFlags ?? 1,
    traceState: obs.traceParent?.traceState,
    count: 1,
    firstSeenUnixNano: t,
    lastSeenUnixNano: t,
    observation: obs,
  };
}
