/**
 * Self-telemetry: per-component counters (received / emitted / dropped by reason / evicted / failed)
 * and gauges, kept in one registry that the metrics endpoint and tests read.
 */

/** Counters for one component instance. */
export interface ComponentCounters {
  /** Items that came in (packets are not items: receivers count observations they emit). */
  received(n?: number): void;
  emitted(n?: number): void;
  /** An intentional drop, counted with its reason (dedup, filter, queue_full ...). */
  dropped(reason: string, n?: number): void;
  /** A bounded table gave an entry away. */
  evicted(table: string, n?: number): void;
  failed(reason: string, n?: number): void;
  /** Any other named counter (packets, bytes, decode_errors ...). */
  add(name: string, n?: number, labels?: Record<string, string>): void;
  /** A gauge (queue depth, table size ...). */
  gauge(name: string, value: number): void;
}

/** One counter or gauge sample. */
export interface Sample {
  component: string;
  kind: string;
  name: string;
  labels: Record<string, string>;
  value: number;
  type: 'counter' | 'gauge';
}

/** The process-wide set of component counters. */
export class TelemetryRegistry {
  private readonly values = new Map<string, Sample>();

  /** Counters for the component with this id and kind (receiver, processor, exporter, extension). */
  forComponent(kind: string, component: string): ComponentCounters {
    const bump = (name: string, n: number, labels: Record<string, string>, type: 'counter' | 'gauge'): void => {
      const lk = Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
      const key = `${kind}|${component}|${name}|${lk}`;
      const s = this.values.get(key);
      if (s) {
        if (type === 'gauge') s.value = n;
        else s.value += n;
      } else this.values.set(key, { component, kind, name, labels, value: n, type });
    };
    return {
      received: (n = 1) => bump('received', n, {}, 'counter'),
      emitted: (n = 1) => bump('emitted', n, {}, 'counter'),
      dropped: (reason, n = 1) => bump('dropped', n, { reason }, 'counter'),
      evicted: (table, n = 1) => bump('evicted', n, { table }, 'counter'),
      failed: (reason, n = 1) => bump('failed', n, { reason }, 'counter'),
      add: (name, n = 1, labels = {}) => bump(name, n, labels, 'counter'),
      gauge: (name, value) => bump(name, value, {}, 'gauge'),
    };
  }

  /** Every sample, for exposition. */
  samples(): Sample[] {
    return [...this.values.values()];
  }

  /** Sum of a counter for one component (all labels), or of one label value. */
  get(component: string, name: string, labels?: Record<string, string>): number {
    let total = 0;
    for (const s of this.values.values()) {
      if (s.component !== component || s.name !== name) continue;
      if (labels && !Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
      total += s.value;
    }
    return total;
  }
}
