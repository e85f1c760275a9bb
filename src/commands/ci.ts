/**
 * `pastewatch ci [--config FILE] [--enforce] [--allow DOMAIN]... [--report FILE] -- COMMAND [ARGS...]`:
 * starts the configured receivers (default pipelines/ci-gate.yaml: live capture on the default interface),
 * runs COMMAND with inherited stdio and environment plus a TRACEPARENT that points at the command's own
 * span, forwards signals to it, waits, drains the pipeline, then reports (stderr table, GitHub step
 * summary and annotations, a JSON report). Exit code: the command's, or 3 with --enforce and a detection.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import { FACTORIES } from '../components.js';
import { ConfigError, loadConfigFile, resolveConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import type { ExporterFactory } from '../component/types.js';
import type { Detection, PipelineItem } from '../model/detection.js';
import type { TraceParent } from '../model/observation.js';
import { Service } from '../pipeline/service.js';
import { ciContextFromEnv } from '../ci/context.js';
import { renderDetections } from '../report/table.js';
import { CI_REPORT_SCHEMA, renderGithubAnnotations, renderMarkdownSummary, reportDetection } from '../report/ci-report.js';
import type { CiReport } from '../report/ci-report.js';
import { describeError } from '../util/errors.js';
import type { GlobalOptions } from './common.js';
import { EXIT, commandLogger, reportError } from './common.js';

/** Options of `ci`. */
export interface CiOptions extends GlobalOptions {
  config?: string;
  enforce?: boolean;
  allow?: string[];
  report?: string;
  /** How long to keep capturing after the command exits, for its last packets (ms). */
  graceMs?: number;
}

/** The packaged default config (pipelines/ci-gate.yaml next to the package root). */
export function defaultCiConfigPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'pipelines', 'ci-gate.yaml');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return 'pipelines/ci-gate.yaml';
}

/** An exporter that keeps the run's detections in memory for the report (added to every pipeline). */
function collectorFactory(sink: Detection[]): ExporterFactory<Record<string, never>> {
  return {
    type: 'ci_report',
    kind: 'exporter',
    description: 'internal: collects detections for the CI gate report',
    schema: z.strictObject({}),
    create: () => ({
      async start() {},
      consume(item: PipelineItem) {
        // Detections reach this exporter once per pipeline; keep each detection once.
        if (item.type === 'detection' && !sink.some((d) => d.id === item.id)) sink.push(item);
      },
      async flush() {},
      async shutdown() {},
    }),
  };
}

const hex = (n: number): string => randomBytes(n).toString('hex');

/** The command's span context: a child of the CI context when there is one, else the root of a new trace. */
export function commandSpanContext(parent: TraceParent | undefined): { traceId: string; spanId: string; parentSpanId?: string; traceparent: string } {
  const traceId = parent?.traceId ?? hex(16);
  const spanId = hex(8);
  return { traceId, spanId, parentSpanId: parent?.spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Runs the gate; resolves to pastewatch's exit code. */
export async function ciCommand(command: string[], opts: CiOptions, env: Record<string, string | undefined>): Promise<number> {
  let logger = commandLogger(opts);
  if (command.length === 0) {
    logger.error('ci: no command given; usage: pastewatch ci [options] -- COMMAND [ARGS...]');
    return EXIT.BAD_INPUT;
  }
  const configPath = opts.config ?? defaultCiConfigPath();
  const ci = ciContextFromEnv(env);
  const span = commandSpanContext(ci.traceParent);
  // The pipeline's enrich processor reads TRACEPARENT: detections become children of the command's span.
  const serviceEnv = { ...env, TRACEPARENT: span.traceparent, TRACESTATE: ci.traceParent?.traceState ?? env.TRACESTATE };
  const detections: Detection[] = [];
  let cfg: LoadedConfig;
  try {
    const base = loadConfigFile(configPath, { env: serviceEnv, factories: FACTORIES });
    logger = commandLogger(opts, base);
    cfg = withCollector(base, opts.allow ?? [], serviceEnv, detections);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return EXIT.BAD_INPUT;
    }
    return reportError(logger, err);
  }

  const service = new Service(cfg, { logger, env: serviceEnv });
  const startedAt = Date.now();
  try {
    await service.start();
  } catch (err) {
    logger.error(`ci: capture could not start, so the command was not run: ${describeError(err)}`);
    return EXIT.BAD_INPUT;
  }

  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...env, TRACEPARENT: span.traceparent } });
  const forward = (sig: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of signals) process.on(s, forward);
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  for (const s of signals) process.off(s, forward);
  const endedAt = Date.now();

  // Packets of the command's last connections may still be in the capture buffer.
  await new Promise((r) => setTimeout(r, opts.graceMs ?? 1000));
  const result = await service.shutdown('command exited');
  // The OpenTelemetry serializers are loaded only when there is a span to send.
  if ([...cfg.exporters.values()].some((e) => e.type === 'otlp_http')) await (await import('../exporters/otlp_http/command-span.js')).exportCommandSpan(cfg, serviceEnv, {
    name: `ci ${command.join(' ').slice(0, 80)}`,
    traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId,
    startMs: startedAt, endMs: endedAt, exitCode: outcome.code, signal: outcome.signal,
    attributes: { ...ci.attributes, 'process.command_line': command.join(' '), 'pastewatch.detections': detections.length },
  }, logger);

  const problems = result.receiverErrors.map((e) => `${e.id}: ${describeError(e.error)}`);
  let exitCode: number;
  if (outcome.spawnError) {
    logger.error(`ci: could not run ${command[0]}: ${describeError(outcome.spawnError)}`);
    exitCode = 127;
  } else if (outcome.signal) {
    logger.warn(`ci: the command was killed by ${outcome.signal}`);
    exitCode = 128 + (osConstants.signals[outcome.signal] ?? 0);
  } else exitCode = outcome.code ?? 1;
  const enforced = !!opts.enforce && detections.length > 0;
  if (enforced) exitCode = EXIT.CI_ENFORCED;

  const report: CiReport = {
    schema: CI_REPORT_SCHEMA,
    command,
    started_at: new Date(startedAt).toISOString(),
    ended_at: new Date(endedAt).toISOString(),
    duration_ms: endedAt - startedAt,
    command_exit_code: outcome.signal || outcome.spawnError ? null : outcome.code,
    command_signal: outcome.signal,
    exit_code: exitCode,
    enforce: !!opts.enforce,
    outcome: detections.length === 0 ? 'clean' : enforced ? 'enforced' : 'detected',
    allowed_domains: opts.allow ?? [],
    trace: { trace_id: span.traceId, span_id: span.spanId, parent_span_id: span.parentSpanId, traceparent: span.traceparent },
    ci: Object.fromEntries(Object.entries(ci.attributes).filter(([, v]) => !Array.isArray(v))) as Record<string, string | number | boolean>,
    detections: detections.map(reportDetection),
    capture: { receivers: [...cfg.receivers.keys()], problems },
  };

  process.stderr.write(`\npastewatch ci: ${detections.length === 0 ? 'no paste-service egress' : `${detections.length} detection${detections.length === 1 ? '' : 's'}`} during \`${command.join(' ')}\`\n`);
  if (detections.length) process.stderr.write(renderDetections(detections));
  if (problems.length) for (const p of problems) process.stderr.write(`capture problem: ${p}\n`);
  if (enforced) process.stderr.write(`pastewatch ci: --enforce: failing the step with exit code ${EXIT.CI_ENFORCED} (paste-service egress detected)\n`);
  if (env.GITHUB_ACTIONS === 'true') {
    process.stdout.write(renderGithubAnnotations(report));
    if (env.GITHUB_STEP_SUMMARY) {
      try {
        appendFileSync(env.GITHUB_STEP_SUMMARY, renderMarkdownSummary(report, detections));
      } catch (err) {
        logger.warn(`ci: cannot append to GITHUB_STEP_SUMMARY ${env.GITHUB_STEP_SUMMARY}: ${describeError(err)}`);
      }
    }
  }
  if (opts.report) {
    try {
      writeFileSync(opts.report, JSON.stringify(report, null, 2) + '\n');
    } catch (err) {
      logger.error(`ci: cannot write the report ${opts.report}: ${describeError(err)}`);
    }
  }
  return exitCode;
}

/** Adds the in-memory collector to every pipeline and the --allow domains to the classifier. */
function withCollector(base: LoadedConfig, allow: string[], env: Record<string, string | undefined>, sink: Detection[]): LoadedConfig {
  const collector = collectorFactory(sink);
  const raw: Record<string, unknown> = {
    receivers: Object.fromEntries([...base.receivers].map(([id, e]) => [id, e.config])),
    processors: Object.fromEntries([...base.processors].map(([id, e]) => {
      if (e.type !== 'paste_classifier' || allow.length === 0) return [id, e.config];
      const c = e.config as { catalog: { allowed_domains: string[] } };
      return [id, { ...c, catalog: { ...c.catalog, allowed_domains: [...c.catalog.allowed_domains, ...allow] } }];
    })),
    exporters: { ...Object.fromEntries([...base.exporters].map(([id, e]) => [id, e.config])), ci_report: {} },
    extensions: Object.fromEntries([...base.extensions].map(([id, e]) => [id, e.config])),
    service: {
      ...base.service,
      pipelines: Object.fromEntries(base.pipelines.map((p) => [p.id, { receivers: p.receivers, processors: p.processors, exporters: [...p.exporters, 'ci_report'] }])),
    },
  };
  return resolveConfig(raw, base.source, { env, factories: [...FACTORIES, collector] });
}
