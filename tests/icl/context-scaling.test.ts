// Registration refuses an in-context encoder whose attention scale was frozen at export (the
// official BraInCoRL module through torch.onnx.export) and accepts the same weights converted with
// models/braincorl/convert_checkpoint.py. Fixtures: scripts/fixtures/icl_frozen_scaling.py.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedEngine } from '../../src/compute/engine-instance';
import { dryRun, loadEncoder } from '../../src/compute/icl/encoder';
import { readScalingGraph } from '../../src/compute/icl/scaling';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { uploadArtifact } from '../helpers/upload';
import { ridgeInContextEncoder, withContribOps } from './encoders';
import { onnx } from 'onnx-proto';

const dir = path.join(__dirname, '../fixtures/icl');
const frozen = new Uint8Array(readFileSync(path.join(dir, 'frozen-scaling.onnx')));
const converted = new Uint8Array(readFileSync(path.join(dir, 'converted.onnx')));
const reference = new Uint8Array(readFileSync(path.join(__dirname, '../../models/braincorl/reference.onnx')));
const official = JSON.parse(readFileSync(path.join(dir, 'frozen-scaling.json'), 'utf8')) as {
  E: number;
  B: number;
  Q: number;
  exportContextSize: number;
  registers: number;
  cases: { S: number; ic_img: number[]; ic_nrn: number[]; unknown_img: number[]; weights: number[] }[];
};

async function weightsOf(bytes: Uint8Array, key: string, c: (typeof official.cases)[number]) {
  const { B, E, Q } = official;
  const out = await (await sharedEngine()).run(
    { name: key, singleThread: false, bytes, key: `test:${key}`, inputNames: ['ic_img', 'ic_nrn', 'unknown_img'], outputNames: ['weights'] },
    {
      ic_img: { data: Float32Array.from(c.ic_img), dims: [B, c.S, E] },
      ic_nrn: { data: Float32Array.from(c.ic_nrn), dims: [B, c.S] },
      unknown_img: { data: Float32Array.from(c.unknown_img), dims: [B, Q, E] },
    },
  );
  return Array.from(out.weights.data as Float32Array);
}
const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe('the export trap, shown against the official PyTorch forward', () => {
  it('the frozen export agrees only at its traced context size; the converted one at every size', async () => {
    for (const c of official.cases) {
      const scale = Math.max(...c.weights.map(Math.abs));
      expect(maxAbsDiff(await weightsOf(converted, 'converted', c), c.weights)).toBeLessThan(1e-4 * scale);
      const dFrozen = maxAbsDiff(await weightsOf(frozen, 'frozen', c), c.weights);
      if (c.S === official.exportContextSize) expect(dFrozen).toBeLessThan(1e-4 * scale);
      else expect(dFrozen).toBeGreaterThan(1e-2 * scale);
    }
  });

  it('reads the frozen constant and the runtime logs from the graphs', () => {
    const bad = readScalingGraph(frozen, null);
    expect(bad.applies).toBe(true);
    expect(bad.runtimeLogs).toEqual([]);
    expect(bad.frozen.map((f) => f.length)).toEqual([27, 27]); // log(4 registers + 23 images), once per block
    const good = readScalingGraph(converted, 'BraInCoRL HyperweightsPredictorModel');
    expect(good).toMatchObject({ applies: true, frozen: [] });
    expect(good.runtimeLogs).toHaveLength(2);
    // A ridge-in-context encoder has neither attention nor a declared architecture: not concerned.
    expect(readScalingGraph(ridgeInContextEncoder({ featureWidth: 8, lambda: 0.1 }), 'closed-form ridge over the context').applies).toBe(false);
  });

  it('the dry run refuses a BraInCoRL graph whose log does not follow the context size', async () => {
    // The converted graph with its Log inputs replaced by a constant 27: a scale fixed by hand.
    const model = onnx.ModelProto.decode(converted);
    const logs = model.graph!.node!.filter((n) => n.opType === 'Log');
    model.graph!.initializer!.push({ name: 'fixed_length', dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [27] });
    for (const n of logs) n.input = ['fixed_length'];
    const fixed = onnx.ModelProto.encode(model).finish();
    await expect(dryRun(await sharedEngine(), loadEncoder(fixed))).rejects.toThrow(/not computed from the context.*convert_checkpoint\.py/);
    // A log of the context that is not log(S + registers): twice the sequence length.
    const doubled = onnx.ModelProto.decode(converted);
    doubled.graph!.initializer!.push({ name: 'two', dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [2] });
    const nodes = doubled.graph!.node!;
    for (const n of nodes.filter((x) => x.opType === 'Log')) {
      const src = n.input![0];
      nodes.splice(nodes.indexOf(n), 0, { opType: 'Mul', name: `${n.name}_doubled`, input: [src, 'two'], output: [`${src}_doubled`] });
      n.input = [`${src}_doubled`];
    }
    await expect(dryRun(await sharedEngine(), loadEncoder(onnx.ModelProto.encode(doubled).finish()))).rejects.toThrow(
      /does not follow the context size: .*none of its logs reads log\(S \+ registers\) at both S = 4 and S = 29.*convert_checkpoint\.py/,
    );
    // Declared BraInCoRL, but no log of the context at all.
    const ridge = withContribOps(ridgeInContextEncoder({ featureWidth: 8, lambda: 0.1 }), [], { 'brainalign.architecture': 'BraInCoRL (claimed)' });
    await expect(dryRun(await sharedEngine(), loadEncoder(ridge))).rejects.toThrow(/brainalign\.architecture says BraInCoRL/);
  });
});

describe('registerModel(kind: IN_CONTEXT_ENCODER) and the context scale', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });
  const REGISTER = `mutation($i: RegisterModelInput!) { registerModel(input: $i) { id featureWidth } }`;
  async function register(bytes: Uint8Array, filename: string) {
    const artifact = await uploadArtifact(api, bytes, filename);
    return api.gql(REGISTER, { i: { name: uniqueName('icl'), kind: 'IN_CONTEXT_ENCODER', artifactId: artifact.id } });
  }

  it('refuses the official module exported directly, pointing to convert_checkpoint.py, and registers nothing', async () => {
    const before = await api.db.model.count({ where: { kind: 'IN_CONTEXT_ENCODER' } });
    const { errors } = await register(frozen, 'braincorl-exported.onnx');
    expect(errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'artifactId' });
    expect(errors?.[0].message).toMatch(/braincorl-exported\.onnx: The model's context scaling is frozen: .*constant 3\.295837 = log\(27\).*models\/braincorl\/convert_checkpoint\.py/);
    expect(await api.db.model.count({ where: { kind: 'IN_CONTEXT_ENCODER' } })).toBe(before);
  });

  it('accepts the same weights converted with convert_checkpoint.py, and the shipped reference encoder', async () => {
    const good = await register(converted, 'braincorl-converted.onnx');
    expect(good.errors).toBeUndefined();
    expect(good.data.registerModel.featureWidth).toBe(official.E);
    const ref = await register(reference, 'reference.onnx');
    expect(ref.errors).toBeUndefined();
    expect(ref.data.registerModel.featureWidth).toBe(512);
  });
});
