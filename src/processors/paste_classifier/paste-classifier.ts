/**
 * The `paste_classifier` processor: matches every name of each observation against the catalog and turns
 * a matching observation into a Detection; observations that match nothing are dropped (counted
 * `unmatched`, not an error). Detections already on the stream pass through.
 */
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { CatalogMatcher } from '../../catalog/matcher.js';
import { matcherOptions } from '../../catalog/config.js';
import { detectCiProvider } from '../../ci/detect.js';
import type { ComponentSettings, NameInterest, Processor } from '../../component/types.js';
import type { PipelineItem } from '../../model/detection.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { ActivityThresholds } from './activity.js';
import { buildDetection, matchObservation, resolveEnvironment } from './build-detection.js';
import type { PasteClassifierConfig } from './config.js';

/** Classifies observations into detections. */
export class PasteClassifierProcessor implements Processor {
  /** The matcher built from the catalog and the config overlay. */
  readonly matcher: CatalogMatcher;
  private readonly ciDetected: boolean;
  private readonly thresholds: ActivityThresholds;

  /** Throws PastewatchError CONFIG_INVALID when the catalog overlay names an invalid domain. */
  constructor(private readonly settings: ComponentSettings, private readonly cfg: PasteClassifierConfig) {
    try {
      this.matcher = new CatalogMatcher(matcherOptions(cfg.catalog));
    } catch (err) {
      if (err instanceof PastewatchError) throw new PastewatchError(err.code, `processors::${settings.id}: ${err.message}`, { cause: err });
      throw err;
    }
    this.ciDetected = detectCiProvider(settings.env) !== undefined;
    this.thresholds = {
      uploadRatio: cfg.upload_ratio,
      uploadMinBytes: cfg.upload_min_bytes,
      downloadRatio: cfg.download_ratio,
      downloadMinBytes: cfg.download_min_bytes,
    };
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  /** Only names the catalog matches can become detections: receivers may skip DNS messages without one. */
  nameInterest(): NameInterest {
    return (name) => this.matcher.match(name) !== undefined;
  }

  /** The item to pass on for one input item, or undefined when it is dropped. */
  process(item: PipelineItem): PipelineItem | undefined {
    if (item.type !== 'observation') return item;
    const match = matchObservation(item, this.matcher);
    if (!match) {
      this.settings.telemetry.dropped('unmatched');
      return undefined;
    }
    this.settings.telemetry.add('detections', 1, { category: match.primary.entry.category });
    return buildDetection(item, match, {
      environment: resolveEnvironment(this.cfg.environment, this.ciDetected, item),
      thresholds: this.thresholds,
      traceUrlTemplate: this.cfg.trace_url_template,
    });
  }

  operator(): OperatorFunction<PipelineItem, PipelineItem> {
    return (source) =>
      new Observable<PipelineItem>((subscriber) =>
        source.subscribe({
          next: (item) => {
            const t = this.settings.telemetry;
            t.received();
            let out: PipelineItem | undefined;
            try {
              out = this.process(item);
            } catch (err) {
              // A malformed observation is passed on unclassified (not lost) and counted; the pipeline goes on.
              t.failed('classify');
              this.settings.logger.warn(`paste_classifier: could not classify an observation: ${describeError(err)}`);
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
}
