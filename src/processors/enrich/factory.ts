/** Factory of the `enrich` processor. */
import type { ProcessorFactory } from '../../component/types.js';
import { enrichSchema } from './config.js';
import type { EnrichConfig } from './config.js';
import { EnrichProcessor } from './enrich.js';

/** Makes `enrich` processors. */
export const enrichFactory: ProcessorFactory<EnrichConfig> = {
  type: 'enrich',
  kind: 'processor',
  description: 'Adds the CI run (cicd.*, vcs.*), Kubernetes pod (k8s.*) and static attributes to observations and links them to the CI trace (TRACEPARENT, Tekton, GitHub run).',
  schema: enrichSchema,
  create: (settings, config) => new EnrichProcessor(settings, config),
};
