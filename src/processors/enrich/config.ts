/** Settings of the `enrich` processor. */
import { z } from 'zod';
import { CI_PROVIDERS } from '../../ci/detect.js';
import type { CiProvider } from '../../ci/detect.js';

const ciChoices = ['auto', 'off', ...CI_PROVIDERS] as [string, ...string[]];

/** `enrich` processor settings. */
export const enrichSchema = z.strictObject({
  /** CI provider whose variables to read: auto (detect), off, or one provider. */
  ci: z.enum(ciChoices as ['auto', 'off', ...CiProvider[]]).default('auto'),
  kubernetes: z.strictObject({
    enabled: z.boolean().default(true),
    /** Names of the downward-API environment variables (set by the pod manifest). */
    pod_name_env: z.string().default('POD_NAME'),
    namespace_env: z.string().default('POD_NAMESPACE'),
    pod_uid_env: z.string().default('POD_UID'),
    node_name_env: z.string().default('NODE_NAME'),
    /** Variable holding the cluster name; '' = none. */
    cluster_name_env: z.string().default(''),
    /** Downward API labels file (`key="value"` lines); missing is fine; '' = none. */
    labels_file: z.string().default('/etc/podinfo/labels'),
  }).prefault({}),
  /** host.name to add; '' = none (the resource already carries this host's name). */
  host_name: z.string().default(''),
  /** Static attributes added to every observation. */
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** auto: parent detections on TRACEPARENT / Tekton / the GitHub run; off: never set a trace parent. */
  trace_context: z.enum(['auto', 'off']).default('auto'),
});

/** Parsed `enrich` settings. */
export type EnrichConfig = z.infer<typeof enrichSchema>;
