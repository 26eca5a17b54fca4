// The runs list and the compare view in headless Chromium, against the real GraphQL schema over
// planted runs: runs are listed by title with their model, subject and dataset; two runs of one
// kind open side by side with every planted score and CI, and the parameters that differ marked.
import path from 'node:path';
import { plantedDashboardSuite, SHOTS } from './planted-service';

const fmt = (v: number) => v.toFixed(3);


const SCOPES = ['all', 'roi:FFA', 'roi:V1'];
const VALUES: Record<string, number[]> = { 'run-b': [0.31, 0.42, 0.55], 'run-a': [0.22, 0.18, 0.61] };

function ridgeRun(id: string, model: string, created: string, alphas: number[]) {
  return {
    id,
    kind: 'ENCODING_RIDGE',
    title: `Ridge encoding · ${model} → subj01 (NSD demo)`,
    layer: model === 'clip' ? 'layer4' : null,
    model: { id: `m-${model}`, name: model },
    subject: { id: 's1', name: 'subj01' },
    dataset: { id: 'd1', name: 'NSD demo' },
    status: 'SUCCEEDED',
    params: { featureSetId: `fs-${model}`, responseSetId: 'rs-1', alphas, folds: 5 },
    progress: 1,
    progressMessage: 'Done',
    error: null,
    attempts: 1,
    provenance: { codeVersion: 'test' },
    createdAt: created,
    startedAt: null,
    finishedAt: null,
    outputs: [],
    brainMapOutputs: [],
    parent: null,
    scores: SCOPES.map((scope, i) => ({ id: `${id}-${i}`, metric: 'pearson_r.mean', scope, roi: null, value: VALUES[id][i], ciLow: VALUES[id][i] - 0.03, ciHigh: VALUES[id][i] + 0.02, normalized: null, n: 100, extra: {} })),
  };
}
// Newest first, as the API lists them with newestFirst.
const RUNS = [ridgeRun('run-b', 'dino', '2026-01-02T00:00:00Z', [1, 10, 100]), ridgeRun('run-a', 'clip', '2026-01-01T00:00:00Z', [1, 10])];

const ROOT_VALUE = {
  run: ({ id }: { id: string }) => RUNS.find((r) => r.id === id) ?? null,
  runs: () => ({ totalCount: RUNS.length, pageInfo: { hasNextPage: false, endCursor: null }, edges: RUNS.map((node) => ({ cursor: node.id, node })) }),
};

plantedDashboardSuite('dashboard runs list and compare view', ROOT_VALUE, (ui) => {
  it('lists runs by title with model, subject and dataset, newest first', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs`);
    await ui.page.getByTestId('runs').waitFor();
    const rows = ui.page.locator('[data-testid=runs] tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('th a').innerText()).toBe(RUNS[0].title);
    expect(await rows.nth(1).locator('[data-col=model]').innerText()).toBe('clip layer4');
    expect(await rows.nth(1).locator('[data-col=subject]').innerText()).toBe('subj01');
    expect(await rows.nth(1).locator('[data-col=dataset]').innerText()).toBe('NSD demo');
    expect(ui.seen.some((q) => /newestFirst: true/.test(q))).toBe(true);
  });

  it('puts two runs side by side: per-ROI scores with CIs on one chart, differing parameters marked', async () => {
    const compare = ui.page.getByRole('button', { name: /Compare selected/ });
    expect(await compare.isDisabled()).toBe(true);
    await ui.page.getByLabel(`Compare ${RUNS[0].title}`).check();
    await ui.page.getByLabel(`Compare ${RUNS[1].title}`).check();
    await compare.click();
    await ui.page.getByTestId('compare-scores').waitFor();
    expect(ui.page.url()).toMatch(/\/dashboard\/runs\/compare\/run-b,run-a$/);
    expect(await ui.page.getByTestId('compared-run').count()).toBe(2);
    for (const scope of SCOPES) {
      const cells = ui.page.locator(`[data-testid=compare-scores] tr[data-scope="${scope}"] td`);
      const i = SCOPES.indexOf(scope);
      for (const [k, id] of ['run-b', 'run-a'].entries()) {
        const v = VALUES[id][i];
        expect(await cells.nth(k).innerText()).toBe(`${fmt(v)} [${fmt(v - 0.03)}, ${fmt(v + 0.02)}]`);
      }
    }
    // One chart: a bar series per run, whiskers drawn.
    expect(await ui.page.locator('figure.chart .recharts-bar').count()).toBe(2);
    expect(await ui.page.locator('figure.chart .recharts-errorBar').count()).toBeGreaterThan(0);
    expect(await ui.page.locator('tr[data-param="alphas"]').getAttribute('data-differs')).toBe('true');
    expect(await ui.page.locator('tr[data-param="featureSetId"]').getAttribute('data-differs')).toBe('true');
    expect(await ui.page.locator('tr[data-param="folds"]').getAttribute('data-differs')).toBe('false');
    expect(await ui.page.locator('tr[data-param="responseSetId"]').getAttribute('data-differs')).toBe('false');
    await ui.page.screenshot({ path: path.join(SHOTS, '14-compare-runs.png'), fullPage: true });
  });

  it("titles the run ui.page by what the run compares", async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-a`);
    await ui.page.getByRole('heading', { name: RUNS[1].title }).waitFor();
    await ui.page.waitForFunction(`document.title === ${JSON.stringify(`${RUNS[1].title} · BrainAlign`)}`);
  });

  it('sends only operations that validate against the schema', () => {
    expect(ui.seen.length).toBeGreaterThan(1);
    expect(ui.failures).toEqual([]);
  });
});
