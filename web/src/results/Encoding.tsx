// Voxelwise encoding: one bar per ROI with its bootstrap 95% CI, for a chosen metric.
import { useState } from 'react';
import { BarsWithCi, errOf } from '../components/charts';
import { Empty } from '../components/common';
import { AboveCeilingNote, aboveCeiling, MetricName, NormalisedName } from '../components/Explain';
import { ci, fmt } from '../lib/format';
import { metricDefinition, metricLabel } from '../lib/metrics';
import { NO_RESULTS, type ScoreData } from './RunResults';

const PREFERRED = 'pearson_r.mean';

export function EncodingResults({ scores }: { scores: ScoreData[] }) {
  const metrics = [...new Set(scores.map((s) => s.metric))].sort();
  const [metric, setMetric] = useState(metrics.includes(PREFERRED) ? PREFERRED : metrics[0]);
  const [scale, setScale] = useState<'raw' | 'normalised'>('raw');
  if (!metrics.length) return <Empty>{NO_RESULTS}</Empty>;
  const rows = scores.filter((s) => s.metric === metric);
  const overall = rows.find((s) => s.scope === 'all');
  const rois = rows.filter((s) => s.scope.startsWith('roi:')).sort((a, b) => a.scope.localeCompare(b.scope));
  const hasNormalised = rois.some((s) => s.normalized !== null);
  const normalisedPlot = scale === 'normalised' && hasNormalised;
  // Normalised bars have no CI of their own (the bootstrap runs on raw scores), so no whiskers.
  const data = normalisedPlot
    ? rois.filter((s) => s.normalized !== null).map((s) => ({ label: s.scope.slice(4), value: s.normalized! }))
    : rois.map((s) => ({ label: s.scope.slice(4), value: s.value, err: errOf(s.value, s.ciLow, s.ciHigh) }));
  const label = metricLabel(metric);
  return (
    <>
      <label>
        Metric{' '}
        <select value={metric} onChange={(e) => setMetric(e.target.value)}>
          {metrics.map((m) => (
            <option key={m} value={m} title={metricDefinition(m)}>
              {metricLabel(m)}
            </option>
          ))}
        </select>
      </label>{' '}
      {hasNormalised ? (
        <label>
          Plot{' '}
          <select value={scale} onChange={(e) => setScale(e.target.value as 'raw' | 'normalised')}>
            <option value="raw">raw score</option>
            <option value="normalised">normalised to the noise ceiling</option>
          </select>
        </label>
      ) : null}
      {overall ? (
        <p data-testid="overall-score">
          Whole brain: <strong>{fmt(overall.value)}</strong> {ci(overall.ciLow, overall.ciHigh)}
          {overall.normalized !== null ? <>, normalised {fmt(overall.normalized)}</> : null}
        </p>
      ) : null}
      <AboveCeilingNote values={[overall?.normalized, ...rois.map((s) => s.normalized)]} />
      {data.length ? (
        <BarsWithCi
          data={data}
          title={`${label}${normalisedPlot ? ', normalised,' : ''} per ROI`}
          yLabel={normalisedPlot ? 'score / noise ceiling' : label}
          yHover={metricDefinition(metric)}
          reference={normalisedPlot ? { y: 1, label: 'noise ceiling (1)' } : undefined}
          caption={
            normalisedPlot
              ? 'Each bar is the ROI score divided by its noise ceiling; the dashed line at 1 is the ceiling. Numbers in the table below.'
              : hasNormalised
                ? 'Whiskers: 95% confidence intervals. Choose "normalised to the noise ceiling" to see each ROI against its ceiling. Numbers in the table below.'
                : 'Whiskers: 95% confidence intervals. Numbers in the table below.'
          }
        />
      ) : null}
      <table data-testid="roi-scores">
        <caption>
          <MetricName metric={metric} /> per ROI (95% bootstrap CIs over test stimuli)
        </caption>
        <thead>
          <tr>
            <th scope="col">ROI</th>
            <th scope="col">Score</th>
            <th scope="col">95% CI</th>
            <th scope="col">
              <NormalisedName />
            </th>
            <th scope="col">Voxels above ceiling</th>
          </tr>
        </thead>
        <tbody>
          {rois.map((s) => (
            <tr key={s.id} data-scope={s.scope}>
              <th scope="row">{s.scope.slice(4)}</th>
              <td data-col="value">{fmt(s.value)}</td>
              <td data-col="ci">{ci(s.ciLow, s.ciHigh)}</td>
              <td data-col="normalized" {...aboveCeiling(s.normalized)}>
                {fmt(s.normalized)}
              </td>
              <td>{String((s.extra as { aboveCeiling?: number } | null)?.aboveCeiling ?? '–')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
