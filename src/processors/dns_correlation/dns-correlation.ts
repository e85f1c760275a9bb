/**
 * The `dns_correlation` processor: learns IP -> names from DNS responses and adds the learned names
 * (evidence `ip.correlated`) to later connection, Hubble and Falco observations whose destination
 * address answered for them. Everything passes through; nothing is held.
 */
import type { OperatorFunction } from 'rxjs';
import type { ComponentSettings, Processor } from '../../component/types.js';
import type { PipelineItem } from '../../model/detection.js';
import type { NameEvidence, Observation } from '../../model/observation.js';
import type { DnsCorrelationConfig } from './config.js';
import { DnsCache } from './dns-cache.js';
import { guardedStep } from '../../component/operator.js';

/** Correlates connections with the DNS answers that named their destination. */
export class DnsCorrelationProcessor implements Processor {
  /** The cache (exposed for tests and for a status endpoint). */
  readonly cache: DnsCache;

  constructor(private readonly settings: ComponentSettings, private readonly cfg: DnsCorrelationConfig) {
    const t = settings.telemetry;
    this.cache = new DnsCache({
      minTtlS: cfg.min_ttl_s,
      maxTtlS: Math.max(cfg.max_ttl_s, cfg.min_ttl_s),
      maxEntries: cfg.max_entries,
      maxNamesPerAddress: cfg.max_names_per_address,
      onEvict: (n) => t.evicted('dns_cache', n),
      onExpire: (n) => t.add('expired', n),
    });
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.cache.clear();
  }

  /** Learns from DNS responses, annotates other observations; a new object when names are added (inputs are shared). */
  process(item: PipelineItem): PipelineItem {
    if (item.type !== 'observation') return item;
    const t = this.settings.telemetry;
    const scope = (o: Observation): string | undefined => (this.cfg.scope === 'per_source' ? (o.source?.address ?? '') : undefined);
    if (item.kind === 'dns') {
      if (item.dns?.response) {
        const n = this.cache.learn(item.dns, item.timeUnixNano, scope(item));
        if (n) t.add('learned', n);
        t.gauge('dns_cache_size', this.cache.size);
      }
      return item;
    }
    const ip = item.destination?.address;
    if (!ip) return item;
    const names = this.cache.lookup(ip, item.timeUnixNano, scope(item));
    if (names.length === 0) return item;
    const have = new Set(item.names.map((n) => n.name));
    const add: NameEvidence[] = [];
    for (const name of names) if (!have.has(name)) add.push({ name, evidence: 'ip.correlated' });
    if (add.length === 0) return item;
    t.add('correlated');
    return { ...item, names: [...item.names, ...add] };
  }

  operator(): OperatorFunction<PipelineItem, PipelineItem> {
    return guardedStep(this.settings, 'correlate', 'dns_correlation: skipped an item', (item) => this.process(item));
  }

}
