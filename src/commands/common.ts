/** Shared CLI plumbing: exit codes, loggers, running a Service with signal handling. */
import type { LoadedConfig } from '../config/load.js';
import type { Service } from '../pipeline/service.js';
import type { RunResult } from '../pipeline/service.js';
import type { LogLevel, Logger } from '../util/logger.js';
import { createLogger } from '../util/logger.js';
import { describeError } from '../util/errors.js';

/** Documented exit codes (docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** scan --fail-on-detection / ci --enforce made a detection. */
  DETECTION: 1,
  /** Bad config, bad input, a component that could not start. */
  BAD_INPUT: 2,
  /** ci --enforce: the command succeeded but paste egress was detected. */
  CI_ENFORCED: 3,
  /** A second signal forced the exit before the pipelines drained. */
  FORCED: 130,
} as const;

/** Global options every command accepts. */
export interface GlobalOptions {
  logLevel?: LogLevel;
  logFormat?: 'text' | 'json';
}

/** The logger for a command: flags win over the config's service.telemetry.logs. */
export function commandLogger(opts: GlobalOptions, cfg?: LoadedConfig): Logger {
  return createLogger({
    level: opts.logLevel ?? cfg?.service.telemetry.logs.level ?? 'info',
    format: opts.logFormat ?? cfg?.service.telemetry.logs.format ?? 'text',
  });
}

/**
 * Starts a Service, waits until its input ends or SIGINT/SIGTERM arrives, then drains. A second signal
 * forces the exit after saying what was abandoned.
 */
export async function runService(service: Service, logger: Logger, hooks: { onStarted?: () => void } = {}): Promise<RunResult> {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.info(`${sig} received: stopping receivers and draining (send it again to force exit)`);
      void service.shutdown(sig);
      return;
    }
    const queued = service.registry.samples().filter((s) => s.type === 'gauge' && /queue/.test(s.name) && s.value > 0);
    logger.error(`${sig} received again: forcing exit before the pipelines drained` + (queued.length ? `; still queued: ${queued.map((q) => `${q.component} ${q.name}=${q.value}`).join(', ')} (a file-backed queue keeps them for the next start)` : ''));
    process.exit(EXIT.FORCED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await service.start();
    hooks.onStarted?.();
    return await service.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints an error for humans (no stack unless debug) and returns the exit code for it. */
export function reportError(logger: Logger, err: unknown): number {
  logger.error(describeError(err));
  if (logger.isLevelEnabled('debug') && err instanceof Error && err.stack) logger.debug(err.stack);
  return EXIT.BAD_INPUT;
}
