/** Retry timing: exponential backoff with jitter, bounded, with the server's Retry-After taking precedence. */
import type { RetryConfig } from './config.js';

/**
 * Milliseconds to wait before attempt number `attempt` (1 = the first retry): initial * 1.5^(attempt-1) with
 * +-20 % jitter, capped at max_interval_ms. A Retry-After from the server wins (capped at 10 x max_interval,
 * so a bogus header cannot park the queue for a day).
 */
export function backoffMs(attempt: number, cfg: Pick<RetryConfig, 'initial_interval_ms' | 'max_interval_ms'>, retryAfterMs?: number, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, cfg.max_interval_ms * 10);
  const base = Math.min(cfg.initial_interval_ms * Math.pow(1.5, Math.max(0, attempt - 1)), cfg.max_interval_ms);
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.max(1, Math.round(Math.min(base * jitter, cfg.max_interval_ms)));
}

/** Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from now; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}
