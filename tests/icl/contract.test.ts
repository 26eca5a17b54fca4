// The in-context encoder contract: which ONNX files registration accepts, and how it refuses the
// rest (what was expected, what was found), directly and through registerModel.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedEngine } from '../../src/compute/engine-instance';
import { readContract } from '../../src/compute/icl/contract';
import { dryRun, loadEncoder } from '../../src/compute/icl/encoder';
import { studentTQuantile, summarizeRepeats } from '../../src/compute/icl/repeats';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact } from '../helpers/upload';
import { ridgeInContextEncoder, signatureModel } from './encoders';

const E = 8;
const fixtures = JSON.parse(readFileSync(path.join(__dirname, 'fixtures/t_intervals.json'), 'utf8'));

/** weights = [B, E+1] built from ic_img: mean over S, then padded by one column. */
const weightsFrom = (width: number) => (g: any, [img]: string[]) =>
  g.node('Pad', [g.node('ReduceMean', [img], { axes: [1], keepdims: 0 }), g.ints([0, 0, 0, width + 1 - E])]);

describe('reading the contract', () => {
  it('accepts the weights-only and the three-input variants, with E and the context limit from the model', async () => {
    const two = readContract(ridgeInContextEncoder({ featureWidth: E, lambda: 0.1, maxContext: 300 }));
    expect(two).toMatchObject({ variant: 'weights-only', featureWidth: E, maxContext: 300, hasPred: false });
    const three = readContract(ridgeInContextEncoder({ featureWidth: E, lambda: 0.1, threeInput: true }));
    expect(three).toMatchObject({ variant: 'three-input', featureWidth: E, maxContext: null, hasPred: true, architecture: 'closed-form ridge over the context' });
    const engine = await sharedEngine();
    await dryRun(engine, loadEncoder(ridgeInContextEncoder({ featureWidth: E, lambda: 0.1, threeInput: true })));
    await dryRun(engine, loadEncoder(ridgeInContextEncoder({ featureWidth: E, lambda: 0.1 })));
  });

  it('refuses a file that is not an ONNX model', () => {
    expect(() => readContract(new TextEncoder().encode('definitely not a protobuf \u0000\u00ff'))).toThrow(/not an ONNX model/);
    expect(() => readContract(new Uint8Array(0))).toThrow(/not an ONNX model/);
  });

  it('refuses wrong names, types, ranks, fixed batch sizes and disagreeing widths, saying what it expected', () => {
    const renamed = signatureModel([{ name: 'context_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', E + 1], build: weightsFrom(E) }]);
    expect(() => readContract(renamed)).toThrow(/input ic_img is missing\. Expected inputs ic_img float32 \[B, S, E\].*found inputs context_img float32 \[B, S, 8\]/);
    const noWeights = signatureModel([{ name: 'ic_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'w', dims: ['B', E + 1], build: weightsFrom(E) }]);
    expect(() => readContract(noWeights)).toThrow(/output weights is missing/);
    const rank3 = signatureModel(
      [{ name: 'ic_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }],
      [{ name: 'weights', dims: ['B', E + 1, 1], build: (g, i) => g.node('Unsqueeze', [weightsFrom(E)(g, i), g.ints([2])]) }],
    );
    expect(() => readContract(rank3)).toThrow(/weights has rank 3, not 2/);
    const float64 = signatureModel([{ name: 'ic_img', dims: ['B', 'S', E], type: 'float64' }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', E + 1], build: (g, i) => g.node('Cast', [weightsFrom(E)(g, i)], { to: 1 }) }]);
    expect(() => readContract(float64)).toThrow(/ic_img is float64, not float32/);
    const fixedBatch = signatureModel([{ name: 'ic_img', dims: [1, 'S', E] }, { name: 'ic_nrn', dims: [1, 'S'] }], [{ name: 'weights', dims: [1, E + 1], build: weightsFrom(E) }]);
    expect(() => readContract(fixedBatch)).toThrow(/ic_img has a fixed B = 1; B must be dynamic/);
    const wrongWidth = signatureModel([{ name: 'ic_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', E + 2], build: weightsFrom(E + 1) }]);
    expect(() => readContract(wrongWidth)).toThrow(/feature width disagrees: ic_img dimension 2 gives E = 8, weights dimension 1 minus 1 gives E = 9/);
    const extraInput = signatureModel([{ name: 'ic_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }, { name: 'mask', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', E + 1], build: weightsFrom(E) }]);
    expect(() => readContract(extraInput)).toThrow(/unexpected input mask/);
    const badMeta = ridgeInContextEncoder({ featureWidth: E, lambda: 0.1, declaredWidth: E + 4 });
    expect(() => readContract(badMeta)).toThrow(/brainalign.feature_width gives E = 12/);
  });

  it('refuses, at the dry run, a model whose outputs do not have the shapes it declares', async () => {
    // Declares weights [B, E+1] but returns [B, E].
    const short = signatureModel([{ name: 'ic_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', 'W'], build: (g, [img]) => g.node('ReduceMean', [img], { axes: [1], keepdims: 0 }) }], { 'brainalign.feature_width': String(E) });
    const encoder = loadEncoder(short);
    await expect(dryRun(await sharedEngine(), encoder)).rejects.toThrow(/returned weights of shape \[3, 8\]; the contract expects \[3, 9\]/);
    const nan = signatureModel([{ name: 'ic_img', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', E + 1], build: (g, i) => g.node('Div', [weightsFrom(E)(g, i), g.constant([0], 'float32', [])]) }]);
    await expect(dryRun(await sharedEngine(), loadEncoder(nan))).rejects.toThrow(/non-finite weights/);
  });
});

describe('Student-t intervals over repeats', () => {
  it('match scipy.stats.t (tests/icl/fixtures/t_intervals.py)', () => {
    for (const [df, q] of Object.entries(fixtures.quantile975 as Record<string, number>)) expect(studentTQuantile(0.975, Number(df))).toBeCloseTo(q, 8);
    for (const s of fixtures.intervals) {
      const got = summarizeRepeats(s.values);
      expect(got.mean).toBeCloseTo(s.mean, 12);
      expect(got.ciLow!).toBeCloseTo(s.ciLow, 9);
      expect(got.ciHigh!).toBeCloseTo(s.ciHigh, 9);
    }
    expect(summarizeRepeats([0.3])).toEqual({ mean: 0.3, ciLow: null, ciHigh: null, n: 1 });
  });
});

describe('registerModel(kind: IN_CONTEXT_ENCODER)', () => {
  let api: TestApi;
  let backbone8: string;
  let backbone16: string;
  beforeAll(async () => {
    api = await startTestApi();
    const reg = `mutation($n: String!, $w: Int!) { registerModel(input: { name: $n, kind: BACKBONE, featureWidth: $w }) { id } }`;
    backbone8 = (await api.ok(reg, { n: uniqueName('bb8'), w: E })).registerModel.id;
    backbone16 = (await api.ok(reg, { n: uniqueName('bb16'), w: 16 })).registerModel.id;
  });
  afterAll(() => api.close());

  const REGISTER = `mutation($i: RegisterModelInput!) { registerModel(input: $i) { id kind featureWidth backbone { id } } }`;
  async function register(bytes: Uint8Array, extra: Record<string, unknown> = {}) {
    const artifact = await uploadArtifact(api, bytes, 'encoder.onnx');
    return api.gql(REGISTER, { i: { name: uniqueName('icl'), kind: 'IN_CONTEXT_ENCODER', artifactId: artifact.id, ...extra } });
  }

  it('registers a conforming encoder with its backbone and takes E from the model', async () => {
    const { data, errors } = await register(ridgeInContextEncoder({ featureWidth: E, lambda: 0.1 }), { backboneId: backbone8 });
    expect(errors).toBeUndefined();
    expect(data.registerModel).toMatchObject({ kind: 'IN_CONTEXT_ENCODER', featureWidth: E, backbone: { id: backbone8 } });
    const three = await register(ridgeInContextEncoder({ featureWidth: E, lambda: 0.5, threeInput: true }), { featureWidth: E });
    expect(three.errors).toBeUndefined();
  });

  it('refuses a wrong E, against the declared width and against the backbone', async () => {
    const bytes = ridgeInContextEncoder({ featureWidth: E, lambda: 0.2 });
    const declared = await register(bytes, { featureWidth: 16 });
    expect(declared.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'featureWidth', expected: E });
    expect(declared.errors?.[0].message).toMatch(/featureWidth is 16 but the model reads features of width E = 8/);
    const viaBackbone = await register(bytes, { backboneId: backbone16 });
    expect(viaBackbone.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'backboneId' });
    expect(viaBackbone.errors?.[0].message).toMatch(/gives features of width 16 but the encoder reads E = 8/);
  });

  it('refuses files that break the contract, naming the expected signature, and registers nothing', async () => {
    const before = await api.db.model.count({ where: { kind: 'IN_CONTEXT_ENCODER' } });
    const notOnnx = await register(new TextEncoder().encode('{"weights": "not a model"}'));
    expect(notOnnx.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId' });
    expect(notOnnx.errors?.[0].message).toMatch(/encoder\.onnx: The artifact is not an ONNX model/);
    const renamed = await register(signatureModel([{ name: 'x', dims: ['B', 'S', E] }, { name: 'ic_nrn', dims: ['B', 'S'] }], [{ name: 'weights', dims: ['B', E + 1], build: weightsFrom(E) }]));
    expect(renamed.errors?.[0].extensions.expected).toMatch(/ic_img float32 \[B, S, E\]/);
    expect(renamed.errors?.[0].message).toMatch(/input ic_img is missing/);
    const missing = await api.gql(REGISTER, { i: { name: uniqueName('icl'), kind: 'IN_CONTEXT_ENCODER', featureWidth: E } });
    expect(missing.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId' });
    expect(await api.db.model.count({ where: { kind: 'IN_CONTEXT_ENCODER' } })).toBe(before);
  });
});
