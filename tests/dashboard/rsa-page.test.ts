// The representational-similarity result view in headless Chromium, against the real GraphQL
// schema executed over a planted result: the chosen layer per ROI (not the best value on the scored
// stimuli), every printed number, the ceilings, and the RDM heatmaps with stimuli ordered by the
// chosen concept; the page's operations must validate.
import path from 'node:path';
import { plantedDashboardSuite, SHOTS } from './planted-service';

const fmt = (v: number) => v.toFixed(3);

const LAYERS = ['stage1', 'stage2', 'stage3'];
const SCOPES = ['all', 'roi:FFA', 'roi:V1'];
const MEASURES = ['spearman', 'cka_linear'];
// value[measure][scope][layer] on the scored stimuli. FFA's best scored value is stage2's, but the
// selection stimuli chose stage3: the page must mark stage3.
const VALUES: Record<string, Record<string, number[]>> = {
  spearman: { all: [0.2, 0.31, 0.25], 'roi:FFA': [0.05, 0.41, 0.4], 'roi:V1': [0.52, 0.3, 0.12] },
  cka_linear: { all: [0.4, 0.5, 0.45], 'roi:FFA': [0.2, 0.55, 0.6], 'roi:V1': [0.7, 0.5, 0.3] },
};
const SELECTION: Record<string, number[]> = { all: [0.1, 0.3, 0.2], 'roi:FFA': [0.01, 0.2, 0.33], 'roi:V1': [0.5, 0.2, 0.1] };
const BEST: Record<string, number> = { all: 1, 'roi:FFA': 2, 'roi:V1': 0 };
const CEILING = { lower: 0.45, upper: 0.62 };
const roi = (scope: string) => (scope === 'all' ? null : scope.slice(4));
// Six heatmap stimuli; concepts decide the order shown.
const STIMULI = [
  { position: 10, externalId: 'img-a', concepts: ['house'] },
  { position: 11, externalId: 'img-b', concepts: ['face'] },
  { position: 12, externalId: 'img-c', concepts: ['house'] },
  { position: 13, externalId: 'img-d', concepts: ['face'] },
  { position: 14, externalId: 'img-e', concepts: ['tree'] },
  { position: 15, externalId: 'img-f', concepts: ['face'] },
];
const K = STIMULI.length;
const square = (f: (i: number, j: number) => number) => Array.from({ length: K * K }, (_, t) => (Math.floor(t / K) === t % K ? 0 : f(Math.floor(t / K), t % K)));

const RESULT = {
  measures: MEASURES,
  distance: 'correlation',
  modelDistance: 'correlation',
  layers: LAYERS,
  scopes: SCOPES,
  nStimuli: 100,
  nSelection: 400,
  cells: LAYERS.flatMap((layer, l) =>
    SCOPES.flatMap((scope) =>
      MEASURES.map((measure) => ({
        layer,
        layerIndex: l,
        scope,
        roi: roi(scope),
        measure,
        value: VALUES[measure][scope][l],
        normalized: VALUES[measure][scope][l] / CEILING.upper,
        selectionValue: SELECTION[scope][l],
        best: BEST[scope] === l,
      })),
    ),
  ),
  bestLayers: SCOPES.flatMap((scope) =>
    MEASURES.map((measure) => {
      const l = BEST[scope];
      const v = VALUES[measure][scope][l];
      return {
        scope,
        roi: roi(scope),
        measure,
        layer: LAYERS[l],
        layerIndex: l,
        value: v,
        ciLow: v - 0.06,
        ciHigh: v + 0.05,
        normalized: v / CEILING.upper,
        selectionValue: SELECTION[scope][l],
        ceilingLower: CEILING.lower,
        ceilingUpper: CEILING.upper,
        ceilingMethod: 'across-subjects',
        ceilingSubjects: 2,
      };
    }),
  ),
  heatmaps: {
    stimuli: STIMULI,
    brain: SCOPES.map((label, s) => ({ label, size: K, values: square((i, j) => 0.1 * (s + 1) + Math.abs(i - j) / 10) })),
    model: LAYERS.map((label, l) => ({ label, size: K, values: square((i, j) => 0.2 * (l + 1) + (i + j) / 20) })),
  },
};

const RUN = {
  id: 'run-rsa',
  kind: 'REPRESENTATIONAL_SIMILARITY',
  status: 'SUCCEEDED',
  params: {},
  progress: 1,
  progressMessage: 'Done',
  error: null,
  attempts: 1,
  provenance: { codeVersion: 'test' },
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  finishedAt: null,
  outputs: [],
  brainMapOutputs: [],
  title: 'Representational similarity · synthetic-layers → subj01 (synthetic-layers)',
  model: null,
  layer: null,
  subject: null,
  dataset: null,
  benchmark: null,
  scores: [],
  representationalSimilarity: RESULT,
};

plantedDashboardSuite('dashboard representational-similarity view', { run: ({ id }: { id: string }) => (id === RUN.id ? RUN : null) }, (ui) => {
  it('shows each ROI at its chosen layer with CI and ceiling, the layer x ROI matrix, and RDM heatmaps ordered by concept', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-rsa`);
    await ui.page.getByTestId('rsa-best-layers').waitFor();
    const v = VALUES.spearman;
    for (const scope of SCOPES) {
      const row = ui.page.locator(`[data-testid=rsa-best-layers] tr[data-scope="${scope}"]`);
      const l = BEST[scope];
      expect(await row.locator('[data-col=layer]').innerText()).toBe(LAYERS[l]);
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(v[scope][l]));
      expect(await row.locator('[data-col=ci]').innerText()).toBe(`[${fmt(v[scope][l] - 0.06)}, ${fmt(v[scope][l] + 0.05)}]`);
      expect(await row.locator('[data-col=normalized]').innerText()).toBe(fmt(v[scope][l] / CEILING.upper));
      expect(await row.locator('[data-col=ceiling]').innerText()).toBe(`[${fmt(CEILING.lower)}, ${fmt(CEILING.upper)}] (2 subjects)`);
      for (let k = 0; k < LAYERS.length; k++) {
        const cell = ui.page.locator(`[data-testid=rsa-matrix] tr[data-layer="${LAYERS[k]}"] td[data-scope="${scope}"]`);
        expect(await cell.innerText()).toContain(fmt(v[scope][k]));
        expect(await cell.innerText()).toContain(`sel. ${fmt(SELECTION[scope][k])}`);
        expect(await cell.getAttribute('data-best')).toBe(k === l ? 'true' : null);
      }
    }
    // FFA: stage2 scores highest on the scored stimuli, but the marked layer is the selection's choice.
    expect(await ui.page.locator('[data-testid=rsa-matrix] tr[data-layer="stage2"] td[data-scope="roi:FFA"]').getAttribute('data-best')).toBeNull();
    // Bars with CI whiskers.
    expect(await ui.page.locator('.recharts-bar-rectangle').count()).toBe(SCOPES.length);
    expect(await ui.page.locator('.recharts-errorBar').count()).toBeGreaterThan(0);

    // Heatmaps: brain (first ROI) beside its chosen layer, every cell drawn, stimuli with the
    // chosen concept first, then by concept.
    const maps = ui.page.getByTestId('rdm-heatmap');
    expect(await maps.count()).toBe(2);
    expect(await maps.nth(0).locator('rect').count()).toBe(K * K);
    expect(await ui.page.getByTestId('rdm-comparison').innerText()).toContain(`FFA against stage3: Spearman's rho ${fmt(v['roi:FFA'][2])}`);
    const order = async () => ui.page.locator('[data-testid=rdm-stimuli] tbody tr td:nth-child(2)').allInnerTexts();
    expect(await order()).toEqual(['img-b', 'img-d', 'img-f', 'img-a', 'img-c', 'img-e']);
    await ui.page.getByTestId('rdm-concept').selectOption('house');
    expect(await order()).toEqual(['img-a', 'img-c', 'img-b', 'img-d', 'img-f', 'img-e']);
    // The maps follow the order: brain FFA's first row is img-a against img-c (|0 - 2| / 10 + 0.2).
    expect(await maps.nth(0).getAttribute('aria-label')).toContain(`dissimilarities from ${fmt(0.3)} to ${fmt(0.7)}`);
    await ui.page.getByTestId('rdm-layer').selectOption('stage1');
    expect(await ui.page.getByTestId('rdm-comparison').innerText()).toContain(`FFA against stage1: Spearman's rho ${fmt(v['roi:FFA'][0])}`);
    await ui.page.screenshot({ path: path.join(SHOTS, '14-run-rsa.png'), fullPage: true });

    // Another measure: the tables follow.
    await ui.page.getByTestId('rsa-measure').selectOption('cka_linear');
    await ui.page.locator('[data-testid=rsa-best-layers] tr[data-scope="roi:V1"] [data-col=value]').filter({ hasText: fmt(VALUES.cka_linear['roi:V1'][0]) }).waitFor();
  });

  it('sends only operations that validate against the schema', () => {
    expect(ui.seen.length).toBeGreaterThan(1);
    expect(ui.failures).toEqual([]);
  });
});
