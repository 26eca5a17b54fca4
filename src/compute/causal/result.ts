// The stored result of a CAUSAL_TEST run (a JSON run output named `result`), shaped as the
// GraphQL CausalTestResult minus the fields resolved from the catalog (run, query, design file).
import type { CausalClassName } from './classify';

export interface EffectCi {
  effect: number | null;
  ciLow: number | null;
  ciHigh: number | null;
}

export interface ClassCountsBody {
  validatedCausal: number;
  activationOnly: number;
  neither: number;
  activationPositive: number;
}

export interface RoiRowBody {
  roi: string;
  class: CausalClassName;
  nVoxels: number;
  nValidatedVoxels: number;
  nActivationOnlyVoxels: number;
  activationEffect: number | null;
  causalEffect: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  causalDz: EffectCi;
  causalMeanDifference: number | null;
  distractors: { cue: string; effect: number | null; ciLow: number | null; ciHigh: number | null; q: number | null }[];
  replicated: boolean;
  measuredHolds: boolean | null;
}

export interface FollowUpBody {
  voxelOrRoi: string;
  pairs: { positive: string; counterfactual: string; predictedEffect: number }[];
  predictedEffect: number;
  noiseSd: number | null;
  standardizedEffect: number | null;
  trialsFor80Power: number | null;
}

export interface CausalResultBody {
  conceptQueryId: string;
  concept: string;
  fdrQ: number;
  minEffect: number;
  counts: { voxels: ClassCountsBody; rois: ClassCountsBody };
  falsePositiveFraction: number | null;
  roiFalsePositiveFraction: number | null;
  validatedCausalEffect: EffectCi;
  rois: RoiRowBody[];
  validatedVoxels: { voxel: number; rois: string[]; causalEffect: number | null; ciLow: number | null; ciHigh: number | null; activationEffect: number | null; measuredHolds: boolean | null }[];
  followUps: FollowUpBody[];
  measured: { responseSetId: string; nStimuli: number; nPairs: number; candidatesTested: number; candidatesHolding: number } | null;
  groundTruth: { recall: number; falsePositiveRate: number; activationFlaggedNonCausal: number } | null;
}

/** Finite numbers pass; NaN and infinities become null (JSON has no NaN). */
export function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
