/** `pastewatch validate`: prints every config problem (exit 2) or confirms the config (exit 0). */
import { FACTORIES } from '../components.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { formatProblem } from '../config/problems.js';
import { describeError } from '../util/errors.js';
import { EXIT } from './common.js';

/** Validates one config file; writes the verdict to stderr/stdout and returns the exit code. */
export function validateCommand(path: string, env: Record<string, string | undefined>, out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): number {
  try {
    const cfg = loadConfigFile(path, { env, factories: FACTORIES });
    out(`${path}: valid (${cfg.pipelines.length} pipeline${cfg.pipelines.length === 1 ? '' : 's'}: ${cfg.pipelines.map((p) => `${p.id} [${p.receivers.join(', ')}] -> [${p.processors.join(', ')}] -> [${p.exporters.join(', ')}]`).join('; ')})\n`);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`${path}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}\n`);
      for (const p of e.problems) err(`  ${formatProblem(p)}\n`);
    } else err(`${describeError(e)}\n`);
    return EXIT.BAD_INPUT;
  }
}
