// The axis for a column of inline CI bars (CiBar): the same width and mapping, with labelled ticks,
// so a reader can tell what the dots and whiskers span.
const W = 160;
const INSET = 4;

/** Round tick values inside [min, max] at a 1, 2 or 5 step; at most about `count` of them. */
export function niceTicks(min: number, max: number, count = 3): number[] {
  if (!(max > min)) return [min];
  const mag = 10 ** Math.floor(Math.log10((max - min) / count));
  const within = (step: number) => {
    const ticks: number[] = [];
    for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) ticks.push(Number((i * step).toFixed(12)));
    return ticks;
  };
  // The coarsest 1-2-5 step that still puts `count` ticks (at least two) inside the range.
  const steps = [10, 5, 2, 1, 0.5, 0.2, 0.1].map((m) => m * mag);
  return steps.map(within).find((t) => t.length >= count) ?? steps.map(within).find((t) => t.length >= 2) ?? [min, max];
}

const decimals = (ticks: number[]) => {
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(ticks[0]) || 1;
  return Math.max(0, Math.min(4, -Math.floor(Math.log10(step))));
};

export function CiScale({ min, max, label }: { min: number; max: number; label: string }) {
  const x = (v: number) => ((v - min) / (max - min || 1)) * (W - 2 * INSET) + INSET;
  const ticks = niceTicks(min, max);
  const d = decimals(ticks);
  return (
    <svg width={W} height={24} className="ciscale" role="img" aria-label={`${label}: axis from ${min.toFixed(d + 1)} to ${max.toFixed(d + 1)}`} data-testid="ci-scale">
      <line x1={x(min)} x2={x(max)} y1={2} y2={2} className="axis" />
      {ticks.map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={2} y2={7} className="tick" />
          <text x={x(t)} y={19} textAnchor="middle" className="tick-label">
            {t.toFixed(d)}
          </text>
        </g>
      ))}
    </svg>
  );
}
