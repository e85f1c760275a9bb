/**
 * Capture writers (classic pcap and pcapng) for tests, fixture rewriting and the benchmark generator.
 * Output goes through a small internal buffer to a sink (a file descriptor or an in-memory list), so
 * writing a capture of hundreds of megabytes never holds it in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAPNG_SHB } from './reader.js';

/** Where a writer's bytes go. */
export interface ByteSink {
  write(chunk: Buffer): void;
  close(): void;
}

/** A sink writing to a file (created or truncated), synchronously. */
export function fileSink(path: string): ByteSink {
  const fd = openSync(path, 'w');
  return {
    write: (chunk) => {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    },
    close: () => closeSync(fd),
  };
}

/** A sink collecting everything in memory; `buffer()` returns the bytes written so far. */
export function memorySink(): ByteSink & { buffer(): Buffer } {
  const parts: Buffer[] = [];
  return {
    write: (chunk) => parts.push(Buffer.from(chunk)),
    close: () => undefined,
    buffer: () => Buffer.concat(parts),
  };
}

/** Batches small writes into large ones. */
class Batcher {
  private buf: Buffer;
  private used = 0;
  constructor(
    private readonly sink: ByteSink,
    size = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }
  /** Reserves n bytes and returns the buffer and offset to fill them at. */
  reserve(n: number): [Buffer, number] {
    if (this.used + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
    const off = this.used;
    this.used += n;
    return [this.buf, off];
  }
  flush(): void {
    if (this.used > 0) this.sink.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }
  close(): void {
    this.flush();
    this.sink.close();
  }
}

/** Options of a classic pcap writer. */
export interface PcapWriterOptions {
  linkType: number;
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Write big-endian (as a big-endian host would). */
  bigEndian?: boolean;
}

/** Writes a classic pcap file. */
export class PcapWriter {
  private readonly out: Batcher;
  private readonly le: boolean;
  private readonly nanos: boolean;
  /** Packets written. */
  packets = 0;

  /** Creates the writer and writes the file header. */
  constructor(opts: PcapWriterOptions, sink: ByteSink) {
    this.out = new Batcher(sink);
    this.le = !opts.bigEndian;
    this.nanos = opts.nanosecond ?? false;
    const [b, o] = this.out.reserve(24);
    const w32 = (v: number, at: number): number => (this.le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
    const w16 = (v: number, at: number): number => (this.le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
    w32(this.nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US, o);
    w16(2, o + 4);
    w16(4, o + 6);
    w32(0, o + 8);
    w32(0, o + 12);
    w32(opts.snaplen ?? 262144, o + 16);
    w32(opts.linkType, o + 20);
  }

  /** Writes one packet; origLen defaults to the data length. */
  writePacket(tsSec: number, tsNsec: number, data: Uint8Array, origLen = data.length): void {
    const [b, o] = this.out.reserve(16 + data.length);
    const frac = this.nanos ? tsNsec : Math.floor(tsNsec / 1000);
    if (this.le) {
      b.writeUInt32LE(tsSec >>> 0, o);
      b.writeUInt32LE(frac, o + 4);
      b.writeUInt32LE(data.length, o + 8);
      b.writeUInt32LE(origLen, o + 12);
    } else {
      b.writeUInt32BE(tsSec >>> 0, o);
      b.writeUInt32BE(frac, o + 4);
      b.writeUInt32BE(data.length, o + 8);
      b.writeUInt32BE(origLen, o + 12);
    }
    b.set(data, o + 16);
    this.packets++;
  }

  /** Writes raw bytes as they are (tests use it to append damage). */
  writeRaw(bytes: Uint8Array): void {
    const [b, o] = this.out.reserve(bytes.length);
    b.set(bytes, o);
  }

  /** Flushes and closes the sink. */
  close(): void {
    this.out.close();
  }
}

/** A pcapng interface to declare. */
export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol: base 10 or 2, and the negative exponent (default 10^-6). */
  tsresol?: { base: 10 | 2; exp: number };
  /** if_tsoffset, seconds. */
  tsoffset?: number;
  /** if_name. */
  name?: string;
}

/** Writes a pcapng file: sections, interfaces, enhanced/simple packet blocks and arbitrary blocks. */
export class PcapngWriter {
  private readonly out: Batcher;
  private le: boolean;
  private ifaces: Required<Pick<PcapngInterface, 'tsresol'>>[] = [];
  /** Packets written. */
  packets = 0;

  /** Creates the writer and writes the first section header. */
  constructor(opts: { bigEndian?: boolean } , sink: ByteSink) {
    this.out = new Batcher(sink);
    this.le = !opts.bigEndian;
    this.section(opts.bigEndian);
  }

  private w32(b: Buffer, v: number, at: number): void {
    if (this.le) b.writeUInt32LE(v >>> 0, at);
    else b.writeUInt32BE(v >>> 0, at);
  }
  private w16(b: Buffer, v: number, at: number): void {
    if (this.le) b.writeUInt16LE(v, at);
    else b.writeUInt16BE(v, at);
  }

  /** Starts a new section (interfaces of the previous one no longer apply), optionally switching byte order. */
  section(bigEndian = !this.le): void {
    this.le = !bigEndian;
    this.ifaces = [];
    const [b, o] = this.out.reserve(28);
    this.w32(b, PCAPNG_SHB, o);
    this.w32(b, 28, o + 4);
    this.w32(b, 0x1a2b3c4d, o + 8);
    this.w16(b, 1, o + 12);
    this.w16(b, 0, o + 14);
    // Section length unknown: -1.
    b.writeInt32LE(-1, o + 16);
    b.writeInt32LE(-1, o + 20);
    this.w32(b, 28, o + 24);
  }

  /** Declares an interface and returns its id. */
  addInterface(iface: PcapngInterface): number {
    const opts: Buffer[] = [];
    const opt = (code: number, value: Buffer): void => {
      const h = Buffer.alloc(4 + ((value.length + 3) & ~3));
      this.w16(h, code, 0);
      this.w16(h, value.length, 2);
      value.copy(h, 4);
      opts.push(h);
    };
    if (iface.name) opt(2, Buffer.from(iface.name));
    if (iface.tsresol) opt(9, Buffer.from([(iface.tsresol.base === 2 ? 0x80 : 0) | iface.tsresol.exp]));
    if (iface.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(BigInt(iface.tsoffset));
      else v.writeBigInt64BE(BigInt(iface.tsoffset));
      opt(14, v);
    }
    if (opts.length > 0) opts.push(Buffer.alloc(4)); // opt_endofopt
    const body = Buffer.alloc(8);
    this.w16(body, iface.linkType, 0);
    this.w16(body, 0, 2);
    this.w32(body, iface.snaplen ?? 262144, 4);
    this.writeBlock(1, Buffer.concat([body, ...opts]));
    this.ifaces.push({ tsresol: iface.tsresol ?? { base: 10, exp: 6 } });
    return this.ifaces.length - 1;
  }

  /** Writes an Enhanced Packet Block on an interface; origLen defaults to the data length. */
  writePacket(ifId: number, tsSec: number, tsNsec: number, data: Uint8Array, origLen = data.length): void {
    const r = this.ifaces[ifId]?.tsresol ?? { base: 10, exp: 6 };
    let ts: bigint;
    if (r.base === 10) {
      const ns = BigInt(tsSec) * 1_000_000_000n + BigInt(tsNsec);
      ts = r.exp <= 9 ? ns / 10n ** BigInt(9 - r.exp) : ns * 10n ** BigInt(r.exp - 9);
    } else {
      ts = (BigInt(tsSec) << BigInt(r.exp)) + (BigInt(tsNsec) << BigInt(r.exp)) / 1_000_000_000n;
    }
    const padded = (data.length + 3) & ~3;
    const len = 32 + padded;
    const [b, o] = this.out.reserve(len);
    this.w32(b, 6, o);
    this.w32(b, len, o + 4);
    this.w32(b, ifId, o + 8);
    this.w32(b, Number(ts >> 32n), o + 12);
    this.w32(b, Number(ts & 0xffffffffn), o + 16);
    this.w32(b, data.length, o + 20);
    this.w32(b, origLen, o + 24);
    b.set(data, o + 28);
    b.fill(0, o + 28 + data.length, o + 28 + padded);
    this.w32(b, len, o + len - 4);
    this.packets++;
  }

  /** Writes a Simple Packet Block (interface 0, no timestamp). */
  writeSimplePacket(data: Uint8Array, origLen = data.length): void {
    const body = Buffer.alloc(4 + ((data.length + 3) & ~3));
    this.w32(body, origLen, 0);
    body.set(data, 4);
    this.writeBlock(3, body);
    this.packets++;
  }

  /** Writes any block type with the given body (padded to 4 bytes). */
  writeBlock(type: number, body: Uint8Array): void {
    const padded = (body.length + 3) & ~3;
    const len = 12 + padded;
    const [b, o] = this.out.reserve(len);
    this.w32(b, type, o);
    this.w32(b, len, o + 4);
    b.set(body, o + 8);
    b.fill(0, o + 8 + body.length, o + 8 + padded);
    this.w32(b, len, o + len - 4);
  }

  /** Writes raw bytes as they are (tests use it to append damage). */
  writeRaw(bytes: Uint8Array): void {
    const [b, o] = this.out.reserve(bytes.length);
    b.set(bytes, o);
  }

  /** Flushes and closes the sink. */
  close(): void {
    this.out.close();
  }
}
