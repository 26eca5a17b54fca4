// Causal tests: which ROIs hold up under counterfactual edits (validated causal) and which only
// respond to the concept's correlates (activation only), the false-positive accounting, and the
// follow-up fMRI experiments proposed for them.
import { useEffect, useState } from 'react';
import { BarsWithCi, COLOURS, errOf } from '../components/charts';
import { Empty, ErrorBox, Loading } from '../components/common';
import { request } from '../lib/client';
import { ci, fmt, pct } from '../lib/format';
import { existingSelection, listFieldsWith, queryFieldType, type Spec } from '../lib/optional-fields';
import { NO_RESULTS } from './RunResults';

interface RoiRow {
  roi?: string;
  class?: string;
  nVoxels?: number;
  nValidatedVoxels?: number;
  nActivationOnlyVoxels?: number;
  activationEffect?: number | null;
  causalEffect?: number | null;
  ciLow?: number | null;
  ciHigh?: number | null;
  replicated?: boolean | null;
  measuredHolds?: boolean | null;
}
interface FollowUp {
  voxelOrRoi?: string;
  pairs?: { positive?: string; counterfactual?: string; predictedEffect?: number | null }[];
  predictedEffect?: number | null;
  trialsFor80Power?: number | null;
}
interface ClassCounts {
  validatedCausal?: number;
  activationOnly?: number;
  neither?: number;
  activationPositive?: number;
}
interface CausalResult {
  concept?: string;
  fdrQ?: number;
  minEffect?: number;
  /** Per class, either directly or split into voxels and ROIs. */
  counts?: ClassCounts & { voxels?: ClassCounts; rois?: ClassCounts };
  falsePositiveFraction?: number | null;
  roiFalsePositiveFraction?: number | null;
  groundTruth?: { recall?: number; falsePositiveRate?: number; activationFlaggedNonCausal?: number } | null;
  followUps?: FollowUp[];
  [rows: string]: unknown;
}

const ROI_SPEC: Spec = { roi: true, class: true, nVoxels: true, nValidatedVoxels: true, nActivationOnlyVoxels: true, activationEffect: true, causalEffect: true, ciLow: true, ciHigh: true, replicated: true, measuredHolds: true };
const COUNT_SPEC: Spec = { validatedCausal: true, activationOnly: true, neither: true, activationPositive: true };
const CLASS_COLOUR: Record<string, string> = { VALIDATED_CAUSAL: COLOURS.good, ACTIVATION_ONLY: COLOURS.warn };

async function loadCausal(runId: string): Promise<{ result: CausalResult | null; roiField: string | null } | null> {
  const type = await queryFieldType('causalTestResult');
  if (!type) return null;
  const roiFields = await listFieldsWith(type, ['roi', 'class']);
  const spec: Spec = {
    concept: true,
    fdrQ: true,
    minEffect: true,
    counts: { ...COUNT_SPEC, voxels: COUNT_SPEC, rois: COUNT_SPEC },
    falsePositiveFraction: true,
    roiFalsePositiveFraction: true,
    groundTruth: { recall: true, falsePositiveRate: true, activationFlaggedNonCausal: true },
    followUps: { voxelOrRoi: true, pairs: { positive: true, counterfactual: true, predictedEffect: true }, predictedEffect: true, trialsFor80Power: true },
  };
  for (const f of roiFields) spec[f] = ROI_SPEC;
  const selection = await existingSelection(type, spec);
  if (!selection) return null;
  const d = await request<{ causalTestResult: CausalResult | null }, { id: string }>(`query CausalTestResult($id: ID!) { causalTestResult(runId: $id) ${selection} }`, { id: runId });
  return { result: d.causalTestResult, roiField: roiFields[0] ?? null };
}

export function CausalResults({ runId }: { runId: string }) {
  const [state, setState] = useState<{ result: CausalResult | null; roiField: string | null } | null | undefined>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    loadCausal(runId).then(setState, setError);
  }, [runId]);
  if (error) return <ErrorBox error={error} />;
  if (state === undefined) return <Loading what="causal test result" />;
  if (!state || !state.result) return <Empty>{NO_RESULTS}</Empty>;
  const r = state.result;
  const rows = ((state.roiField ? r[state.roiField] : null) as RoiRow[] | null) ?? [];
  const data = rows.map((x) => ({
    label: x.roi ?? '?',
    value: x.causalEffect ?? 0,
    err: errOf(x.causalEffect ?? 0, x.ciLow, x.ciHigh),
    colour: CLASS_COLOUR[x.class ?? ''] ?? COLOURS.muted,
  }));
  const yes = (b: boolean | null | undefined) => (b === null || b === undefined ? '–' : b ? 'yes' : 'no');
  return (
    <>
      {r.concept ? (
        <p>
          Concept <strong>{r.concept}</strong>
          {r.fdrQ !== undefined ? `, Benjamini-Hochberg q ${r.fdrQ}` : ''}
          {r.minEffect !== undefined ? `, minimum effect ${r.minEffect}` : ''}
        </p>
      ) : null}
      {r.counts ? <CountsTable counts={r.counts} fp={r.falsePositiveFraction} roiFp={r.roiFalsePositiveFraction} /> : null}
      {r.groundTruth ? (
        <p data-testid="causal-ground-truth">
          Against the planted ground truth: recall {pct(r.groundTruth.recall)}, false-positive rate of validated voxels {pct(r.groundTruth.falsePositiveRate)}, non-causal voxels
          activation alone flags {pct(r.groundTruth.activationFlaggedNonCausal)}.
        </p>
      ) : null}
      {data.length ? <BarsWithCi data={data} title="Causal effect per ROI (green: validated causal, red: activation only, grey: neither)" yLabel="causal effect" /> : null}
      {rows.length ? (
        <table data-testid="causal-rois">
          <caption>Per-ROI causal map</caption>
          <thead>
            <tr>
              <th scope="col">ROI</th>
              <th scope="col">Class</th>
              <th scope="col">Voxels (validated / activation only)</th>
              <th scope="col">Activation effect</th>
              <th scope="col">Causal effect</th>
              <th scope="col">95% CI</th>
              <th scope="col">Replicated on held-out split</th>
              <th scope="col">Holds on measured fMRI</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((x) => (
              <tr key={x.roi}>
                <th scope="row">{x.roi}</th>
                <td>{x.class ?? '–'}</td>
                <td>{x.nVoxels !== undefined ? `${x.nVoxels} (${x.nValidatedVoxels ?? '–'} / ${x.nActivationOnlyVoxels ?? '–'})` : '–'}</td>
                <td>{fmt(x.activationEffect)}</td>
                <td>{fmt(x.causalEffect)}</td>
                <td>{ci(x.ciLow, x.ciHigh)}</td>
                <td>{yes(x.replicated)}</td>
                <td>{yes(x.measuredHolds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {r.followUps?.length ? (
        <table data-testid="causal-followups">
          <caption>Proposed follow-up experiments</caption>
          <thead>
            <tr>
              <th scope="col">Voxel or ROI</th>
              <th scope="col">Image pairs (positive → counterfactual)</th>
              <th scope="col">Predicted effect</th>
              <th scope="col">Trials for 80% power</th>
            </tr>
          </thead>
          <tbody>
            {r.followUps.map((f, i) => (
              <tr key={`${f.voxelOrRoi}-${i}`}>
                <th scope="row">{f.voxelOrRoi}</th>
                <td>
                  <ul className="pairs">
                    {(f.pairs ?? []).map((p, j) => (
                      <li key={j}>
                        {p.positive} → {p.counterfactual}
                        {p.predictedEffect !== undefined ? ` (${fmt(p.predictedEffect)})` : ''}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{fmt(f.predictedEffect)}</td>
                <td>{f.trialsFor80Power ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

/** Class counts with the false-positive accounting: voxels and ROIs side by side when both exist. */
function CountsTable({ counts, fp, roiFp }: { counts: NonNullable<CausalResult['counts']>; fp?: number | null; roiFp?: number | null }) {
  const columns: [string, ClassCounts, number | null | undefined][] = counts.voxels || counts.rois
    ? [
        ['Voxels', counts.voxels ?? {}, fp],
        ['ROIs', counts.rois ?? {}, roiFp],
      ]
    : [['Units', counts, fp]];
  const row = (label: string, get: (c: ClassCounts) => number | undefined) => (
    <tr>
      <th scope="row">{label}</th>
      {columns.map(([name, c]) => (
        <td key={name}>{get(c) ?? '–'}</td>
      ))}
    </tr>
  );
  return (
    <table data-testid="causal-counts">
      <caption>Classification and false-positive accounting</caption>
      <thead>
        <tr>
          <th scope="col">Class</th>
          {columns.map(([name]) => (
            <th scope="col" key={name}>
              {name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {row('Validated causal', (c) => c.validatedCausal)}
        {row('Activation only', (c) => c.activationOnly)}
        {row('Neither', (c) => c.neither)}
        {row('Flagged by activation alone', (c) => c.activationPositive)}
        <tr>
          <th scope="row">Activation-only localisations that are false positives</th>
          {columns.map(([name, , f]) => (
            <td key={name} data-col="false-positive-fraction">
              {pct(f)}
            </td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}
