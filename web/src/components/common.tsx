// Small building blocks shared by the pages.
import type { ReactNode } from 'react';
import { ApiError } from '../lib/client';

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" aria-live="polite">
      Loading {what} …
    </p>
  );
}

export function ErrorBox({ error }: { error: Error }) {
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div role="alert" className="error">
      <strong>{code ?? 'Error'}:</strong> {error.message}
      {code === 'FORBIDDEN' || code === 'UNAUTHENTICATED' ? <p>Sign in with an API token (top right) to see this.</p> : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/**
 * A value with its 95% CI as a horizontal bar on a shared scale [min, max]: a dot at the value and
 * a whisker over the interval. The numbers are in the row's cells; the drawing is decoration.
 */
export function CiBar({ value, low, high, min, max }: { value: number; low: number | null; high: number | null; min: number; max: number }) {
  const w = 160;
  const x = (v: number) => ((Math.min(max, Math.max(min, v)) - min) / (max - min || 1)) * (w - 8) + 4;
  return (
    <svg width={w} height={16} aria-hidden="true" className="cibar">
      <line x1={x(min)} x2={x(max)} y1={8} y2={8} className="axis" />
      {low !== null && high !== null ? <line x1={x(low)} x2={x(high)} y1={8} y2={8} className="whisker" /> : null}
      {low !== null ? <line x1={x(low)} x2={x(low)} y1={3} y2={13} className="whisker" /> : null}
      {high !== null ? <line x1={x(high)} x2={x(high)} y1={3} y2={13} className="whisker" /> : null}
      <circle cx={x(value)} cy={8} r={4} className="dot" />
    </svg>
  );
}

export function Pager({ hasNext, onNext, onFirst, atFirst, label }: { hasNext: boolean; onNext(): void; onFirst(): void; atFirst: boolean; label: string }) {
  return (
    <nav aria-label={`${label} pages`} className="pager">
      <button type="button" onClick={onFirst} disabled={atFirst}>
        First page
      </button>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </nav>
  );
}
