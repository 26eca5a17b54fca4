// The brain-space demo: one synthetic subject on a small voxel grid (20 x 24 x 20, 2 mm), registered
// as a lab registers NIfTI data (a brain mask and an ROI label volume with its label table, through
// createSubjectFromMask), with responses and clip features imported as usual and one ridge
// encoding run queued once they are READY, so its per-voxel maps show as slices on `npm start`.
//
// The mask is a cortex-like ellipsoidal shell; five ROIs are patches of it (V1 at the occipital
// pole, V4, FFA, PPA, EBA on both sides). Voxels in an ROI get a signal-to-noise ratio that falls
// from the patch centre outwards, voxels outside the ROIs a low one, so the map of r shows the ROIs.
import type { Log } from '../log';
import type { Services } from '../services';
import { defaultSyntheticConfig, generateSynthetic } from '../compute/synthetic';
import { storeArtifact } from '../domain/artifacts';
import { createSubjectFromMask } from '../domain/brain-space';
import { createDataset, createStimulusSet } from '../domain/catalog';
import { submitEncodingRidge } from '../domain/encoding';
import { importFeatureSet, importResponseSet } from '../domain/imports';
import { domainContext } from '../domain/context';
import { encodeNpy } from '../storage';
import { encodeNifti1 } from '../storage/nifti';
import { existingRunKeys, logQueued } from './demo-common';

export const DEMO_SPACE_DATASET = 'synthetic-brain-space';
const SUBJECT = 'subj01';
const BACKBONE = 'clip';
export const DEMO_SPACE_SHAPE: [number, number, number] = [20, 24, 20];
/** 2 mm voxels, RAS, the grid's centre at the origin. */
export const DEMO_SPACE_AFFINE = [2, 0, 0, -19, 0, 2, 0, -23, 0, 0, 2, -19, 0, 0, 0, 1];
const CENTRE = [9.5, 11.5, 9.5];
const RADII = [8.5, 10.5, 8];
/** The shell between these fractions of the ellipsoid's radii is the "cortex". */
const SHELL = [0.8, 1];

/** Label, name, patch radius (voxels) and the directions from the centre of its patch centres. */
const ROIS: { label: number; name: string; radius: number; concept?: string; at: number[][] }[] = [
  { label: 1, name: 'V1', radius: 3.5, at: [[0, -1, 0]] },
  { label: 2, name: 'V4', radius: 2.5, at: [[0.6, -0.8, 0], [-0.6, -0.8, 0]] },
  { label: 3, name: 'FFA', radius: 2.5, concept: 'face', at: [[0.5, -0.3, -0.8], [-0.5, -0.3, -0.8]] },
  { label: 4, name: 'PPA', radius: 2, concept: 'place', at: [[0.15, -0.05, -1], [-0.15, -0.05, -1]] },
  { label: 5, name: 'EBA', radius: 2.5, concept: 'body', at: [[0.9, -0.4, 0.15], [-0.9, -0.4, 0.15]] },
];
const SNR_IN_ROI: [number, number] = [0.4, 1.6];
const SNR_OUTSIDE = 0.15;

interface DemoSpace {
  mask: Uint8Array;
  labels: Int16Array;
  /** Per mask voxel (C order over x, y, z, as createSubjectFromMask orders them): its label and SNR. */
  voxelLabel: number[];
  voxelSnr: number[];
}

/** Mask, label volume (NIfTI order, x fastest) and what each subject voxel will be. */
export function demoBrainSpace(): DemoSpace {
  const [nx, ny, nz] = DEMO_SPACE_SHAPE;
  const mask = new Uint8Array(nx * ny * nz);
  const labels = new Int16Array(nx * ny * nz);
  const centres = ROIS.map((roi) =>
    roi.at.map((u) => {
      const n = Math.hypot(...u);
      return u.map((x, a) => CENTRE[a] + (0.9 * RADII[a] * x) / n);
    }),
  );
  const voxelLabel: number[] = [];
  const voxelSnr: number[] = [];
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++)
      for (let k = 0; k < nz; k++) {
        const e = Math.sqrt([i, j, k].reduce((s, x, a) => s + ((x - CENTRE[a]) / RADII[a]) ** 2, 0));
        if (e < SHELL[0] || e > SHELL[1]) continue;
        const at = i + nx * (j + ny * k);
        mask[at] = 1;
        let label = 0;
        let snr = SNR_OUTSIDE;
        for (const [r, roi] of ROIS.entries()) {
          const d = Math.min(...centres[r].map((c) => Math.hypot(i - c[0], j - c[1], k - c[2])));
          if (d > roi.radius) continue;
          label = roi.label;
          snr = SNR_IN_ROI[1] - (SNR_IN_ROI[1] - SNR_IN_ROI[0]) * (d / roi.radius);
          break;
        }
        labels[at] = label;
        voxelLabel.push(label);
        voxelSnr.push(snr);
      }
  return { mask, labels, voxelLabel, voxelSnr };
}

/**
 * Responses for the subject's voxels: the synthetic generator's ROIs (plus "cortex" for the voxels
 * outside every ROI) laid onto the mask voxels of their label, each voxel's signal rescaled to its
 * SNR (noise SD 1).
 */
function demoResponses(space: DemoSpace) {
  const count = (label: number) => space.voxelLabel.filter((l) => l === label).length;
  const rois: { name: string; nVoxels: number; preferredConcept?: string; label: number }[] = [
    ...ROIS.map((r) => ({ name: r.name, nVoxels: count(r.label), preferredConcept: r.concept, label: r.label })),
    { name: 'cortex', nVoxels: count(0), label: 0 },
  ];
  const config = defaultSyntheticConfig({
    seed: 2026,
    nTrainPerSubject: 400,
    nSharedTest: 100,
    backbones: [{ name: BACKBONE, width: 512 }],
    subjects: [{ id: SUBJECT, rois: rois.map(({ name, nVoxels, preferredConcept }) => ({ name, nVoxels, preferredConcept })) }],
  });
  const data = generateSynthetic(config);
  const s = data.subjects[0];
  // Synthetic voxel -> subject voxel: the n-th voxel of an ROI goes to the n-th mask voxel of its label.
  const target = new Int32Array(s.nVoxels);
  for (const roi of rois) {
    const slots = space.voxelLabel.flatMap((l, v) => (l === roi.label ? [v] : []));
    s.rois.find((r) => r.name === roi.name)!.voxels.forEach((sv, n) => (target[sv] = slots[n]));
  }
  const order = [...s.trainStimuli, ...s.testStimuli];
  const V = s.nVoxels;
  const R = s.train.nReps;
  const responses = new Float32Array(R * order.length * V);
  const place = (signal: ArrayLike<number>, noisy: ArrayLike<number>, n: number, row0: number) => {
    for (let r = 0; r < R; r++)
      for (let i = 0; i < n; i++)
        for (let sv = 0; sv < V; sv++) {
          const clean = signal[i * V + sv];
          const noise = noisy[r * n * V + i * V + sv] - clean;
          const v = target[sv];
          responses[r * order.length * V + (row0 + i) * V + v] = (clean / s.snr[sv]) * space.voxelSnr[v] + noise;
        }
  };
  place(s.trainSignal.data, s.train.data, s.train.nStimuli, 0);
  place(s.testSignal.data, s.test.data, s.test.nStimuli, s.train.nStimuli);
  const features = data.features[BACKBONE];
  const X = new Float32Array(order.length * features.cols);
  order.forEach((stim, row) => X.set(features.data.subarray(stim * features.cols, (stim + 1) * features.cols), row * features.cols));
  return {
    stimuli: order.map((i) => ({ externalId: data.stimuli[i].id, concepts: [data.stimuli[i].concept], caption: data.stimuli[i].caption })),
    nRepeats: R,
    nVoxels: V,
    responses,
    features: { width: features.cols, values: X },
  };
}

/** Seeds the dataset on first start (false when it exists); queueBrainSpaceDemo queues its ridge run. */
export async function seedBrainSpaceDemo(services: Services, log: Log): Promise<boolean> {
  const ctx = domainContext(services);
  const labId = services.defaultLabId;
  const existing = await services.db.dataset.findUnique({ where: { labId_name: { labId, name: DEMO_SPACE_DATASET } } });
  const model = await services.db.model.findUnique({ where: { labId_name: { labId, name: BACKBONE } } });
  if (existing || !model) return false;
  const started = Date.now();
  const space = demoBrainSpace();
  const data = demoResponses(space);
  const dataset = await createDataset(ctx, {
    name: DEMO_SPACE_DATASET,
    visibility: 'PUBLIC',
    description:
      'Synthetic subject in brain space (deterministic, seed 2026): a 20 x 24 x 20 grid of 2 mm voxels, a cortex-like mask and an ROI label volume ' +
      '(V1, V4, FFA, PPA, EBA) registered from NIfTI files; ROI voxels have higher SNR towards their patch centres, so maps show the ROIs.',
  });
  const save = (filename: string, bytes: Buffer, meta: { dtype?: string; shape?: number[] } = {}) => storeArtifact(services, bytes, { filename, labId, ...meta });
  const nifti = (data: ArrayLike<number>, datatype: 'uint8' | 'int16') => encodeNifti1({ shape: DEMO_SPACE_SHAPE, affine: DEMO_SPACE_AFFINE, data, datatype }, { gzip: true });
  const mask = await save(`${SUBJECT}-brainmask.nii.gz`, nifti(space.mask, 'uint8'));
  const labels = await save(`${SUBJECT}-visual-rois.nii.gz`, nifti(space.labels, 'int16'));
  const table = await save(`${SUBJECT}-visual-rois.txt`, Buffer.from(ROIS.map((r) => `${r.label} ${r.name}`).join('\n') + '\n'));
  const { subject } = await createSubjectFromMask(ctx, {
    datasetId: dataset.id,
    name: SUBJECT,
    maskArtifactId: mask.id,
    roiAtlases: [{ labelsArtifactId: labels.id, tableArtifactId: table.id }],
  });
  const set = await createStimulusSet(ctx, { datasetId: dataset.id, name: `${SUBJECT}-space-images`, description: '400 training images, then 100 test images', stimuli: data.stimuli });
  const npy = (shape: number[], values: Float32Array) => Buffer.from(encodeNpy({ dtype: '<f4', shape, data: values }));
  const features = await save(`${SUBJECT}-space-${BACKBONE}.npy`, npy([data.stimuli.length, data.features.width], data.features.values), {
    dtype: '<f4',
    shape: [data.stimuli.length, data.features.width],
  });
  await importFeatureSet(ctx, { modelId: model.id, stimulusSetId: set.id, artifactId: features.id, idempotencyKey: `seed-space-${SUBJECT}-${BACKBONE}` });
  const shape = [data.nRepeats, data.stimuli.length, data.nVoxels];
  const responses = await save(`${SUBJECT}-space-betas.npy`, npy(shape, data.responses), { dtype: '<f4', shape });
  await importResponseSet(ctx, { subjectId: subject.id, stimulusSetId: set.id, artifactId: responses.id, idempotencyKey: `seed-space-${SUBJECT}-betas` });
  log('info', 'brain-space demo seeded', { dataset: DEMO_SPACE_DATASET, voxels: data.nVoxels, shape: DEMO_SPACE_SHAPE, ms: Date.now() - started });
  return true;
}

/** The test images of the demo (its last 100), by the stimulus set's order. */
async function testStimuli(services: Services, stimulusSetId: string): Promise<string[]> {
  const rows = await services.db.stimulus.findMany({ where: { stimulusSetId }, select: { externalId: true }, orderBy: { position: 'asc' } });
  return rows.slice(-100).map((r) => r.externalId);
}

/** Once the imports are READY, queues the ridge run (idempotent); true when done or given up (an import failed). */
export async function queueBrainSpaceDemo(services: Services, log: Log): Promise<boolean> {
  const set = await services.db.responseSet.findFirst({
    where: { subject: { name: SUBJECT, dataset: { labId: services.defaultLabId, name: DEMO_SPACE_DATASET } } },
    include: { subject: true },
  });
  const features = set && (await services.db.featureSet.findFirst({ where: { model: { labId: services.defaultLabId, name: BACKBONE }, stimulusSetId: set.stimulusSetId } }));
  if (!set || !features || set.status === 'FAILED' || features.status === 'FAILED') return true;
  if (set.status !== 'READY' || features.status !== 'READY') return false;
  const key = `demo-space-ridge-${SUBJECT}-${BACKBONE}`;
  const present = await existingRunKeys(services, [key]);
  if (!present.has(key))
    await submitEncodingRidge(domainContext(services), {
      featureSetId: features.id,
      responseSetId: set.id,
      testStimulusIds: await testStimuli(services, set.stimulusSetId),
      bootstrapSamples: 200,
      idempotencyKey: key,
    });
  logQueued(log, 'demo brain-space run', present.has(key) ? [] : [key], [...present], { subject: SUBJECT, backbone: BACKBONE });
  return true;
}
