/** ComponentSettings for component tests: memory logger, fresh registries, the env the test chooses. */
import type { ComponentKind, ComponentSettings } from '../../src/component/types.js';
import { HealthRegistry } from '../../src/component/health.js';
import { TelemetryRegistry } from '../../src/component/telemetry.js';
import { createMemoryLogger } from '../../src/util/logger.js';

/** Settings plus the handles a test asserts on. */
export interface TestSettings extends ComponentSettings {
  lines: string[];
  registry: TelemetryRegistry;
  health: HealthRegistry;
}

/** Builds settings for component `id` of `kind` with the given environment (process.env is never read). */
export function testSettings(id: string, env: Record<string, string | undefined> = {}, kind: ComponentKind = 'exporter'): TestSettings {
  const logger = createMemoryLogger('debug');
  const registry = new TelemetryRegistry();
  const health = new HealthRegistry();
  return { id, kind, logger: logger.child(id), lines: logger.lines, telemetry: registry.forComponent(kind, id), registry, health, env };
}
