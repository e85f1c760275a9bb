/**
 * The `paste_classifier` processor: matches every name of each observation against the catalog and turns
 * a matching observation into a Detection; observations that match nothing are dropped (counted
 * `unmatched`, not an error). Detections already on the stream pass through.
 */
import type { OperatorFunction } from 'rxjs';
import { CatalogMatcher } from '../../catalog/matcher.js';
import { matcherOptions } from '../../catalog/config.js';
import { detectCiProvider } from '../../ci/detect.js';
import type { ComponentSettings, NameInterest, Processor } from '../../component/types.js';
import type { PipelineItem } from '../../model/detection.js';
import { PastewatchError } from '../../util/errors.js';
import type { ActivityThresholds } from './activity.js';
import { buildDetection, matchObservation, resolveEnvironment } from './build-detection.js';
import type { PasteClassifierConfig } from './config.js';
import { guardedStep } from '../../component/operator.js';

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
    return guardedStep(this.settings, 'classify', 'paste_classifier: could not classify an observation', (item) => this.process(item));
  }

}
