/** Factory of the `paste_classifier` processor. */
import type { ProcessorFactory } from '../../component/types.js';
import { validateCatalogConfig } from '../../catalog/config.js';
import { pasteClassifierSchema } from './config.js';
import type { PasteClassifierConfig } from './config.js';
import { PasteClassifierProcessor } from './paste-classifier.js';

/** Makes `paste_classifier` processors. */
export const pasteClassifierFactory: ProcessorFactory<PasteClassifierConfig> = {
  type: 'paste_classifier',
  kind: 'processor',
  description: 'Matches observed names against the paste-service catalog and emits plaintext_communication detections (activity, severity, guidance).',
  schema: pasteClassifierSchema,
  validate: (c) => [
    ...validateCatalogConfig(c.catalog).map((p) => ({ path: ['catalog', ...p.path], message: p.message })),
    ...(/\{trace_id\}|\{span_id\}/.test(c.trace_url_template) || c.trace_url_template === ''
      ? []
      : [{ path: ['trace_url_template'], message: 'must contain {trace_id} or {span_id}' }]),
  ],
  create: (settings, config) => new PasteClassifierProcessor(settings, config),
};
