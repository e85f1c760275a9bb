/** Settings of the `dns_correlation` processor. */
import { z } from 'zod';

/** `dns_correlation` settings. */
export const dnsCorrelationSchema = z.strictObject({
  /** Lowest TTL honoured, seconds (shorter answers are kept this long). */
  min_ttl_s: z.number().int().min(0).default(30),
  /** Highest TTL honoured, seconds. */
  max_ttl_s: z.number().int().min(1).default(3600),
  /** Most addresses held; the least recently learned are evicted (counted as evicted{table=dns_cache}). */
  max_entries: z.number().int().min(1).default(100000),
  /** Most names kept per address. */
  max_names_per_address: z.number().int().min(1).default(64),
  /** global: any answer explains any connection; per_source: only answers delivered to the same source address. */
  scope: z.enum(['global', 'per_source']).default('global'),
});

/** Parsed `dns_correlation` settings. */
export type DnsCorrelationConfig = z.infer<typeof dnsCorrelationSchema>;
