/**
 * One HTTP(S) POST with a timeout, TLS options and an abort signal, its outcome classified the way the OTLP
 * spec and the collector's exporterhelper do: 2xx ok; 429/5xx/network/TLS retryable (Retry-After kept);
 * other 4xx permanent with the backend's message.
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { describeError } from '../../util/errors.js';
import { urlForLog } from '../../util/redact.js';
import { parseRetryAfter } from './backoff.js';
import type { TlsConfig } from './config.js';

/** The classified outcome of one POST. */
export type SendResult =
  | { kind: 'ok'; status: number; body: Buffer; contentType: string }
  | { kind: 'permanent'; status: number; message: string }
  | { kind: 'retry'; status?: number; message: string; retryAfterMs?: number; tls?: boolean };

/** Settings of an HttpSender. */
export interface HttpSenderOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  tls: TlsConfig;
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** Human explanations of the TLS verification error codes OpenSSL / node report. */
const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted (set tls.ca_file to its CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain ends in an untrusted self-signed CA (set tls.ca_file)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA (set tls.ca_file)',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of the server certificate is unknown (set tls.ca_file)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the server certificate is unknown (set tls.ca_file)',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
  CERT_SIGNATURE_FAILURE: 'the server certificate signature does not verify',
  CERT_UNTRUSTED: 'the server certificate is not trusted',
};

/** True when an error code is a TLS handshake or verification failure. */
export function isTlsErrorCode(code: string | undefined): boolean {
  if (!code) return false;
  return code in TLS_REASONS || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO' || code.includes('CERT');
}

/** The backend's message from an error response body (google.rpc.Status as JSON or protobuf, or text). */
export function errorMessageFromBody(body: Buffer, contentType: string): string {
  if (body.length === 0) return '';
  if (contentType.includes('json')) {
    try {
      const j = JSON.parse(body.toString('utf8')) as { message?: unknown; error?: unknown };
      if (typeof j.message === 'string') return j.message;
      if (typeof j.error === 'string') return j.error;
    } catch {
      // not JSON after all: fall through to text
    }
  } else if (contentType.includes('protobuf')) {
    const m = protobufStatusMessage(body);
    if (m !== undefined) return m;
  }
  return body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 500);
}

/** Field 2 (message, string) of a protobuf google.rpc.Status; undefined when the bytes do not parse. */
function protobufStatusMessage(buf: Buffer): string | undefined {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length || shift > 35) throw new Error('truncated');
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  try {
    while (i < buf.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) varint();
      else if (wire === 2) {
        const len = varint();
        if (i + len > buf.length) return undefined;
        if (field === 2) return buf.subarray(i, i + len).toString('utf8');
        i += len;
      } else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Reads the TLS files named in the config (validate() checked them already). */
function tlsOptions(tls: TlsConfig): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } {
  return {
    ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
    cert: tls.cert_file ? readFileSync(tls.cert_file) : undefined,
    key: tls.key_file ? readFileSync(tls.key_file) : undefined,
    rejectUnauthorized: !tls.insecure_skip_verify,
  };
}

/** Posts bodies to one URL, reusing connections. */
export class HttpSender {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly opts: HttpSenderOptions) {
    this.url = new URL(opts.url);
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...tlsOptions(opts.tls) }) : new HttpAgent({ keepAlive: true });
  }

  /** POSTs body with the given content headers; resolves to a classified result, never rejects. */
  post(body: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<SendResult> {
    // Messages go to logs and /healthz: never the endpoint's credentials, query or secret path (webhooks).
    const target = urlForLog(this.opts.url);
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const done = (r: SendResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.opts.headers, ...headers, 'content-length': String(body.length) },
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no response within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      const onAbort = (): void => {
        req.destroy(new Error('aborted by shutdown'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code;
        if (isTlsErrorCode(code)) {
          const why = (code && TLS_REASONS[code]) ?? err.message;
          done({ kind: 'retry', tls: true, message: `TLS error talking to ${target}: ${why} (${code})` });
        } else done({ kind: 'retry', message: `cannot reach ${target}: ${describeError(err)}` });
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('error', (err) => done({ kind: 'retry', status: res.statusCode, message: `response from ${target} broke off: ${describeError(err)}` }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const resBody = Buffer.concat(chunks);
          const contentType = String(res.headers['content-type'] ?? '');
          if (status >= 200 && status < 300) return done({ kind: 'ok', status, body: resBody, contentType });
          const text = errorMessageFromBody(resBody, contentType);
          const message = `${target} answered ${status}${text ? `: ${text}` : ''}`;
          if (RETRYABLE_STATUS.has(status) || status >= 500 || status === 408) {
            const ra = res.headers['retry-after'];
            return done({ kind: 'retry', status, message, retryAfterMs: parseRetryAfter(Array.isArray(ra) ? ra[0] : ra) });
          }
          return done({ kind: 'permanent', status, message });
        });
      });
      req.end(body);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
