// The trained reference in-context encoder (models/braincorl/reference.onnx) on a synthetic subject
// held out from its meta-training: better than ridge on the same few context images, and better
// with more of them (BraInCoRL's test-time-scaling claim, on data with a known population).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedEngine } from '../../src/compute/engine-instance';
import { dryRun, loadEncoder } from '../../src/compute/icl/encoder';
import { unitNormRows } from '../../src/compute/icl/predict';
import { ICL_EVALUATION_SUBJECTS, ICL_TRAINING_SUBJECTS, iclReferenceConfig } from '../../src/compute/icl/reference-data';
import { testTimeScaling } from '../../src/compute/icl/sweep';
import { averageRepeats, generateSynthetic, takeRows } from '../../src/compute/synthetic';
import { DEFAULT_ALPHAS } from '../../src/domain/encoding';

const MODEL = path.join(__dirname, '../../models/braincorl/reference.onnx');
const present = existsSync(MODEL);
const SMALL_KS = [10, 50];
const LARGE_K = 200;
/** Every fourth voxel of the subject (all ROIs), which keeps the sweep to seconds. */
const VOXEL_STEP = 4;

describe('reference in-context encoder on a held-out subject', () => {
  if (!present) {
    it.skip('needs models/braincorl/reference.onnx (trained by models/braincorl/train.py); absent, so skipped', () => undefined);
    return;
  }

  it('beats ridge on the same context at k <= 50, and its held-out explained variance rises with k', async () => {
    const subject = ICL_EVALUATION_SUBJECTS[0];
    expect(ICL_TRAINING_SUBJECTS).not.toContain(subject);
    const data = generateSynthetic(iclReferenceConfig([subject], { nTrainPerSubject: 250, nSharedTest: 200 }));
    const s = data.subjects[0];
    const clip = data.features.clip;
    const voxels = Array.from({ length: Math.ceil(s.nVoxels / VOXEL_STEP) }, (_, i) => i * VOXEL_STEP);
    const responses = (r: ReturnType<typeof averageRepeats>) => takeColumns(r, voxels);
    const engine = await sharedEngine();
    const encoder = loadEncoder(new Uint8Array(readFileSync(MODEL)));
    expect(encoder.featureWidth).toBe(clip.cols);
    await dryRun(engine, encoder);

    const arrays = {
      Xtrain: unitNormRows(takeRows(clip, s.trainStimuli)),
      Ytrain: responses(averageRepeats(s.train)),
      Xtest: unitNormRows(takeRows(clip, s.testStimuli)),
      Ytest: responses(averageRepeats(s.test)),
    };
    const options = { repeats: 2, seed: 1, batchVoxels: 1024, alphas: DEFAULT_ALPHAS, scopes: { all: voxels.map((_, i) => i) } };
    // Same seed, so the k = 200 contexts extend the small ones; ridge is only needed where compared.
    const small = await testTimeScaling(engine, encoder, arrays, { ...options, ks: SMALL_KS, compareRidge: true });
    const large = await testTimeScaling(engine, encoder, arrays, { ...options, ks: [LARGE_K], compareRidge: false });
    const icl = small.curves.in_context!.explained_variance.all;
    const ridge = small.curves.ridge!.explained_variance.all;
    for (let i = 0; i < SMALL_KS.length; i++) {
      // Every repeat, not only the mean: the same context images for both methods.
      icl[i].values.forEach((v, r) => expect(v).toBeGreaterThan(ridge[i].values[r]));
    }
    const curve = [...icl, ...large.curves.in_context!.explained_variance.all].map((p) => p.mean);
    for (let i = 1; i < curve.length; i++) expect(curve[i]).toBeGreaterThan(curve[i - 1]);
  }, 240_000);
});

/** Columns `cols` of a (n, v) matrix. */
function takeColumns(m: { data: Float32Array; rows: number; cols: number }, cols: number[]) {
  const out = new Float32Array(m.rows * cols.length);
  for (let i = 0; i < m.rows; i++) cols.forEach((c, j) => (out[i * cols.length + j] = m.data[i * m.cols + c]));
  return { data: out, rows: m.rows, cols: cols.length };
}
