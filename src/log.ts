// A minimal structured logger, so the worker writes one JSON line per event (easy to grep and to
// ship to a log collector) and tests can silence it. Kept here because runs and queues both log.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export const silentLog: Log = () => undefined;

/** JSON lines on stderr (stdout stays free for tools that pipe a worker's output). */
export function jsonLog(minLevel: LogLevel = 'info', base: Record<string, unknown> = {}): Log {
  return (level, message, fields = {}) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields })}\n`);
  };
}

/**
 * The same log with repeated warnings and errors (same message and `error` field) written once per
 * windowMs, the next one carrying how many were left out: a lost connection that every client
 * retries every second must not bury everything else.
 */
export function withRepeatsSuppressed(log: Log, windowMs = 30_000): Log {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (level, message, fields = {}) => {
    if (level !== 'warn' && level !== 'error') return log(level, message, fields);
    const key = `${level}\u0000${message}\u0000${String(fields.error ?? '')}`;
    const now = Date.now();
    const entry = seen.get(key);
    if (entry && now - entry.at < windowMs) {
      entry.suppressed++;
      return;
    }
    seen.set(key, { at: now, suppressed: 0 });
    if (seen.size > 1000) seen.clear();
    log(level, message, entry?.suppressed ? { ...fields, repeated: entry.suppressed } : fields);
  };
}
