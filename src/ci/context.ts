/**
 * The CI context of this run, from the environment: cicd.* / vcs.* attributes per provider
 * (../shared/reference/ci-providers.md) and the W3C trace context detections become children of:
 * TRACEPARENT/TRACESTATE, else Tekton's span-context annotations, else ids derived from the GitHub run the
 * way the collector's githubreceiver builds the workflow run's trace.
 */
import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ATTR } from '../model/attributes.js';
import type { Attributes } from '../model/attributes.js';
import type { TraceParent } from '../model/observation.js';
import { detectCiProvider } from './detect.js';
import type { CiProvider } from './detect.js';

/** The environment as pastewatch reads it (process.env in production). */
export type Env = Record<string, string | undefined>;

/** Where the trace parent came from. */
export type TraceParentSource = 'traceparent' | 'tekton' | 'github_run';

/** What ciContextFromEnv found. */
export interface CiContext {
  provider?: CiProvider;
  /** cicd.* and vcs.* attributes (only the ones the environment had). */
  attributes: Attributes;
  traceParent?: TraceParent;
  traceParentSource?: TraceParentSource;
  /** Things worth a warning (an invalid TRACEPARENT ...): the caller logs them. */
  warnings: string[];
}

const propagator = new W3CTraceContextPropagator();

/** A TextMapGetter over an env map: a propagator key `traceparent` reads TRACEPARENT (the env-carrier spec's normalisation). */
function envGetter(): TextMapGetter<Env> {
  const norm = (k: string): string => k.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return {
    get: (carrier, key) => carrier[norm(key)],
    keys: (carrier) => Object.keys(carrier),
  };
}

/** A getter over a plain (lower-case key) text-map carrier, as Tekton writes it. */
const mapGetter: TextMapGetter<Record<string, string>> = {
  get: (carrier, key) => carrier[key] ?? carrier[key.toLowerCase()],
  keys: (carrier) => Object.keys(carrier),
};

function fromContext(ctx: ReturnType<typeof propagator.extract>): TraceParent | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc) return undefined;
  const ts = sc.traceState?.serialize();
  return { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, ...(ts ? { traceState: ts } : {}) };
}

/** Parses W3C TRACEPARENT / TRACESTATE from an env map; undefined when absent or invalid. */
export function traceParentFromEnv(env: Env): TraceParent | undefined {
  if (!env.TRACEPARENT) return undefined;
  return fromContext(propagator.extract(ROOT_CONTEXT, env, envGetter()));
}

/** Parses a JSON text-map carrier (`{"traceparent":"00-..."}`) as Tekton keeps in its span-context annotations. */
export function traceParentFromCarrierJson(text: string): TraceParent | undefined {
  let carrier: unknown;
  try {
    carrier = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!carrier || typeof carrier !== 'object' || Array.isArray(carrier)) return undefined;
  const c: Record<string, string> = {};
  for (const [k, v] of Object.entries(carrier as Record<string, unknown>)) if (typeof v === 'string') c[k.toLowerCase()] = v;
  return fromContext(propagator.extract(ROOT_CONTEXT, c, mapGetter));
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * The trace of a GitHub Actions workflow run as the collector-contrib githubreceiver builds it: trace id =
 * first 32 hex of sha256("{run_id}{run_attempt}t"), root span id = hex 16..32 of sha256("{run_id}{run_attempt}s").
 */
export function githubRunTraceParent(runId: string, runAttempt: string): TraceParent {
  return {
    traceId: sha256Hex(`${runId}${runAttempt}t`).slice(0, 32),
    spanId: sha256Hex(`${runId}${runAttempt}s`).slice(16, 32),
    traceFlags: 1,
  };
}

/** Copies the defined, non-empty values into attributes. */
function put(a: Attributes, pairs: [string, string | undefined][]): void {
  for (const [k, v] of pairs) if (v !== undefined && v.trim() !== '') a[k] = v.trim();
}

/** The last path segment of a repository slug or URL (`org/repo.git` -> `repo`). */
function repoName(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const last = s.replace(/\/+$/, '').split(/[/:]/).pop();
  return last?.replace(/\.git$/, '') || undefined;
}

/** Tekton labels (tekton.dev/*) from the downward API labels file, when given. */
export type PodLabels = Record<string, string>;

/** cicd.* / vcs.* attributes of one provider. */
export function ciAttributes(provider: CiProvider, env: Env, labels: PodLabels = {}): Attributes {
  const a: Attributes = {};
  switch (provider) {
    case 'github_actions': {
      const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
      const repo = env.GITHUB_REPOSITORY;
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.GITHUB_WORKFLOW],
        [ATTR.CICD_PIPELINE_RUN_ID, env.GITHUB_RUN_ID],
        [ATTR.CICD_PIPELINE_RUN_URL_FULL, repo && env.GITHUB_RUN_ID ? `${server}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}` : undefined],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.GITHUB_JOB],
        [ATTR.CICD_WORKER_NAME, env.RUNNER_NAME],
        [ATTR.VCS_REPOSITORY_URL_FULL, repo ? `${server}/${repo}` : undefined],
        [ATTR.VCS_REPOSITORY_NAME, repoName(repo)],
        [ATTR.VCS_REF_HEAD_NAME, env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME],
        [ATTR.VCS_REF_HEAD_REVISION, env.GITHUB_SHA],
      ]);
      a[ATTR.VCS_PROVIDER_NAME] = 'github';
      break;
    }
    case 'gitlab_ci':
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.CI_PIPELINE_NAME || env.CI_PROJECT_PATH],
        [ATTR.CICD_PIPELINE_RUN_ID, env.CI_PIPELINE_ID],
        [ATTR.CICD_PIPELINE_RUN_URL_FULL, env.CI_PIPELINE_URL],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.CI_JOB_NAME],
        [ATTR.CICD_PIPELINE_TASK_RUN_ID, env.CI_JOB_ID],
        [ATTR.CICD_WORKER_NAME, env.CI_RUNNER_DESCRIPTION],
        [ATTR.VCS_REPOSITORY_URL_FULL, env.CI_PROJECT_URL],
        [ATTR.VCS_REPOSITORY_NAME, env.CI_PROJECT_NAME || repoName(env.CI_PROJECT_PATH)],
        [ATTR.VCS_REF_HEAD_NAME, env.CI_COMMIT_REF_NAME],
        [ATTR.VCS_REF_HEAD_REVISION, env.CI_COMMIT_SHA],
      ]);
      a[ATTR.VCS_PROVIDER_NAME] = 'gitlab';
      break;
    case 'jenkins':
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.JOB_NAME],
        [ATTR.CICD_PIPELINE_RUN_ID, env.BUILD_NUMBER || env.BUILD_ID],
        [ATTR.CICD_PIPELINE_RUN_URL_FULL, env.BUILD_URL],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.STAGE_NAME],
        [ATTR.CICD_WORKER_NAME, env.NODE_NAME],
        [ATTR.VCS_REPOSITORY_URL_FULL, env.GIT_URL],
        [ATTR.VCS_REPOSITORY_NAME, repoName(env.GIT_URL)],
        [ATTR.VCS_REF_HEAD_NAME, env.GIT_BRANCH],
        [ATTR.VCS_REF_HEAD_REVISION, env.GIT_COMMIT],
      ]);
      break;
    case 'buildkite':
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.BUILDKITE_PIPELINE_SLUG],
        [ATTR.CICD_PIPELINE_RUN_ID, env.BUILDKITE_BUILD_ID],
        [ATTR.CICD_PIPELINE_RUN_URL_FULL, env.BUILDKITE_BUILD_URL],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.BUILDKITE_LABEL || env.BUILDKITE_STEP_KEY],
        [ATTR.CICD_PIPELINE_TASK_RUN_ID, env.BUILDKITE_JOB_ID],
        [ATTR.CICD_WORKER_NAME, env.BUILDKITE_AGENT_NAME],
        [ATTR.VCS_REPOSITORY_URL_FULL, env.BUILDKITE_REPO],
        [ATTR.VCS_REPOSITORY_NAME, repoName(env.BUILDKITE_REPO)],
        [ATTR.VCS_REF_HEAD_NAME, env.BUILDKITE_BRANCH],
        [ATTR.VCS_REF_HEAD_REVISION, env.BUILDKITE_COMMIT],
      ]);
      break;
    case 'circleci':
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.CIRCLE_PROJECT_REPONAME],
        [ATTR.CICD_PIPELINE_RUN_ID, env.CIRCLE_WORKFLOW_ID],
        [ATTR.CICD_PIPELINE_RUN_URL_FULL, env.CIRCLE_BUILD_URL],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.CIRCLE_JOB],
        [ATTR.CICD_PIPELINE_TASK_RUN_ID, env.CIRCLE_BUILD_NUM],
        [ATTR.VCS_REPOSITORY_URL_FULL, env.CIRCLE_REPOSITORY_URL],
        [ATTR.VCS_REPOSITORY_NAME, env.CIRCLE_PROJECT_REPONAME],
        [ATTR.VCS_REF_HEAD_NAME, env.CIRCLE_BRANCH],
        [ATTR.VCS_REF_HEAD_REVISION, env.CIRCLE_SHA1],
      ]);
      break;
    case 'azure_pipelines': {
      const coll = env.SYSTEM_COLLECTIONURI ? env.SYSTEM_COLLECTIONURI.replace(/\/?$/, '/') : undefined;
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.BUILD_DEFINITIONNAME],
        [ATTR.CICD_PIPELINE_RUN_ID, env.BUILD_BUILDID],
        [ATTR.CICD_PIPELINE_RUN_URL_FULL, coll && env.SYSTEM_TEAMPROJECT && env.BUILD_BUILDID ? `${coll}${encodeURIComponent(env.SYSTEM_TEAMPROJECT)}/_build/results?buildId=${env.BUILD_BUILDID}` : undefined],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.SYSTEM_JOBDISPLAYNAME],
        [ATTR.CICD_PIPELINE_TASK_RUN_ID, env.SYSTEM_JOBID],
        [ATTR.CICD_WORKER_NAME, env.AGENT_NAME],
        [ATTR.VCS_REPOSITORY_URL_FULL, env.BUILD_REPOSITORY_URI],
        [ATTR.VCS_REPOSITORY_NAME, env.BUILD_REPOSITORY_NAME],
        [ATTR.VCS_REF_HEAD_NAME, env.BUILD_SOURCEBRANCHNAME],
        [ATTR.VCS_REF_HEAD_REVISION, env.BUILD_SOURCEVERSION],
      ]);
      break;
    }
    case 'tekton':
      put(a, [
        [ATTR.CICD_PIPELINE_NAME, env.TEKTON_PIPELINE || labels['tekton.dev/pipeline']],
        [ATTR.CICD_PIPELINE_RUN_ID, env.TEKTON_PIPELINE_RUN || labels['tekton.dev/pipelineRun']],
        [ATTR.CICD_PIPELINE_TASK_NAME, env.TEKTON_TASK || labels['tekton.dev/pipelineTask'] || labels['tekton.dev/task']],
        [ATTR.CICD_PIPELINE_TASK_RUN_ID, env.TEKTON_TASK_RUN || labels['tekton.dev/taskRun']],
      ]);
      break;
  }
  return a;
}

/**
 * The CI context: provider (given, or detected), its attributes, and the trace parent from TRACEPARENT, else
 * Tekton's span-context env (TEKTON_TASKRUN_SPAN_CONTEXT, then TEKTON_PIPELINERUN_SPAN_CONTEXT), else the
 * GitHub run (GITHUB_RUN_ID + GITHUB_RUN_ATTEMPT). The CI gate command and the enrich processor share it.
 */
export function ciContextFromEnv(env: Env, provider?: CiProvider, labels: PodLabels = {}): CiContext {
  const p = provider ?? detectCiProvider(env) ?? (labels['tekton.dev/taskRun'] || labels['tekton.dev/pipelineRun'] ? 'tekton' : undefined);
  const out: CiContext = { provider: p, attributes: p ? ciAttributes(p, env, labels) : {}, warnings: [] };
  if (env.TRACEPARENT) {
    const tp = traceParentFromEnv(env);
    if (tp) {
      out.traceParent = tp;
      out.traceParentSource = 'traceparent';
      return out;
    }
    out.warnings.push(`TRACEPARENT "${env.TRACEPARENT.slice(0, 80)}" is not a valid W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); ignored`);
  }
  for (const key of ['TEKTON_TASKRUN_SPAN_CONTEXT', 'TEKTON_PIPELINERUN_SPAN_CONTEXT'] as const) {
    const text = env[key];
    if (!text) continue;
    const tp = traceParentFromCarrierJson(text);
    if (tp) {
      out.traceParent = tp;
      out.traceParentSource = 'tekton';
      return out;
    }
    out.warnings.push(`${key} does not hold a JSON carrier with a valid traceparent; ignored`);
  }
  if ((p === 'github_actions' || p === undefined) && env.GITHUB_RUN_ID && env.GITHUB_RUN_ATTEMPT) {
    if (/^\d+$/.test(env.GITHUB_RUN_ID) && /^\d+$/.test(env.GITHUB_RUN_ATTEMPT)) {
      out.traceParent = githubRunTraceParent(env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT);
      out.traceParentSource = 'github_run';
    } else out.warnings.push(`GITHUB_RUN_ID/GITHUB_RUN_ATTEMPT are not numbers ("${env.GITHUB_RUN_ID}", "${env.GITHUB_RUN_ATTEMPT}"); no trace derived`);
  }
  return out;
}
