/** Factory of the `otlp_http` exporter. */
import type { ConfigProblem, ExporterFactory } from '../../component/types.js';
import { queueProblems, tlsProblems } from '../queue/validate.js';
import { httpUrlProblem } from '../../util/url.js';
import { otlpHttpSchema } from './config.js';
import type { OtlpHttpConfig } from './config.js';
import { lazyExporter } from '../../component/lazy.js';

/** Cross-field checks: URLs parse as http(s), TLS files are readable, a file queue has a directory. */
export function validateOtlpHttp(c: OtlpHttpConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const k of ['endpoint', 'logs_endpoint', 'traces_endpoint'] as const) {
    const p = c[k] ? httpUrlProblem(c[k]) : undefined;
    if (p) out.push({ path: [k], message: p });
  }
  return [...out, ...tlsProblems(c.tls), ...queueProblems(c.sending_queue)];
}

/** Makes `otlp_http` exporters. */
export const otlpHttpFactory: ExporterFactory<OtlpHttpConfig> = {
  type: 'otlp_http',
  kind: 'exporter',
  description: 'Sends detections to an OTLP/HTTP backend as log records (event plaintext_communication) and as spans in the CI trace, with a durable retrying queue.',
  schema: otlpHttpSchema,
  validate: validateOtlpHttp,
  // The OpenTelemetry serializers load on start (see component/lazy.ts).
  create: (settings, config) => lazyExporter(settings, config, async () => {
    const { OtlpHttpExporter } = await import('./otlp-http.js');
    return (s, c) => new OtlpHttpExporter(s, c);
  }),
};
