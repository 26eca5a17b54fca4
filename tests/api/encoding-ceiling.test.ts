// ENCODING_RIDGE's ceiling parameter: scores normalised by NSD's ncsnr ceiling (default, as
// before) or by the response set's split-half reliability, and leaderboards saying which.
import { demoData } from '../../src/embedded/demo-data';
import { decodeNpy } from '../../src/storage';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';
import { registerSynthetic, type RegisteredSubject } from '../helpers/synthetic-catalog';
import { waitForRun } from '../helpers/upload';

let api: TestApi;
let subject: RegisteredSubject;
const SUBMIT = `mutation($i: EncodingRidgeInput!) { submitEncodingRidge(input: $i) { id params } }`;
const data = demoData({ nTrain: 120, nShared: 40, roiScale: 0.05 });

beforeAll(async () => {
  api = await startTestApi({ queue: 'in-process' });
  const { subjects } = await registerSynthetic(api, data);
  subject = subjects[0];
}, 120_000);
afterAll(() => api.close());

const download = async (url: string) => decodeNpy(new Uint8Array(await (await fetch(url)).arrayBuffer())).data as Float32Array;

describe('ENCODING_RIDGE ceiling', () => {
  it('normalises explained variance by the split-half reliability when asked, and says so on scores and leaderboards', async () => {
    const { createBenchmark: bench } = await api.ok(`mutation($n: String!) { createBenchmark(input: { name: $n, kind: ENCODING, metric: "explained_variance.mean" }) { id } }`, { n: uniqueName('ceiling') });
    const common = { featureSetId: subject.featureSets.clip, responseSetId: subject.responseSetId, bootstrapSamples: 0, benchmarkId: bench.id };
    const { submitEncodingRidge: byNcsnr } = await api.ok(SUBMIT, { i: common });
    expect(byNcsnr.params.ceiling).toBeUndefined();
    const { submitEncodingRidge: bySplit } = await api.ok(SUBMIT, { i: { ...common, ceiling: 'splitHalf' } });
    expect(bySplit.params.ceiling).toBe('splitHalf');
    for (const id of [byNcsnr.id, bySplit.id]) expect((await waitForRun(api, id, 120_000)).status).toBe('SUCCEEDED');

    const { responseSet } = await api.ok(`query($id: ID!) { responseSet(id: $id) { splitHalf { downloadUrl } noiseCeiling { downloadUrl } } }`, { id: subject.responseSetId });
    const [splitHalf, nc] = await Promise.all([download(responseSet.splitHalf.downloadUrl), download(responseSet.noiseCeiling.downloadUrl)]);
    const outputs = async (id: string) => {
      const { run } = await api.ok(`query($id: ID!) { run(id: $id) { provenance outputs { name artifact { downloadUrl } } scores { metric scope normalized extra } } }`, { id });
      const maps = Object.fromEntries(await Promise.all(run.outputs.map(async (o: any) => [o.name, await download(o.artifact.downloadUrl)])));
      return { run, maps };
    };
    const a = await outputs(byNcsnr.id);
    const b = await outputs(bySplit.id);
    expect(a.run.provenance.ceiling).toBe('ncsnr');
    expect(b.run.provenance.ceiling).toBe('splitHalf');
    // Normalised = explained variance / ceiling fraction, NaN where the ceiling is not positive.
    const ev = b.maps.explainedVariance;
    let checked = 0;
    for (let j = 0; j < ev.length; j++) {
      const want = splitHalf[j] > 0 ? ev[j] / splitHalf[j] : NaN;
      if (Number.isNaN(want)) expect(Number.isNaN(b.maps.normalizedExplainedVariance[j])).toBe(true);
      else {
        expect(b.maps.normalizedExplainedVariance[j]).toBeCloseTo(want, 4);
        checked++;
      }
      const old = nc[j] > 0 ? a.maps.explainedVariance[j] / (nc[j] / 100) : NaN;
      if (!Number.isNaN(old)) expect(a.maps.normalizedExplainedVariance[j]).toBeCloseTo(old, 4);
    }
    expect(checked).toBeGreaterThan(ev.length / 2);
    const all = (run: any) => run.scores.find((s: any) => s.metric === 'explained_variance.mean' && s.scope === 'all');
    expect(all(a.run).extra.ceiling).toBe('ncsnr');
    expect(all(b.run).extra.ceiling).toBe('splitHalf');

    const { leaderboard } = await api.ok(`query($b: ID!) { leaderboard(benchmarkId: $b, rankBy: NORMALIZED) { edges { node { normalized ceiling run { id } } } } }`, { b: bench.id });
    const ceilingOf = Object.fromEntries(leaderboard.edges.map((e: any) => [e.node.run.id, e.node.ceiling]));
    expect(ceilingOf).toEqual({ [byNcsnr.id]: 'ncsnr', [bySplit.id]: 'splitHalf' });
  }, 180_000);
});
