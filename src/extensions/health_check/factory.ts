/** Factory of the `health_check` extension. */
import type { ExtensionFactory } from '../../component/types.js';
import { healthCheckSchema } from './config.js';
import type { HealthCheckConfig } from './config.js';
import { HealthCheckExtension } from './health-check.js';

/** Makes `health_check` extensions. */
export const healthCheckFactory: ExtensionFactory<HealthCheckConfig> = {
  type: 'health_check',
  kind: 'extension',
  description: 'Serves /healthz (liveness) and /readyz (readiness) with every component status as JSON, for Kubernetes probes.',
  schema: healthCheckSchema,
  validate: (c) => (c.liveness_path === c.readiness_path ? [{ path: ['readiness_path'], message: 'must differ from liveness_path' }] : []),
  create: (settings, config) => new HealthCheckExtension(settings, config),
};
