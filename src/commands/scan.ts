/**
 * `pastewatch scan CAPTURE...`: a ready pipeline (pcap_file -> dns_correlation -> enrich -> paste_classifier
 * -> dedup -> jsonl or table) over capture files. --observations prints every observation instead.
 */
import { FACTORIES } from '../components.js';
import { ConfigError, loadConfigFile, resolveConfig } from '../config/load.js';
import { formatProblem } from '../config/problems.js';
import type { LoadedConfig } from '../config/load.js';
import { Service } from '../pipeline/service.js';
import { formatProgress } from '../report/progress.js';
import { describeError } from '../util/errors.js';
import type { GlobalOptions } from './common.js';
import { EXIT, commandLogger, reportError, runService } from './common.js';

/** Options of `scan`. */
export interface ScanOptions extends GlobalOptions {
  format?: 'jsonl' | 'table';
  observations?: boolean;
  failOnDetection?: boolean;
  config?: string;
}

/** The processors a scan runs, in order (observations mode stops before classification). */
export const SCAN_PROCESSORS = ['dns_correlation', 'enrich', 'paste_classifier', 'dedup'] as const;

/** Builds the scan's config object: settings of matching types from --config are laid over the defaults. */
export function buildScanConfig(captures: string[], opts: ScanOptions, base?: LoadedConfig): Record<string, unknown> {
  const fromBase = (section: 'receivers' | 'processors' | 'exporters', type: string): Record<string, unknown> => {
    const entries = base ? [...base[section].values()] : [];
    return (entries.find((e) => e.type === type)?.config as Record<string, unknown> | undefined) ?? {};
  };
  const receivers: Record<string, unknown> = {};
  captures.forEach((path, i) => {
    receivers[captures.length === 1 ? 'pcap_file' : `pcap_file/${i + 1}`] = { ...fromBase('receivers', 'pcap_file'), path };
  });
  const available = new Set(FACTORIES.filter((f) => f.kind === 'processor').map((f) => f.type));
  const processorTypes = SCAN_PROCESSORS.filter((t) => available.has(t) && (!opts.observations || t === 'dns_correlation' || t === 'enrich'));
  const processors: Record<string, unknown> = {};
  for (const t of processorTypes) processors[t] = fromBase('processors', t);
  const format = opts.format ?? (process.stdout.isTTY ? 'table' : 'jsonl');
  const exporters: Record<string, unknown> = { [format]: format === 'jsonl' ? { path: '' } : { output: 'stdout' } };
  return {
    receivers,
    processors,
    exporters,
    service: {
      telemetry: base ? { logs: base.service.telemetry.logs } : {},
      pipelines: { logs: { receivers: Object.keys(receivers), processors: processorTypes, exporters: Object.keys(exporters) } },
    },
  };
}

/** Runs a scan; returns the exit code (0, 1 with --fail-on-detection and a detection, 2 on bad input). */
export async function scanCommand(captures: string[], opts: ScanOptions, env: Record<string, string | undefined>): Promise<number> {
  // A scan prints results; its own progress chatter (pipelines running ...) only with --log-level info/debug.
  let logger = commandLogger({ ...opts, logLevel: opts.logLevel ?? 'warn' });
  let cfg: LoadedConfig;
  try {
    const base = opts.config ? loadConfigFile(opts.config, { env, factories: FACTORIES }) : undefined;
    if (base) logger = commandLogger({ ...opts, logLevel: opts.logLevel ?? 'warn' }, base);
    cfg = resolveConfig(buildScanConfig(captures, opts, base), 'scan', { env, factories: FACTORIES });
  } catch (err) {
    if (err instanceof ConfigError) {
      // The capture arguments become pcap_file receivers: say "x.pcap: no such file", not the config path.
      for (const p of err.problems) {
        const isCapture = p.path[0] === 'receivers' && p.path[p.path.length - 1] === 'path' && err.source === 'scan';
        const where = err.source === 'scan' ? '' : `${err.source}: `;
        process.stderr.write(`pastewatch scan: ${where}${isCapture ? p.message : formatProblem(p)}\n`);
      }
      return EXIT.BAD_INPUT;
    }
    return reportError(logger, err);
  }
  try {
    const service = new Service(cfg, { logger, env });
    // A progress line on a terminal for large files (never in a pipe, never in logs).
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    const ids = [...cfg.receivers.keys()];
    const sum = (name: string): number => ids.reduce((n, id) => n + service.registry.get(id, name), 0);
    const showProgress = (): void => {
      process.stderr.write(`\r${formatProgress(sum('input_bytes_read'), sum('input_bytes_total'), sum('packets'), Date.now() - started)}\x1b[K`);
    };
    const result = await runService(service, logger, {
      onStarted: () => {
        if (process.stderr.isTTY && !opts.observations) timer = setInterval(showProgress, 250);
      },
    }).finally(() => {
      if (timer) {
        clearInterval(timer);
        process.stderr.write('\r\x1b[K');
      }
    });
    for (const e of result.receiverErrors) logger.error(`scan stopped early: ${describeError(e.error)}`);
    const detections = service.registry.get('logs', 'detections');
    logger.debug('scan finished', { detections, observations: service.registry.get('logs', 'observations') });
    if (result.receiverErrors.length) return EXIT.BAD_INPUT;
    return opts.failOnDetection && detections > 0 ? EXIT.DETECTION : EXIT.OK;
  } catch (err) {
    return reportError(logger, err);
  }
}
