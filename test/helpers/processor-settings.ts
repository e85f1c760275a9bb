/** ComponentSettings for processor tests: real telemetry registry, memory logger, a chosen environment. */
import { lastValueFrom, from, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { HealthRegistry } from '../../src/component/health.js';
import { TelemetryRegistry } from '../../src/component/telemetry.js';
import type { ComponentSettings, Processor } from '../../src/component/types.js';
import type { PipelineItem } from '../../src/model/detection.js';
import { createMemoryLogger } from '../../src/util/logger.js';

/** Settings for processor `id`; read counters with `registry.get(id, name, labels)`. */
export function processorSettings(id: string, env: Record<string, string | undefined> = {}): ComponentSettings & { registry: TelemetryRegistry; logger: ReturnType<typeof createMemoryLogger> } {
  const registry = new TelemetryRegistry();
  const logger = createMemoryLogger();
  return { id, kind: 'processor', pipelineId: 'logs', logger, telemetry: registry.forComponent('processor', id), registry, health: new HealthRegistry(), env };
}

/** Runs items through a processor's operator and collects everything it emits until completion. */
export function runThrough(p: Processor, items: PipelineItem[] | Observable<PipelineItem>): Promise<PipelineItem[]> {
  const src = Array.isArray(items) ? from(items) : items;
  return lastValueFrom(src.pipe(p.operator(), toArray()));
}
