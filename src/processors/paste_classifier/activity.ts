/** What the workload did with the service: upload, download, lookup or connect, from method and byte counts. */
import type { Activity } from '../../model/detection.js';
import type { Observation } from '../../model/observation.js';

/** Byte-count thresholds of the activity decision (config upload_ratio ... download_min_bytes). */
export interface ActivityThresholds {
  uploadRatio: number;
  uploadMinBytes: number;
  downloadRatio: number;
  downloadMinBytes: number;
}

/** The defaults: 2x and 4 KiB either way. */
export const DEFAULT_THRESHOLDS: ActivityThresholds = { uploadRatio: 2, uploadMinBytes: 4096, downloadRatio: 2, downloadMinBytes: 4096 };

const UPLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const FETCH_METHODS = new Set(['GET', 'HEAD']);

/** Strength order used when merging: upload > download > connect > lookup. */
export const ACTIVITY_RANK: Readonly<Record<Activity, number>> = { lookup: 0, connect: 1, download: 2, upload: 3 };

/**
 * lookup for a DNS observation; otherwise upload (POST/PUT/PATCH, or sent >= ratio x received and >= min),
 * download (received >= ratio x sent and >= min, or GET/HEAD), else connect.
 */
export function classifyActivity(obs: Observation, th: ActivityThresholds = DEFAULT_THRESHOLDS): Activity {
  if (obs.kind === 'dns') return 'lookup';
  const method = obs.http?.method?.toUpperCase();
  if (method && UPLOAD_METHODS.has(method)) return 'upload';
  const f = obs.flow;
  if (f) {
    if (f.bytesSent >= th.uploadRatio * f.bytesReceived && f.bytesSent >= th.uploadMinBytes) return 'upload';
    if (f.bytesReceived >= th.downloadRatio * f.bytesSent && f.bytesReceived >= th.downloadMinBytes) return 'download';
  }
  if (method && FETCH_METHODS.has(method)) return 'download';
  return 'connect';
}
