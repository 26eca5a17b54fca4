// Per-ROI scores of several runs on one chart: one bar per run in each scope, CI whiskers.
import { Bar, BarChart, CartesianGrid, ErrorBar, Legend, Tooltip, XAxis, YAxis } from 'recharts';

const AXIS = { fill: '#333333' };
/** Distinguishable for common colour-vision deficiencies (Okabe-Ito). */
export const RUN_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'];

export interface CompareRow {
  scope: string;
  [run: string]: number | [number, number] | string | undefined;
}

export function CompareBars({ rows, runs, title, yLabel }: { rows: CompareRow[]; runs: { key: string; name: string }[]; title: string; yLabel: string }) {
  return (
    <figure className="chart" aria-label={title}>
      <BarChart width={Math.max(480, Math.min(1100, 120 + rows.length * runs.length * 28))} height={320} data={rows} margin={{ top: 10, right: 20, bottom: 30, left: 20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="scope" tick={AXIS} />
        <YAxis width={72} tick={AXIS} label={{ value: yLabel, angle: -90, position: 'insideLeft', fill: AXIS.fill, style: { textAnchor: 'middle' } }} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
        <Legend verticalAlign="top" />
        {runs.map((r, i) => (
          <Bar key={r.key} dataKey={r.key} name={r.name} fill={RUN_COLOURS[i % RUN_COLOURS.length]} isAnimationActive={false}>
            <ErrorBar dataKey={`${r.key}Err`} width={5} stroke="#222" />
          </Bar>
        ))}
      </BarChart>
      <figcaption>{title} (95% confidence intervals as whiskers; numbers in the table)</figcaption>
    </figure>
  );
}
