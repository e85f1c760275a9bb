/** A small levelled logger for humans on stderr (or JSON lines with format 'json'). */

/** Log levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields appended to a log line. */
export type LogFields = Record<string, unknown>;

/** What components log through. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines carry this component name. */
  child(component: string): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

/** Where log lines go; tests capture them. */
export interface LogSink {
  write(line: string): void;
}

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** Creates a logger writing to stderr (or the given sink) at the given level. */
export function createLogger(opts: { level?: LogLevel; format?: 'text' | 'json'; sink?: LogSink; component?: string } = {}): Logger {
  const level = opts.level ?? 'info';
  const format = opts.format ?? 'text';
  const sink: LogSink = opts.sink ?? { write: (l) => process.stderr.write(l) };
  const min = ORDER[level];
  const make = (component: string | undefined): Logger => {
    const log = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
      if (ORDER[lvl] < min) return;
      const time = new Date().toISOString();
      if (format === 'json') {
        const rec: Record<string, unknown> = { time, level: lvl, msg };
        if (component) rec.component = component;
        if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v;
        sink.write(JSON.stringify(rec) + '\n');
        return;
      }
      let line = `${time} ${lvl.toUpperCase().padEnd(5)} ${component ? `[${component}] ` : ''}${msg}`;
      if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
      sink.write(line + '\n');
    };
    return {
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      child: (c) => make(component ? `${component} ${c}` : c),
      isLevelEnabled: (l) => ORDER[l] >= min,
    };
  };
  return make(opts.component);
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, sink: { write: (l) => lines.push(l.trimEnd()) } });
  return Object.assign(logger, { lines });
}
