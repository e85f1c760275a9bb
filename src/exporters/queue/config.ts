/** Settings shared by the exporters that send over HTTP: sending queue, retry, TLS. */
import { z } from 'zod';

/** `sending_queue`: where consumed detections wait until the backend accepts them. */
export const sendingQueueSchema = z.strictObject({
  /** false: send straight from memory with a small fixed buffer (still retried). */
  enabled: z.boolean().default(true),
  /** memory: lost on a crash; file: fsynced before consume() returns, survives SIGKILL. */
  storage: z.enum(['memory', 'file']).default('memory'),
  /** Directory for storage: file (a sub-directory per exporter and signal is created). */
  directory: z.string().default(''),
  /** Memory storage: the most items waiting; new items beyond it are dropped (queue_full). */
  queue_size: z.number().int().positive().default(10000),
  /** File storage: the most bytes waiting on disk; new items beyond it are dropped (queue_full). */
  max_bytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** The most items sent in one request. */
  batch_size: z.number().int().positive().max(10000).default(512),
});

/** `retry`: exponential backoff with jitter between attempts; Retry-After is honoured. */
export const retrySchema = z.strictObject({
  enabled: z.boolean().default(true),
  initial_interval_ms: z.number().int().positive().default(1000),
  max_interval_ms: z.number().int().positive().default(30000),
  /** Give a batch up after this long of failing; 0 = retry forever while running. */
  max_elapsed_ms: z.number().int().min(0).default(300000),
});

/** `tls`: client TLS for https endpoints. */
export const tlsSchema = z.strictObject({
  /** PEM CA bundle to verify the server with (default: the system roots). */
  ca_file: z.string().default(''),
  /** PEM client certificate and key for mutual TLS. */
  cert_file: z.string().default(''),
  key_file: z.string().default(''),
  /** Do not verify the server certificate (testing only). */
  insecure_skip_verify: z.boolean().default(false),
});

/** Parsed `sending_queue`. */
export type SendingQueueConfig = z.infer<typeof sendingQueueSchema>;
/** Parsed `retry`. */
export type RetryConfig = z.infer<typeof retrySchema>;
/** Parsed `tls`. */
export type TlsConfig = z.infer<typeof tlsSchema>;
