// Representational similarity: brain and model RDMs side by side (stimuli ordered by a chosen
// concept label), the layer x ROI matrix of a measure with each ROI's chosen layer marked, and the
// chosen layers' scores per ROI as bars with 95% CIs; every plot has its numbers beside it.
import { useState } from 'react';
import { BarsWithCi, errOf } from '../components/charts';
import { Empty, ErrorBox, Loading } from '../components/common';
import type { RsaResultQuery } from '../generated/graphql';
import { RsaResultDoc } from '../graphql/rsa';
import { ci, fmt } from '../lib/format';
import { useQuery } from '../lib/use-query';
import { NO_RESULTS } from './RunResults';

type Result = NonNullable<NonNullable<RsaResultQuery['run']>['representationalSimilarity']>;
type Heatmaps = NonNullable<Result['heatmaps']>;
const label = (scope: string) => (scope === 'all' ? 'all voxels' : scope.replace(/^roi:/, ''));
const MEASURE_NAMES: Record<string, string> = {
  spearman: "Spearman's rho",
  kendall_tau_a: "Kendall's tau-a",
  pearson: 'Pearson r',
  cka_linear: 'linear CKA',
  cka_debiased: 'debiased CKA',
};

export function RsaResults({ runId }: { runId: string }) {
  const { data, error } = useQuery<RsaResultQuery, { id: string }>(RsaResultDoc, { id: runId });
  const [measure, setMeasure] = useState<string | null>(null);
  if (error && !data) return <ErrorBox error={error} />;
  if (!data) return <Loading what="representational similarity" />;
  const result = data.run?.representationalSimilarity;
  if (!result || !result.cells.length) return <Empty>{NO_RESULTS}</Empty>;
  const m = measure ?? result.measures[0];
  return (
    <>
      <p>
        {result.nStimuli} scored stimuli, brain RDMs by {result.distance} distance, model RDMs by {result.modelDistance} distance.
        {result.layers.length > 1 ? (
          <>
            {' '}
            Each ROI's layer is chosen on {result.nSelection} <em>other</em> stimuli; the value shown is that layer's score on the scored stimuli.
          </>
        ) : null}
      </p>
      <label>
        Measure{' '}
        <select value={m} onChange={(e) => setMeasure(e.target.value)} data-testid="rsa-measure">
          {result.measures.map((x) => (
            <option key={x} value={x}>
              {MEASURE_NAMES[x] ?? x}
            </option>
          ))}
        </select>
      </label>
      <RoiBars result={result} measure={m} />
      <LayerRoiMatrix result={result} measure={m} />
      {result.heatmaps ? <RdmHeatmaps result={result} heatmaps={result.heatmaps} measure={m} /> : null}
    </>
  );
}

function RoiBars({ result, measure }: { result: Result; measure: string }) {
  const best = result.bestLayers.filter((b) => b.measure === measure);
  const data = best.map((b) => ({ label: label(b.scope), value: b.value, err: errOf(b.value, b.ciLow, b.ciHigh) }));
  return (
    <div className="chart-with-table">
      {data.length ? <BarsWithCi data={data} title={`${MEASURE_NAMES[measure] ?? measure} per ROI at its chosen layer`} yLabel={measure} /> : null}
      <table data-testid="rsa-best-layers">
        <caption>{MEASURE_NAMES[measure] ?? measure} per ROI at its chosen layer (95% bootstrap CIs over stimuli; normalised by the ceiling's upper bound)</caption>
        <thead>
          <tr>
            <th scope="col">ROI</th>
            <th scope="col">Layer</th>
            <th scope="col">Value</th>
            <th scope="col">95% CI</th>
            <th scope="col">Normalised</th>
            <th scope="col">Noise ceiling [lower, upper]</th>
          </tr>
        </thead>
        <tbody>
          {best.map((b) => (
            <tr key={b.scope} data-scope={b.scope}>
              <th scope="row">{label(b.scope)}</th>
              <td data-col="layer">{b.layer}</td>
              <td data-col="value">{fmt(b.value)}</td>
              <td data-col="ci">{ci(b.ciLow, b.ciHigh)}</td>
              <td data-col="normalized">
                {fmt(b.normalized)}
                {b.normalized !== null && b.normalized > 1 ? <span className="tag"> above ceiling</span> : null}
              </td>
              <td data-col="ceiling">
                {ci(b.ceilingLower, b.ceilingUpper)} {b.ceilingMethod ? <small>({b.ceilingMethod === 'across-subjects' ? `${b.ceilingSubjects} subjects` : 'split-half'})</small> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LayerRoiMatrix({ result, measure }: { result: Result; measure: string }) {
  const cells = result.cells.filter((c) => c.measure === measure);
  const values = cells.map((c) => c.value);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  return (
    <table data-testid="rsa-matrix">
      <caption>
        {MEASURE_NAMES[measure] ?? measure} per layer and ROI on the scored stimuli
        {result.layers.length > 1 ? ' (value on the selection stimuli below; the chosen layer is marked)' : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">Layer</th>
          {result.scopes.map((s) => (
            <th scope="col" key={s}>
              {label(s)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {result.layers.map((layer, i) => (
          <tr key={layer} data-layer={layer}>
            <th scope="row">{layer}</th>
            {result.scopes.map((scope) => {
              const c = cells.find((x) => x.layerIndex === i && x.scope === scope);
              const shade = c && hi > lo ? (c.value - lo) / (hi - lo) : 0;
              return (
                <td key={scope} data-scope={scope} data-best={c?.best ? 'true' : undefined} className={c?.best ? 'best' : undefined} style={{ backgroundColor: `rgba(31, 95, 168, ${0.08 + 0.35 * shade})` }}>
                  {c?.best ? <strong>{fmt(c.value)}</strong> : fmt(c?.value)}
                  {c?.selectionValue !== null && c?.selectionValue !== undefined ? (
                    <>
                      <br />
                      <small>sel. {fmt(c.selectionValue)}</small>
                    </>
                  ) : null}
                  {c?.best ? <span className="tag"> best</span> : null}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Stimulus order: those carrying the chosen concept first, then grouped by their first concept. */
function orderBy(stimuli: Heatmaps['stimuli'], concept: string): number[] {
  const key = (i: number) => {
    const s = stimuli[i];
    return [s.concepts.includes(concept) ? 0 : 1, s.concepts[0] ?? '\uffff', s.externalId] as const;
  };
  return stimuli
    .map((_, i) => i)
    .sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      return ka[0] - kb[0] || ka[1].localeCompare(kb[1]) || ka[2].localeCompare(kb[2]);
    });
}

function RdmHeatmaps({ result, heatmaps, measure }: { result: Result; heatmaps: Heatmaps; measure: string }) {
  const concepts = [...new Set(heatmaps.stimuli.flatMap((s) => s.concepts))].sort();
  const [concept, setConcept] = useState(concepts[0] ?? '');
  const [scope, setScope] = useState(result.scopes.find((s) => s !== 'all') ?? result.scopes[0]);
  const chosen = result.bestLayers.find((b) => b.scope === scope && b.measure === measure)?.layer;
  const [layerPick, setLayer] = useState<string | null>(null);
  const layer = layerPick ?? chosen ?? result.layers[0];
  const brain = heatmaps.brain.find((h) => h.label === scope);
  const model = heatmaps.model.find((h) => h.label === layer);
  const order = orderBy(heatmaps.stimuli, concept);
  const cell = result.cells.find((c) => c.scope === scope && c.layer === layer && c.measure === measure);
  return (
    <section aria-labelledby="rdm-title">
      <h3 id="rdm-title">RDMs</h3>
      <div className="controls">
        <label>
          Brain{' '}
          <select value={scope} onChange={(e) => setScope(e.target.value)} data-testid="rdm-scope">
            {result.scopes.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Model layer{' '}
          <select value={layer} onChange={(e) => setLayer(e.target.value)} data-testid="rdm-layer">
            {result.layers.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>{' '}
        <label>
          Order stimuli by concept{' '}
          <select value={concept} onChange={(e) => setConcept(e.target.value)} data-testid="rdm-concept">
            {concepts.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
      </div>
      <p data-testid="rdm-comparison">
        {label(scope)} against {layer}: {MEASURE_NAMES[measure] ?? measure} <strong>{fmt(cell?.value)}</strong> over all {result.nStimuli} scored stimuli
        {chosen === layer ? ' (its chosen layer)' : ''}; the maps show {heatmaps.stimuli.length} of them.
      </p>
      <div className="chart-with-table">
        {brain ? <Heatmap matrix={brain.values} size={brain.size} order={order} title={`brain RDM, ${label(scope)}`} /> : null}
        {model ? <Heatmap matrix={model.values} size={model.size} order={order} title={`model RDM, ${layer}`} /> : null}
      </div>
      <table data-testid="rdm-stimuli" className="compact">
        <caption>Stimuli of the maps, in the order shown</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Stimulus</th>
            <th scope="col">Concepts</th>
          </tr>
        </thead>
        <tbody>
          {order.map((i, k) => (
            <tr key={heatmaps.stimuli[i].externalId}>
              <td>{k + 1}</td>
              <td>{heatmaps.stimuli[i].externalId}</td>
              <td>{heatmaps.stimuli[i].concepts.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A square RDM as an SVG grid, each map scaled to its own range (ranks are what RSA compares). */
function Heatmap({ matrix, size, order, title }: { matrix: number[]; size: number; order: number[]; title: string }) {
  const px = Math.max(3, Math.floor(300 / size));
  const off = order.flatMap((i) => order.map((j) => (i === j ? NaN : matrix[i * size + j]))).filter(Number.isFinite);
  const lo = Math.min(...off);
  const hi = Math.max(...off);
  const colour = (v: number) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0;
    // Dark blue (similar) to pale yellow (dissimilar).
    const r = Math.round(20 + 230 * t);
    const g = Math.round(40 + 200 * t);
    const b = Math.round(120 - 20 * t);
    return `rgb(${r},${g},${b})`;
  };
  return (
    <figure className="chart" data-testid="rdm-heatmap" aria-label={`${title}: ${size} stimuli, dissimilarities from ${fmt(lo)} to ${fmt(hi)}`}>
      <svg width={px * size} height={px * size} role="img">
        {order.map((i, a) =>
          order.map((j, b) => <rect key={`${a}-${b}`} x={b * px} y={a * px} width={px} height={px} fill={i === j ? '#ffffff' : colour(matrix[i * size + j])} />),
        )}
      </svg>
      <figcaption>
        {title} (dark: similar, light: dissimilar; range {fmt(lo)} to {fmt(hi)})
      </figcaption>
    </figure>
  );
}
