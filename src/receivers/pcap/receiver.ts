/**
 * The live `pcap` receiver: opens a libpcap session on an interface and feeds every packet to the same
 * PacketEngine (decoders + flow table) the pcap_file receiver uses. A timer advances flows in wall time
 * and reads libpcap's drop counters; process attribution runs in the engine's onNewFlow hook, while the
 * client that sent the first packet still exists. Shutdown closes the session and flushes every flow.
 */
import type { ComponentSettings, Receiver, ReceiverSink, NameInterest } from '../../component/types.js';
import { PacketEngine } from '../../packet/engine.js';
import { ProcessAttributor } from '../../process/attributor.js';
import { PastewatchError, describeError } from '../../util/errors.js';
import type { PcapConfig } from './config.js';
import { listInterfaces, resolveInterface } from './interfaces.js';
import { DnsProcessCarry } from './dns-process.js';
import { LateProcessQueue, flowKeyOf } from './late-process.js';
import { LINK_TYPES, loadPcap, mapOpenError } from './native.js';
import type { PcapModule, PcapSessionLike, PcapStats } from './native.js';
import { engineOptions } from '../../packet/engine-settings.js';

/** Captures live traffic with libpcap and turns it into Observations. */
export class PcapReceiver implements Receiver {
  private nameInterest?: NameInterest;
  private session?: PcapSessionLike;
  private engine?: PacketEngine;
  private tickTimer?: NodeJS.Timeout;
  private statsTimer?: NodeJS.Timeout;
  private lastStats: PcapStats = { ps_recv: 0, ps_drop: 0, ps_ifdrop: 0 };
  private lastDropLogAt = 0;
  private packetErrors = 0;
  private stopped = false;
  private lastPacketMs = 0;
  private carry?: DnsProcessCarry;
  private late?: LateProcessQueue;
  private device?: string;
  /** The attributor, when process attribution is enabled (exposed for tests and stats). */
  attributor?: ProcessAttributor;

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: PcapConfig,
    private readonly loader: () => Promise<PcapModule> = () => loadPcap(),
  ) {}

  /** DNS messages whose names no pipeline can use are skipped in the engine (see Receiver.setNameInterest). */
  setNameInterest(interest: NameInterest | undefined): void {
    this.nameInterest = interest;
  }

  /** The interface being captured on, once started. */
  interfaceName(): string | undefined {
    return this.device;
  }

  /** Opens the capture; rejects with CAPTURE_UNAVAILABLE, CAPTURE_PERMISSION, INTERFACE_NOT_FOUND or CONFIG_INVALID. */
  async start(sink: ReceiverSink): Promise<void> {
    const { config, settings } = this;
    const log = settings.logger;
    const pcap = await this.loader();
    // pcap prints "warning: ... this may not actually work" through console.warn by default (an interface
    // without an IPv4 network, like `any`): route it to our debug log instead.
    pcap.warningHandler = (msg: string) => log.debug(`libpcap: ${msg}`);
    let devs: string[] = [];
    try {
      devs = pcap.findalldevs().map((d) => d.name);
    } catch {
      // findalldevs needs nothing special, but a broken libpcap must not hide the real error below
    }
    const known = listInterfaces(devs.filter((d) => d === 'any'));
    const device = resolveInterface(config.interface, config.process_attribution.proc_root, known);
    this.device = device;

    const pa = config.process_attribution;
    const carry = new DnsProcessCarry((obs) => sink.emit(obs), pa.enabled ? pa.dns_hold_ms : 0);
    this.carry = carry;
    const late = new LateProcessQueue((obs) => carry.push(obs));
    this.late = late;
    const engine = new PacketEngine(
      engineOptions(settings.id, config),
      pa.enabled ? (obs) => late.push(obs) : (obs) => sink.emit(obs),
      settings.telemetry,
    );
    engine.nameInterest = this.nameInterest;
    if (pa.enabled) {
      const attributor = new ProcessAttributor(
        { procRoot: pa.proc_root, ancestryDepth: pa.ancestry_depth, refreshIntervalMs: pa.refresh_interval_ms, maxScanMs: pa.max_scan_ms },
        settings.telemetry,
      );
      this.attributor = attributor;
      // Read procfs once now so the first lookups (a short-lived client's first packets) are fast.
      attributor.prime();
      const debug = log.isLevelEnabled('debug');
      engine.onNewFlow = (f) => {
        const t0 = debug ? performance.now() : 0;
        const key = (): string => flowKeyOf(f.transport, f.src.address, f.src.port, f.dst.address, f.dst.port);
        late.begin(key);
        let pending = false;
        const p = attributor.lookup(f.transport, f.src, f.dst, (lp) => {
          // A background scan of older processes answered: DNS exchanges waiting for this flow go first,
          // then the flow's own observations, in order.
          if (debug) log.debug('process lookup (background)', { flow: key(), pid: lp?.pid, exe: lp?.executableName, after_ms: (performance.now() - t0).toFixed(2) });
          if (f.dst.port !== 53) carry.onFlow(f.src, f.dst, lp, lp?.pid === undefined ? undefined : attributor.startedAtMs(lp.pid));
          late.settle(key(), lp);
        });
        if (attributor.lastTrace.result === 'pending') {
          pending = true;
          late.expect(key());
        }
        if (debug) {
          // How late the lookup ran after the packet arrived, where its time went, and whether it found the
          // process: what decides whether a short-lived client is caught.
          const tr = attributor.lastTrace;
          log.debug('process lookup', {
            flow: key(), pid: p?.pid, exe: p?.executableName, result: tr.result,
            t_pkt: this.lastPacketMs.toFixed(3), t_hook: (performance.timeOrigin + t0).toFixed(3), lag_ms: (performance.timeOrigin + t0 - this.lastPacketMs).toFixed(2), lookup_ms: (performance.now() - t0).toFixed(2),
            table_ms: tr.tableMs.toFixed(2), owner_ms: tr.ownerMs.toFixed(2), info_ms: tr.infoMs.toFixed(2), table_reads: tr.tableReads, pids_scanned: tr.pidsScanned,
          });
        }
        // DNS queries come through here too (dst port 53); only other flows can vouch for an exchange.
        if (!pending && f.dst.port !== 53) carry.onFlow(f.src, f.dst, p, p?.pid === undefined ? undefined : attributor.startedAtMs(p.pid));
        return p;
      };
    }

    let session: PcapSessionLike;
    try {
      session = pcap.createSession(device, {
        filter: config.bpf_filter,
        buffer_size: config.buffer_size_mb * 1024 * 1024,
        snap_length: config.snaplen,
        promiscuous: config.promiscuous,
        buffer_timeout: config.buffer_timeout_ms,
        monitor: false,
      });
    } catch (err) {
      throw mapOpenError(err, device, known.filter((n) => n !== 'any'));
    }
    const linkType = LINK_TYPES[session.link_type];
    if (linkType === undefined) {
      session.close();
      throw new PastewatchError('CAPTURE_UNAVAILABLE', `receivers::pcap: interface "${device}" has link type "${session.link_type}", which pastewatch cannot decode (supported: Ethernet, raw IP, Linux cooked, loopback)`);
    }
    this.session = session;
    this.engine = engine;

    const telemetry = settings.telemetry;
    session.on('packet', (raw) => {
      const h = raw.header;
      const capLen = h.readUInt32LE(8);
      this.lastPacketMs = h.readUInt32LE(0) * 1000 + h.readUInt32LE(4) / 1000;
      try {
        engine.packet(linkType, h.readUInt32LE(0), h.readUInt32LE(4) * 1000, raw.buf, 0, Math.min(capLen, raw.buf.length));
      } catch (err) {
        // An exception thrown here would reach libpcap's C callback and abort the process: count and go on.
        telemetry.add('packet_errors');
        if (this.packetErrors++ === 0) log.error(`packet handling failed (counted as packet_errors; later ones are not logged): ${describeError(err)}`);
      }
    });

    this.tickTimer = setInterval(() => {
      try {
        carry.release();
        engine.tick(BigInt(Date.now()) * 1_000_000n);
      } catch (err) {
        log.error(`flow tick failed: ${describeError(err)}`);
      }
    }, config.tick_interval_ms);
    this.tickTimer.unref();
    this.statsTimer = setInterval(() => this.readStats(false), config.stats_interval_ms);
    this.statsTimer.unref();
    log.info(`capturing on ${device}`, {
      link_type: session.link_type,
      filter: config.bpf_filter,
      snaplen: config.snaplen,
      promiscuous: config.promiscuous,
      process_attribution: config.process_attribution.enabled,
    });
  }

  /** Reads pcap_stats, exports them as counters/gauges and logs when drops grew. */
  private readStats(final: boolean): void {
    const session = this.session;
    if (!session) return;
    let s: PcapStats;
    try {
      s = session.stats();
    } catch (err) {
      this.settings.logger.warn(`pcap stats unavailable: ${describeError(err)}`);
      return;
    }
    const t = this.settings.telemetry;
    const prev = this.lastStats;
    // libpcap counters are 32-bit and may wrap; a negative delta is a wrap, counted as the new value.
    const delta = (a: number, b: number): number => (a >= b ? a - b : a);
    const dRecv = delta(s.ps_recv, prev.ps_recv);
    const dDrop = delta(s.ps_drop, prev.ps_drop);
    const dIfDrop = delta(s.ps_ifdrop, prev.ps_ifdrop);
    if (dRecv) t.add('pcap_packets_received', dRecv);
    if (dDrop) t.add('pcap_packets_dropped', dDrop, { by: 'kernel' });
    if (dIfDrop) t.add('pcap_packets_dropped', dIfDrop, { by: 'interface' });
    t.gauge('pcap_ps_recv', s.ps_recv);
    t.gauge('pcap_ps_drop', s.ps_drop);
    t.gauge('pcap_ps_ifdrop', s.ps_ifdrop);
    this.lastStats = s;
    const now = Date.now();
    if ((dDrop || dIfDrop) && (final || now - this.lastDropLogAt >= 10_000)) {
      this.lastDropLogAt = now;
      this.settings.logger.warn(`capture drops grew on ${this.device}: kernel +${dDrop} (total ${s.ps_drop}), interface +${dIfDrop} (total ${s.ps_ifdrop}); raise buffer_size_mb or narrow bpf_filter`, {
        received: s.ps_recv,
      });
    }
  }

  /** Closes the capture and flushes every flow still held; nothing is emitted after it resolves. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearInterval(this.statsTimer);
    const session = this.session;
    this.session = undefined;
    if (session) {
      this.session = session;
      this.readStats(true);
      this.session = undefined;
      try {
        session.close();
      } catch (err) {
        this.settings.logger.warn(`closing the capture: ${describeError(err)}`);
      }
    }
    const engine = this.engine;
    this.engine = undefined;
    if (engine) engine.finish();
    // Lookups still waiting for a background scan are answered (unattributed), then held observations go.
    this.attributor?.close();
    this.late?.flush();
    this.carry?.release(true);
    if (this.attributor && session) {
      const a = this.attributor.stats();
      this.settings.logger.info('capture stopped', { process_hits: a.hit, process_late_hits: a.late, process_misses: a.miss, miss_closed: a.missClosed, miss_no_socket: a.missNoSocket, miss_no_owner: a.missNoOwner, dns_followup: this.carry?.followups ?? 0, not_local: a.notLocal, kernel_drops: this.lastStats.ps_drop, interface_drops: this.lastStats.ps_ifdrop });
    }
  }
}
