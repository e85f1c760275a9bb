/** Factory of the `dns_correlation` processor. */
import type { ProcessorFactory } from '../../component/types.js';
import { dnsCorrelationSchema } from './config.js';
import type { DnsCorrelationConfig } from './config.js';
import { DnsCorrelationProcessor } from './dns-correlation.js';

/** Makes `dns_correlation` processors. */
export const dnsCorrelationFactory: ProcessorFactory<DnsCorrelationConfig> = {
  type: 'dns_correlation',
  kind: 'processor',
  description: 'Learns IP -> names from DNS answers (CNAME chains, HTTPS hints, TTL) and adds them to later connections to those IPs.',
  schema: dnsCorrelationSchema,
  validate: (c) => (c.max_ttl_s < c.min_ttl_s ? [{ path: ['max_ttl_s'], message: `must be >= min_ttl_s (${c.min_ttl_s})` }] : []),
  create: (settings, config) => new DnsCorrelationProcessor(settings, config),
};
