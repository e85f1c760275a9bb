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
    // Counters are bumped on the hot path (per observation): each (name, labels) resolves to its Sample once
    // and is cached here, so a bump is a Map lookup on a short key and an addition.
    const local = new Map<string, Sample>();
    const sample = (name: string, labels: Record<string, string> | undefined, type: 'counter' | 'gauge'): Sample => {
      let lk = '';
      if (labels) for (const k of Object.keys(labels).sort()) lk += `${k}=${labels[k]},`;
      const localKey = lk ? `${name}|${lk}` : name;
      let s = local.get(localKey);
      if (!s) {
        const key = `${kind}|${component}|${localKey}`;
        s = this.values.get(key);
        if (!s) {
          s = { component, kind, name, labels: labels ?? {}, value: 0, type };
          this.values.set(key, s);
        }
        local.set(localKey, s);
      }
      return s;
    };
    let received: Sample | undefined;
    let emitted: Sample | undefined;
    // dropped/evicted/failed carry one label whose values are few: a Map per counter, no key building.
    const labelled = (name: string, label: string): ((value: string) => Sample) => {
      const byValue = new Map<string, Sample>();
      return (value) => {
        let s = byValue.get(value);
        if (!s) {
          s = sample(name, { [label]: value }, 'counter');
          byValue.set(value, s);
        }
        return s;
      };
    };
    const droppedBy = labelled('dropped', 'reason');
    const evictedBy = labelled('evicted', 'table');
    const failedBy = labelled('failed', 'reason');
    return {
      received: (n = 1) => {
        (received ??= sample('received', undefined, 'counter')).value += n;
      },
      emitted: (n = 1) => {
        (emitted ??= sample('emitted', undefined, 'counter')).value += n;
      },
      dropped: (reason, n = 1) => {
        droppedBy(reason).value += n;
      },
      evicted: (table, n = 1) => {
        evictedBy(table).value += n;
      },
      failed: (reason, n = 1) => {
        failedBy(reason).value += n;
      },
      add: (name, n = 1, labels) => {
        sample(name, labels && Object.keys(labels).length ? labels : undefined, 'counter').value += n;
      },
      gauge: (name, value) => {
        sample(name, undefined, 'gauge').value = value;
      },
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
