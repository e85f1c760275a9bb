/** Shared setup of falco receiver tests: a real receiver on a free loopback port and what it emitted. */
import { HealthRegistry } from '../../../src/component/health.js';
import { TelemetryRegistry } from '../../../src/component/telemetry.js';
import type { ComponentSettings } from '../../../src/component/types.js';
import type { Observation } from '../../../src/model/observation.js';
import { falcoConfigSchema } from '../../../src/receivers/falco/config.js';
import { FalcoReceiver } from '../../../src/receivers/falco/receiver.js';
import { createMemoryLogger } from '../../../src/util/logger.js';

/** A started receiver with its counters, logs and emitted observations. */
export interface Harness {
  receiver: FalcoReceiver;
  emitted: Observation[];
  failures: Error[];
  registry: TelemetryRegistry;
  health: HealthRegistry;
  logger: ReturnType<typeof createMemoryLogger>;
  settings: ComponentSettings;
  url: string;
  dropped(reason: string): number;
}

/** Component settings for a receiver with id `id`. */
export function makeSettings(id = 'falco'): { settings: ComponentSettings; registry: TelemetryRegistry; health: HealthRegistry; logger: ReturnType<typeof createMemoryLogger> } {
  const registry = new TelemetryRegistry();
  const health = new HealthRegistry();
  const logger = createMemoryLogger('debug');
  const settings: ComponentSettings = { id, kind: 'receiver', logger, telemetry: registry.forComponent('receiver', id), registry, health, env: {} };
  return { settings, registry, health, logger };
}

/** Starts a falco receiver (port 0 unless the overrides say otherwise). */
export async function startReceiver(overrides: Record<string, unknown> = {}, id = 'falco'): Promise<Harness> {
  const { settings, registry, health, logger } = makeSettings(id);
  const config = falcoConfigSchema.parse({ endpoint: '127.0.0.1:0', ...overrides });
  const receiver = new FalcoReceiver(settings, config);
  const emitted: Observation[] = [];
  const failures: Error[] = [];
  await receiver.start({ emit: (o) => emitted.push(o), end: () => undefined, fail: (e) => failures.push(e) });
  const url = receiver.url();
  if (!url) throw new Error('receiver has no url after start');
  return { receiver, emitted, failures, registry, health, logger, settings, url, dropped: (reason) => registry.get(id, 'dropped', { reason }) };
}

/** A minimal valid network alert (Falco shape) whose destination is 192.0.2.<n>. */
export function alertBody(n: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    hostname: 'node-t',
    output: `alert ${n}`,
    output_fields: { 'evt.type': 'connect', 'fd.name': `10.1.0.1:${40000 + n}->192.0.2.${n}:443`, 'fd.sip.name': null },
    priority: 'Notice',
    rule: `rule ${n}`,
    source: 'syscall',
    tags: ['network'],
    time: '2025-12-04T20:43:13.000000001Z',
    ...extra,
  });
}
