// Every run kind has a job module, and parameters recorded by earlier versions still parse to
// what their handlers used then.
import { checkJobRegistry, jobs, readParams } from '../../src/jobs/registry';

describe('job registry', () => {
  it('holds a module for every run kind, each under its own kind', () => {
    expect(() => checkJobRegistry()).not.toThrow();
  });

  it('names the kinds without a module at start-up', () => {
    const { VQA_EVAL: _dropped, ...rest } = jobs;
    expect(() => checkJobRegistry(rest)).toThrow(/no job module for VQA_EVAL/);
  });

  it('parses ridge runs recorded before selectionScore, ceiling and voxelBatch existed as they ran', () => {
    const p = jobs.ENCODING_RIDGE.params.parse({ featureSetId: 'f', responseSetId: 'r', testStimulusIds: ['a', 'b', 'c'], alphas: [1, 10], folds: 5, bootstrapSamples: 0, seed: 0 });
    expect(p).toMatchObject({ selectionScore: 'r2', alphas: [1, 10] });
    expect(p).not.toHaveProperty('ceiling');
    expect(p).not.toHaveProperty('voxelBatch');
  });

  it('parses VQA runs recorded before scoringMode existed as normalized', () => {
    const p = jobs.VQA_EVAL.params.parse({ benchmarkId: 'b', artifactId: 'a', format: null, bootstrapSamples: 10, seed: 0 });
    expect(p).toMatchObject({ scoringMode: 'normalized' });
  });

  it('parses response imports recorded before split-half reliability with its defaults', () => {
    const p = jobs.IMPORT_RESPONSES.params.parse({ responseSetId: 'r', artifactId: 'a', npzMember: null });
    expect(p).toMatchObject({ splitHalfSplits: 100, splitHalfSeed: 0 });
  });

  it('reads recorded parameters through the kind\'s schema, and answers null for ones that do not parse', () => {
    const sweep = readParams('LAYER_SWEEP', {
      modelId: '00000000-0000-4000-8000-000000000001',
      responseSetId: '00000000-0000-4000-8000-000000000002',
      layers: [{ layer: 'stage1', featureSetId: '00000000-0000-4000-8000-000000000003' }],
      testStimulusIds: ['a', 'b', 'c'],
    });
    expect(sweep?.layers[0].featureSetId).toBe('00000000-0000-4000-8000-000000000003');
    expect(sweep).toMatchObject({ folds: 5, bootstrapSamples: 1000 });
    expect(readParams('LAYER_SWEEP', { layers: 'none' })).toBeNull();
    expect(readParams('IMPORT_RESPONSES', null)).toBeNull();
  });
});
