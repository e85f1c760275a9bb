/** Factory of the `hubble_file` receiver. */
import type { ConfigProblem, ReceiverFactory } from '../../component/types.js';
import { hubbleFileConfigSchema } from './config.js';
import type { HubbleFileConfig } from './config.js';
import { HubbleFileReceiver } from './receiver.js';

/** Makes hubble_file receivers (jsonpb flow lines from a file or stdin). */
export const hubbleFileFactory: ReceiverFactory<HubbleFileConfig> = {
  type: 'hubble_file',
  kind: 'receiver',
  description: 'Reads Hubble jsonpb flow lines (hubble observe -o jsonpb, the agent flow-log export) from a file, tailed across rotation, or stdin.',
  schema: hubbleFileConfigSchema,
  validate(config: HubbleFileConfig): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    if (config.path === '-' && config.start_at === 'end') problems.push({ path: ['start_at'], message: 'start_at "end" cannot apply to stdin (path "-")' });
    return problems;
  },
  create: (settings, config) => new HubbleFileReceiver(settings, config),
};
