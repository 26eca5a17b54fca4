// Writes the population parameters of the reference synthetic data (src/compute/icl/reference-data.ts)
// to population.json, so train.py can draw any number of fresh subjects from the same population
// without large data files. With `--subject ID --out DIR` it also writes that subject as the
// service sees it (features, repeat-averaged responses, true SNR) for checking the Python sampler.
//   npx tsx models/braincorl/export_synthetic.ts [--subject eval01 --out /tmp/icl-check]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../../bench/npy';
import { ICL_REFERENCE_SEED, iclReferenceConfig } from '../../src/compute/icl/reference-data';
import { averageRepeats, generateSynthetic, roiSet, syntheticPopulation, takeRows } from '../../src/compute/synthetic';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const config = iclReferenceConfig(['population']);
const population = syntheticPopulation(config);
const round = (a: Float64Array) => Array.from(a, (x) => Number(x.toPrecision(17)));
const out = {
  seed: ICL_REFERENCE_SEED,
  concepts: config.concepts,
  nLatent: config.nLatent,
  stimulusSpread: config.stimulusSpread,
  centroids: round(population.centroids.data),
  backbone: { name: 'clip', width: 512, featureNoise: config.backbones[0].featureNoise ?? 0.5, projection: round(population.projections.clip.data) },
  rois: roiSet(1.0).map((r) => ({ name: r.name, nVoxels: r.nVoxels, preferredConcept: r.preferredConcept ?? null, priorBasis: round(population.priorBases[r.name].data) })),
  priorRank: config.priorRank,
  subjectSpecificScale: config.subjectSpecificScale,
  categorySelectivity: config.categorySelectivity,
  snrRange: config.snrRange,
  nReps: config.nReps,
};
const target = join(__dirname, 'population.json');
writeFileSync(target, JSON.stringify(out) + '\n');
console.log(`wrote ${target}`);

const subject = arg('subject');
const dir = arg('out');
if (subject && dir) {
  mkdirSync(dir, { recursive: true });
  const ds = generateSynthetic(iclReferenceConfig([subject], { nTrainPerSubject: 2000, nSharedTest: 1000 }));
  const s = ds.subjects[0];
  const X = ds.features.clip;
  const train = takeRows(X, s.trainStimuli);
  const test = takeRows(X, s.testStimuli);
  writeNpy(join(dir, 'x_train.npy'), train.data, [train.rows, train.cols]);
  writeNpy(join(dir, 'x_test.npy'), test.data, [test.rows, test.cols]);
  const ytr = averageRepeats(s.train);
  const yte = averageRepeats(s.test);
  writeNpy(join(dir, 'y_train.npy'), ytr.data, [ytr.rows, ytr.cols]);
  writeNpy(join(dir, 'y_test.npy'), yte.data, [yte.rows, yte.cols]);
  writeNpy(join(dir, 'snr.npy'), s.snr, [s.nVoxels]);
  console.log(`wrote ${subject} (${s.nVoxels} voxels) to ${dir}`);
}
