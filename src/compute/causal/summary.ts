// Turns a causal test's arrays into what users read: counts, ROI rows with held-out effects and
// CIs, the strongest validated voxels, follow-up experiments with the trials they need, and
// ground-truth recall where it is known.
import type { CausalTestOutcome, UnitResults } from './causal-test';
import { CLASS, CLASS_NAMES, countClasses, type Thresholds } from './classify';
import type { CausalDesign } from './design';
import { finite, type CausalResultBody, type FollowUpBody, type RoiRowBody } from './result';
import { davWithCi, dzCi, hedgesGCi, trialsForPower } from './stats';
import { tQuantile } from './distributions';

export interface MeasuredOutcome {
  responseSetId: string;
  nStimuli: number;
  nPairs: number;
  /** Per validated voxel: whether the causal contrast holds on measured responses. */
  voxelHolds: Map<number, boolean>;
  /** Per ROI (null where the ROI was not a candidate). */
  roiHolds: (boolean | null)[];
}

export interface SummaryInput {
  conceptQueryId: string;
  concept: string;
  outcome: CausalTestOutcome;
  /** The full (unsplit) design and the externalId of every row. */
  design: CausalDesign;
  externalIds: string[];
  rois: { name: string; voxels: ArrayLike<number> }[];
  thresholds: Thresholds;
  /** Single-trial noise SD per voxel (response units), or null without a noise ceiling. */
  noiseSd: Float64Array | null;
  measured: MeasuredOutcome | null;
  groundTruth: { causalVoxels: number[]; nonCausalVoxels: number[] } | null;
  maxVoxelFollowUps?: number;
  maxListedVoxels?: number;
}

const counts = (c: ReturnType<typeof countClasses>) => ({
  validatedCausal: c.validatedCausal,
  activationOnly: c.activationOnly,
  neither: c.neither,
  activationPositive: c.activationPositive,
});

function heldOutCausal(u: UnitResults, j: number, nPairs: number) {
  const c = u.heldOut.causal;
  return davWithCi(c.meanDiff[j], c.sdDiff[j], c.sdAverage[j], nPairs);
}

function followUp(label: string, u: UnitResults, j: number, k: number, input: SummaryInput, noiseSd: number | null): FollowUpBody {
  const pairs: FollowUpBody['pairs'] = [];
  for (let r = 0; r < k; r++) {
    const i = u.topPairIndex[j * k + r];
    if (i < 0) continue;
    pairs.push({
      positive: input.externalIds[input.design.positives[i]],
      counterfactual: input.externalIds[input.design.counterfactuals[i]],
      predictedEffect: u.topPairDiff[j * k + r],
    });
  }
  const predictedEffect = pairs.reduce((a, p) => a + p.predictedEffect, 0) / Math.max(1, pairs.length);
  const standardized = noiseSd && noiseSd > 0 ? predictedEffect / (Math.SQRT2 * noiseSd) : null;
  return {
    voxelOrRoi: label,
    pairs,
    predictedEffect,
    noiseSd: noiseSd === null ? null : finite(noiseSd),
    standardizedEffect: standardized === null ? null : finite(standardized),
    trialsFor80Power: standardized === null ? null : trialsForPower(standardized),
  };
}

export function summarise(input: SummaryInput): CausalResultBody {
  const { outcome } = input;
  const v = outcome.voxels;
  const r = outcome.rois;
  const k = outcome.topPairs;
  const held = outcome.split.heldOut;
  const nPairs = held.positives.length;
  const voxelRois: string[][] = Array.from({ length: outcome.nVoxels }, () => []);
  input.rois.forEach((roi) => {
    for (let i = 0; i < roi.voxels.length; i++) voxelRois[roi.voxels[i]].push(roi.name);
  });

  const rows: RoiRowBody[] = input.rois.map((roi, j) => {
    const causal = heldOutCausal(r, j, nPairs);
    const inRoi = countClasses(v.classification, roi.voxels);
    return {
      roi: roi.name,
      class: CLASS_NAMES[r.classification.classes[j]],
      nVoxels: roi.voxels.length,
      nValidatedVoxels: inRoi.validatedCausal,
      nActivationOnlyVoxels: inRoi.activationOnly,
      activationEffect: finite(r.heldOut.activation.effect[j]),
      causalEffect: finite(causal.effect),
      ciLow: finite(causal.ciLow),
      ciHigh: finite(causal.ciHigh),
      causalDz: (() => {
        const dz = dzCi(r.heldOut.causal.dz[j], nPairs);
        return { effect: finite(dz.effect), ciLow: finite(dz.ciLow), ciHigh: finite(dz.ciHigh) };
      })(),
      causalMeanDifference: finite(r.heldOut.causal.meanDiff[j]),
      distractors: held.distractors.map((g, gi) => {
        const ci = hedgesGCi(r.heldOut.distractors[gi].effect[j], nPairs, g.rows.length);
        return { cue: g.cue, effect: finite(ci.effect), ciLow: finite(ci.ciLow), ciHigh: finite(ci.ciHigh), q: finite(r.classification.q.distractors[gi][j]) };
      }),
      replicated: r.classification.replicated[j] === 1,
      measuredHolds: input.measured?.roiHolds[j] ?? null,
    };
  });

  const validated: number[] = [];
  for (let j = 0; j < outcome.nVoxels; j++) if (v.classification.classes[j] === CLASS.VALIDATED_CAUSAL) validated.push(j);
  validated.sort((a, b) => v.heldOut.causal.effect[b] - v.heldOut.causal.effect[a]);
  const effects = validated.map((j) => v.heldOut.causal.effect[j]);
  const meanEffect = effects.length ? effects.reduce((a, b) => a + b, 0) / effects.length : NaN;
  const sdEffect = effects.length > 1 ? Math.sqrt(effects.reduce((a, b) => a + (b - meanEffect) ** 2, 0) / (effects.length - 1)) : NaN;
  const half = effects.length > 1 ? (tQuantile(0.975, effects.length - 1) * sdEffect) / Math.sqrt(effects.length) : NaN;

  const roiNoise = input.rois.map((roi) => {
    if (!input.noiseSd) return null;
    let ss = 0;
    for (let i = 0; i < roi.voxels.length; i++) ss += input.noiseSd[roi.voxels[i]] ** 2;
    return Math.sqrt(ss / roi.voxels.length);
  });
  const followUps: FollowUpBody[] = [];
  input.rois.forEach((roi, j) => {
    if (r.classification.classes[j] === CLASS.VALIDATED_CAUSAL) followUps.push(followUp(`roi:${roi.name}`, r, j, k, input, roiNoise[j]));
  });
  for (const j of validated.slice(0, input.maxVoxelFollowUps ?? 50)) followUps.push(followUp(`voxel:${j}`, v, j, k, input, input.noiseSd ? input.noiseSd[j] : null));

  let groundTruth: CausalResultBody['groundTruth'] = null;
  if (input.groundTruth) {
    const frac = (idx: number[], hit: (j: number) => boolean) => (idx.length ? idx.filter(hit).length / idx.length : NaN);
    const isValidated = (j: number) => v.classification.classes[j] === CLASS.VALIDATED_CAUSAL;
    groundTruth = {
      recall: frac(input.groundTruth.causalVoxels, isValidated),
      falsePositiveRate: frac(input.groundTruth.nonCausalVoxels, isValidated),
      activationFlaggedNonCausal: frac(input.groundTruth.nonCausalVoxels, (j) => v.classification.activationPositive[j] === 1),
    };
  }
  const voxelCounts = countClasses(v.classification);
  const roiCounts = countClasses(r.classification);
  const measuredHolds = input.measured ? [...input.measured.voxelHolds.values()] : [];
  return {
    conceptQueryId: input.conceptQueryId,
    concept: input.concept,
    fdrQ: input.thresholds.fdrQ,
    minEffect: input.thresholds.minEffect,
    counts: { voxels: counts(voxelCounts), rois: counts(roiCounts) },
    falsePositiveFraction: voxelCounts.falsePositiveFraction,
    roiFalsePositiveFraction: roiCounts.falsePositiveFraction,
    validatedCausalEffect: { effect: finite(meanEffect), ciLow: finite(meanEffect - half), ciHigh: finite(meanEffect + half) },
    rois: rows,
    validatedVoxels: validated.slice(0, input.maxListedVoxels ?? 200).map((j) => {
      const ci = heldOutCausal(v, j, nPairs);
      return {
        voxel: j,
        rois: voxelRois[j],
        causalEffect: finite(ci.effect),
        ciLow: finite(ci.ciLow),
        ciHigh: finite(ci.ciHigh),
        activationEffect: finite(v.heldOut.activation.effect[j]),
        measuredHolds: input.measured?.voxelHolds.get(j) ?? null,
      };
    }),
    followUps,
    measured: input.measured
      ? {
          responseSetId: input.measured.responseSetId,
          nStimuli: input.measured.nStimuli,
          nPairs: input.measured.nPairs,
          candidatesTested: measuredHolds.length,
          candidatesHolding: measuredHolds.filter(Boolean).length,
        }
      : null,
    groundTruth,
  };
}
