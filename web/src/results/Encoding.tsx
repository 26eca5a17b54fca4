// Voxelwise encoding: one bar per ROI with its bootstrap 95% CI, for a chosen metric.
import { useState } from 'react';
import { BarsWithCi, errOf } from '../components/charts';
import { Empty } from '../components/common';
import { ci, fmt } from '../lib/format';
import { NO_RESULTS, type ScoreData } from './RunResults';

const PREFERRED = 'pearson_r.mean';

export function EncodingResults({ scores }: { scores: ScoreData[] }) {
  const metrics = [...new Set(scores.map((s) => s.metric))].sort();
  const [metric, setMetric] = useState(metrics.includes(PREFERRED) ? PREFERRED : metrics[0]);
  if (!metrics.length) return <Empty>{NO_RESULTS}</Empty>;
  const rows = scores.filter((s) => s.metric === metric);
  const overall = rows.find((s) => s.scope === 'all');
  const rois = rows.filter((s) => s.scope.startsWith('roi:')).sort((a, b) => a.scope.localeCompare(b.scope));
  const data = rois.map((s) => ({ label: s.scope.slice(4), value: s.value, err: errOf(s.value, s.ciLow, s.ciHigh) }));
  return (
    <>
      <label>
        Metric{' '}
        <select value={metric} onChange={(e) => setMetric(e.target.value)}>
          {metrics.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </label>
      {overall ? (
        <p data-testid="overall-score">
          Whole brain: <strong>{fmt(overall.value)}</strong> {ci(overall.ciLow, overall.ciHigh)}
          {overall.normalized !== null ? <>, normalised {fmt(overall.normalized)}</> : null}
        </p>
      ) : null}
      {data.length ? <BarsWithCi data={data} title={`${metric} per ROI`} yLabel={metric} /> : null}
      <table data-testid="roi-scores">
        <caption>{metric} per ROI (95% bootstrap CIs over test stimuli)</caption>
        <thead>
          <tr>
            <th scope="col">ROI</th>
            <th scope="col">Score</th>
            <th scope="col">95% CI</th>
            <th scope="col">Normalised</th>
            <th scope="col">Voxels above ceiling</th>
          </tr>
        </thead>
        <tbody>
          {rois.map((s) => (
            <tr key={s.id} data-scope={s.scope}>
              <th scope="row">{s.scope.slice(4)}</th>
              <td data-col="value">{fmt(s.value)}</td>
              <td data-col="ci">{ci(s.ciLow, s.ciHigh)}</td>
              <td data-col="normalized">{fmt(s.normalized)}</td>
              <td>{String((s.extra as { aboveCeiling?: number } | null)?.aboveCeiling ?? '–')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
