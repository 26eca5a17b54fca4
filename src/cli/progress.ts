// A one-line progress bar on stderr: fraction, bytes, rate and time left.
import type { Writable } from 'node:stream';

export interface Progress {
  /** Sets the absolute amount done (bytes, or a fraction for runs). */
  update(done: number, message?: string): void;
  done(message?: string): void;
}

const BAR_WIDTH = 28;
const REDRAW_MS = 100;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

function bar(fraction: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * BAR_WIDTH);
  return `[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

const silent: Progress = { update: () => undefined, done: () => undefined };

/** Bytes of a known total; `startAt` bytes were done before (a resumed upload) and do not count for the rate. */
export function byteProgress(out: Writable, enabled: boolean, label: string, total: number, startAt = 0): Progress {
  if (!enabled) return silent;
  const t0 = Date.now();
  let last = 0;
  const draw = (done: number, final = false) => {
    const now = Date.now();
    if (!final && now - last < REDRAW_MS) return;
    last = now;
    const secs = Math.max(1e-3, (now - t0) / 1000);
    const rate = (done - startAt) / secs;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    out.write(`\r${label} ${bar(total ? done / total : 1)} ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatSeconds(eta)}  `);
  };
  return {
    update: (done) => draw(done),
    done: (message) => {
      draw(total, true);
      out.write(message ? ` ${message}\n` : '\n');
    },
  };
}

/** A run's 0..1 progress with its message. */
export function runProgress(out: Writable, enabled: boolean, label: string): Progress {
  if (!enabled) return silent;
  let lastLine = '';
  return {
    update: (fraction, message = '') => {
      const line = `${label} ${bar(fraction)} ${message}`.slice(0, 160);
      if (line === lastLine) return;
      lastLine = line;
      out.write(`\r${line.padEnd(80)}`);
    },
    done: (message) => out.write(message ? `\n${message}\n` : '\n'),
  };
}
