/** Settings of the `pcap_file` receiver (reads capture files, or stdin, to their end). */
import { z } from 'zod';
import { ENGINE_SETTINGS } from '../../packet/engine-settings.js';
import { DEFAULT_READ_BUFFER } from '../../capture/reader.js';

/** `pcap_file` receiver settings. */
export const pcapFileSchema = z.strictObject({
  /** A pcap/pcapng file, a pattern with `*` / `?` in the file name (captures/*.pcap), or `-` for stdin. */
  path: z.string().min(1).default('-'),
  /** Size of the reusable read buffer; each read hands this much to the packet engine. */
  read_buffer_bytes: z.number().int().min(512 * 1024).max(256 * 1024 * 1024).default(DEFAULT_READ_BUFFER),
  ...ENGINE_SETTINGS,
});

/** Parsed `pcap_file` receiver settings. */
export type PcapFileConfig = z.infer<typeof pcapFileSchema>;
