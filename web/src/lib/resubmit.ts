// Resubmitting a finished run: only kinds whose recorded parameters are a complete submit input.
import type { ResubmitEncodingRidgeMutation, EncodingRidgeInput } from '../generated/graphql';
import { ResubmitEncodingRidgeDoc } from '../graphql/runs';
import { request } from './client';

type Resubmit = (params: unknown) => Promise<string>;

const fresh = () => `dashboard-resubmit-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

const byKind: Record<string, Resubmit> = {
  ENCODING_RIDGE: async (params) => {
    const p = params as Record<string, unknown>;
    const input: EncodingRidgeInput = {
      featureSetId: String(p.featureSetId),
      responseSetId: String(p.responseSetId),
      testStimulusIds: (p.testStimulusIds as string[]) ?? null,
      alphas: (p.alphas as number[]) ?? null,
      folds: (p.folds as number) ?? null,
      // Runs recorded before the parameter existed chose alphas by R^2.
      selectionScore: (p.selectionScore as EncodingRidgeInput['selectionScore']) ?? 'r2',
      bootstrapSamples: (p.bootstrapSamples as number) ?? null,
      ceiling: (p.ceiling as EncodingRidgeInput['ceiling']) ?? 'ncsnr',
      voxelBatch: (p.voxelBatch as number) ?? null,
      benchmarkId: null,
      idempotencyKey: fresh(),
    };
    const d = await request<ResubmitEncodingRidgeMutation, { input: EncodingRidgeInput }>(ResubmitEncodingRidgeDoc, { input });
    return d.submitEncodingRidge.id;
  },
};

export function resubmitter(kind: string): Resubmit | undefined {
  return byKind[kind];
}
