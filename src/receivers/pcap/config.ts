/** Settings of the live `pcap` receiver (libpcap capture on an interface). */
import { z } from 'zod';
import { ENGINE_SETTINGS } from '../../packet/engine-settings.js';

/**
 * The default capture filter: DNS (UDP and TCP), every TCP packet (first flights carry the TLS SNI, HTTP
 * Host and CONNECT authority; later ones only count bytes) and UDP/443 (QUIC Initial). Everything else
 * (NTP, mDNS, ARP ...) never reaches userspace.
 */
export const DEFAULT_BPF_FILTER = 'tcp or (udp and (port 53 or port 443))';

const processAttributionSchema = z.strictObject({
  /** Map each new flow and DNS query to its process (needs the process namespace: shareProcessNamespace or hostPID). */
  enabled: z.boolean().default(true),
  /** procfs mount to read. */
  proc_root: z.string().min(1).default('/proc'),
  /** How many ancestors (parent, grandparent ...) to record. */
  ancestry_depth: z.number().int().min(0).max(64).default(4),
  /** How long socket tables, socket owners and process details are cached. */
  refresh_interval_ms: z.number().int().positive().default(1000),
  /**
   * A DNS exchange whose resolver socket was already closed when its query was looked at is held this long
   * for the client's next flow to an answered address, whose process it then gets. 0 = never hold.
   */
  dns_hold_ms: z.number().int().min(0).max(10000).default(500),
  /** Upper bound on one scan of /proc/*\/fd. */
  max_scan_ms: z.number().int().positive().default(3),
});

/** `pcap` receiver settings. */
export const pcapSchema = z.strictObject({
  /** `auto` (the default route's interface), `any` (all interfaces) or an interface name. */
  interface: z.string().min(1).default('auto'),
  /** libpcap filter expression; empty captures everything. */
  bpf_filter: z.string().default(DEFAULT_BPF_FILTER),
  /**
   * Bytes kept per packet. 4096 keeps a whole ClientHello (post-quantum key shares make it ~1.8 kB) and
   * the HTTP request head even when the NIC hands over coalesced (GSO/GRO) packets; bytes are counted
   * from the packet length, not the captured part.
   */
  snaplen: z.number().int().min(128).max(262144).default(4096),
  /** Capture traffic not addressed to this host too (needs CAP_NET_ADMIN). */
  promiscuous: z.boolean().default(false),
  /** Kernel ring buffer size; raise it when pcap drops grow. */
  buffer_size_mb: z.number().int().min(1).max(2048).default(32),
  /**
   * How long libpcap may hold packets before waking pastewatch. 0 = immediate mode, which process
   * attribution needs (a short-lived client must still exist when its first packet is looked at).
   */
  buffer_timeout_ms: z.number().int().min(0).max(10000).default(0),
  /** How often flows are advanced in wall time (idle timeouts, report delays). */
  tick_interval_ms: z.number().int().min(10).max(60000).default(500),
  /** How often kernel and interface drop counters are read (and logged when they grew). */
  stats_interval_ms: z.number().int().min(100).max(600000).default(2000),
  process_attribution: processAttributionSchema.prefault({}),
  ...ENGINE_SETTINGS,
});

/** Parsed `pcap` receiver settings. */
export type PcapConfig = z.infer<typeof pcapSchema>;
