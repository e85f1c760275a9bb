/** `pastewatch run`: loads otel-config.yaml and runs its pipelines until the input ends or a signal. */
import { FACTORIES } from '../components.js';
import { loadConfigFile } from '../config/load.js';
import { Service } from '../pipeline/service.js';
import { ConfigError } from '../config/load.js';
import { describeError } from '../util/errors.js';
import type { GlobalOptions } from './common.js';
import { EXIT, commandLogger, reportError, runService } from './common.js';

/** Runs the pipelines of a config file; returns the exit code. */
export async function runCommand(configPath: string, opts: GlobalOptions, env: Record<string, string | undefined>): Promise<number> {
  let cfg;
  try {
    cfg = loadConfigFile(configPath, { env, factories: FACTORIES });
  } catch (err) {
    const logger = commandLogger(opts);
    if (err instanceof ConfigError) {
      logger.error(`${configPath}: the config has ${err.problems.length} problem(s); run \`pastewatch validate --config ${configPath}\` for the list`);
      process.stderr.write(err.message + '\n');
      return EXIT.BAD_INPUT;
    }
    return reportError(logger, err);
  }
  const logger = commandLogger(opts, cfg);
  let service: Service;
  try {
    service = new Service(cfg, { logger, env });
  } catch (err) {
    return reportError(logger, err);
  }
  try {
    const result = await runService(service, logger);
    for (const e of result.receiverErrors) logger.error(`input of ${e.id} failed: ${describeError(e.error)}`);
    return result.receiverErrors.length ? EXIT.BAD_INPUT : EXIT.OK;
  } catch (err) {
    return reportError(logger, err);
  }
}
