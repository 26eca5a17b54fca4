// The demo catalog the embedded profile seeds on first start: a synthetic NSD-like dataset
// (subjects with named ROIs, images with concepts and captions, two backbones' features, responses
// with 3 repeats), imported through the same mutations and jobs a lab would use.
import type { Services } from '../services';
import type { Log } from '../runs/log';
import { createContext } from '../resolvers/context';
import { createDataset, createStimulusSet, createSubject, registerModel } from '../domain/catalog';
import { storeArtifact } from '../domain/artifacts';
import { importFeatureSet, importResponseSet } from '../domain/imports';
import { encodeNpy } from '../storage';
import { demoData, DEMO_DATASET } from './demo-data';

export async function seedDemoCatalog(services: Services, log: Log): Promise<boolean> {
  const ctx = createContext(services);
  const existing = await services.db.dataset.findUnique({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_DATASET } } });
  if (existing) return false;
  const started = Date.now();
  const data = demoData();
  const dataset = await createDataset(ctx, { name: DEMO_DATASET, description: data.description, visibility: 'PUBLIC' });
  const models = new Map<string, string>();
  for (const b of data.backbones) {
    const model = await registerModel(ctx, { name: b.name, kind: 'BACKBONE', family: b.family, featureWidth: b.width, visibility: 'PUBLIC' });
    models.set(b.name, model.id);
  }
  const save = (name: string, shape: number[], values: Float32Array) =>
    storeArtifact(services, Buffer.from(encodeNpy({ dtype: '<f4', shape, data: values })), {
      filename: name,
      labId: services.defaultLabId,
      dtype: '<f4',
      shape,
    });
  for (const s of data.subjects) {
    const subject = await createSubject(ctx, { datasetId: dataset.id, name: s.name, nVoxels: s.nVoxels, rois: s.rois });
    const set = await createStimulusSet(ctx, { datasetId: dataset.id, name: `${s.name}-images`, description: s.stimulusDescription, stimuli: s.stimuli });
    for (const [backbone, features] of s.features) {
      const artifact = await save(`${s.name}-${backbone}.npy`, [s.stimuli.length, features.width], features.values);
      await importFeatureSet(ctx, { modelId: models.get(backbone)!, stimulusSetId: set.id, artifactId: artifact.id, idempotencyKey: `seed-${s.name}-${backbone}` });
    }
    const responses = await save(`${s.name}-betas.npy`, [s.nRepeats, s.stimuli.length, s.nVoxels], s.responses);
    await importResponseSet(ctx, { subjectId: subject.id, stimulusSetId: set.id, artifactId: responses.id, idempotencyKey: `seed-${s.name}-betas` });
  }
  log('info', 'demo catalog seeded', { dataset: DEMO_DATASET, subjects: data.subjects.length, ms: Date.now() - started });
  return true;
}
