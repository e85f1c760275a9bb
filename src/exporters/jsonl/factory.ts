/** Factory of the `jsonl` exporter. */
import type { ExporterFactory } from '../../component/types.js';
import { jsonlSchema } from './config.js';
import type { JsonlConfig } from './config.js';
import { JsonlExporter } from './jsonl.js';

/** Makes `jsonl` exporters. */
export const jsonlFactory: ExporterFactory<JsonlConfig> = {
  type: 'jsonl',
  kind: 'exporter',
  description: 'Writes one detection per line as an OTLP-like JSON log record, to stdout or a rotated file.',
  schema: jsonlSchema,
  validate: (c) => (c.path.endsWith('/') ? [{ path: ['path'], message: 'must name a file, not a directory' }] : []),
  create: (settings, config) => new JsonlExporter(settings, config),
};
