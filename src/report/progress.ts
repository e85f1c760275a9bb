/** The progress line `pastewatch scan` shows on a terminal while it reads large captures. */

const MB = 1024 * 1024;

/** One line: percent (when the size is known), bytes read, packets, rate. */
export function formatProgress(bytesRead: number, totalBytes: number, packets: number, elapsedMs: number): string {
  const pct = totalBytes > 0 ? `${Math.min(100, Math.floor((100 * bytesRead) / totalBytes))}% ` : '';
  const size = totalBytes > 0 ? `${(bytesRead / MB).toFixed(0)}/${(totalBytes / MB).toFixed(0)} MB` : `${(bytesRead / MB).toFixed(0)} MB`;
  const rate = elapsedMs > 0 ? ` ${Math.round((packets * 1000) / elapsedMs).toLocaleString('en-US')} packets/s` : '';
  return `scanning ${pct}${size}, ${packets.toLocaleString('en-US')} packets${rate}`;
}
