/**
 * What both hubble receivers do with a normalised event: flows go through mapFlow to the sink; node
 * status and lost-events records are logged and counted; agent/debug events (export files) are counted.
 */
import type { ComponentSettings } from '../component/types.js';
import { formatUnixNano, nowUnixNano } from '../model/time.js';
import type { Observation } from '../model/observation.js';
import { RecentConnections, mapFlow } from './map.js';
import type { HubbleEvent } from './types.js';

/** Node states that mean flows from those nodes are missing. */
const BAD_NODE_STATES = new Set(['NODE_UNAVAILABLE', 'NODE_ERROR', 'NODE_GONE']);

/** Settings of the shared handler. */
export interface HubbleHandlerOptions {
  /** Most connections (5-tuples) remembered to collapse one connection's flows. */
  maxConnections: number;
  /** A 5-tuple unseen for this long (flow time) is a new connection. */
  connectionIdleMs: number;
}

/** Turns HubbleEvents into observations, logs and counters for one receiver instance. */
export class HubbleEventHandler {
  /** The receiver's recent-connections table (exposed for tests). */
  readonly connections: RecentConnections;

  constructor(
    private readonly settings: ComponentSettings,
    opts: HubbleHandlerOptions,
  ) {
    this.connections = new RecentConnections({
      maxEntries: opts.maxConnections,
      idleTimeoutMs: opts.connectionIdleMs,
      onEvict: (n) => settings.telemetry.evicted('connections', n),
    });
  }

  /** Handles one event; observations go to `emit`. Returns the number of observations emitted. */
  handle(ev: HubbleEvent, emit: (obs: Observation) => void): number {
    const t = this.settings.telemetry;
    switch (ev.kind) {
      case 'flow': {
        t.received();
        const r = mapFlow(ev.flow, {
          receiver: this.settings.id,
          connections: this.connections,
          fallbackTimeUnixNano: ev.timeUnixNano !== 0n ? ev.timeUnixNano : nowUnixNano(),
        });
        if (r.skipped) {
          t.dropped(r.skipped);
          return 0;
        }
        for (const o of r.observations) emit(o);
        return r.observations.length;
      }
      case 'node_status': {
        t.add('hubble_node_status', 1, { state: ev.state });
        const fields = { state: ev.state, nodes: ev.nodeNames.join(','), message: ev.message || undefined };
        if (BAD_NODE_STATES.has(ev.state)) this.settings.logger.warn('hubble node status: flows from these nodes are missing', fields);
        else this.settings.logger.info('hubble node status', fields);
        return 0;
      }
      case 'lost_events': {
        t.add('hubble_lost_events', ev.numEventsLost, { source: ev.source });
        this.settings.logger.warn('hubble lost events: flows were dropped before reaching pastewatch', {
          source: ev.source,
          num_events_lost: ev.numEventsLost,
          cpu: ev.cpu,
          node: ev.nodeName,
          time: ev.timeUnixNano ? formatUnixNano(ev.timeUnixNano) : undefined,
        });
        return 0;
      }
      default: {
        t.add('hubble_events', 1, { kind: ev.kind });
        if (this.settings.logger.isLevelEnabled('debug')) this.settings.logger.debug(`hubble ${ev.kind} ignored`, { type: ev.eventType, node: ev.nodeName });
        return 0;
      }
    }
  }
}
