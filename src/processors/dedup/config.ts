/** Settings of the `dedup` processor. */
import { z } from 'zod';

/** `dedup` settings. */
export const dedupSchema = z.strictObject({
  /** Group length in observation time; a group is also emitted this long (wall clock) after it opened. */
  window_ms: z.number().int().min(1).default(5000),
  /** Most open groups; opening one more emits the oldest early (counted as evicted{table=dedup_groups}). */
  max_groups: z.number().int().min(1).default(10000),
});

/** Parsed `dedup` settings. */
export type DedupConfig = z.infer<typeof dedupSchema>;
