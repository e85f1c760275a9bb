/** Factory of the `dedup` processor. */
import type { ProcessorFactory } from '../../component/types.js';
import { dedupSchema } from './config.js';
import type { DedupConfig } from './config.js';
import { DedupProcessor } from './dedup.js';

/** Makes `dedup` processors. */
export const dedupFactory: ProcessorFactory<DedupConfig> = {
  type: 'dedup',
  kind: 'processor',
  description: 'Merges detections of the same workload, process and service within a window into one (count, first/last seen).',
  schema: dedupSchema,
  create: (settings, config) => new DedupProcessor(settings, config),
};
