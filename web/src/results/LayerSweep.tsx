// Layer sweeps: score against layer for every ROI with CI whiskers, each ROI's chosen layer marked
// (chosen by cross-validation on the training stimuli; the value shown is its test score), and
// the same numbers in tables.
import { useState } from 'react';
import { CartesianGrid, ErrorBar, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { Empty, ErrorBox, Loading } from '../components/common';
import type { LayerProfileQuery } from '../generated/graphql';
import { LayerProfileDoc } from '../graphql/layer-sweep';
import { ci, fmt } from '../lib/format';
import { Link } from '../lib/router';
import { useQuery } from '../lib/use-query';
import { NO_RESULTS } from './RunResults';

const METRICS = ['pearson_r.mean', 'pearson_r.median', 'explained_variance.mean', 'explained_variance.median'];
const PALETTE = ['#1f5fa8', '#b35900', '#1b7a3a', '#a61b1b', '#6a3d9a', '#00727a', '#7a5c00', '#4d4d4d'];
const AXIS = { fill: '#333333' };
const label = (scope: string) => (scope === 'all' ? 'all voxels' : scope.replace(/^roi:/, ''));

type Profile = NonNullable<NonNullable<LayerProfileQuery['run']>['layerProfile']>;

export function LayerSweepResults({ runId }: { runId: string }) {
  const [metric, setMetric] = useState(METRICS[0]);
  const { data, error } = useQuery<LayerProfileQuery, { id: string; metric: string }>(LayerProfileDoc, { id: runId, metric });
  if (error && !data) return <ErrorBox error={error} />;
  if (!data) return <Loading what="layer profile" />;
  const profile = data.run?.layerProfile;
  if (!profile || !profile.cells.some((c) => c.value !== null)) return <Empty>{NO_RESULTS}</Empty>;
  return (
    <>
      <label>
        Metric{' '}
        <select value={metric} onChange={(e) => setMetric(e.target.value)}>
          {METRICS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </label>
      <p>
        Each ROI's best layer (marked) is the one with the highest {profile.selectionMetric} cross-validated on the <em>training</em> stimuli;
        its reported score is that layer's <em>test</em> score.
      </p>
      <div className="chart-with-table">
        <LayerProfileChart profile={profile} />
        <BestLayerTable profile={profile} />
      </div>
      <ProfileTable profile={profile} />
    </>
  );
}

function LayerProfileChart({ profile }: { profile: Profile }) {
  const rows = profile.layers.map((layer, i) => {
    const row: Record<string, unknown> = { layer };
    profile.scopes.forEach((scope, s) => {
      const cell = profile.cells.find((c) => c.layerIndex === i && c.scope === scope);
      if (cell?.value === null || cell?.value === undefined) return;
      row[`s${s}`] = cell.value;
      if (cell.ciLow !== null && cell.ciHigh !== null) row[`s${s}Err`] = [cell.value - cell.ciLow, cell.ciHigh - cell.value];
    });
    return row;
  });
  const bestIndex = new Map(profile.bestLayers.map((b) => [b.scope, b.layerIndex]));
  const summary = profile.bestLayers.map((b) => `${label(b.scope)}: ${b.layer} (${fmt(b.value)})`).join(', ');
  return (
    <figure className="chart" data-testid="layer-profile-chart" aria-label={`${profile.metric} against layer per ROI; best layers ${summary}`}>
      <LineChart width={720} height={340} data={rows} margin={{ top: 10, right: 20, bottom: 30, left: 20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="layer" tick={AXIS} label={{ value: 'layer', position: 'insideBottom', offset: -15, fill: AXIS.fill }} />
        <YAxis width={72} tick={AXIS} label={{ value: profile.metric, angle: -90, position: 'insideLeft', fill: AXIS.fill, style: { textAnchor: 'middle' } }} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
        <Legend verticalAlign="top" />
        {profile.scopes.map((scope, s) => {
          const colour = PALETTE[s % PALETTE.length];
          return (
            <Line
              key={scope}
              dataKey={`s${s}`}
              name={label(scope)}
              stroke={colour}
              strokeWidth={2}
              isAnimationActive={false}
              connectNulls
              dot={(props: { cx?: number; cy?: number; index?: number }) => {
                const best = props.index === bestIndex.get(scope);
                if (props.cx === undefined || props.cy === undefined) return <g key={`${scope}-${props.index}`} />;
                return best ? (
                  <g key={`${scope}-${props.index}`} data-best-layer={`${scope}=${profile.layers[props.index!]}`}>
                    <circle cx={props.cx} cy={props.cy} r={8} fill="#fff" stroke={colour} strokeWidth={3} />
                    <circle cx={props.cx} cy={props.cy} r={3.5} fill={colour} />
                  </g>
                ) : (
                  <circle key={`${scope}-${props.index}`} cx={props.cx} cy={props.cy} r={3} fill={colour} />
                );
              }}
            >
              <ErrorBar dataKey={`s${s}Err`} width={5} stroke={colour} />
            </Line>
          );
        })}
      </LineChart>
      <figcaption>
        {profile.metric} against layer per ROI (95% bootstrap CIs over test stimuli as whiskers; the ringed point is each ROI's layer chosen by{' '}
        {profile.selectionMetric}; numbers in the tables)
      </figcaption>
    </figure>
  );
}

function BestLayerTable({ profile }: { profile: Profile }) {
  if (!profile.bestLayers.length) return <Empty>The best layers are chosen when every layer has been fitted.</Empty>;
  return (
    <table data-testid="best-layers">
      <caption>Best layer per ROI (chosen by {profile.selectionMetric} on the training stimuli; test score of that layer)</caption>
      <thead>
        <tr>
          <th scope="col">ROI</th>
          <th scope="col">Layer</th>
          <th scope="col">{profile.metric}</th>
          <th scope="col">95% CI</th>
          <th scope="col">{profile.selectionMetric}</th>
        </tr>
      </thead>
      <tbody>
        {profile.bestLayers.map((b) => (
          <tr key={b.scope} data-scope={b.scope}>
            <th scope="row">{label(b.scope)}</th>
            <td data-col="layer">{b.layer}</td>
            <td data-col="value">{fmt(b.value)}</td>
            <td data-col="ci">{ci(b.ciLow, b.ciHigh)}</td>
            <td data-col="cv">{fmt(b.cvValue)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ProfileTable({ profile }: { profile: Profile }) {
  return (
    <table data-testid="layer-profile">
      <caption>
        {profile.metric} (test) [95% CI] and {profile.selectionMetric} (training CV) per layer and ROI; the chosen layer is marked
      </caption>
      <thead>
        <tr>
          <th scope="col">Layer</th>
          {profile.scopes.map((scope) => (
            <th scope="col" key={scope}>
              {label(scope)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {profile.layers.map((layer, i) => {
          const run = profile.cells.find((c) => c.layerIndex === i)?.run;
          return (
            <tr key={layer} data-layer={layer}>
              <th scope="row">{run ? <Link to={`/runs/${run.id}`}>{layer}</Link> : layer}</th>
              {profile.scopes.map((scope) => {
                const c = profile.cells.find((x) => x.layerIndex === i && x.scope === scope);
                return (
                  <td key={scope} data-scope={scope} data-best={c?.best ? 'true' : undefined} className={c?.best ? 'best' : undefined}>
                    {c?.best ? <strong>{fmt(c.value)}</strong> : fmt(c?.value)} {ci(c?.ciLow, c?.ciHigh)}
                    <br />
                    <small>CV {fmt(c?.cvValue)}</small>
                    {c?.best ? <span className="tag"> best</span> : null}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
