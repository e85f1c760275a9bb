/** Factory of the `falco` receiver. */
import { unreadableFile as unreadable } from '../../util/files.js';
import type { ConfigProblem, ReceiverFactory } from '../../component/types.js';
import { falcoConfigSchema } from './config.js';
import type { FalcoConfig } from './config.js';
import { FalcoReceiver } from './receiver.js';

/** Makes falco webhook receivers (Falco http_output, falcosidekick webhook). */
export const falcoFactory: ReceiverFactory<FalcoConfig> = {
  type: 'falco',
  kind: 'receiver',
  description: 'Receives Falco alerts over HTTP(S) (Falco http_output, falcosidekick webhook) and turns network ones into observations.',
  schema: falcoConfigSchema,
  validate(config: FalcoConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const { cert_file, key_file, client_ca_file } = config.tls;
    if (cert_file !== '' && key_file === '') problems.push({ path: ['tls', 'key_file'], message: 'key_file is required with cert_file' });
    if (key_file !== '' && cert_file === '') problems.push({ path: ['tls', 'cert_file'], message: 'cert_file is required with key_file' });
    if (client_ca_file !== '' && cert_file === '') problems.push({ path: ['tls', 'client_ca_file'], message: 'client_ca_file (mTLS) needs cert_file and key_file' });
    for (const key of ['cert_file', 'key_file', 'client_ca_file'] as const) {
      const file = config.tls[key];
      const why = file === '' ? undefined : unreadable(file);
      if (why) problems.push({ path: ['tls', key], message: why });
    }
    if (config.auth.bearer_token !== '' && /\s/.test(config.auth.bearer_token)) {
      problems.push({ path: ['auth', 'bearer_token'], message: 'bearer_token must not contain whitespace' });
    }
    return problems;
  },
  create: (settings, config) => new FalcoReceiver(settings, config),
};
