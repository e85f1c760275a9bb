/** Resolves the `otlp_http` config against the standard OTEL_EXPORTER_OTLP_* variables (config keys win). */
import { PastewatchError } from '../../util/errors.js';
import type { TlsConfig } from '../queue/config.js';
import { httpUrlProblem } from '../../util/url.js';
import { unreadableFile } from '../../util/files.js';
import type { OtlpHttpConfig } from './config.js';

/** The effective settings an exporter runs with. */
export interface ResolvedOtlpSettings {
  logsUrl: string;
  tracesUrl: string;
  headers: Record<string, string>;
  encoding: 'proto' | 'json';
  compression: 'gzip' | 'none';
  timeoutMs: number;
  tls: TlsConfig;
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';

/** Parses `k=v,k2=v2` (percent-encoded) as in OTEL_EXPORTER_OTLP_HEADERS; bad entries are skipped. */
export function parseHeaderList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      // malformed percent-encoding: skip this entry, as the spec says
    }
  }
  return out;
}

function signalUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function bad(variable: string, message: string): PastewatchError {
  return new PastewatchError('CONFIG_INVALID', `${variable}: ${message}`);
}

/** Effective settings; throws CONFIG_INVALID naming the key or variable when a value from the environment is unusable. */
export function resolveOtlpSettings(cfg: OtlpHttpConfig, env: Record<string, string | undefined>): ResolvedOtlpSettings {
  const base = cfg.endpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT || DEFAULT_ENDPOINT;
  const baseKey = cfg.endpoint ? 'endpoint' : env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'endpoint';
  const pick = (key: 'logs_endpoint' | 'traces_endpoint', variable: string, path: string): string => {
    const [url, from] = cfg[key] ? [cfg[key], key] : env[variable] ? [env[variable]!, variable] : [signalUrl(base, path), baseKey];
    const p = httpUrlProblem(url);
    if (p) throw bad(from, p);
    return url;
  };
  const logsUrl = pick('logs_endpoint', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', '/v1/logs');
  const tracesUrl = pick('traces_endpoint', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '/v1/traces');

  let encoding: 'proto' | 'json' = 'proto';
  if (cfg.encoding) encoding = cfg.encoding;
  else if (env.OTEL_EXPORTER_OTLP_PROTOCOL) {
    const p = env.OTEL_EXPORTER_OTLP_PROTOCOL.trim();
    if (p === 'http/json') encoding = 'json';
    else if (p === 'http/protobuf') encoding = 'proto';
    else throw bad('OTEL_EXPORTER_OTLP_PROTOCOL', `"${p}" is not supported by otlp_http (use http/protobuf or http/json)`);
  }

  let compression: 'gzip' | 'none' = 'gzip';
  if (cfg.compression) compression = cfg.compression;
  else if (env.OTEL_EXPORTER_OTLP_COMPRESSION) {
    const c = env.OTEL_EXPORTER_OTLP_COMPRESSION.trim();
    if (c !== 'gzip' && c !== 'none') throw bad('OTEL_EXPORTER_OTLP_COMPRESSION', `"${c}" is not gzip or none`);
    compression = c;
  }

  let timeoutMs = 10000;
  if (cfg.timeout_ms > 0) timeoutMs = cfg.timeout_ms;
  else if (env.OTEL_EXPORTER_OTLP_TIMEOUT) {
    const t = Number(env.OTEL_EXPORTER_OTLP_TIMEOUT);
    if (!Number.isInteger(t) || t <= 0) throw bad('OTEL_EXPORTER_OTLP_TIMEOUT', `"${env.OTEL_EXPORTER_OTLP_TIMEOUT}" is not a positive number of milliseconds`);
    timeoutMs = t;
  }

  const tls: TlsConfig = {
    ...cfg.tls,
    ca_file: cfg.tls.ca_file || env.OTEL_EXPORTER_OTLP_CERTIFICATE || '',
    cert_file: cfg.tls.cert_file || env.OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE || '',
    key_file: cfg.tls.key_file || env.OTEL_EXPORTER_OTLP_CLIENT_KEY || '',
  };
  for (const [k, variable] of [['ca_file', 'OTEL_EXPORTER_OTLP_CERTIFICATE'], ['cert_file', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'], ['key_file', 'OTEL_EXPORTER_OTLP_CLIENT_KEY']] as const) {
    const p = tls[k] ? unreadableFile(tls[k]) : undefined;
    if (p) throw bad(cfg.tls[k] ? `tls::${k}` : variable, p);
  }

  return { logsUrl, tracesUrl, headers: { ...parseHeaderList(env.OTEL_EXPORTER_OTLP_HEADERS), ...cfg.headers }, encoding, compression, timeoutMs, tls };
}
