/**
 * Loading the optional `pcap` native module and turning libpcap's open errors into errors that say what
 * is missing and how to fix it. The module is an optional dependency so installs without libpcap still
 * work for capture files; only the live `pcap` receiver needs it.
 */
import { PastewatchError } from '../../util/errors.js';

/** libpcap capture statistics (pcap_stats). */
export interface PcapStats {
  ps_recv: number;
  ps_drop: number;
  ps_ifdrop: number;
}

/** The parts of a pcap 3.x live session the receiver uses. */
export interface PcapSessionLike {
  link_type: string;
  on(event: 'packet', cb: (raw: { buf: Buffer; header: Buffer }) => void): unknown;
  stats(): PcapStats;
  close(): void;
}

/** Options of pcap.createSession. */
export interface PcapSessionOptions {
  filter: string;
  buffer_size: number;
  snap_length: number;
  promiscuous: boolean;
  buffer_timeout: number;
  monitor: boolean;
}

/** The parts of the pcap module the receiver uses. */
export interface PcapModule {
  createSession(device: string, options: PcapSessionOptions): PcapSessionLike;
  findalldevs(): { name: string }[];
  lib_version: string;
  warningHandler: (msg: string) => void;
}

/** What to run when libpcap or the module is missing. */
export const INSTALL_HINT = 'live capture needs libpcap and the pcap module: apt-get install libpcap-dev && npm rebuild pcap (or run scripts/setup.sh)';

/** Imports the optional `pcap` module; throws CAPTURE_UNAVAILABLE naming the fix when it or libpcap is missing. */
export async function loadPcap(specifier = 'pcap'): Promise<PcapModule> {
  try {
    const mod = (await import(specifier)) as { default?: PcapModule } & PcapModule;
    const m = mod.default ?? mod;
    if (typeof m.createSession !== 'function') throw new Error(`module "${specifier}" has no createSession()`);
    return m;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new PastewatchError('CAPTURE_UNAVAILABLE', `receivers::pcap: ${INSTALL_HINT} (${why})`, { cause: err });
  }
}

/** LINKTYPE_* numbers (pcap file header values, which the packet engine takes) of pcap's link-type names. */
export const LINK_TYPES: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
  LINKTYPE_IEEE802_11_RADIO: 127,
};

/** Capabilities live capture needs, and the ways to grant them. */
export const PERMISSION_HINT =
  'capturing needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode): run as root, or `setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(command -v node)")"`, ' +
  'or in Kubernetes add them to the container\'s securityContext.capabilities.add (see docs/deploy/sidecar.md)';

/** Maps an error thrown by pcap.createSession to a PastewatchError with a stable code and a fix. */
export function mapOpenError(err: unknown, device: string, interfaces: readonly string[]): PastewatchError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) {
    return new PastewatchError('CAPTURE_PERMISSION', `receivers::pcap: cannot capture on "${device}": ${msg}; ${PERMISSION_HINT}`, { cause: err });
  }
  if (/no such device|doesn't exist|does not exist|SIOCGIFINDEX/i.test(msg)) {
    return new PastewatchError('INTERFACE_NOT_FOUND', `receivers::pcap: interface "${device}" does not exist: ${msg}; interfaces here: ${interfaces.join(', ') || 'none'}`, { cause: err });
  }
  if (/syntax error|illegal|unknown (host|net|port|protocol)|bpf|filter/i.test(msg)) {
    return new PastewatchError('CONFIG_INVALID', `receivers::pcap: bpf_filter does not compile: ${msg}`, { cause: err });
  }
  if (/network is down|not up/i.test(msg)) {
    return new PastewatchError('CAPTURE_UNAVAILABLE', `receivers::pcap: interface "${device}" is down: ${msg}; bring it up (ip link set ${device} up)`, { cause: err, retryable: true });
  }
  return new PastewatchError('CAPTURE_UNAVAILABLE', `receivers::pcap: cannot open "${device}": ${msg}`, { cause: err });
}
