/** Factory of the `hubble` receiver. */
import { unreadableFile as unreadable } from '../../util/files.js';
import type { ConfigProblem, ReceiverFactory } from '../../component/types.js';
import { hubbleConfigSchema } from './config.js';
import type { HubbleConfig } from './config.js';
import { lazyReceiver } from '../../component/lazy.js';

/** Makes hubble receivers (Observer GetFlows from hubble-relay or a Cilium agent). */
export const hubbleFactory: ReceiverFactory<HubbleConfig> = {
  type: 'hubble',
  kind: 'receiver',
  description: 'Streams Cilium Hubble flows (Observer GetFlows from hubble-relay or an agent) and turns egress connections, DNS and HTTP records into observations.',
  schema: hubbleConfigSchema,
  validate(config: HubbleConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const tls = config.tls;
    const tlsSet = tls.ca_file !== '' || tls.cert_file !== '' || tls.key_file !== '' || tls.server_name !== '' || tls.insecure_skip_verify;
    if (tlsSet && !tls.enabled) problems.push({ path: ['tls', 'enabled'], message: 'tls settings are given but tls.enabled is false' });
    if (tls.cert_file !== '' && tls.key_file === '') problems.push({ path: ['tls', 'key_file'], message: 'key_file is required with cert_file' });
    if (tls.key_file !== '' && tls.cert_file === '') problems.push({ path: ['tls', 'cert_file'], message: 'cert_file is required with key_file' });
    for (const key of ['ca_file', 'cert_file', 'key_file'] as const) {
      const why = tls[key] === '' ? undefined : unreadable(tls[key]);
      if (why) problems.push({ path: ['tls', key], message: why });
    }
    if (config.reconnect.max_backoff_ms < config.reconnect.initial_backoff_ms) {
      problems.push({ path: ['reconnect', 'max_backoff_ms'], message: `must be >= initial_backoff_ms (${config.reconnect.initial_backoff_ms})` });
    }
    return problems;
  },
  // gRPC loads on start (see component/lazy.ts).
  create: (settings, config) => lazyReceiver(settings, config, async () => {
    const { HubbleReceiver } = await import('./receiver.js');
    return (s, c) => new HubbleReceiver(s, c);
  }),
};
