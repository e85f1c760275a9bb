/**
 * Packet engine settings (flow table and first-flight reassembly bounds), with the engine's own defaults
 * so the live receiver and the pcap_file receiver behave alike. Spread into the pcap schema.
 */
import { z } from 'zod';
import { DEFAULT_PACKET_ENGINE_OPTIONS as D } from '../../packet/engine.js';

/** Engine keys of the `pcap` receiver, as in pcap_file. */
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
