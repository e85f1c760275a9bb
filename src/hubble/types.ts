/**
 * One internal shape for Hubble's GetFlowsResponse, whichever form it came in (gRPC objects decoded by
 * proto-loader, or protojson lines from `hubble observe -o jsonpb` / the agent's flow-log export).
 * normalize.ts builds it; map.ts reads only this.
 */

/** A Hubble endpoint (source or destination of a flow). */
export interface HubbleEndpoint {
  id?: number;
  identity?: number;
  namespace?: string;
  /** Cilium labels as `source:key=value` (`k8s:app=web`, `reserved:world`, `fqdn:pastebin.com`). */
  labels: string[];
  podName?: string;
  workloads: { name: string; kind: string }[];
  clusterName?: string;
}

/** Layer 4 of a flow. */
export interface HubbleL4 {
  protocol: 'tcp' | 'udp' | 'sctp' | 'icmpv4' | 'icmpv6';
  sourcePort: number;
  destinationPort: number;
  /** TCP flags that are set (upper-case names: SYN, ACK, FIN, RST, PSH ...). */
  flags?: Set<string>;
}

/** An L7 DNS record of a flow (query keeps Hubble's trailing dot here; map.ts strips it). */
export interface HubbleDns {
  query: string;
  ips: string[];
  ttl: number;
  cnames: string[];
  rcode: number;
  qtypes: string[];
  rrtypes: string[];
  observationSource?: string;
}

/** An L7 HTTP record of a flow. */
export interface HubbleHttp {
  code: number;
  method: string;
  url: string;
  protocol?: string;
  headers: { key: string; value: string }[];
}

/** Layer 7 of a flow. */
export interface HubbleL7 {
  /** REQUEST, RESPONSE, SAMPLE or UNKNOWN_L7_TYPE. */
  type: string;
  dns?: HubbleDns;
  http?: HubbleHttp;
}

/** One Hubble flow, normalised. Enum-valued fields hold the enum name (or the number as text if unknown). */
export interface HubbleFlow {
  /** Flow time, unix nanoseconds (0n when absent). */
  timeUnixNano: bigint;
  uuid?: string;
  verdict?: string;
  /** L3_L4, L7, SOCK. */
  type?: string;
  nodeName?: string;
  ip?: { source: string; destination: string; version: 'ipv4' | 'ipv6' | undefined };
  l4?: HubbleL4;
  source?: HubbleEndpoint;
  destination?: HubbleEndpoint;
  sourceNames: string[];
  destinationNames: string[];
  l7?: HubbleL7;
  /** true/false when Hubble knows the direction of the packet within its connection; undefined when not. */
  isReply?: boolean;
  trafficDirection?: string;
  traceObservationPoint?: string;
  traceReason?: string;
  eventType?: { type: number; subType: number };
}

/** A normalised GetFlowsResponse (or export-file line). */
export type HubbleEvent =
  | { kind: 'flow'; flow: HubbleFlow; nodeName?: string; timeUnixNano: bigint }
  | { kind: 'node_status'; state: string; nodeNames: string[]; message: string; nodeName?: string; timeUnixNano: bigint }
  | { kind: 'lost_events'; source: string; numEventsLost: number; cpu?: number; nodeName?: string; timeUnixNano: bigint }
  | { kind: 'agent_event' | 'debug_event'; eventType?: string; nodeName?: string; timeUnixNano: bigint };
