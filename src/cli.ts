/**
 * pastewatch's one entry point: `run | validate | scan | ci | components`. main() returns the exit code;
 * errors are printed for humans (no stack traces unless --log-level debug).
 */
import { Command, CommanderError, Option } from 'commander';
import { FACTORIES, checkFactories } from './components.js';
import { VERSION } from './version.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { scanCommand } from './commands/scan.js';
import type { ScanOptions } from './commands/scan.js';
import { ciCommand } from './commands/ci.js';
import type { CiOptions } from './commands/ci.js';
import { EXIT } from './commands/common.js';
import type { GlobalOptions } from './commands/common.js';
import { describeError } from './util/errors.js';

/** Parses argv (without node and script) and runs the command; resolves to the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  checkFactories(FACTORIES);
  let code: number = EXIT.OK;
  const program = new Command();
  program
    .name('pastewatch')
    .description('Detects workload egress to pastebin-like services (plaintext_communication, MITRE ATT&CK T1071.001).')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'log line format on stderr').choices(['text', 'json']))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  // The container image and manifests name their config through PASTEWATCH_CONFIG.
  const defaultConfig = env.PASTEWATCH_CONFIG || 'otel-config.yaml';

  program
    .command('run')
    .description('run the pipelines of a collector-style config until the input ends or SIGINT/SIGTERM')
    .option('-c, --config <file>', 'config file (default: $PASTEWATCH_CONFIG, else otel-config.yaml)', defaultConfig)
    .action(async (o: { config: string }) => {
      code = await runCommand(o.config, globals(), env);
    });

  program
    .command('validate')
    .description('check a config file; prints every problem with its key path and line (exit 2) or exits 0')
    .option('-c, --config <file>', 'config file (default: $PASTEWATCH_CONFIG, else otel-config.yaml)', defaultConfig)
    .action((o: { config: string }) => {
      code = validateCommand(o.config, env);
    });

  program
    .command('scan')
    .description('scan pcap/pcapng captures (or - for stdin) for paste-service traffic')
    .argument('<capture...>', 'capture files, globs, or - for stdin')
    .addOption(new Option('-f, --format <format>', 'output format (default: table on a terminal, jsonl otherwise)').choices(['jsonl', 'table']))
    .option('--observations', 'print every observation (names seen, flows) instead of detections')
    .option('--fail-on-detection', 'exit 1 when something was detected')
    .option('-c, --config <file>', 'take processor and receiver settings from this config file')
    .action(async (captures: string[], o: Omit<ScanOptions, keyof GlobalOptions>) => {
      code = await scanCommand(captures, { ...globals(), ...o }, env);
    });

  program
    .command('ci')
    .description('wrap a CI step: capture while COMMAND runs, then report paste-service egress (exit 3 with --enforce)')
    .usage('[options] -- COMMAND [ARGS...]')
    .argument('<command...>', 'the command to run, after --')
    .option('-c, --config <file>', 'config file (default: the packaged pipelines/ci-gate.yaml)')
    .option('--enforce', `fail the step with exit code ${EXIT.CI_ENFORCED} when paste-service egress is detected`)
    .option('--allow <domain>', 'a domain that never counts (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--report <file>', 'write the JSON report (docs/ci-gate.md) to this file')
    .option('--grace-ms <ms>', 'keep capturing this long after the command exits', (v: string) => Number(v), 1000)
    .action(async (command: string[], o: Omit<CiOptions, keyof GlobalOptions>) => {
      code = await ciCommand(command, { ...globals(), ...o }, env);
    });

  program
    .command('components')
    .description('list the component types this build knows')
    .action(() => {
      for (const kind of ['receiver', 'processor', 'exporter', 'extension'] as const) {
        const list = FACTORIES.filter((f) => f.kind === kind);
        if (!list.length) continue;
        process.stdout.write(`${kind}s:\n`);
        for (const f of list) process.stdout.write(`  ${f.type.padEnd(18)} ${f.description}\n`);
      }
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 1 -> we use 2 for bad input.
      return err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT;
    }
    process.stderr.write(`pastewatch: ${describeError(err)}\n`);
    return EXIT.BAD_INPUT;
  }
  return code;
}
