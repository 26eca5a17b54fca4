// In-context encoder vs ridge on the same in-context images: explained variance against the number
// of in-context images k (test-time scaling), with CIs over repeats, per scope.
import { useState } from 'react';
import { COLOURS, Curves, errOf, type CurvePoint } from '../components/charts';
import { Empty } from '../components/common';
import { ci, fmt } from '../lib/format';
import { NO_RESULTS, type ScoreData } from './RunResults';

const PATTERN = /^(in_context|ridge)\.(.+)@k(\d+)$/;
const SERIES = [
  { key: 'in_context', name: 'in-context encoder', colour: COLOURS.primary },
  { key: 'ridge', name: 'ridge on the same images', colour: COLOURS.secondary },
];

export function InContextResults({ scores }: { scores: ScoreData[] }) {
  const parsed = scores.flatMap((s) => {
    const m = PATTERN.exec(s.metric);
    return m ? [{ method: m[1], measure: m[2], k: Number(m[3]), score: s }] : [];
  });
  const scopes = [...new Set(parsed.map((p) => p.score.scope))].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a.localeCompare(b)));
  const measures = [...new Set(parsed.map((p) => p.measure))].sort();
  const [scope, setScope] = useState(scopes[0]);
  const [measure, setMeasure] = useState(measures.includes('explained_variance.mean') ? 'explained_variance.mean' : measures[0]);
  if (!parsed.length) return <Empty>{NO_RESULTS}</Empty>;

  const chosen = parsed.filter((p) => p.score.scope === scope && p.measure === measure);
  const ks = [...new Set(chosen.map((p) => p.k))].sort((a, b) => a - b);
  const at = (method: string, k: number) => chosen.find((p) => p.method === method && p.k === k)?.score;
  const data: CurvePoint[] = ks.map((k) => {
    const point: CurvePoint = { k };
    for (const s of SERIES) {
      const sc = at(s.key, k);
      if (sc) {
        point[s.key] = sc.value;
        point[`${s.key}Err`] = errOf(sc.value, sc.ciLow, sc.ciHigh);
      }
    }
    return point;
  });
  return (
    <>
      <div className="filters">
        <label>
          Scope{' '}
          <select value={scope} onChange={(e) => setScope(e.target.value)}>
            {scopes.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Measure{' '}
          <select value={measure} onChange={(e) => setMeasure(e.target.value)}>
            {measures.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
      </div>
      <Curves data={data} series={SERIES} title={`${measure} vs number of in-context images (${scope})`} yLabel={measure} />
      <table data-testid="scaling-table">
        <caption>
          {measure} on held-out images, {scope}
        </caption>
        <thead>
          <tr>
            <th scope="col">k</th>
            <th scope="col">In-context encoder</th>
            <th scope="col">95% CI</th>
            <th scope="col">Ridge</th>
            <th scope="col">95% CI</th>
          </tr>
        </thead>
        <tbody>
          {ks.map((k) => {
            const a = at('in_context', k);
            const b = at('ridge', k);
            return (
              <tr key={k} data-k={k}>
                <th scope="row">{k}</th>
                <td data-col="in_context">{fmt(a?.value)}</td>
                <td>{ci(a?.ciLow, a?.ciHigh)}</td>
                <td data-col="ridge">{fmt(b?.value)}</td>
                <td>{ci(b?.ciLow, b?.ciHigh)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
