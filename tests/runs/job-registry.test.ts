// Every run kind has a job module, and parameters recorded by earlier versions still parse to
// what their handlers used then.
import { checkJobRegistry, jobs } from '../../src/jobs/registry';

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
});
