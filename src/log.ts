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
