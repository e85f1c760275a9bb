/** Settings of the `jsonl` exporter. */
import { z } from 'zod';

/** `jsonl` exporter settings. */
export const jsonlSchema = z.strictObject({
  /** File to write; empty or "-" writes to stdout. */
  path: z.string().default(''),
  /** Append to an existing file (true) or truncate it at start (false). */
  append: z.boolean().default(true),
  /** Rotate the file when it would grow past this size; 0 = never. */
  max_size_mb: z.number().nonnegative().default(0),
  /** How many rotated files (path.1 ... path.N) to keep. */
  max_backups: z.number().int().min(0).max(1000).default(5),
});

/** Parsed `jsonl` settings. */
export type JsonlConfig = z.infer<typeof jsonlSchema>;
