/** Settings of the `paste_classifier` processor. */
import { z } from 'zod';
import { catalogSchema } from '../../catalog/config.js';

/** `paste_classifier` settings. */
export const pasteClassifierSchema = z.strictObject({
  /** Where the workload runs: auto = ci when a CI provider or cicd.* attributes are seen, else production. */
  environment: z.enum(['auto', 'ci', 'staging', 'production', 'development']).default('auto'),
  /** A flow is an upload when bytes sent >= this x bytes received ... */
  upload_ratio: z.number().positive().default(2),
  /** ... and bytes sent >= this. */
  upload_min_bytes: z.number().int().min(0).default(4096),
  /** A flow is a download when bytes received >= this x bytes sent ... */
  download_ratio: z.number().positive().default(2),
  /** ... and bytes received >= this. */
  download_min_bytes: z.number().int().min(0).default(4096),
  /** Link to the detection's trace, {trace_id} and {span_id} replaced; '' = no pastewatch.trace.url. */
  trace_url_template: z.string().default(''),
  /** Which catalog categories match, extra domains, allowed domains. */
  catalog: catalogSchema.prefault({}),
});

/** Parsed `paste_classifier` settings. */
export type PasteClassifierConfig = z.infer<typeof pasteClassifierSchema>;
