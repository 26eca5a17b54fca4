// The runs list and the compare view in headless Chromium, against the real GraphQL schema over
// planted runs: runs are listed by title with their model, subject and dataset; two runs of one
// kind open side by side with every planted score and CI, and the parameters that differ marked.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM, SHOTS, startPlantedDashboard, type PlantedDashboard } from './planted-service';

const suite = existsSync(CHROMIUM) ? describe : describe.skip;
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

suite('dashboard runs list and compare view', () => {
  let origin: string;
  let page: Page;
  let seen: string[];
  let failures: string[];
  let planted: PlantedDashboard;

  beforeAll(async () => {
    planted = await startPlantedDashboard({
      serviceInfo: () => ({ version: 'test', profile: 'test' }),
      run: ({ id }: { id: string }) => RUNS.find((r) => r.id === id) ?? null,
      runs: () => ({ totalCount: RUNS.length, pageInfo: { hasNextPage: false, endCursor: null }, edges: RUNS.map((node) => ({ cursor: node.id, node })) }),
    });
    ({ page, origin, seen, failures } = planted);
  }, 120_000);

  afterAll(() => planted?.close());

  it('lists runs by title with model, subject and dataset, newest first', async () => {
    await page.goto(`${origin}/dashboard/runs`);
    await page.getByTestId('runs').waitFor();
    const rows = page.locator('[data-testid=runs] tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('th a').innerText()).toBe(RUNS[0].title);
    expect(await rows.nth(1).locator('[data-col=model]').innerText()).toBe('clip layer4');
    expect(await rows.nth(1).locator('[data-col=subject]').innerText()).toBe('subj01');
    expect(await rows.nth(1).locator('[data-col=dataset]').innerText()).toBe('NSD demo');
    expect(seen.some((q) => /newestFirst: true/.test(q))).toBe(true);
  });

  it('puts two runs side by side: per-ROI scores with CIs on one chart, differing parameters marked', async () => {
    const compare = page.getByRole('button', { name: /Compare selected/ });
    expect(await compare.isDisabled()).toBe(true);
    await page.getByLabel(`Compare ${RUNS[0].title}`).check();
    await page.getByLabel(`Compare ${RUNS[1].title}`).check();
    await compare.click();
    await page.getByTestId('compare-scores').waitFor();
    expect(page.url()).toMatch(/\/dashboard\/runs\/compare\/run-b,run-a$/);
    expect(await page.getByTestId('compared-run').count()).toBe(2);
    for (const scope of SCOPES) {
      const cells = page.locator(`[data-testid=compare-scores] tr[data-scope="${scope}"] td`);
      const i = SCOPES.indexOf(scope);
      for (const [k, id] of ['run-b', 'run-a'].entries()) {
        const v = VALUES[id][i];
        expect(await cells.nth(k).innerText()).toBe(`${fmt(v)} [${fmt(v - 0.03)}, ${fmt(v + 0.02)}]`);
      }
    }
    // One chart: a bar series per run, whiskers drawn.
    expect(await page.locator('figure.chart .recharts-bar').count()).toBe(2);
    expect(await page.locator('figure.chart .recharts-errorBar').count()).toBeGreaterThan(0);
    expect(await page.locator('tr[data-param="alphas"]').getAttribute('data-differs')).toBe('true');
    expect(await page.locator('tr[data-param="featureSetId"]').getAttribute('data-differs')).toBe('true');
    expect(await page.locator('tr[data-param="folds"]').getAttribute('data-differs')).toBe('false');
    expect(await page.locator('tr[data-param="responseSetId"]').getAttribute('data-differs')).toBe('false');
    await page.screenshot({ path: path.join(SHOTS, '14-compare-runs.png'), fullPage: true });
  });

  it("titles the run page by what the run compares", async () => {
    await page.goto(`${origin}/dashboard/runs/run-a`);
    await page.getByRole('heading', { name: RUNS[1].title }).waitFor();
    await page.waitForFunction(`document.title === ${JSON.stringify(`${RUNS[1].title} · BrainAlign`)}`);
  });

  it('sends only operations that validate against the schema', () => {
    expect(seen.length).toBeGreaterThan(1);
    expect(failures).toEqual([]);
  });
});
