/** The operator shape most processors share: one step per item, counted, and never fatal to the pipeline. */
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import type { PipelineItem } from '../model/detection.js';
import { describeError } from '../util/errors.js';
import type { ComponentSettings } from './types.js';

/**
 * Maps each item through `step` (undefined drops it), counting received and emitted. A step that throws
 * on a malformed item passes that item on unchanged (never lost), counted as failed{reason} and logged as
 * `warning: <the error>`.
 */
export function guardedStep(settings: ComponentSettings, reason: string, warning: string, step: (item: PipelineItem) => PipelineItem | undefined): OperatorFunction<PipelineItem, PipelineItem> {
  const t = settings.telemetry;
  return (source) =>
    new Observable<PipelineItem>((subscriber) =>
      source.subscribe({
        next: (item) => {
          t.received();
          let out: PipelineItem | undefined;
          try {
            out = step(item);
          } catch (err) {
            t.failed(reason);
            settings.logger.warn(`${warning}: ${describeError(err)}`);
            out = item;
          }
          if (out === undefined) return;
          t.emitted();
          subscriber.next(out);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}
