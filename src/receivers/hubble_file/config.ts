/** Settings of the `hubble_file` receiver: Hubble jsonpb lines from a file (tailed) or stdin. */
import { z } from 'zod';

/** The hubble_file receiver's config (YAML keys). */
export const hubbleFileConfigSchema = z.strictObject({
  /** File to read, or `-` for stdin. Default: the agent's flow-log export file (hubble-export-file-path). */
  path: z.string().min(1, { message: 'path must name a file or be "-" for stdin' }).default('/var/run/cilium/hubble/events.log'),
  /** Where to start in a file: `beginning`, `end`, or `auto` (end when following a file, beginning otherwise). */
  start_at: z.enum(['auto', 'beginning', 'end']).default('auto'),
  /** Keep reading a file as it grows and across rotation (rename + new file, or copytruncate); stdin always ends at EOF. */
  follow: z.boolean().default(true),
  /** Longest line accepted; longer lines are skipped (counted, logged) without being held in memory. */
  max_line_bytes: z.number().int().positive().default(1024 * 1024),
  /** How often a followed file is checked for growth, rotation and truncation. */
  poll_interval_ms: z.number().int().positive().default(250),
  /** A skipped-line warning is logged for the first skip of each reason, then every this many. */
  log_every: z.number().int().positive().default(1000),
  /** Connections (5-tuples) remembered to collapse one connection's several flows into one observation. */
  max_connections: z.number().int().positive().default(65_536),
  /** A 5-tuple not seen for this long (flow time) counts as a new connection. */
  connection_idle_ms: z.number().int().positive().default(120_000),
});

/** The parsed hubble_file receiver config. */
export type HubbleFileConfig = z.infer<typeof hubbleFileConfigSchema>;
