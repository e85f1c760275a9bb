/**
 * The `dedup` processor: one detection per workload x process x service x window. Membership is decided in
 * observation time; a group is emitted when a later member falls past first_seen + window, when a wall-clock
 * timer fires window_ms after it opened (live traffic), when max_groups forces the oldest out, or when the
 * source completes. Observations pass through untouched.
 */
import { Observable } from 'rxjs';
import type { OperatorFunction, Subscriber } from 'rxjs';
import type { ComponentSettings, Processor } from '../../component/types.js';
import type { Detection, PipelineItem } from '../../model/detection.js';
import { describeError } from '../../util/errors.js';
import type { DedupConfig } from './config.js';
import { dedupKey, GroupAccumulator } from './merge.js';

interface Group {
  /** The running merge of the group's members. */
  acc: GroupAccumulator;
  /** First member's observation time (the window starts here). */
  startUnixNano: bigint;
  /** Wall-clock time the group opened (ms), for the live timer. */
  openedMs: number;
}

/** Merges repeated detections of the same workload, process and service within a window. */
export class DedupProcessor implements Processor {
  constructor(private readonly settings: ComponentSettings, private readonly cfg: DedupConfig) {}

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  operator(): OperatorFunction<PipelineItem, PipelineItem> {
    const windowNs = BigInt(this.cfg.window_ms) * 1_000_000n;
    const t = this.settings.telemetry;
    return (source) =>
      new Observable<PipelineItem>((subscriber: Subscriber<PipelineItem>) => {
        // Map order is open order, so the first group always has the earliest wall-clock deadline.
        const groups = new Map<string, Group>();
        let timer: NodeJS.Timeout | undefined;

        const emit = (item: PipelineItem): void => {
          t.emitted();
          subscriber.next(item);
        };
        const close = (key: string, g: Group): void => {
          groups.delete(key);
          emit(g.acc.result());
        };
        const schedule = (): void => {
          if (timer !== undefined) return;
          const first = groups.values().next();
          if (first.done) return;
          const wait = Math.max(0, first.value.openedMs + this.cfg.window_ms - Date.now());
          timer = setTimeout(onTimer, wait);
        };
        const onTimer = (): void => {
          timer = undefined;
          const now = Date.now();
          for (const [key, g] of groups) {
            if (g.openedMs + this.cfg.window_ms > now) break;
            close(key, g);
          }
          t.gauge('groups', groups.size);
          schedule();
        };
        const flushAll = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
          for (const [key, g] of groups) close(key, g);
          t.gauge('groups', 0);
        };
        const add = (d: Detection): void => {
          const key = dedupKey(d);
          const g = groups.get(key);
          if (g && d.firstSeenUnixNano <= g.startUnixNano + windowNs) {
            g.acc.add(d);
            t.dropped('dedup');
            return;
          }
          // Past the window (in observation time): the old group is complete.
          if (g) close(key, g);
          while (groups.size >= this.cfg.max_groups) {
            const [oldKey, old] = groups.entries().next().value as [string, Group];
            close(oldKey, old);
            t.evicted('dedup_groups');
          }
          groups.set(key, { acc: new GroupAccumulator(d), startUnixNano: d.firstSeenUnixNano, openedMs: Date.now() });
          t.gauge('groups', groups.size);
          schedule();
        };

        const sub = source.subscribe({
          next: (item) => {
            t.received();
            if (item.type !== 'detection') return emit(item);
            try {
              add(item);
            } catch (err) {
              // Never lose a detection to a merge problem: pass it on as it came.
              t.failed('merge');
              this.settings.logger.warn(`dedup: passed a detection on unmerged: ${describeError(err)}`);
              emit(item);
            }
          },
          error: (err: unknown) => {
            flushAll();
            subscriber.error(err);
          },
          complete: () => {
            flushAll();
            subscriber.complete();
          },
        });
        return () => {
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
          sub.unsubscribe();
        };
      });
  }
}
