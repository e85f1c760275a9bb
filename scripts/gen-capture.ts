/**
 * Benchmark capture generator (reproducible: a seeded PRNG, fixed start time). Writes, with the project's
 * pcap writer and the packet builders of test/helpers/packets.ts:
 *   mixed.pcap: ~1M packets, 72% in TLS flows with bulk data, 13% HTTP/1.1, 11% DNS, the rest noise
 *     (NTP, SSH, ICMP, ARP); paste names in ~839 DNS queries, ~121 TLS SNIs (about a quarter in a
 *     ClientHello split over two TCP segments) and ~104 HTTP Hosts; look-alike decoys in all three.
 *   dns.pcap: ~1M DNS packets of ~114 bytes, ~500k short query/response flows, some paste names.
 * and a ground-truth JSON next to each (<name>.truth.json): expected paste names per evidence with counts,
 * expected decoys. Flows are interleaved (a pool of concurrent flows), so the engine's flow table works
 * as on a real link. Usage: gen-capture.ts [--out bench-out] [--packets 1000000] [--seed 42] [--only mixed|dns]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapWriter, fileSink } from '../src/capture/writer.js';
import { ACK, FIN, PSH, SYN, clientHello, dnsMessage, ethernet, httpRequest, ipv4, tcp, tlsRecords, udp } from '../test/helpers/packets.js';
import { mulberry32 } from '../test/helpers/prng.js';

/** Paste names (all in the built-in catalog, default categories) and the decoys that must not match. */
export const PASTE_NAMES = [
  'pastebin.com', 'www.pastebin.com', 'paste.ee', 'transfer.sh', 'hastebin.com', 'ghostbin.co', 'rentry.co', 'termbin.com',
  'ix.io', 'dpaste.org', 'gofile.io', 'file.io', 'catbox.moe', 'webhook.site', 'controlc.com', 'privatebin.net',
  'justpaste.it', 'pastes.io', 'paste.rs', '0x0.st', 'requestbin.net', 'api.paste.ee',
];
/** Look-alikes: sharing a label or a prefix with a paste domain but not it or a subdomain of it. */
export const DECOYS = [
  'notpastebin.com', 'pastebin.com.evil.example', 'pastebin.company', 'paste.ee.example.org', 'transfer.shop',
  'xpaste.ee', 'webhook.site.example.net', 'ix.io.cdn-edge.net', 'mypastebin.com', 'catbox.moe-mirror.net',
];
const BENIGN = [
  'registry.npmjs.org', 'api.github.com', 'github.com', 'objects.githubusercontent.com', 'pypi.org', 'files.pythonhosted.org',
  'deb.debian.org', 'security.debian.org', 'proxy.golang.org', 'sum.golang.org', 'index.docker.io', 'auth.docker.io',
  'production.cloudflare.docker.com', 'storage.googleapis.com', 's3.amazonaws.com', 'sts.amazonaws.com', 'login.microsoftonline.com',
  'www.google.com', 'fonts.gstatic.com', 'update.code.visualstudio.com', 'repo.maven.apache.org', 'plugins.gradle.org',
  'crates.io', 'static.crates.io', 'rubygems.org', 'api.nuget.org', 'ghcr.io', 'quay.io', 'gcr.io', 'otel-collector.observability.svc',
];


interface Pkt {
  frame: Buffer;
  /** Intended gap after the flow's previous packet, µs (informational: the writer's clock is global). */
  gapUs: number;
}
type FlowGen = Generator<Pkt, void, void>;

/** Evidence -> name -> expected count. */
type Expect = Record<'dns.query' | 'tls.sni' | 'http.host', Record<string, number>>;

interface Truth {
  file: string;
  seed: number;
  packets: number;
  bytes: number;
  flows: number;
  paste: Expect;
  /** Paste SNIs whose ClientHello was split over two TCP segments. */
  splitSni: Record<string, number>;
  decoys: Expect;
}

const ip4 = (n: number): string => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const BULK = Buffer.alloc(1448);
for (let i = 0; i < BULK.length; i++) BULK[i] = (i * 131 + 7) & 255;

function tcpPkt(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, payload?: Buffer): Buffer {
  // No L4 checksum (0): decoders and tshark do not verify it by default, and it keeps generation fast.
  return ethernet(ipv4({ src, dst, proto: 6, payload: tcp({ sport, dport, seq, ack, flags, payload }) }));
}
function udpPkt(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  return ethernet(ipv4({ src, dst, proto: 17, payload: udp({ sport, dport, payload }) }));
}

class CaptureGen {
  readonly rnd: () => number;
  /** Server address per name, fixed, so DNS answers, SNIs and Hosts agree (paste, decoy and benign never share). */
  private readonly addr = new Map<string, string>();
  private nextServer = 0;
  constructor(seed: number) {
    this.rnd = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  serverOf(name: string): string {
    let a = this.addr.get(name);
    if (!a) {
      const n = this.nextServer++;
      a = ip4(((PASTE_NAMES.includes(name) ? 104 : DECOYS.includes(name) ? 198 : 151) << 24) | (18 << 16) | ((n >> 8) << 8) | (n & 255 || 1));
      this.addr.set(name, a);
    }
    return a;
  }
  client(): string {
    return ip4((10 << 24) | (1 << 16) | (this.int(250) << 8) | (1 + this.int(250)));
  }
  port(): number {
    return 32768 + this.int(28000);
  }

  *dns(name: string, tcpTransport = false): FlowGen {
    const c = this.client();
    const sport = this.port();
    const id = this.int(65536);
    const q = dnsMessage({ id, questions: [{ name, type: 1 }] });
    const answers = name.startsWith('www.') ? [{ name, type: 5, data: name.slice(4) }, { name: name.slice(4), type: 1, data: this.serverOf(name.slice(4)) }] : [{ name, type: 1, data: this.serverOf(name) }];
    const r = dnsMessage({ id, response: true, questions: [{ name, type: 1 }], answers });
    if (!tcpTransport) {
      yield { frame: udpPkt(c, '10.0.0.53', sport, 53, q), gapUs: 0 };
      yield { frame: udpPkt('10.0.0.53', c, 53, sport, r), gapUs: 300 + this.int(2000) };
      return;
    }
    const len = (m: Buffer): Buffer => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m]);
    yield* this.handshake(c, '10.0.0.53', sport, 53);
    yield { frame: tcpPkt(c, '10.0.0.53', sport, 53, 1001, 5001, PSH | ACK, len(q)), gapUs: 50 };
    yield { frame: tcpPkt('10.0.0.53', c, 53, sport, 5001, 1001 + q.length + 2, PSH | ACK, len(r)), gapUs: 500 };
    yield { frame: tcpPkt(c, '10.0.0.53', sport, 53, 1001 + q.length + 2, 5001 + r.length + 2, FIN | ACK), gapUs: 50 };
    yield { frame: tcpPkt('10.0.0.53', c, 53, sport, 5001 + r.length + 2, 1001 + q.length + 3, FIN | ACK), gapUs: 50 };
  }

  *handshake(c: string, s: string, sport: number, dport: number): FlowGen {
    yield { frame: tcpPkt(c, s, sport, dport, 1000, 0, SYN), gapUs: 0 };
    yield { frame: tcpPkt(s, c, dport, sport, 5000, 1001, SYN | ACK), gapUs: 200 + this.int(3000) };
    yield { frame: tcpPkt(c, s, sport, dport, 1001, 5001, ACK), gapUs: 30 };
  }

  /** A TLS flow: handshake, ClientHello (one or two segments), server flight, then `bulk` data packets from the server. */
  *tls(sni: string, split: boolean, bulk: number): FlowGen {
    const c = this.client();
    const s = this.serverOf(sni);
    const sport = this.port();
    yield* this.handshake(c, s, sport, 443);
    const hello = tlsRecords(clientHello({ sni, alpn: ['h2', 'http/1.1'], random: Buffer.alloc(32, this.int(256)) }));
    let seq = 1001;
    if (split) {
      // Cut inside the server_name extension: neither segment alone carries the whole name.
      const cut = hello.indexOf(Buffer.from(sni, 'latin1')) + Math.max(1, sni.length >> 1);
      yield { frame: tcpPkt(c, s, sport, 443, seq, 5001, ACK, hello.subarray(0, cut)), gapUs: 40 };
      yield { frame: tcpPkt(c, s, sport, 443, seq + cut, 5001, PSH | ACK, hello.subarray(cut)), gapUs: 40 };
    } else {
      yield { frame: tcpPkt(c, s, sport, 443, seq, 5001, PSH | ACK, hello), gapUs: 40 };
    }
    seq += hello.length;
    let sseq = 5001;
    for (let i = 0; i < 3; i++) {
      yield { frame: tcpPkt(s, c, 443, sport, sseq, seq, ACK, BULK.subarray(0, i === 2 ? 900 : 1448)), gapUs: 100 + this.int(500) };
      sseq += i === 2 ? 900 : 1448;
    }
    yield { frame: tcpPkt(c, s, sport, 443, seq, sseq, PSH | ACK, BULK.subarray(0, 80)), gapUs: 60 };
    seq += 80;
    for (let i = 0; i < bulk; i++) {
      yield { frame: tcpPkt(s, c, 443, sport, sseq, seq, ACK, BULK), gapUs: 20 + this.int(200) };
      sseq += 1448;
      if (i % 2 === 1) yield { frame: tcpPkt(c, s, sport, 443, seq, sseq, ACK), gapUs: 10 };
    }
    yield { frame: tcpPkt(c, s, sport, 443, seq, sseq, FIN | ACK), gapUs: 100 };
    yield { frame: tcpPkt(s, c, 443, sport, sseq, seq + 1, FIN | ACK), gapUs: 100 };
  }

  /** An HTTP/1.1 flow: request with Host (GET, or POST with a small body), response in `bulk` packets. */
  *http(host: string, bulk: number): FlowGen {
    const c = this.client();
    const s = this.serverOf(host);
    const sport = this.port();
    yield* this.handshake(c, s, sport, 80);
    const post = this.rnd() < 0.3;
    const body = post ? Buffer.from(`api_paste_code=${'x'.repeat(40 + this.int(200))}`) : Buffer.alloc(0);
    const req = Buffer.concat([
      httpRequest(post ? 'POST' : 'GET', post ? '/api/api_post.php' : `/raw/${this.int(1e9).toString(36)}`, {
        Host: host,
        'User-Agent': 'curl/8.5.0',
        Accept: '*/*',
        ...(post ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) } : {}),
      }),
      body,
    ]);
    yield { frame: tcpPkt(c, s, sport, 80, 1001, 5001, PSH | ACK, req), gapUs: 40 };
    let sseq = 5001;
    const seq = 1001 + req.length;
    for (let i = 0; i < bulk; i++) {
      const n = i === bulk - 1 ? 600 : 1448;
      yield { frame: tcpPkt(s, c, 80, sport, sseq, seq, ACK, BULK.subarray(0, n)), gapUs: 50 + this.int(300) };
      sseq += n;
      if (i % 2 === 1) yield { frame: tcpPkt(c, s, sport, 80, seq, sseq, ACK), gapUs: 10 };
    }
    yield { frame: tcpPkt(c, s, sport, 80, seq, sseq, FIN | ACK), gapUs: 100 };
    yield { frame: tcpPkt(s, c, 80, sport, sseq, seq + 1, FIN | ACK), gapUs: 100 };
  }

  /** Noise: NTP, SSH data, ICMP echo, ARP. */
  *noise(): FlowGen {
    const c = this.client();
    const k = this.int(4);
    if (k === 0) {
      const ntp = Buffer.alloc(48);
      ntp[0] = 0x23;
      yield { frame: udpPkt(c, '10.0.0.123', 40123, 123, ntp), gapUs: 0 };
      yield { frame: udpPkt('10.0.0.123', c, 123, 40123, ntp), gapUs: 800 };
    } else if (k === 1) {
      const sport = this.port();
      yield* this.handshake(c, '10.0.0.22', sport, 22);
      for (let i = 0; i < 6; i++) yield { frame: tcpPkt(c, '10.0.0.22', sport, 22, 1001 + i * 100, 5001, PSH | ACK, BULK.subarray(0, 100)), gapUs: 500 };
    } else if (k === 2) {
      const icmp = Buffer.alloc(64);
      icmp[0] = 8;
      yield { frame: ethernet(ipv4({ src: c, dst: '10.0.0.1', proto: 1, payload: icmp })), gapUs: 0 };
      icmp[0] = 0;
      yield { frame: ethernet(ipv4({ src: '10.0.0.1', dst: c, proto: 1, payload: icmp })), gapUs: 200 };
    } else {
      const arp = Buffer.alloc(28);
      arp.writeUInt16BE(1, 0);
      arp.writeUInt16BE(0x0800, 2);
      arp[4] = 6;
      arp[5] = 4;
      arp.writeUInt16BE(1, 6);
      yield { frame: ethernet(arp, { etherType: 0x0806 }), gapUs: 0 };
    }
  }
}

function emptyExpect(): Expect {
  return { 'dns.query': {}, 'tls.sni': {}, 'http.host': {} };
}
const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Interleaves flows from `next()` (a pool of `concurrency` live flows) until `target` packets are written. */
function run(path: string, target: number, concurrency: number, g: CaptureGen, next: () => FlowGen): { packets: number; bytes: number; flows: number } {
  const w = new PcapWriter({ linkType: 1, snaplen: 262144 }, fileSink(path));
  const pool: FlowGen[] = [];
  let flows = 0;
  // Capture time advances 1-19 µs per packet (monotonic, ~650 Mbit/s for the mixed capture).
  let clock = 0;
  const start = 1_796_385_600; // 2026-12-04T12:00:00Z
  let packets = 0;
  let bytes = 0;
  const write = (frame: Buffer): void => {
    clock += 1 + g.int(19);
    w.writePacket(start + Math.floor(clock / 1e6), (clock % 1e6) * 1000, frame);
    packets++;
    bytes += frame.length;
  };
  while (packets < target) {
    while (pool.length < concurrency) {
      pool.push(next());
      flows++;
    }
    const i = g.int(pool.length);
    const r = pool[i].next();
    if (r.done) {
      pool[i] = pool[pool.length - 1];
      pool.pop();
      continue;
    }
    write(r.value.frame);
  }
  // Let the live flows finish so their names are complete (a few hundred packets over the target).
  for (const f of pool) for (let r = f.next(); !r.done; r = f.next()) write(r.value.frame);
  w.close();
  return { packets, bytes, flows };
}

/** Writes mixed.pcap and its truth; returns the truth. */
export function generateMixed(out: string, seed: number, target: number): Truth {
  const g = new CaptureGen(seed);
  const paste = emptyExpect();
  const decoys = emptyExpect();
  const splitSni: Record<string, number> = {};
  const scale = target / 1_000_000;
  // Planned interesting flows, placed at random points of the stream.
  const plan: (() => FlowGen)[] = [];
  const pasteDns = Math.round(839 * scale);
  const pasteSni = Math.round(121 * scale);
  const pasteHost = Math.round(104 * scale);
  for (let i = 0; i < pasteDns; i++) {
    const n = PASTE_NAMES[i % PASTE_NAMES.length];
    bump(paste['dns.query'], n);
    plan.push(() => g.dns(n, i % 10 === 0));
  }
  for (let i = 0; i < pasteSni; i++) {
    const n = PASTE_NAMES[(i * 7) % PASTE_NAMES.length];
    const split = i % 4 === 0;
    bump(paste['tls.sni'], n);
    if (split) bump(splitSni, n);
    plan.push(() => g.tls(n, split, 4 + g.int(60)));
  }
  for (let i = 0; i < pasteHost; i++) {
    const n = PASTE_NAMES[(i * 5) % PASTE_NAMES.length];
    bump(paste['http.host'], n);
    plan.push(() => g.http(n, 2 + g.int(16)));
  }
  for (let i = 0; i < Math.max(1, Math.round(60 * scale)); i++) {
    const n = DECOYS[i % DECOYS.length];
    const kind = i % 3;
    bump(decoys[kind === 0 ? 'dns.query' : kind === 1 ? 'tls.sni' : 'http.host'], n);
    plan.push(kind === 0 ? () => g.dns(n) : kind === 1 ? () => g.tls(n, i % 2 === 0, 8) : () => g.http(n, 4));
  }
  // Shuffle the plan, then spread it: each flow start draws a planned flow with the right probability.
  for (let i = plan.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  // Mean packets per flow by kind (as generated below) give the flow mix that yields 72/13/11/4 % of packets.
  const share = { tls: 0.72 / 81, http: 0.13 / 23.5, dns: 0.11 / 2.1, noise: 0.04 / 3.5 };
  const sum = share.tls + share.http + share.dns + share.noise;
  const flowsExpected = target / (1 / sum);
  const planEvery = Math.max(1, Math.floor(flowsExpected / (plan.length + 1)));
  let started = 0;
  const next = (): FlowGen => {
    started++;
    if (started % planEvery === 0 && plan.length > 0) return plan.pop()!();
    const r = g.rnd() * sum;
    if (r < share.tls) return g.tls(g.pick(BENIGN), false, 20 + g.int(56));
    if (r < share.tls + share.http) return g.http(g.pick(BENIGN), 4 + g.int(16));
    if (r < share.tls + share.http + share.dns) return g.dns(g.pick(BENIGN), g.rnd() < 0.02);
    return g.noise();
  };
  const file = join(out, 'mixed.pcap');
  const res = run(file, target, Math.min(512, Math.max(16, Math.floor(target / 2000))), g, next);
  // Planned flows not yet started (the stream ended early): none may be missing from the file.
  if (plan.length > 0) throw new Error(`gen-capture: ${plan.length} planned flows did not fit; raise the packet count`);
  return { file, seed, ...res, paste, splitSni, decoys };
}

/** Writes dns.pcap (DNS only, short flows) and its truth. */
export function generateDns(out: string, seed: number, target: number): Truth {
  const g = new CaptureGen(seed + 1);
  const paste = emptyExpect();
  const decoys = emptyExpect();
  const plan: string[] = [];
  for (let i = 0; i < Math.round(500 * (target / 1_000_000)); i++) plan.push(PASTE_NAMES[i % PASTE_NAMES.length]);
  for (let i = 0; i < Math.max(1, Math.round(50 * (target / 1_000_000))); i++) plan.push(DECOYS[i % DECOYS.length]);
  const every = Math.max(1, Math.floor(target / 2 / (plan.length + 1)));
  let started = 0;
  const next = (): FlowGen => {
    started++;
    if (started % every === 0 && plan.length > 0) {
      const n = plan.pop()!;
      bump(PASTE_NAMES.includes(n) ? paste['dns.query'] : decoys['dns.query'], n);
      return g.dns(n);
    }
    return g.dns(`host-${g.int(200000)}.svc-${g.int(400)}.ns-build.svc.cluster.local`);
  };
  const file = join(out, 'dns.pcap');
  const res = run(file, target, 64, g, next);
  if (plan.length > 0) throw new Error(`gen-capture: ${plan.length} planned DNS queries did not fit`);
  return { file, seed, ...res, paste, splitSni: {}, decoys };
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

if (process.argv[1] && /gen-capture\.[tj]s$/.test(process.argv[1])) {
  const out = arg('out', 'bench-out');
  const target = Number(arg('packets', '1000000'));
  const seed = Number(arg('seed', '42'));
  const only = arg('only', 'all');
  mkdirSync(out, { recursive: true });
  for (const [kind, gen] of [['mixed', generateMixed], ['dns', generateDns]] as const) {
    if (only !== 'all' && only !== kind) continue;
    const t0 = Date.now();
    const truth = gen(out, seed, target);
    writeFileSync(join(out, `${kind}.truth.json`), JSON.stringify(truth, null, 2) + '\n');
    process.stderr.write(`gen-capture: ${truth.file}: ${truth.packets} packets, ${(truth.bytes / 1e6).toFixed(1)} MB of frames, ${truth.flows} flows (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}
