/**
 * Streaming readers for classic pcap and pcapng captures. The file is read in large chunks into two
 * reusable Buffers (one parsed while the next chunk is read into the other); each record is handed to a
 * callback as a view into a Buffer (no copy), and the partial record at the end of a chunk is carried over
 * in front of the next chunk. Damage stops the read with an
 * error naming the input and byte offset, after everything before it has been delivered.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { PastewatchError } from '../util/errors.js';

/**
 * Receives one packet record. `data` is the read buffer: the record occupies
 * data[offset, offset + capLen) and is only valid during the call (the buffer is reused).
 */
export type CaptureRecordHandler = (linkType: number, tsSec: number, tsNsec: number, data: Buffer, offset: number, capLen: number) => void;

/** Classic pcap magic numbers (as read big-endian from the first four bytes). */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Classic pcap with nanosecond timestamps. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** pcapng Section Header Block type (palindromic, so byte-order independent). */
export const PCAPNG_SHB = 0x0a0d0d0a;

/** Largest captured length we accept for one packet (Wireshark's standard maximum). */
export const MAX_CAPLEN = 262144;
/** Largest non-packet pcapng block we hold in memory (SHB / IDB with options). */
const MAX_HEADER_BLOCK = 256 * 1024;
/** Largest skipped block (NRB, ISB, DSB, custom); bigger lengths are treated as damage. */
const MAX_SKIP_BLOCK = 1 << 30;

/** Room in front of each read for the partial record carried over from the previous chunk. */
const TAIL_RESERVE = 1024 * 1024;

/** Default size of the reusable read buffer. */
export const DEFAULT_READ_BUFFER = 8 * 1024 * 1024;

/** Options for {@link readCapture}. */
export interface CaptureReadOptions {
  /** Size of the reusable read buffer (default 8 MiB; at least 512 KiB so a maximal record fits). */
  bufferSize?: number;
  /** Name used in messages (defaults to the path, or `<stdin>` for a stream). */
  name?: string;
  /** Checked after every chunk: true stops the read cleanly after the current chunk. */
  shouldStop?: () => boolean;
  /** Called after every chunk with the input bytes read so far and the total (undefined for streams). */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  /** Called after every chunk has been parsed (the receiver flushes counters and ticks the engine here). */
  onChunk?: () => void;
}

/** What a read delivered and where it stopped. */
export interface CaptureReadResult {
  /** The input name used in messages. */
  name: string;
  format: 'pcap' | 'pcapng';
  /** Packet records delivered to the handler. */
  records: number;
  /** Sum of delivered captured lengths. */
  packetBytes: number;
  /** Input bytes consumed (the offset of the first byte not processed). */
  offset: number;
  /** Input size when known (files). */
  totalBytes?: number;
  /** How the read ended: the end of the input, shouldStop(), or damage (see error). */
  end: 'eof' | 'stopped' | 'damaged';
  /** The damage that stopped the read (INPUT_CORRUPT naming the input and byte offset). */
  error?: PastewatchError;
  /** Records passed over without delivery, by reason (unknown_interface, truncated, corrupt). */
  skipped: Record<string, number>;
  /** pcapng sections seen (1 for classic pcap). */
  sections: number;
}

/** Pulls bytes into a buffer; 0 means end of input. */
interface ByteSource {
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
  total?: number;
}

async function fileSource(path: string): Promise<ByteSource> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PastewatchError('INPUT_NOT_FOUND', `${path}: no such file`, { cause: err });
    if (code === 'EISDIR') throw new PastewatchError('INPUT_NOT_FOUND', `${path}: is a directory, not a capture file`, { cause: err });
    throw new PastewatchError('INPUT_NOT_FOUND', `${path}: cannot open (${code ?? String(err)})`, { cause: err });
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new PastewatchError('INPUT_NOT_FOUND', `${path}: is a directory, not a capture file`);
  }
  return {
    total: st.isFile() ? st.size : undefined,
    read: async (buf, offset, length) => (await fh.read(buf, offset, length, null)).bytesRead,
    close: () => fh.close(),
  };
}

function streamSource(stream: Readable): ByteSource {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let pending: Buffer | undefined;
  let pendingOff = 0;
  let done = false;
  return {
    async read(buf, offset, length) {
      // Fill as much as available from the stream, waiting for at least one chunk.
      let n = 0;
      while (n < length && !done) {
        if (!pending || pendingOff >= pending.length) {
          if (n > 0 && stream.readableLength === 0) break;
          const r = await it.next();
          if (r.done) {
            done = true;
            break;
          }
          pending = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
          pendingOff = 0;
        }
        const take = Math.min(length - n, pending.length - pendingOff);
        pending.copy(buf, offset + n, pendingOff, pendingOff + take);
        pendingOff += take;
        n += take;
      }
      return n;
    },
    async close() {
      if (!done) await it.return?.();
    },
  };
}

/** Per-interface state of a pcapng section. */
interface Iface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  /** Multiply remainder units by this to get ns (decimal resolutions <= 1e9), or 0 for the generic path. */
  nsPerUnit: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  tsOffset: number;
  // Cache of the split of (hi << 32) into seconds + remainder units, reused while hi does not change.
  lastHi: number;
  baseSec: number;
  baseRem: number;
}

function corrupt(name: string, offset: number, what: string): PastewatchError {
  return new PastewatchError('INPUT_CORRUPT', `${name}: ${what} at byte offset ${offset}`);
}

/**
 * Incremental parser: parse(buf, start, end, base) walks complete records in buf[start, end) and returns
 * the position of the first byte it could not (yet) process. `base` is the input offset of buf[0].
 */
class CaptureParser {
  format: 'pcap' | 'pcapng' | undefined;
  records = 0;
  packetBytes = 0;
  sections = 0;
  skipped: Record<string, number> = {};
  error: PastewatchError | undefined;
  /** Bytes of a skipped block still to pass over (it spans reads). */
  private skipRemaining = 0;
  // classic pcap
  private le = true;
  private nanos = false;
  private linkType = 0;
  private snaplen = 0;
  // pcapng
  private ifaces: Iface[] = [];

  constructor(
    private readonly name: string,
    private readonly onRecord: CaptureRecordHandler,
  ) {}

  /** Reads the file header (classic) or first SHB; returns the bytes consumed, 0 when more is needed. */
  private header(buf: Buffer, start: number, end: number, base: number): number {
    if (end - start < 4) return 0;
    const magicBE = buf.readUInt32BE(start);
    const magicLE = buf.readUInt32LE(start);
    if (magicBE === PCAPNG_SHB) {
      this.format = 'pcapng';
      return -1; // handled by the pcapng block loop
    }
    if (magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS) this.le = false;
    else if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS) this.le = true;
    else {
      throw new PastewatchError(
        'INPUT_CORRUPT',
        `${this.name}: not a pcap or pcapng file (magic 0x${magicBE.toString(16).padStart(8, '0')})`,
      );
    }
    if (end - start < 24) return 0;
    this.format = 'pcap';
    this.sections = 1;
    const magic = this.le ? magicLE : magicBE;
    this.nanos = magic === PCAP_MAGIC_NS;
    this.snaplen = this.le ? buf.readUInt32LE(start + 16) : buf.readUInt32BE(start + 16);
    // The upper bits of the link-type field carry FCS information; the link type is the low 16 bits.
    this.linkType = (this.le ? buf.readUInt32LE(start + 20) : buf.readUInt32BE(start + 20)) & 0xffff;
    void base;
    return 24;
  }

  parse(buf: Buffer, start: number, end: number, base: number): number {
    let pos = start;
    if (this.format === undefined) {
      const n = this.header(buf, pos, end, base);
      if (n === 0) return pos;
      if (n > 0) pos += n;
    }
    return this.format === 'pcap' ? this.parsePcap(buf, pos, end, base) : this.parsePcapng(buf, pos, end, base);
  }

  private parsePcap(buf: Buffer, start: number, end: number, base: number): number {
    let pos = start;
    const le = this.le;
    const onRecord = this.onRecord;
    const linkType = this.linkType;
    const nsMul = this.nanos ? 1 : 1000;
    const bound = this.snaplen > 0 && this.snaplen < MAX_CAPLEN ? this.snaplen : MAX_CAPLEN;
    let records = 0;
    let bytes = 0;
    while (end - pos >= 16) {
      const tsSec = le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
      const tsFrac = le ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      const capLen = le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
      if (capLen > bound) {
        this.error = corrupt(this.name, base + pos, `record captured length ${capLen} exceeds ${bound === this.snaplen ? `the snapshot length ${bound}` : `${MAX_CAPLEN} bytes`}`);
        break;
      }
      if (tsFrac >= 1_000_000_000 || (nsMul === 1000 && tsFrac >= 1_000_000)) {
        this.error = corrupt(this.name, base + pos, `record timestamp fraction ${tsFrac} out of range`);
        break;
      }
      if (end - pos - 16 < capLen) break;
      onRecord(linkType, tsSec, tsFrac * nsMul, buf, pos + 16, capLen);
      records++;
      bytes += capLen;
      pos += 16 + capLen;
    }
    this.records += records;
    this.packetBytes += bytes;
    return pos;
  }

  private parsePcapng(buf: Buffer, start: number, end: number, base: number): number {
    let pos = start;
    if (this.skipRemaining > 0) {
      const take = Math.min(this.skipRemaining, end - pos);
      this.skipRemaining -= take;
      pos += take;
      if (this.skipRemaining > 0) return pos;
    }
    const onRecord = this.onRecord;
    while (end - pos >= 12) {
      let type = this.le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
      if (type === PCAPNG_SHB) {
        // The byte-order magic decides how this section (including its own length) is read.
        const bom = buf.readUInt32LE(pos + 8);
        if (bom === 0x1a2b3c4d) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else {
          this.error = corrupt(this.name, base + pos, `pcapng section header with bad byte-order magic 0x${buf.readUInt32BE(pos + 8).toString(16)}`);
          break;
        }
        type = PCAPNG_SHB;
      }
      const le = this.le;
      const blockLen = le ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      if (blockLen < 12 || blockLen % 4 !== 0) {
        this.error = corrupt(this.name, base + pos, `pcapng block length ${blockLen} is ${blockLen < 12 ? 'too small' : 'not a multiple of 4'}`);
        break;
      }
      const isPacket = type === 6 || type === 3 || type === 2;
      if (isPacket || type === PCAPNG_SHB || type === 1) {
        if (blockLen > (isPacket ? MAX_CAPLEN + 65536 : MAX_HEADER_BLOCK)) {
          this.error = corrupt(this.name, base + pos, `pcapng block length ${blockLen} is too large`);
          break;
        }
        if (end - pos < blockLen) break;
        const trailer = le ? buf.readUInt32LE(pos + blockLen - 4) : buf.readUInt32BE(pos + blockLen - 4);
        if (trailer !== blockLen) {
          this.error = corrupt(this.name, base + pos, `pcapng block length ${blockLen} does not match its trailing copy ${trailer}`);
          break;
        }
        if (type === 6 || type === 2) {
          // Enhanced Packet Block; the obsolete Packet Block (2) has the same layout with a 16-bit interface id.
          if (blockLen < 32) {
            this.error = corrupt(this.name, base + pos, `pcapng ${type === 6 ? 'enhanced ' : ''}packet block length ${blockLen} is too small`);
            break;
          }
          const ifId = type === 6 ? (le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8)) : le ? buf.readUInt16LE(pos + 8) : buf.readUInt16BE(pos + 8);
          const hi = le ? buf.readUInt32LE(pos + 12) : buf.readUInt32BE(pos + 12);
          const lo = le ? buf.readUInt32LE(pos + 16) : buf.readUInt32BE(pos + 16);
          const capLen = le ? buf.readUInt32LE(pos + 20) : buf.readUInt32BE(pos + 20);
          if (capLen > blockLen - 32 || capLen > MAX_CAPLEN) {
            this.error = corrupt(this.name, base + pos, `pcapng packet captured length ${capLen} exceeds its block (${blockLen} bytes)`);
            break;
          }
          const iface = this.ifaces[ifId];
          if (iface === undefined) this.skip('unknown_interface');
          else this.deliverTs(iface, hi, lo, buf, pos + 28, capLen, onRecord);
        } else if (type === 3) {
          if (blockLen < 16) {
            this.error = corrupt(this.name, base + pos, `pcapng simple packet block length ${blockLen} is too small`);
            break;
          }
          const iface = this.ifaces[0];
          if (iface === undefined) this.skip('unknown_interface');
          else {
            const origLen = le ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
            // A simple packet block has no captured length: it is the original length bounded by the snaplen and the block.
            let capLen = Math.min(origLen, blockLen - 16);
            if (iface.snaplen > 0) capLen = Math.min(capLen, iface.snaplen);
            // No timestamp in an SPB: report 0 (the engine sees capture time as unknown).
            onRecord(iface.linkType, 0, 0, buf, pos + 12, capLen);
            this.records++;
            this.packetBytes += capLen;
          }
        } else if (type === PCAPNG_SHB) {
          if (blockLen < 28) {
            this.error = corrupt(this.name, base + pos, `pcapng section header length ${blockLen} is too small`);
            break;
          }
          const major = le ? buf.readUInt16LE(pos + 12) : buf.readUInt16BE(pos + 12);
          if (major !== 1) {
            this.error = corrupt(this.name, base + pos, `pcapng section version ${major} is not supported`);
            break;
          }
          this.sections++;
          this.ifaces = [];
        } else {
          const err = this.parseIdb(buf, pos, blockLen, base);
          if (err) {
            this.error = err;
            break;
          }
        }
        pos += blockLen;
      } else {
        // Name resolution, statistics, decryption secrets, custom ...: passed over by length.
        if (blockLen > MAX_SKIP_BLOCK) {
          this.error = corrupt(this.name, base + pos, `pcapng block length ${blockLen} is too large`);
          break;
        }
        const avail = end - pos;
        if (avail < blockLen) {
          this.skipRemaining = blockLen - avail;
          return end;
        }
        pos += blockLen;
      }
    }
    return pos;
  }

  private skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  private parseIdb(buf: Buffer, pos: number, blockLen: number, base: number): PastewatchError | undefined {
    if (blockLen < 20) return corrupt(this.name, base + pos, `pcapng interface description length ${blockLen} is too small`);
    const le = this.le;
    const iface: Iface = {
      linkType: le ? buf.readUInt16LE(pos + 8) : buf.readUInt16BE(pos + 8),
      snaplen: le ? buf.readUInt32LE(pos + 12) : buf.readUInt32BE(pos + 12),
      unitsPerSec: 1e6,
      nsPerUnit: 1000,
      tsOffset: 0,
      lastHi: -1,
      baseSec: 0,
      baseRem: 0,
    };
    // Options: code(2) length(2) value padded to 4, ending with opt_endofopt or the block end.
    let o = pos + 16;
    const optEnd = pos + blockLen - 4;
    while (o + 4 <= optEnd) {
      const code = le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
      const len = le ? buf.readUInt16LE(o + 2) : buf.readUInt16BE(o + 2);
      if (code === 0) break;
      if (o + 4 + len > optEnd) return corrupt(this.name, base + o, `pcapng interface option ${code} overruns its block`);
      if (code === 9 && len >= 1) {
        const v = buf[o + 4];
        const exp = v & 0x7f;
        if (v & 0x80) {
          if (exp > 62) return corrupt(this.name, base + o, `pcapng if_tsresol 2^-${exp} is out of range`);
          iface.unitsPerSec = 2 ** exp;
          iface.nsPerUnit = 0;
        } else {
          if (exp > 15) return corrupt(this.name, base + o, `pcapng if_tsresol 10^-${exp} is out of range`);
          iface.unitsPerSec = 10 ** exp;
          iface.nsPerUnit = exp <= 9 ? 10 ** (9 - exp) : 0;
        }
      } else if (code === 14 && len >= 8) {
        const big = le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4);
        iface.tsOffset = Number(big);
      }
      o += 4 + ((len + 3) & ~3);
    }
    this.ifaces.push(iface);
    return undefined;
  }

  /** Splits a 64-bit pcapng timestamp (hi, lo units) into seconds and nanoseconds, exactly, and delivers. */
  private deliverTs(iface: Iface, hi: number, lo: number, buf: Buffer, off: number, capLen: number, onRecord: CaptureRecordHandler): void {
    const ups = iface.unitsPerSec;
    if (hi !== iface.lastHi) {
      // hi * 2^32 can exceed 2^53: split it once with BigInt and reuse while hi stays the same.
      const u = BigInt(ups);
      const h = BigInt(hi) << 32n;
      iface.baseSec = Number(h / u);
      iface.baseRem = Number(h % u);
      iface.lastHi = hi;
    }
    // baseRem < ups and lo < 2^32, so the sum is exact in a double for resolutions up to 2^52.
    const x = iface.baseRem + lo;
    const carry = Math.floor(x / ups);
    const rem = x - carry * ups;
    const nsec = iface.nsPerUnit > 0 ? rem * iface.nsPerUnit : Math.floor((rem * 1e9) / ups);
    onRecord(iface.linkType, iface.baseSec + carry + iface.tsOffset, nsec, buf, off, capLen);
    this.records++;
    this.packetBytes += capLen;
  }

  /** At end of input: whatever is left is a truncated record or block. */
  finishAt(leftover: number, offset: number): void {
    if (this.error || leftover === 0) return;
    if (this.format === undefined) {
      this.error = corrupt(this.name, offset, `truncated file header (${leftover} bytes)`);
      return;
    }
    if (this.skipRemaining > 0) {
      this.error = corrupt(this.name, offset, `truncated pcapng block (${this.skipRemaining} bytes missing)`);
      return;
    }
    this.skip('truncated');
    this.error = corrupt(this.name, offset, `truncated last ${this.format === 'pcap' ? 'record' : 'block'} (${leftover} of its bytes present)`);
  }
}

/**
 * Reads a classic pcap or pcapng capture from a file path, or from a Readable (stdin), handing every
 * packet record to `onRecord`. Rejects with INPUT_NOT_FOUND when the file cannot be opened and with
 * INPUT_CORRUPT when it is not a capture at all; damage later in the input resolves with end 'damaged'
 * and the error, after every record before the damage was delivered.
 */
export async function readCapture(input: string | Readable, onRecord: CaptureRecordHandler, opts: CaptureReadOptions = {}): Promise<CaptureReadResult> {
  const name = opts.name ?? (typeof input === 'string' ? input : '<stdin>');
  const size = Math.max(opts.bufferSize ?? DEFAULT_READ_BUFFER, 512 * 1024);
  const src = typeof input === 'string' ? await fileSource(input) : streamSource(input);
  const parser = new CaptureParser(name, onRecord);
  // Double buffering: while one buffer is parsed, the next chunk is read into the other, behind a reserve
  // where the partial record at the end of the current chunk is then copied. The event loop no longer sits
  // idle while the thread pool reads, and records stay views (no copy but the short tail).
  const bufs = [Buffer.allocUnsafe(TAIL_RESERVE + size), Buffer.allocUnsafe(TAIL_RESERVE + size)];
  let cur = 0;
  let start = TAIL_RESERVE; // first unparsed byte of bufs[cur]
  let fill = TAIL_RESERVE; // end of valid bytes in bufs[cur]
  let base = 0; // input offset of bufs[cur][start]
  let bytesRead = 0;
  let end: CaptureReadResult['end'] = 'eof';
  let pending: Promise<number> | undefined = src.read(bufs[0], TAIL_RESERVE, size);
  try {
    while (true) {
      const buf = bufs[cur];
      const n = pending ? await pending : 0;
      pending = undefined;
      bytesRead += n;
      fill += n;
      const other = bufs[cur ^ 1];
      if (n > 0 && !opts.shouldStop?.()) pending = src.read(other, TAIL_RESERVE, size);
      const consumed = parser.parse(buf, start, fill, base - start);
      opts.onChunk?.();
      opts.onProgress?.(bytesRead, src.total);
      base += consumed - start;
      if (parser.error) {
        end = 'damaged';
        break;
      }
      const tail = fill - consumed;
      if (n === 0) {
        parser.finishAt(tail, base);
        if (parser.error) end = 'damaged';
        break;
      }
      if (opts.shouldStop?.()) {
        end = 'stopped';
        break;
      }
      if (tail > TAIL_RESERVE) {
        // Cannot happen with the length bounds above (records and kept blocks are far smaller); guards a spin.
        parser.error = corrupt(name, base, `record larger than the ${TAIL_RESERVE}-byte carry-over`);
        end = 'damaged';
        break;
      }
      // Carry the partial tail record in front of the chunk being read into the other buffer.
      buf.copy(other, TAIL_RESERVE - tail, consumed, fill);
      start = TAIL_RESERVE - tail;
      fill = TAIL_RESERVE;
      cur ^= 1;
    }
  } finally {
    // A read still in flight (after damage or a stop) must finish before the handle closes.
    await pending?.catch(() => 0);
    await src.close();
  }
  if (parser.format === undefined) {
    // Only reachable for an empty input (a short header is reported by finishAt).
    throw parser.error ?? new PastewatchError('INPUT_CORRUPT', `${name}: empty file, not a pcap or pcapng capture`);
  }
  if (parser.records === 0 && parser.error && base === 0) throw parser.error;
  return {
    name,
    format: parser.format,
    records: parser.records,
    packetBytes: parser.packetBytes,
    offset: base,
    totalBytes: src.total,
    end,
    error: parser.error,
    skipped: parser.skipped,
    sections: parser.sections,
  };
}

/** Reads the first four bytes of a file and says whether they are a pcap or pcapng magic (for early checks). */
export function captureFormatOf(head: Buffer): 'pcap' | 'pcapng' | undefined {
  if (head.length < 4) return undefined;
  const be = head.readUInt32BE(0);
  const le = head.readUInt32LE(0);
  if (be === PCAPNG_SHB) return 'pcapng';
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return 'pcap';
  return undefined;
}
