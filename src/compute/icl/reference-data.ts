// The synthetic population the reference in-context encoder (models/braincorl) was meta-trained
// on and is evaluated against. Every subject shares the seed, the 'clip' backbone and the ROI set,
// so the feature projection and the ROI weight priors are common to all of them; only a subject's
// own weights (and noise) depend on its id. Training and evaluation subjects never overlap.
import { defaultSyntheticConfig, roiSet, type SyntheticConfig } from '../synthetic';

export const ICL_REFERENCE_SEED = 7;

export const ICL_TRAINING_SUBJECTS: string[] = Array.from({ length: 16 }, (_, i) => `train${String(i + 1).padStart(2, '0')}`);

/** Held out from meta-training. */
export const ICL_EVALUATION_SUBJECTS: string[] = ['eval01', 'eval02'];

export function iclReferenceConfig(subjectIds: string[], options: { nTrainPerSubject?: number; nSharedTest?: number } = {}): SyntheticConfig {
  return defaultSyntheticConfig({
    seed: ICL_REFERENCE_SEED,
    backbones: [{ name: 'clip', width: 512 }],
    subjects: subjectIds.map((id) => ({ id, rois: roiSet(1.0) })),
    ...(options.nTrainPerSubject !== undefined ? { nTrainPerSubject: options.nTrainPerSubject } : {}),
    ...(options.nSharedTest !== undefined ? { nSharedTest: options.nSharedTest } : {}),
  });
}
