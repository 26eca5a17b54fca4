// The layer-sweep result view in headless Chromium, against the real GraphQL schema executed over
// a planted layer profile: every number the page prints must be the planted one, the chosen layer
// of each ROI must be the one the profile marks (not the best test score), and the page's
// operations must validate.
import path from 'node:path';
import { plantedDashboardSuite, SHOTS } from './planted-service';

const fmt = (v: number) => v.toFixed(3);

const LAYERS = ['stage1', 'stage2', 'stage3'];
const SCOPES = ['all', 'roi:FFA', 'roi:V1'];
// value[metric][scope][layer]; V1 peaks early, FFA late. For FFA the test score of stage2 is the
// highest, but CV chose stage3: the page must mark stage3.
const VALUES: Record<string, Record<string, number[]>> = {
  'pearson_r.mean': { all: [0.3, 0.35, 0.32], 'roi:FFA': [0.1, 0.46, 0.45], 'roi:V1': [0.6, 0.4, 0.2] },
  'explained_variance.mean': { all: [0.09, 0.12, 0.1], 'roi:FFA': [0.01, 0.2, 0.19], 'roi:V1': [0.36, 0.16, 0.04] },
};
const CV: Record<string, number[]> = { all: [0.1, 0.12, 0.11], 'roi:FFA': [0.02, 0.15, 0.2], 'roi:V1': [0.3, 0.1, 0.05] };
const BEST: Record<string, number> = { all: 1, 'roi:FFA': 2, 'roi:V1': 0 };

function profile(metric: string) {
  const v = VALUES[metric] ?? VALUES['pearson_r.mean'];
  const roi = (scope: string) => (scope === 'all' ? null : scope.slice(4));
  return {
    metric,
    selectionMetric: 'cv.r2.mean',
    layers: LAYERS,
    scopes: SCOPES,
    cells: LAYERS.flatMap((layer, l) =>
      SCOPES.map((scope) => ({
        layer,
        layerIndex: l,
        scope,
        roi: roi(scope),
        value: v[scope][l],
        ciLow: v[scope][l] - 0.05,
        ciHigh: v[scope][l] + 0.04,
        normalized: null,
        cvValue: CV[scope][l],
        best: BEST[scope] === l,
        run: { id: `run-layer-${l}` },
      })),
    ),
    bestLayers: SCOPES.map((scope) => {
      const l = BEST[scope];
      return { scope, roi: roi(scope), layer: LAYERS[l], layerIndex: l, value: v[scope][l], ciLow: v[scope][l] - 0.05, ciHigh: v[scope][l] + 0.04, normalized: null, cvValue: CV[scope][l] };
    }),
  };
}

const RUN = {
  id: 'run-sweep',
  kind: 'LAYER_SWEEP',
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
  title: 'Planted run', model: null, layer: null, subject: null, dataset: null, benchmark: null,
  scores: [],
  layerProfile: ({ metric }: { metric: string }) => profile(metric),
};

plantedDashboardSuite('dashboard layer-sweep view', { run: ({ id }: { id: string }) => (id === RUN.id ? RUN : null) }, (ui) => {
  it('plots score against layer per ROI with CI whiskers, marks the CV-chosen layer, and tabulates the numbers', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-sweep`);
    await ui.page.getByTestId('best-layers').waitFor();
    const v = VALUES['pearson_r.mean'];
    for (const scope of SCOPES) {
      const row = ui.page.locator(`[data-testid=best-layers] tr[data-scope="${scope}"]`);
      const l = BEST[scope];
      expect(await row.locator('[data-col=layer]').innerText()).toBe(LAYERS[l]);
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(v[scope][l]));
      expect(await row.locator('[data-col=ci]').innerText()).toBe(`[${fmt(v[scope][l] - 0.05)}, ${fmt(v[scope][l] + 0.04)}]`);
      expect(await row.locator('[data-col=cv]').innerText()).toBe(fmt(CV[scope][l]));
      // The profile table: every layer's number, the chosen one (and only it) marked.
      for (let k = 0; k < LAYERS.length; k++) {
        const cell = ui.page.locator(`[data-testid=layer-profile] tr[data-layer="${LAYERS[k]}"] td[data-scope="${scope}"]`);
        expect(await cell.innerText()).toContain(fmt(v[scope][k]));
        expect(await cell.innerText()).toContain(`CV ${fmt(CV[scope][k])}`);
        expect(await cell.getAttribute('data-best')).toBe(k === l ? 'true' : null);
      }
    }
    // FFA: stage2 has the best test score, but the marked layer is the CV choice, stage3.
    expect(await ui.page.locator('[data-testid=layer-profile] tr[data-layer="stage2"] td[data-scope="roi:FFA"]').getAttribute('data-best')).toBeNull();
    // One line per scope, one ringed marker per scope at its chosen layer, CI whiskers drawn.
    expect(await ui.page.locator('[data-testid=layer-profile-chart] .recharts-line').count()).toBe(SCOPES.length);
    const markers = await ui.page.locator('[data-testid=layer-profile-chart] [data-best-layer]').evaluateAll((els) => els.map((e) => e.getAttribute('data-best-layer')).sort());
    expect(markers).toEqual(SCOPES.map((s) => `${s}=${LAYERS[BEST[s]]}`).sort());
    expect(await ui.page.locator('[data-testid=layer-profile-chart] .recharts-errorBar').count()).toBeGreaterThan(0);
    // Layer names link to the child runs that fitted them.
    expect(await ui.page.locator('[data-testid=layer-profile] tr[data-layer="stage1"] th a').getAttribute('href')).toMatch(/runs\/run-layer-0$/);
    await ui.page.screenshot({ path: path.join(SHOTS, '13-run-layer-sweep.png'), fullPage: true });

    await ui.page.getByLabel('Metric').selectOption('explained_variance.mean');
    await ui.page.locator(`[data-testid=best-layers] tr[data-scope="roi:V1"] [data-col=value]`).filter({ hasText: fmt(VALUES['explained_variance.mean']['roi:V1'][0]) }).waitFor();
  });

  it('sends only operations that validate against the schema', () => {
    expect(ui.seen.length).toBeGreaterThan(1);
    expect(ui.failures).toEqual([]);
  });
});
