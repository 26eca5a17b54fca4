// Registers synthetic NSD-like subjects through the GraphQL API exactly as a lab would: catalog
// mutations, direct uploads, imports (executed by the API's queue), waiting for READY.
import { encodeNpy } from '../../src/storage';
import type { DemoSubject } from '../../src/embedded/demo-data';
import type { TestApi } from './api';
import { uniqueName } from './db';
import { uploadArtifact, waitForRun } from './upload';

export interface RegisteredSubject {
  name: string;
  subjectId: string;
  stimulusSetId: string;
  responseSetId: string;
  /** Backbone name -> feature set id. */
  featureSets: Record<string, string>;
}

export async function registerSynthetic(
  api: TestApi,
  data: { backbones: { name: string; width: number }[]; subjects: DemoSubject[] },
): Promise<{ datasetId: string; subjects: RegisteredSubject[] }> {
  const { createDataset: ds } = await api.ok(`mutation($n: String!) { createDataset(input: { name: $n, visibility: PUBLIC }) { id } }`, { n: uniqueName('synthetic') });
  const models: Record<string, string> = {};
  for (const b of data.backbones) {
    const { registerModel } = await api.ok(`mutation($n: String!, $w: Int!) { registerModel(input: { name: $n, kind: BACKBONE, featureWidth: $w }) { id } }`, {
      n: uniqueName(b.name),
      w: b.width,
    });
    models[b.name] = registerModel.id;
  }
  const subjects: RegisteredSubject[] = [];
  const runs: string[] = [];
  for (const s of data.subjects) {
    const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, {
      i: { datasetId: ds.id, name: s.name, nVoxels: s.nVoxels, rois: s.rois },
    });
    const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
      i: { datasetId: ds.id, name: `${s.name}-images`, stimuli: s.stimuli },
    });
    const featureSets: Record<string, string> = {};
    for (const [backbone, f] of s.features) {
      const artifact = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [s.stimuli.length, f.width], data: f.values }), `${s.name}-${backbone}.npy`);
      const { importFeatureSet } = await api.ok(`mutation($i: ImportFeatureSetInput!) { importFeatureSet(input: $i) { run { id } featureSet { id } } }`, {
        i: { modelId: models[backbone], stimulusSetId: createStimulusSet.id, artifactId: artifact.id },
      });
      featureSets[backbone] = importFeatureSet.featureSet.id;
      runs.push(importFeatureSet.run.id);
    }
    const betas = await uploadArtifact(api, encodeNpy({ dtype: '<f4', shape: [s.nRepeats, s.stimuli.length, s.nVoxels], data: s.responses }), `${s.name}-betas.npy`);
    const { importResponseSet } = await api.ok(`mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`, {
      i: { subjectId: createSubject.id, stimulusSetId: createStimulusSet.id, artifactId: betas.id },
    });
    runs.push(importResponseSet.run.id);
    subjects.push({ name: s.name, subjectId: createSubject.id, stimulusSetId: createStimulusSet.id, responseSetId: importResponseSet.responseSet.id, featureSets });
  }
  for (const id of runs) {
    const run = await waitForRun(api, id);
    if (run.status !== 'SUCCEEDED') throw new Error(`import ${id} ended ${run.status}: ${run.error?.message}`);
  }
  return { datasetId: ds.id, subjects };
}
