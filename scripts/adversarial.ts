/**
 * Adversarial capture generator and pipeline runner, shared by scripts/bench-adversarial.ts (large floods,
 * RSS over time) and test/adversarial/ (small floods, caps asserted). The capture interleaves, round robin:
 * a SYN flood with unique 5-tuples, a DNS answer flood with random names and addresses (half of them random
 * subdomains of a catalog service, so they reach the DNS cache), half-sent TLS
 * ClientHellos (SYN + the first segment only), huge fake TLS record lengths, and DNS-over-TCP messages that
 * announce 65535 bytes and send a few kilobytes; with real paste traffic mixed in early (5%) and late (90%):
 * a DNS lookup of pastebin.com, a TLS hello with SNI transfer.sh, and a bare connection to an address
 * learned from a DNS answer for paste.ee. Frames are stamped from templates (the engine does not verify
 * checksums), so millions of packets are written in seconds.
 */
import { readFileSync } from 'node:fs';
import { fileSink, PcapWriter } from '../src/capture/writer.js';
import { FACTORIES } from '../src/components.js';
import { loadConfigText } from '../src/config/load.js';
import { Service } from '../src/pipeline/service.js';
import { createLogger } from '../src/util/logger.js';
import {
  ACK, FIN, PSH, SYN, clientHello, dnsMessage, tcpFrame, tlsRecords, udpFrame,
} from '../test/helpers/packets.js';
import { mulberry32 } from '../test/helpers/prng.js';

/** How many of each flood packet kind the capture holds. */
export interface FloodSizes {
  syn: number;
  dnsAnswers: number;
  halfHellos: number;
  hugeRecords: number;
  dnsTcpHuge: number;
}

/** The paste traffic mixed in: the detections expected, one set early (5%) and one late (90%). */
export const PASTE_EXPECTED = [
  { service: 'pastebin.com', evidence: 'dns.answer', phase: 'early', client: '10.250.0.1' },
  { service: 'transfer.sh', evidence: 'tls.sni', phase: 'early', client: '10.250.0.2' },
  { service: 'paste.ee', evidence: 'ip.correlated', phase: 'early', client: '10.250.0.3' },
  { service: 'pastebin.com', evidence: 'dns.answer', phase: 'late', client: '10.251.0.1' },
  { service: 'transfer.sh', evidence: 'tls.sni', phase: 'late', client: '10.251.0.2' },
  { service: 'paste.ee', evidence: 'ip.correlated', phase: 'late', client: '10.251.0.3' },
] as const;

const RESOLVER = '10.96.0.10';
/** Packet time between two frames (µs) and the start of the capture. */
const STEP_US = 20;
const T0 = 1_767_225_600;


// Offsets in an untagged Ethernet + IPv4 (20-byte header) frame.
const IP_SRC = 14 + 12;
const L4 = 14 + 20;

function stampAddr(f: Buffer, at: number, v: number): void {
  f.writeUInt32BE(v >>> 0, at);
}

/** The paste traffic of one phase (client addresses from PASTE_EXPECTED), as frames. */
function pasteFrames(phase: 'early' | 'late'): Buffer[] {
  const c = PASTE_EXPECTED.filter((e) => e.phase === phase).map((e) => e.client);
  const pasteEeAddr = phase === 'early' ? '203.0.113.77' : '203.0.113.78';
  const out: Buffer[] = [];
  // 1. DNS lookup of pastebin.com (query and answer).
  out.push(udpFrame({ src: c[0], dst: RESOLVER, sport: 40001, dport: 53, payload: dnsMessage({ id: 7, questions: [{ name: 'pastebin.com' }] }) }));
  out.push(udpFrame({ src: RESOLVER, dst: c[0], sport: 53, dport: 40001, payload: dnsMessage({ id: 7, response: true, questions: [{ name: 'pastebin.com' }], answers: [{ name: 'pastebin.com', type: 1, ttl: 300, data: '104.20.67.143' }] }) }));
  // 2. TLS to transfer.sh: handshake, one-segment ClientHello, FIN.
  const h = tlsRecords(clientHello({ sni: 'transfer.sh', alpn: ['h2'] }));
  out.push(tcpFrame({ src: c[1], dst: '144.76.136.153', sport: 40002, dport: 443, seq: 1000, flags: SYN }));
  out.push(tcpFrame({ src: '144.76.136.153', dst: c[1], sport: 443, dport: 40002, seq: 5000, ack: 1001, flags: SYN | ACK }));
  out.push(tcpFrame({ src: c[1], dst: '144.76.136.153', sport: 40002, dport: 443, seq: 1001, ack: 5001, flags: ACK | PSH, payload: h }));
  out.push(tcpFrame({ src: c[1], dst: '144.76.136.153', sport: 40002, dport: 443, seq: 1001 + h.length, ack: 5001, flags: FIN | ACK }));
  // 3. paste.ee learned from DNS, then a bare connection (no SNI, no Host) to that address.
  out.push(udpFrame({ src: RESOLVER, dst: c[2], sport: 53, dport: 40003, payload: dnsMessage({ id: 9, response: true, questions: [{ name: 'paste.ee' }], answers: [{ name: 'paste.ee', type: 1, ttl: 300, data: pasteEeAddr }] }) }));
  out.push(tcpFrame({ src: c[2], dst: pasteEeAddr, sport: 40004, dport: 8443, seq: 1, flags: SYN }));
  out.push(tcpFrame({ src: pasteEeAddr, dst: c[2], sport: 8443, dport: 40004, seq: 9, ack: 2, flags: SYN | ACK }));
  out.push(tcpFrame({ src: c[2], dst: pasteEeAddr, sport: 40004, dport: 8443, seq: 2, ack: 10, flags: ACK | PSH, payload: Buffer.alloc(64, 0x42) }));
  out.push(tcpFrame({ src: c[2], dst: pasteEeAddr, sport: 40004, dport: 8443, seq: 66, ack: 10, flags: FIN | ACK }));
  return out;
}

/**
 * Writes the adversarial capture to `path`; returns the number of packets written. Each flood kind uses its
 * own address range so every flood packet opens a new flow (or carries a new name) and nothing collides
 * with the paste traffic.
 */
export function writeAdversarialCapture(path: string, sizes: FloodSizes, seed = 1): number {
  const rand = mulberry32(seed);
  const w = new PcapWriter({ linkType: 1, nanosecond: true }, fileSink(path));
  let us = 0;
  let n = 0;
  const put = (f: Buffer): void => {
    const sec = T0 + Math.floor(us / 1e6);
    w.writePacket(sec, (us % 1e6) * 1000, f);
    us += STEP_US;
    n++;
  };
  // Templates, stamped per packet.
  const syn = tcpFrame({ src: '10.1.0.0', dst: '198.18.0.1', sport: 1, dport: 443, seq: 1, flags: SYN });
  const halfHello = (() => {
    // A ClientHello padded to ~3 KB, sent as SYN + the first 600 bytes: reassembly must buffer and wait.
    const rec = tlsRecords(clientHello({ sni: 'half.example.net', padTo: 3000 }));
    return {
      syn: tcpFrame({ src: '10.2.0.0', dst: '198.18.0.2', sport: 1, dport: 443, seq: 100, flags: SYN }),
      seg: tcpFrame({ src: '10.2.0.0', dst: '198.18.0.2', sport: 1, dport: 443, seq: 101, ack: 1, flags: ACK | PSH, payload: rec.subarray(0, 600) }),
    };
  })();
  // A TLS record header announcing 16 MB-ish handshake lengths (record 0x4000, handshake 0xffffff).
  const hugeRecord = tcpFrame({
    src: '10.3.0.0', dst: '198.18.0.3', sport: 1, dport: 443, seq: 1, flags: ACK | PSH,
    payload: Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0x03, 0x03]), Buffer.alloc(200, 0x41)]),
  });
  // DNS over TCP: a length prefix of 65535 and 4 KB of the promised message (the stream must buffer it).
  const dnsTcpHuge = tcpFrame({
    src: '10.4.0.0', dst: RESOLVER, sport: 1, dport: 53, seq: 1, flags: ACK | PSH,
    payload: Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(4000, 0x00)]),
  });
  const dnsAnswer = (i: number): Buffer => {
    // Every other answer names a random subdomain of a catalog service (dpaste.org): those pass the engine's
    // name interest and reach the DNS cache, so the flood fills it; the others are skipped in the engine.
    const name = `${Math.floor(rand() * 2 ** 32).toString(36)}${i.toString(36)}.${i % 2 === 0 ? 'dpaste.org' : 'flood.example'}`;
    const addr = `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
    return udpFrame({ src: RESOLVER, dst: '10.5.0.1', sport: 53, dport: 30000 + (i % 30000), payload: dnsMessage({ id: i & 0xffff, response: true, questions: [{ name }], answers: [{ name, type: 1, ttl: 600, data: addr }] }) });
  };

  const total = sizes.syn + sizes.dnsAnswers + sizes.halfHellos + sizes.hugeRecords + sizes.dnsTcpHuge;
  const early = Math.floor(total * 0.05);
  const late = Math.floor(total * 0.9);
  const left = { ...sizes };
  const idx = { syn: 0, dns: 0, half: 0, huge: 0, dtcp: 0 };
  for (let k = 0; k < total; k++) {
    if (k === early) for (const f of pasteFrames('early')) put(f);
    if (k === late) for (const f of pasteFrames('late')) put(f);
    // Round robin over the kinds that still have packets to send, weighted by what is left.
    const r = rand() * (left.syn + left.dnsAnswers + left.halfHellos + left.hugeRecords + left.dnsTcpHuge);
    let acc = left.syn;
    if (r < acc) {
      const i = idx.syn++;
      stampAddr(syn, IP_SRC, (10 << 24) | (1 << 16) | (i >>> 8)); // 10.1.x.y: 65536 * 256 unique 5-tuples
      syn.writeUInt16BE(1024 + (i & 255), L4);
      left.syn--;
      put(syn);
      continue;
    }
    if (r < (acc += left.dnsAnswers)) { put(dnsAnswer(idx.dns++)); left.dnsAnswers--; continue; }
    if (r < (acc += left.halfHellos)) {
      const i = idx.half++;
      for (const f of [halfHello.syn, halfHello.seg]) {
        stampAddr(f, IP_SRC, (10 << 24) | (2 << 16) | (i >>> 8));
        f.writeUInt16BE(1024 + (i & 255), L4);
        put(f);
      }
      left.halfHellos--;
      continue;
    }
    if (r < (acc += left.hugeRecords)) {
      const i = idx.huge++;
      stampAddr(hugeRecord, IP_SRC, (10 << 24) | (3 << 16) | (i >>> 8));
      hugeRecord.writeUInt16BE(1024 + (i & 255), L4);
      put(hugeRecord);
      left.hugeRecords--;
      continue;
    }
    const i = idx.dtcp++;
    stampAddr(dnsTcpHuge, IP_SRC, (10 << 24) | (4 << 16) | (i >>> 8));
    dnsTcpHuge.writeUInt16BE(1024 + (i & 255), L4);
    put(dnsTcpHuge);
    left.dnsTcpHuge--;
  }
  w.close();
  return n;
}

/** Table caps of a run (pcap_file engine, dns_correlation, dedup). */
export interface RunCaps {
  maxFlows: number;
  maxReassemblyFlows: number;
  maxReassemblyBytes: number;
  dnsMaxEntries: number;
  dedupMaxGroups: number;
}

/** The defaults of the components (what a user gets without tuning). */
export const DEFAULT_CAPS: RunCaps = { maxFlows: 262144, maxReassemblyFlows: 16384, maxReassemblyBytes: 16384, dnsMaxEntries: 100000, dedupMaxGroups: 10000 };

/** The pipeline config of a run: pcap_file -> dns_correlation -> paste_classifier -> dedup -> jsonl. */
export function adversarialConfig(capture: string, out: string, caps: RunCaps): string {
  return `
receivers:
  pcap_file:
    path: ${JSON.stringify(capture)}
    max_flows: ${caps.maxFlows}
    max_reassembly_flows: ${caps.maxReassemblyFlows}
    max_reassembly_bytes: ${caps.maxReassemblyBytes}
processors:
  dns_correlation:
    max_entries: ${caps.dnsMaxEntries}
  paste_classifier:
  dedup:
    max_groups: ${caps.dedupMaxGroups}
exporters:
  jsonl:
    path: ${JSON.stringify(out)}
    append: false
service:
  telemetry:
    logs: { level: warn }
  pipelines:
    logs:
      receivers: [pcap_file]
      processors: [dns_correlation, paste_classifier, dedup]
      exporters: [jsonl]
`;
}

/** What a run produced: counters of interest and the detections (service, evidence, client). */
export interface RunReport {
  counters: Record<string, number>;
  detections: { service: string; evidence: string[]; client: string }[];
  /** Wall time of the run (start to shutdown), ms. */
  wallMs: number;
}

/** Runs the real pipeline in this process over `capture`; returns counters and detections. */
export async function runAdversarial(capture: string, out: string, caps: RunCaps): Promise<RunReport> {
  const logger = createLogger({ level: 'warn' });
  const cfg = loadConfigText(adversarialConfig(capture, out, caps), 'adversarial.yaml', { env: process.env, factories: FACTORIES });
  const service = new Service(cfg, { logger, env: process.env });
  const t0 = Date.now();
  await service.start();
  await service.run();
  const wallMs = Date.now() - t0;
  const reg = service.registry;
  const counters: Record<string, number> = {};
  for (const s of reg.samples()) {
    const key = `${s.component}.${s.name}${Object.keys(s.labels).length ? `{${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')}}` : ''}`;
    counters[key] = s.value;
  }
  const detections = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => {
    const a = (JSON.parse(l) as { attributes: Record<string, unknown> }).attributes;
    return { service: String(a['pastewatch.service']), evidence: a['pastewatch.evidence'] as string[], client: String(a['source.address']) };
  });
  return { counters, detections, wallMs };
}

/** The expected paste detections missing from `detections` (empty when all are there). */
export function missingPasteDetections(detections: RunReport['detections']): string[] {
  const missing: string[] = [];
  for (const e of PASTE_EXPECTED) {
    if (!detections.some((d) => d.service === e.service && d.client === e.client && d.evidence.includes(e.evidence))) missing.push(`${e.phase} ${e.service} via ${e.evidence} from ${e.client}`);
  }
  return missing;
}
