// Charts drawn with Recharts. Every chart has a table with the same numbers next to it (the text
// alternative), so the figure itself is hidden from screen readers behind a summary label.
import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, Legend, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';

export interface BarDatum {
  label: string;
  value: number;
  /** [value - ciLow, ciHigh - value], as Recharts' ErrorBar expects. */
  err?: [number, number];
  colour?: string;
}

// Axis text darker than Recharts' default grey, for 4.5:1 contrast on white.
const AXIS = { fill: '#333333' };

export const COLOURS = { primary: '#1f5fa8', secondary: '#b35900', good: '#1b7a3a', muted: '#6b6b6b', warn: '#a61b1b' };

export function errOf(value: number, low: number | null | undefined, high: number | null | undefined): [number, number] | undefined {
  return low === null || low === undefined || high === null || high === undefined ? undefined : [value - low, high - value];
}

/** A y-axis title drawn by hand so it can carry a hover definition (SVG <title>). */
function AxisTitle({ viewBox, value, hover }: { viewBox?: { x?: number; y?: number; height?: number }; value: string; hover?: string }) {
  const cx = (viewBox?.x ?? 0) + 12;
  const cy = (viewBox?.y ?? 0) + (viewBox?.height ?? 0) / 2;
  return (
    <text x={cx} y={cy} transform={`rotate(-90, ${cx}, ${cy})`} textAnchor="middle" fill={AXIS.fill} className="axis-title">
      {hover ? <title>{hover}</title> : null}
      {value}
    </text>
  );
}

/**
 * Bars with CI whiskers. `reference` draws a labelled horizontal line (e.g. the noise ceiling at 1
 * on a normalised chart), `yHover` is the y metric's definition shown on hover, and `caption`
 * replaces the default figure caption (when a table beside the chart already carries the title).
 */
export function BarsWithCi({
  data,
  title,
  yLabel,
  width = 720,
  height = 300,
  reference,
  yHover,
  caption,
}: {
  data: BarDatum[];
  title: string;
  yLabel: string;
  width?: number;
  height?: number;
  reference?: { y: number; label: string };
  yHover?: string;
  caption?: ReactNode;
}) {
  const top = reference ? Math.max(reference.y, ...data.map((d) => d.value + (d.err?.[1] ?? 0))) : undefined;
  return (
    <figure className="chart" aria-label={`${title}: ${data.map((d) => `${d.label} ${d.value.toFixed(3)}`).join(', ')}`}>
      <BarChart width={width} height={height} data={data} margin={{ top: 10, right: reference ? 140 : 20, bottom: 30, left: 20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="label" tick={AXIS} />
        <YAxis width={72} tick={AXIS} domain={top !== undefined ? [(min: number) => Math.min(0, min), Math.ceil(top * 10) / 10] : undefined} label={<AxisTitle value={yLabel} hover={yHover} />} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
        <ReferenceLine y={0} stroke="#333" />
        {reference ? <ReferenceLine y={reference.y} stroke={COLOURS.secondary} strokeDasharray="6 3" strokeWidth={2} label={{ value: reference.label, position: 'right', fill: COLOURS.secondary }} className="ceiling-line" /> : null}
        <Bar dataKey="value" name={yLabel} isAnimationActive={false}>
          {data.map((d) => (
            <Cell key={d.label} fill={d.colour ?? COLOURS.primary} />
          ))}
          <ErrorBar dataKey="err" width={6} stroke="#222" />
        </Bar>
      </BarChart>
      <figcaption>{caption ?? <>{title} (95% confidence intervals as whiskers; numbers in the table)</>}</figcaption>
    </figure>
  );
}

export interface CurvePoint {
  k: number;
  [series: string]: number | [number, number] | undefined;
}

export function Curves({ data, series, title, yLabel }: { data: CurvePoint[]; series: { key: string; name: string; colour: string }[]; title: string; yLabel: string }) {
  return (
    <figure className="chart" aria-label={title}>
      <LineChart width={720} height={320} data={data} margin={{ top: 10, right: 20, bottom: 30, left: 20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="k" type="number" scale="log" domain={['auto', 'auto']} tick={AXIS} label={{ value: 'in-context images (k)', position: 'insideBottom', offset: -15, fill: AXIS.fill }} />
        <YAxis width={72} tick={AXIS} label={{ value: yLabel, angle: -90, position: 'insideLeft', fill: AXIS.fill, style: { textAnchor: 'middle' } }} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
        <Legend verticalAlign="top" />
        {series.map((s) => (
          <Line key={s.key} dataKey={s.key} name={s.name} stroke={s.colour} strokeWidth={2} isAnimationActive={false} connectNulls>
            <ErrorBar dataKey={`${s.key}Err`} width={5} stroke={s.colour} />
          </Line>
        ))}
      </LineChart>
      <figcaption>{title} (95% confidence intervals over repeats as whiskers; numbers in the table)</figcaption>
    </figure>
  );
}

export interface BaselineDatum {
  label: string;
  value: number;
  err?: [number, number];
  prior: number | null;
  chance: number | null;
}

/** Accuracy with its CI beside the prior and chance baselines, one group of bars per category. */
export function BarsWithBaselines({ data, title, yLabel }: { data: BaselineDatum[]; title: string; yLabel: string }) {
  return (
    <figure className="chart" aria-label={`${title}: ${data.map((d) => `${d.label} ${d.value.toFixed(3)} (prior ${d.prior?.toFixed(3) ?? 'n/a'}, chance ${d.chance?.toFixed(3) ?? 'n/a'})`).join(', ')}`}>
      <BarChart width={Math.max(720, data.length * 120)} height={300} data={data} margin={{ top: 10, right: 20, bottom: 30, left: 20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="label" tick={AXIS} />
        <YAxis width={72} tick={AXIS} domain={[0, 1]} label={{ value: yLabel, angle: -90, position: 'insideLeft', fill: AXIS.fill, style: { textAnchor: 'middle' } }} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
        <Legend verticalAlign="top" />
        <Bar dataKey="value" name={yLabel} fill={COLOURS.primary} isAnimationActive={false}>
          <ErrorBar dataKey="err" width={6} stroke="#222" />
        </Bar>
        <Bar dataKey="prior" name="prior (most frequent answer)" fill={COLOURS.secondary} isAnimationActive={false} />
        <Bar dataKey="chance" name="chance" fill={COLOURS.muted} isAnimationActive={false} />
      </BarChart>
      <figcaption>{title} (95% confidence intervals as whiskers; numbers in the table)</figcaption>
    </figure>
  );
}
