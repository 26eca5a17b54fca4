// The brain-map montages of a run page in headless Chromium, against the real GraphQL schema
// executed over a planted map: slice pixels are checked voxel by voxel against colours computed
// here from ColorBrewer's RdBu and matplotlib's viridis stops, the numbers against the planted values.
import path from 'node:path';
import { plantedDashboardSuite, SHOTS } from './planted-service';

const fmt = (v: number) => v.toFixed(3);

// The planted subject: an ellipsoid mask in an 8 x 6 x 5 grid, voxels in C order over (i, j, k).
const SHAPE = [8, 6, 5];
const IJK: number[][] = [];
for (let i = 0; i < SHAPE[0]; i++)
  for (let j = 0; j < SHAPE[1]; j++)
    for (let k = 0; k < SHAPE[2]; k++) if (((i - 3.5) / 3.6) ** 2 + ((j - 2.5) / 2.6) ** 2 + ((k - 2) / 2.2) ** 2 <= 1) IJK.push([i, j, k]);
const N = IJK.length;
const NAN_VOXEL = 3;
const R_VALUES = IJK.map(([i, j], v) => (v === NAN_VOXEL ? null : Math.fround((i - 3.5) * 0.1 + 0.05 * j)));
const ALPHA_VALUES = IJK.map(([i]) => 10 ** (i % 3));
const ROIS = [
  { name: 'V1', voxelIndices: IJK.flatMap(([, j], v) => (j <= 1 ? [v] : [])) },
  { name: 'FFA', voxelIndices: IJK.flatMap(([i, j], v) => (i >= 5 && j >= 3 ? [v] : [])) },
];
const finite = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
// The schema's compact forms, written here by hand: little-endian float32 (NaN for no value), and
// one bit per grid point in C order over (i, j, k), high bit first.
const float32Base64 = (xs: (number | null)[]) => {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => b.writeFloatLE(x ?? NaN, 4 * i));
  return b.toString('base64');
};
const MASK_BITS = (() => {
  const b = Buffer.alloc(Math.ceil((SHAPE[0] * SHAPE[1] * SHAPE[2]) / 8));
  for (const [i, j, k] of IJK) {
    const g = (i * SHAPE[1] + j) * SHAPE[2] + k;
    b[g >> 3] |= 0x80 >> (g & 7);
  }
  return b.toString('base64');
})();
const planted = (values: (number | null)[], name: string) => ({
  row: 0,
  nRows: 1,
  nVoxels: N,
  nFinite: finite(values).length,
  min: Math.min(...finite(values)),
  max: Math.max(...finite(values)),
  values,
  voxelIjk: IJK.flat(),
  valuesFloat32: float32Base64(values),
  maskBits: MASK_BITS,
  niftiUrl: `/files/${name}.nii.gz`,
  nifti: { filename: `subj01-${name}.nii.gz` },
  subject: { id: 'subj', name: 'subj01', space: { shape: SHAPE }, rois: ROIS },
});

const RUN_BASE = { params: {}, progress: 1, progressMessage: 'Done', error: null, attempts: 1, provenance: {}, createdAt: '2026-01-01T00:00:00Z', startedAt: null, finishedAt: null, outputs: [], title: 'Planted run', model: null, layer: null, subject: null, dataset: null, benchmark: null };
const SCORES = [{ id: 's1', metric: 'pearson_r.mean', scope: 'roi:V1', value: 0.2, ciLow: 0.1, ciHigh: 0.3, normalized: null, n: 10, extra: {} }];
const RUNS: Record<string, object> = {
  'run-map': {
    ...RUN_BASE,
    id: 'run-map',
    kind: 'ENCODING_RIDGE',
    status: 'SUCCEEDED',
    scores: SCORES,
    brainMapOutputs: [
      { name: 'alpha', nRows: 1 },
      { name: 'pearsonR', nRows: 1 },
    ],
    brainMap: ({ output }: { output: string }) => planted(output === 'alpha' ? ALPHA_VALUES : R_VALUES, output),
  },
  'run-flat': { ...RUN_BASE, id: 'run-flat', kind: 'ENCODING_RIDGE', status: 'SUCCEEDED', scores: SCORES, brainMapOutputs: [], brainMap: () => null },
};

// Colour scales as published: ColorBrewer RdBu (7 classes) and five stops of matplotlib's viridis.
const RDBU = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]];
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function expectedColour(stops: number[][], low: number, high: number, x: number) {
  const t = Math.min(1, Math.max(0, (x - low) / (high - low))) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  return stops[i].map((c, ch) => c + (stops[i + 1][ch] - c) * (t - i));
}
const OUTSIDE = [40, 40, 40];
const NO_VALUE = [150, 150, 150];
const V1_OUTLINE = [255, 127, 0];

plantedDashboardSuite('dashboard brain maps', { run: ({ id }: { id: string }) => RUNS[id] ?? null }, (ui) => {
  /** Every voxel of every drawn slice: its centre pixel, and the expected colour. */
  async function checkSlices(colourOf: (v: number) => number[]) {
    const canvases = ui.page.locator('[data-testid=brain-map] canvas');
    const count = await canvases.count();
    const views: Record<string, number[]> = {};
    let checked = 0;
    for (let c = 0; c < count; c++) {
      const canvas = canvases.nth(c);
      const axis = (await canvas.getAttribute('data-axis'))!;
      const slice = Number(await canvas.getAttribute('data-slice'));
      const px = Number(await canvas.getAttribute('data-px'));
      (views[axis] ??= []).push(slice);
      const [fixed, across, up] = axis === 'axial' ? [2, 0, 1] : axis === 'coronal' ? [1, 0, 2] : [0, 1, 2];
      const pixels: number[] = await canvas.evaluate((el: any) => Array.from(el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data));
      const width = SHAPE[across] * px;
      for (let a = 0; a < SHAPE[across]; a++)
        for (let b = 0; b < SHAPE[up]; b++) {
          const x = a * px + px / 2;
          const y = (SHAPE[up] - 1 - b) * px + px / 2;
          const got = pixels.slice(4 * (y * width + x), 4 * (y * width + x) + 3);
          const v = IJK.findIndex((ijk) => ijk[fixed] === slice && ijk[across] === a && ijk[up] === b);
          const want = v < 0 ? OUTSIDE : colourOf(v);
          got.forEach((ch, i) => expect(Math.abs(ch - want[i])).toBeLessThanOrEqual(1));
          checked++;
        }
    }
    return { views, checked };
  }

  it('draws axial, coronal and sagittal slices of the map with a symmetric diverging scale, ROI outlines and its numbers', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-map`);
    await ui.page.getByTestId('brain-map-numbers').waitFor();
    const values = finite(R_VALUES);
    const limit = Math.max(-Math.min(...values), Math.max(...values));
    const numbers = ui.page.getByTestId('brain-map-numbers');
    expect(await numbers.locator('[data-col=scale-low]').innerText()).toBe(fmt(-limit));
    expect(await numbers.locator('[data-col=scale-high]').innerText()).toBe(fmt(limit));
    expect(await numbers.locator('[data-col=min]').innerText()).toBe(fmt(Math.min(...values)));
    expect(await numbers.locator('[data-col=max]').innerText()).toBe(fmt(Math.max(...values)));
    expect(await numbers.locator('[data-col=voxels]').innerText()).toBe(String(N));
    expect(await numbers.locator('[data-col=finite]').innerText()).toBe(`${N - 1} with a value`);
    expect(await ui.page.locator('[data-testid=colour-bar] [data-col=low]').innerText()).toBe(fmt(-limit));
    for (const roi of ROIS) {
      const row = ui.page.locator(`[data-testid=brain-map-rois] tr[data-roi="${roi.name}"]`);
      const xs = finite(roi.voxelIndices.map((v) => R_VALUES[v]));
      expect(await row.locator('[data-col=voxels]').innerText()).toBe(String(roi.voxelIndices.length));
      expect(await row.locator('[data-col=mean]').innerText()).toBe(fmt(xs.reduce((a, b) => a + b, 0) / xs.length));
    }
    expect(await ui.page.getByTestId('nifti-link').getAttribute('href')).toBe('/files/pearsonR.nii.gz');

    const { views, checked } = await checkSlices((v) => (R_VALUES[v] === null ? NO_VALUE : expectedColour(RDBU, -limit, limit, R_VALUES[v]!)));
    expect(Object.keys(views).sort()).toEqual(['axial', 'coronal', 'sagittal']);
    // Five slices (or every slice of a thinner extent) spread over the mask, not its edges alone.
    expect(views.axial).toEqual([1, 2, 3]);
    expect(views.sagittal.length).toBe(5);
    expect(checked).toBeGreaterThan(100);

    // V1's outline: the top edge of a V1 voxel (j = 1) whose neighbour above (j = 2) is not V1.
    const axial = ui.page.locator('[data-testid=brain-map] canvas[data-axis=axial][data-slice="2"]');
    const px = Number(await axial.getAttribute('data-px'));
    const edge: number[] = await axial.evaluate((el: any, at: number[]) => Array.from<number>(el.getContext('2d')!.getImageData(at[0], at[1], 1, 1).data).slice(0, 3), [
      3 * px + px / 2,
      (SHAPE[1] - 1 - 1) * px,
    ]);
    expect(edge).toEqual(V1_OUTLINE);
    await ui.page.screenshot({ path: path.join(SHOTS, '20-run-brain-map.png'), fullPage: true });
  });

  it('switches to a positive map with a sequential scale from its min to its max', async () => {
    await ui.page.getByTestId('brain-map').getByRole('combobox', { name: 'Output' }).selectOption('alpha');
    await ui.page.locator('[data-testid=brain-map-numbers] caption', { hasText: 'alpha' }).waitFor();
    const numbers = ui.page.getByTestId('brain-map-numbers');
    expect(await numbers.locator('[data-col=scale-low]').innerText()).toBe(fmt(1));
    expect(await numbers.locator('[data-col=scale-high]').innerText()).toBe(fmt(100));
    await checkSlices((v) => expectedColour(VIRIDIS, 1, 100, ALPHA_VALUES[v]));
  });

  it('shows no brain map for a run whose subject has no brain space', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-flat`);
    await ui.page.getByTestId('roi-scores').waitFor();
    expect(await ui.page.getByTestId('brain-map').count()).toBe(0);
  });

  it('sends only operations that validate against the schema, reading maps in their compact form', () => {
    const mapQueries = ui.seen.filter((q) => q.includes('brainMap('));
    expect(mapQueries.length).toBeGreaterThan(0);
    for (const q of mapQueries) expect(q.includes('valuesFloat32') && q.includes('maskBits') && !/\bvoxelIjk\b/.test(q)).toBe(true);
    expect(ui.failures).toEqual([]);
  });
}, { width: 1280, height: 1400 });
