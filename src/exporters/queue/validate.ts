/** Config checks shared by the HTTP exporters: URLs, readable TLS files, queue directory. */
import { unreadableFile } from '../../util/files.js';
import type { ConfigProblem } from '../../component/types.js';
import type { SendingQueueConfig, TlsConfig } from './config.js';

/** Problems of a `tls` section, paths under `tls`. */
export function tlsProblems(tls: TlsConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
    const p = tls[k] ? unreadableFile(tls[k]) : undefined;
    if (p) out.push({ path: ['tls', k], message: p });
  }
  if (Boolean(tls.cert_file) !== Boolean(tls.key_file)) out.push({ path: ['tls', tls.cert_file ? 'key_file' : 'cert_file'], message: 'cert_file and key_file go together (mutual TLS needs both)' });
  return out;
}

/** Problems of a `sending_queue` section. */
export function queueProblems(q: SendingQueueConfig): ConfigProblem[] {
  if (q.enabled && q.storage === 'file' && !q.directory) return [{ path: ['sending_queue', 'directory'], message: 'is required with storage: file' }];
  return [];
}
