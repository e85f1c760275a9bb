/**
 * Packet engine settings (flow table and first-flight reassembly bounds), with the engine's own defaults
 * so the live `pcap` receiver and the `pcap_file` receiver behave alike: both spread them into their schema.
 */
import { z } from 'zod';
import { DEFAULT_PACKET_ENGINE_OPTIONS as D } from './engine.js';
import type { PacketEngineOptions } from './engine.js';

/** Engine keys shared by the `pcap` and `pcap_file` receivers. */
export const ENGINE_SETTINGS = {
  /** Flow table cap; when full the idle-most flow is reported and evicted. */
  max_flows: z.number().int().positive().default(D.maxFlows),
  /** Idle flows expire after this long. */
  flow_idle_timeout_ms: z.number().int().positive().default(D.flowIdleTimeoutMs),
  /** A connection observation is emitted this long after the flow's first packet at the latest. */
  flow_report_delay_ms: z.number().int().min(0).default(D.flowReportDelayMs),
  /** Per-flow first-flight buffer cap. */
  max_reassembly_bytes: z.number().int().positive().default(D.maxReassemblyBytes),
  /** Flows allowed to hold a first-flight buffer at once. */
  max_reassembly_flows: z.number().int().positive().default(D.maxReassemblyFlows),
};

/** The engine settings as parsed from a receiver's config. */
export interface EngineSettings {
  max_flows: number;
  flow_idle_timeout_ms: number;
  flow_report_delay_ms: number;
  max_reassembly_bytes: number;
  max_reassembly_flows: number;
}

/** PacketEngine options from a receiver's id and config. */
export function engineOptions(receiverId: string, c: EngineSettings): PacketEngineOptions {
  return {
    receiverId,
    maxFlows: c.max_flows,
    flowIdleTimeoutMs: c.flow_idle_timeout_ms,
    flowReportDelayMs: c.flow_report_delay_ms,
    maxReassemblyBytes: c.max_reassembly_bytes,
    maxReassemblyFlows: c.max_reassembly_flows,
  };
}
