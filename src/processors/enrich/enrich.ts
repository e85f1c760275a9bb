/**
 * The `enrich` processor: adds the CI run (cicd.*, vcs.*), the Kubernetes pod (k8s.*), host.name and static
 * attributes to every observation, and sets its traceParent so detections become children of the CI trace.
 * The context is computed once at start (the environment does not change). Detections pass through.
 */
import { readFileSync } from 'node:fs';
import { map } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { ciContextFromEnv, traceParentFromEnv } from '../../ci/context.js';
import type { CiProvider } from '../../ci/detect.js';
import type { ComponentSettings, Processor } from '../../component/types.js';
import { ATTR } from '../../model/attributes.js';
import type { Attributes } from '../../model/attributes.js';
import type { PipelineItem } from '../../model/detection.js';
import type { TraceParent } from '../../model/observation.js';
import { describeError } from '../../util/errors.js';
import type { EnrichConfig } from './config.js';
import { parseLabelsFile } from './labels.js';

/** What the processor adds to each observation. */
export interface EnrichContext {
  attributes: Attributes;
  traceParent?: TraceParent;
}

const DEFAULT_LABELS_FILE = '/etc/podinfo/labels';

/** Computes the enrichment from the environment and the labels file; warnings go to the logger. */
export function buildEnrichContext(cfg: EnrichConfig, env: Record<string, string | undefined>, log: ComponentSettings['logger']): EnrichContext {
  const k = cfg.kubernetes;
  let labels: Record<string, string> = {};
  if (k.enabled && k.labels_file) {
    try {
      labels = parseLabelsFile(readFileSync(k.labels_file, 'utf8'));
    } catch (err) {
      // The default path is optional (not every pod mounts it); a path the user chose should exist.
      const msg = `labels file ${k.labels_file} not read: ${describeError(err)}`;
      if (k.labels_file === DEFAULT_LABELS_FILE && (err as NodeJS.ErrnoException).code === 'ENOENT') log.debug(msg);
      else log.warn(msg);
    }
  }
  const attrs: Attributes = {};
  let traceParent: TraceParent | undefined;
  if (cfg.ci !== 'off') {
    const ctx = ciContextFromEnv(env, cfg.ci === 'auto' ? undefined : (cfg.ci as CiProvider), labels);
    Object.assign(attrs, ctx.attributes);
    if (cfg.trace_context === 'auto') {
      for (const w of ctx.warnings) log.warn(w);
      traceParent = ctx.traceParent;
      if (traceParent) log.info('detections join the CI trace', { trace_id: traceParent.traceId, parent_span_id: traceParent.spanId, source: ctx.traceParentSource, provider: ctx.provider });
    }
  } else if (cfg.trace_context === 'auto') {
    traceParent = traceParentFromEnv(env);
    if (env.TRACEPARENT && !traceParent) log.warn(`TRACEPARENT "${env.TRACEPARENT.slice(0, 80)}" is not a valid W3C traceparent; ignored`);
  }
  if (k.enabled) {
    const pairs: [string, string][] = [
      [ATTR.K8S_POD_NAME, k.pod_name_env],
      [ATTR.K8S_NAMESPACE_NAME, k.namespace_env],
      [ATTR.K8S_POD_UID, k.pod_uid_env],
      [ATTR.K8S_NODE_NAME, k.node_name_env],
      [ATTR.K8S_CLUSTER_NAME, k.cluster_name_env],
    ];
    for (const [key, variable] of pairs) {
      const v = variable ? env[variable] : undefined;
      if (v) attrs[key] = v;
    }
    for (const [lk, lv] of Object.entries(labels)) attrs[`k8s.pod.label.${lk}`] = lv;
  }
  if (cfg.host_name) attrs[ATTR.HOST_NAME] = cfg.host_name;
  Object.assign(attrs, cfg.attributes);
  return { attributes: attrs, traceParent };
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** Adds CI, Kubernetes and static context to observations. */
export class EnrichProcessor implements Processor {
  private ctx?: EnrichContext;

  constructor(private readonly settings: ComponentSettings, private readonly cfg: EnrichConfig) {}

  private context(): EnrichContext {
    if (!this.ctx) {
      this.ctx = buildEnrichContext(this.cfg, this.settings.env, this.settings.logger);
      // Shared (not copied) by the observations that carry no attributes of their own: never to be mutated.
      Object.freeze(this.ctx.attributes);
    }
    return this.ctx;
  }

  async start(): Promise<void> {
    this.context();
  }

  async shutdown(): Promise<void> {}

  operator(): OperatorFunction<PipelineItem, PipelineItem> {
    const t = this.settings.telemetry;
    return map((item: PipelineItem): PipelineItem => {
      t.received();
      t.emitted();
      if (item.type !== 'observation') return item;
      const ctx = this.context();
      // A copy: a receiver's observation is shared by every pipeline it feeds. Its own attributes win.
      // This runs per observation, so the common cases avoid copying: nothing to add, or nothing to merge with.
      const attributes = isEmpty(ctx.attributes) ? item.attributes : isEmpty(item.attributes) ? ctx.attributes : { ...ctx.attributes, ...item.attributes };
      const traceParent = item.traceParent ?? ctx.traceParent;
      if (attributes === item.attributes && traceParent === item.traceParent) return item;
      return { ...item, attributes, traceParent };
    });
  }
}
