/** Typed errors with a stable code, a cause, and whether a retry may help. */

/** Stable error codes; tests and logs rely on them. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'INPUT_NOT_FOUND'
  | 'INPUT_CORRUPT'
  | 'INPUT_TOO_LARGE'
  | 'CAPTURE_UNAVAILABLE'
  | 'CAPTURE_PERMISSION'
  | 'INTERFACE_NOT_FOUND'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_REJECTED'
  | 'TLS_ERROR'
  | 'LISTEN_FAILED'
  | 'QUEUE_FULL'
  | 'SHUTDOWN_TIMEOUT'
  | 'INTERNAL';

/** An error pastewatch expects and can explain: printed without a stack trace. */
export class PastewatchError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PastewatchError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** A one-line description of any thrown value, for logs (no stack). */
export function describeError(err: unknown): string {
  if (err instanceof PastewatchError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
