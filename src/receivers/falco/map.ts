/**
 * Maps a Falco alert to an Observation (kind 'falco'): the connection from fd.* fields, the process,
 * container and pod, and the alert's identity as falco.* attributes. Pure: no I/O, no clock.
 */
import { isIP } from 'node:net';
import { ATTR } from '../../model/attributes.js';
import type { Attributes } from '../../model/attributes.js';
import type { Endpoint, NameEvidence, Observation, ProcessInfo } from '../../model/observation.js';
import { parseRfc3339Nano } from '../../model/time.js';
import { redactCommandLine } from '../../util/redact.js';
import { ownField } from './alert.js';
import type { FalcoAlert } from './alert.js';

/** Keys of the falco.* attributes this mapper sets. */
export const FALCO_ATTR = {
  RULE: 'falco.rule',
  PRIORITY: 'falco.priority',
  TAGS: 'falco.tags',
  UUID: 'falco.uuid',
  SOURCE: 'falco.source',
  HOSTNAME: 'falco.hostname',
  OUTPUT: 'falco.output',
  EVT_TYPE: 'falco.evt.type',
  DIRECTION: 'falco.direction',
} as const;

/** Options of mapAlert. */
export interface MapOptions {
  /** Receiver id written to Observation.receiver. */
  receiverId?: string;
  /** Longest falco.output kept, in characters (default 1024). */
  maxOutputChars?: number;
}

/** An address and, when Falco printed a number, a port. */
export interface HostPort {
  address: string;
  port?: number;
}

// Syscalls where the process is the client (outbound) or the server (inbound) of the socket.
const OUTBOUND = new Set(['connect', 'sendto', 'sendmsg', 'sendmmsg', 'send', 'write', 'writev', 'pwrite', 'pwritev']);
const INBOUND = new Set(['accept', 'accept4', 'listen', 'bind', 'recvfrom', 'recvmsg', 'recvmmsg', 'recv', 'read', 'readv']);

/** A usable field value: null, '' and Falco's `<NA>` count as missing. */
function field(of: Record<string, unknown>, key: string): string | number | boolean | undefined {
  const v = ownField(of, key);
  if (v === null || v === undefined || v === '' || v === '<NA>') return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return undefined;
}

function str(of: Record<string, unknown>, key: string): string | undefined {
  const v = field(of, key);
  return v === undefined ? undefined : String(v);
}

function int(of: Record<string, unknown>, key: string): number | undefined {
  const v = field(of, key);
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A port number from Falco text or JSON (undefined for service names such as `https` or out of range). */
export function toPort(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** A canonical IP text (brackets removed, IPv4-mapped IPv6 as IPv4, IPv6 lower-case); undefined if not an IP. */
export function normalizeIp(text: string): string | undefined {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const fam = isIP(t);
  if (fam === 4) return t;
  if (fam !== 6) return undefined;
  t = t.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(t);
  return mapped ? mapped[1] : t;
}

function parseSide(side: string): HostPort | undefined {
  const s = side.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    // [2001:db8::1]:443 (bracketed, as users and some tools write it).
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return undefined;
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    // 10.0.0.1:443 or, as libsinsp prints IPv6, 2001:db8::1:443: the port follows the last colon.
    const colon = s.lastIndexOf(':');
    if (colon <= 0) return undefined;
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
  }
  const address = normalizeIp(host);
  if (address === undefined) return undefined;
  return { address, port: toPort(portText) };
}

/**
 * Parses Falco's fd.name for a connected socket, `cip:cport->sip:sport`, in the IPv4 form, libsinsp's
 * unbracketed IPv6 form (`::1:40000->2001:db8::1:443`) and the bracketed form (`[::1]:40000->[::1]:443`).
 * Returns undefined for anything else (files, unix sockets, listening sockets).
 */
export function parseFdName(name: string): { client: HostPort; server: HostPort } | undefined {
  const arrow = name.indexOf('->');
  if (arrow < 0) return undefined;
  const client = parseSide(name.slice(0, arrow));
  const server = parseSide(name.slice(arrow + 2));
  return client && server ? { client, server } : undefined;
}

/**
 * Reads output_fields["evt.time"] (epoch ns, beyond 2^53) exactly from the alert's JSON text. A match
 * counts only if it rounds to the number JSON.parse produced, so text elsewhere cannot stand in for it.
 */
export function readEvtTimeNano(raw: string, parsed: unknown): bigint | undefined {
  if (typeof parsed !== 'number' || raw === '' || !raw.includes('"evt.time"')) return undefined;
  const re = /"evt\.time"\s*:\s*(\d{1,20})(?![\d.eE])/g;
  for (let m = re.exec(raw); m !== null; m = re.exec(raw)) {
    if (Number(m[1]) === parsed) return BigInt(m[1]);
  }
  return undefined;
}

function hostName(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const n = v.trim().toLowerCase().replace(/\.$/, '');
  if (n.length === 0 || n.length > 253 || !/^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$/.test(n) || isIP(n) !== 0) return undefined;
  return n;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function endpoint(hp: HostPort | undefined): Endpoint | undefined {
  // Port 0 stands for "Falco did not report it" (a name instead of a number, or no port field).
  return hp ? { address: hp.address, port: hp.port ?? 0 } : undefined;
}

function ip(of: Record<string, unknown>, key: string): string | undefined {
  const v = str(of, key);
  return v === undefined ? undefined : normalizeIp(v);
}

/** Fills client/server from fd.name, the explicit fd.* fields, and lastly fd.rip/fd.lip by direction. */
function connection(of: Record<string, unknown>, direction: string): { client?: HostPort; server?: HostPort } {
  const fdName = str(of, 'fd.name');
  const parsed = fdName === undefined ? undefined : parseFdName(fdName);
  let client: HostPort | undefined = parsed?.client;
  let server: HostPort | undefined = parsed?.server;
  const sip = ip(of, 'fd.sip');
  if (sip !== undefined) server = { address: sip, port: toPort(field(of, 'fd.sport')) ?? (server?.address === sip ? server.port : undefined) };
  else if (server && toPort(field(of, 'fd.sport')) !== undefined) server = { ...server, port: toPort(field(of, 'fd.sport')) };
  const cip = ip(of, 'fd.cip');
  if (cip !== undefined) client = { address: cip, port: toPort(field(of, 'fd.cport')) ?? (client?.address === cip ? client.port : undefined) };
  else if (client && toPort(field(of, 'fd.cport')) !== undefined) client = { ...client, port: toPort(field(of, 'fd.cport')) };
  if (server === undefined) {
    const rip = ip(of, 'fd.rip');
    const lip = ip(of, 'fd.lip');
    const remote = rip === undefined ? undefined : { address: rip, port: toPort(field(of, 'fd.rport')) };
    const local = lip === undefined ? undefined : { address: lip, port: toPort(field(of, 'fd.lport')) };
    // The remote end is the server unless the process accepted or received the connection.
    if (direction === 'inbound') {
      server = local;
      client = client ?? remote;
    } else {
      server = remote;
      client = client ?? local;
    }
  }
  return { client, server };
}

function processInfo(of: Record<string, unknown>): ProcessInfo | undefined {
  const p: ProcessInfo = {};
  const pid = int(of, 'proc.pid');
  const ppid = int(of, 'proc.ppid');
  if (pid !== undefined) p.pid = pid;
  if (ppid !== undefined) p.ppid = ppid;
  const name = str(of, 'proc.name');
  if (name !== undefined) p.executableName = name;
  const exe = str(of, 'proc.exepath') ?? str(of, 'proc.exe');
  if (exe !== undefined) p.executablePath = exe;
  const cmd = str(of, 'proc.cmdline');
  if (cmd !== undefined) p.commandLine = redactCommandLine(cmd);
  const user = str(of, 'user.name');
  if (user !== undefined) p.user = user;
  const uid = int(of, 'user.uid');
  if (uid !== undefined) p.uid = uid;
  const cid = containerId(of);
  if (cid !== undefined) p.containerId = cid;
  // Ancestry nearest first as "pid:name": the parent, then proc.aname[N]/proc.apid[N] if a rule printed them.
  const ancestry: string[] = [];
  const pname = str(of, 'proc.pname');
  if (pname !== undefined) ancestry.push(`${ppid ?? '?'}:${pname}`);
  for (let n = 2; n <= 10; n++) {
    const an = str(of, `proc.aname[${n}]`);
    if (an === undefined) break;
    ancestry.push(`${int(of, `proc.apid[${n}]`) ?? '?'}:${an}`);
  }
  if (ancestry.length > 0) p.ancestry = ancestry;
  return Object.keys(p).length > 0 ? p : undefined;
}

function containerId(of: Record<string, unknown>): string | undefined {
  // Falco says "host" for processes outside any container: that is not a container id.
  const id = str(of, 'container.id');
  return id === undefined || id === 'host' ? undefined : id;
}

function attributes(alert: FalcoAlert, of: Record<string, unknown>, evtType: string | undefined, direction: string, maxOutput: number): Attributes {
  const a: Attributes = {};
  const cid = containerId(of);
  if (cid !== undefined) {
    a[ATTR.CONTAINER_ID] = cid;
    const cname = str(of, 'container.name');
    if (cname !== undefined && cname !== 'host') a[ATTR.CONTAINER_NAME] = cname;
  }
  const repo = str(of, 'container.image.repository');
  if (repo !== undefined) a[ATTR.CONTAINER_IMAGE_NAME] = repo;
  const tag = str(of, 'container.image.tag');
  if (tag !== undefined) a[ATTR.CONTAINER_IMAGE_TAGS] = [tag];
  const pod = str(of, 'k8s.pod.name');
  if (pod !== undefined) a[ATTR.K8S_POD_NAME] = pod;
  const ns = str(of, 'k8s.ns.name');
  if (ns !== undefined) a[ATTR.K8S_NAMESPACE_NAME] = ns;
  const podUid = str(of, 'k8s.pod.uid');
  if (podUid !== undefined) a[ATTR.K8S_POD_UID] = podUid;
  a[FALCO_ATTR.RULE] = alert.rule;
  if (alert.priority !== undefined) a[FALCO_ATTR.PRIORITY] = alert.priority;
  if (alert.tags !== undefined) a[FALCO_ATTR.TAGS] = [...alert.tags];
  if (alert.uuid !== undefined) a[FALCO_ATTR.UUID] = alert.uuid;
  if (alert.source !== undefined) a[FALCO_ATTR.SOURCE] = alert.source;
  if (alert.hostname !== undefined) a[FALCO_ATTR.HOSTNAME] = alert.hostname;
  // The output text repeats proc.cmdline, so it is redacted too (before cutting, so no secret is split).
  if (alert.output !== undefined) a[FALCO_ATTR.OUTPUT] = truncate(redactCommandLine(alert.output), maxOutput);
  if (evtType !== undefined) a[FALCO_ATTR.EVT_TYPE] = evtType;
  a[FALCO_ATTR.DIRECTION] = direction;
  return a;
}

/**
 * Maps one alert to an Observation, or undefined when the alert is not about a network connection (no
 * server/remote IP in fd.name, fd.sip or fd.rip). `rawBody` is the alert's JSON text, used to read
 * evt.time exactly; the time is evt.time when present there, else the `time` field (same event clock).
 */
export function mapAlert(alert: FalcoAlert, rawBody: string, options: MapOptions = {}): Observation | undefined {
  const of = alert.output_fields;
  const evtType = str(of, 'evt.type');
  const direction = evtType === undefined ? 'unknown' : OUTBOUND.has(evtType) ? 'outbound' : INBOUND.has(evtType) ? 'inbound' : 'unknown';
  const { client, server } = connection(of, direction);
  if (server === undefined) return undefined;
  const timeUnixNano = readEvtTimeNano(rawBody, ownField(of, 'evt.time')) ?? parseRfc3339Nano(alert.time) ?? 0n;
  const l4 = str(of, 'fd.l4proto')?.toLowerCase();
  const fdType = str(of, 'fd.type');
  const networkType: 'ipv4' | 'ipv6' = fdType === 'ipv4' || fdType === 'ipv6' ? fdType : isIP(server.address) === 6 ? 'ipv6' : 'ipv4';
  const names: NameEvidence[] = [];
  const sipName = hostName(str(of, 'fd.sip.name'));
  if (sipName !== undefined) names.push({ name: sipName, evidence: 'falco.fd.sip.name' });
  const obs: Observation = {
    type: 'observation',
    kind: 'falco',
    timeUnixNano,
    receiver: options.receiverId ?? 'falco',
    networkType,
    destination: endpoint(server),
    names,
    attributes: attributes(alert, of, evtType, direction, options.maxOutputChars ?? 1024),
  };
  if (l4 !== undefined && l4 !== 'unknown') obs.transport = l4;
  const source = endpoint(client);
  if (source !== undefined) obs.source = source;
  const proc = processInfo(of);
  if (proc !== undefined) obs.process = proc;
  return obs;
}
