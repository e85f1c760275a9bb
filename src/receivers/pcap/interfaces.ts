/**
 * Capture interface resolution: `auto` is the interface of the default route (/proc/net/route, then
 * /proc/net/ipv6_route), falling back to the first non-loopback interface that is up; a name must exist
 * (or be `any`). Pure parsers take file text so they are tested on fixtures.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { PastewatchError } from '../../util/errors.js';

/** The interface of the IPv4 default route (destination 0, mask 0, flag RTF_UP) with the lowest metric. */
export function defaultRouteV4(routeText: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routeText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    if (dest !== '00000000' || mask !== '00000000' || (parseInt(flags, 16) & 1) === 0) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

/** The interface of the IPv6 default route (::/0, not via lo, RTF_UP) with the lowest metric. */
export function defaultRouteV6(routeText: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routeText.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, plen, , , , metric, , , flags, iface] = f;
    if (!/^0{32}$/.test(dest) || plen !== '00' || iface === 'lo' || (parseInt(flags, 16) & 1) === 0) continue;
    // RTF_REJECT (0x200) marks the unreachable route the kernel keeps on lo.
    if (parseInt(flags, 16) & 0x200) continue;
    const m = parseInt(metric, 16);
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Interface names this network namespace has: /sys/class/net, /proc/net/dev and os.networkInterfaces(). */
export function listInterfaces(extra: readonly string[] = []): string[] {
  const names = new Set<string>();
  try {
    for (const n of readdirSync('/sys/class/net')) names.add(n);
  } catch {
    // no sysfs (some containers): /proc/net/dev still lists them
  }
  for (const line of read('/proc/net/dev').split('\n').slice(2)) {
    const n = line.split(':')[0]?.trim();
    if (n) names.add(n);
  }
  for (const n of Object.keys(networkInterfaces())) names.add(n);
  for (const n of extra) names.add(n);
  return [...names].sort();
}

/** Whether an interface is up (IFF_UP in /sys/class/net/NAME/flags); true when unknown. */
function isUp(name: string): boolean {
  const flags = read(`/sys/class/net/${name}/flags`).trim();
  return flags === '' || (parseInt(flags, 16) & 1) === 1;
}

/**
 * Resolves the configured `interface` to a device name libpcap can open. `auto` picks the default route's
 * interface; `any` captures on all interfaces; any other name must exist. Throws INTERFACE_NOT_FOUND
 * listing the interfaces that do exist.
 */
export function resolveInterface(configured: string, procRoot = '/proc', known: readonly string[] = listInterfaces()): string {
  const real = known.filter((n) => n !== 'any');
  if (configured === 'any') return 'any';
  if (configured === 'auto') {
    const viaRoute = defaultRouteV4(read(`${procRoot}/net/route`)) ?? defaultRouteV6(read(`${procRoot}/net/ipv6_route`));
    if (viaRoute && real.includes(viaRoute)) return viaRoute;
    const fallback = real.find((n) => n !== 'lo' && isUp(n));
    if (fallback) return fallback;
    throw new PastewatchError(
      'INTERFACE_NOT_FOUND',
      `receivers::pcap: interface "auto" found no default route and no non-loopback interface that is up (interfaces here: ${real.join(', ') || 'none'}); set interface to one of them or to "any"`,
    );
  }
  if (!real.includes(configured)) {
    throw new PastewatchError(
      'INTERFACE_NOT_FOUND',
      `receivers::pcap: interface "${configured}" does not exist in this network namespace; interfaces here: ${real.join(', ') || 'none'} (or use "auto" for the default route's interface, "any" for all)`,
    );
  }
  return configured;
}
