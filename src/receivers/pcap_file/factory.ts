/** Factory of the `pcap_file` receiver. */
import { statSync } from 'node:fs';
import type { ConfigProblem, ReceiverFactory } from '../../component/types.js';
import { describeError } from '../../util/errors.js';
import { pcapFileSchema } from './config.js';
import type { PcapFileConfig } from './config.js';
import { expandPath, globProblem, hasWildcard } from './glob.js';
import { PcapFileReceiver } from './receiver.js';

function validate(c: PcapFileConfig): ConfigProblem[] {
  if (c.path === '-') return [];
  const problem = globProblem(c.path);
  if (problem) return [{ path: ['path'], message: problem }];
  try {
    if (hasWildcard(c.path)) expandPath(c.path);
    else if (!statSync(c.path).isFile()) return [{ path: ['path'], message: `${c.path}: not a regular file` }];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return [{ path: ['path'], message: code === 'ENOENT' ? `${c.path}: no such file` : describeError(err) }];
  }
  return [];
}

/** Makes `pcap_file` receivers. */
export const pcapFileFactory: ReceiverFactory<PcapFileConfig> = {
  type: 'pcap_file',
  kind: 'receiver',
  description: 'Reads pcap/pcapng capture files (or stdin) to their end: DNS, TLS SNI, HTTP Host/CONNECT, QUIC, flows.',
  schema: pcapFileSchema,
  validate,
  create: (settings, config) => new PcapFileReceiver(settings, config),
};
