/** Factory of the live `pcap` receiver. */
import type { ConfigProblem, ReceiverFactory } from '../../component/types.js';
import { pcapSchema } from './config.js';
import type { PcapConfig } from './config.js';
import { PcapReceiver } from './receiver.js';

function validate(c: PcapConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (/\s/.test(c.interface)) problems.push({ path: ['interface'], message: 'must be "auto", "any" or an interface name (no spaces)' });
  if (c.interface.length > 15 && c.interface !== 'auto') problems.push({ path: ['interface'], message: 'Linux interface names are at most 15 characters' });
  return problems;
}

/** Makes live `pcap` receivers. */
export const pcapFactory: ReceiverFactory<PcapConfig> = {
  type: 'pcap',
  kind: 'receiver',
  description: 'Captures live traffic with libpcap (DNS, TLS SNI, HTTP Host/CONNECT, QUIC, flows) and attributes each new flow to its process.',
  schema: pcapSchema,
  validate,
  create: (settings, config) => new PcapReceiver(settings, config),
};
