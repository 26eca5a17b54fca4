// Numbers as the dashboard prints them everywhere (tests compare against the same rounding).
export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toFixed(digits);
}

export function pct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${(value * 100).toFixed(digits)}%`;
}

export function ci(low: number | null | undefined, high: number | null | undefined, digits = 3): string {
  if (low === null || low === undefined || high === null || high === undefined) return '–';
  return `[${fmt(low, digits)}, ${fmt(high, digits)}]`;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '–';
}
