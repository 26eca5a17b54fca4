// The lab dashboard in headless Chromium against the embedded default with its demo catalog:
// leaderboard -> run -> plots, every rendered number checked against the API's own answer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startEmbedded, waitForDemoRuns, type EmbeddedService } from './embedded-service';
import { DEMO_BENCHMARK } from '../../src/embedded/seed';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-artifacts/dashboard');
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`);
const suite = haveBrowser ? describe : describe.skip;

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
const ci = (lo: number | null, hi: number | null) => (lo === null || hi === null ? '–' : `[${fmt(lo)}, ${fmt(hi)}]`);

suite('lab dashboard', () => {
  let service: EmbeddedService;
  let browser: Browser;
  let page: Page;
  let benchmark: { id: string; name: string };
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const cellTexts = (selector: string) => page.locator(selector).allInnerTexts();

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    execFileSync(process.execPath, ['scripts/build-dashboard.js'], { cwd: ROOT, stdio: 'inherit' });
    // Playwright gives the browser a fresh profile directory of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    service = await startEmbedded();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => console.error(`dashboard page error: ${err.message}`));
    // The NSD-like demo's 3 encoding runs, the layer demo's sweep (3 layer fits) and the brain-space demo's run.
    await waitForDemoRuns(service, 7, 200_000);
    const { benchmarks } = await service.query('{ benchmarks { id name kind } }');
    benchmark = benchmarks.find((b: any) => b.name === DEMO_BENCHMARK);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('is served at /dashboard/ with client-side routes, content types and cached hashed assets', async () => {
    const index = await fetch(`${service.origin}/dashboard/runs/some-run`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await index.text();
    const asset = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(service.origin + asset);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${service.origin}/dashboard/assets/missing-0000.js`)).status).toBe(404);
    expect((await fetch(`${service.origin}/dashboard/..%2f..%2fpackage.json`)).headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('opens with the printed URL, keeps the token out of the address bar, and lists the demo benchmark', async () => {
    await page.goto(service.dashboardUrl);
    await page.getByRole('heading', { name: 'Benchmarks' }).waitFor();
    expect(page.url()).not.toContain('#token=');
    const auth = await page.getByTestId('auth-state').innerText();
    expect(auth).toContain(service.token ? 'Signed in' : 'Anonymous');
    await page.getByRole('link', { name: benchmark.name }).waitFor();
    await shot('01-benchmarks');
  });

  it('shows the leaderboard with the API’s ranks, scores, CIs and sites, filtered and sorted', async () => {
    await page.getByRole('link', { name: benchmark.name }).click();
    await page.getByTestId('leaderboard').waitFor();
    const q = `query($id: ID!, $roi: String) { leaderboard(benchmarkId: $id, roi: $roi, first: 20) { totalCount edges { node { rank value ciLow ciHigh normalized site model { name } subject { name } run { id } } } } }`;
    const { leaderboard } = await service.query(q, { id: benchmark.id });
    expect(leaderboard.totalCount).toBe(3);
    const rows = page.locator('[data-testid=leaderboard] tbody tr');
    await expectTexts(rows.locator('[data-col=site]'), leaderboard.edges.map((e: any) => e.node.site));
    for (const [i, e] of leaderboard.edges.entries()) {
      const row = rows.nth(i);
      expect(await row.getAttribute('data-run-id')).toBe(e.node.run.id);
      expect(await row.locator('[data-col=rank]').innerText()).toMatch(new RegExp(`^${e.node.rank}\\b`));
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(e.node.value));
      expect(await row.locator('[data-col=ci]').innerText()).toBe(ci(e.node.ciLow, e.node.ciHigh));
      expect(await row.locator('[data-col=normalized]').innerText()).toBe(fmt(e.node.normalized));
      expect(await row.locator('[data-col=subject]').innerText()).toBe(e.node.subject.name);
      expect(await row.locator('[data-col=model]').innerText()).toBe(e.node.model.name);
      expect(await row.locator('[data-col=site]').innerText()).toBe(e.node.site);
    }
    await shot('02-leaderboard');

    // ROI filter: the FFA board, as the API ranks it.
    await page.getByLabel('ROI').selectOption('FFA');
    const { leaderboard: ffa } = await service.query(q, { id: benchmark.id, roi: 'FFA' });
    await page.locator('caption', { hasText: 'scored runs' }).waitFor();
    await expectTexts(page.locator('[data-testid=leaderboard] tbody tr [data-col=value]'), ffa.edges.map((e: any) => fmt(e.node.value)));

    // Sorting by score with the keyboard: ascending after one press, as the numbers say.
    const sortButton = page.getByRole('button', { name: /^Score/ });
    await sortButton.focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    const ascending = ffa.edges.map((e: any) => e.node.value).sort((a: number, b: number) => a - b).map(fmt);
    await expectTexts(page.locator('[data-testid=leaderboard] tbody tr [data-col=value]'), ascending);
    expect(await page.locator('th[aria-sort=ascending]').innerText()).toContain('Score');
    await page.getByLabel('ROI').selectOption('');
  });

  it('goes from the top leaderboard row to its run and plots the per-ROI scores the API returns', async () => {
    const first = page.locator('[data-testid=leaderboard] tbody tr').first();
    const runId = (await first.getAttribute('data-run-id'))!;
    await first.getByRole('link', { name: /Open run/ }).click();
    await page.getByTestId('roi-scores').waitFor();
    expect(page.url()).toBe(`${service.origin}/dashboard/runs/${runId}`);
    expect(await page.getByTestId('run-status').innerText()).toBe('SUCCEEDED');
    const { run } = await service.query(`query($id: ID!) { run(id: $id) { scores(metric: "pearson_r.mean") { scope value ciLow ciHigh normalized } } }`, { id: runId });
    const rois = run.scores.filter((s: any) => s.scope.startsWith('roi:'));
    expect(rois.length).toBe(5);
    for (const s of rois) {
      const row = page.locator(`[data-testid=roi-scores] tr[data-scope="${s.scope}"]`);
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(s.value));
      expect(await row.locator('[data-col=ci]').innerText()).toBe(ci(s.ciLow, s.ciHigh));
      expect(await row.locator('[data-col=normalized]').innerText()).toBe(fmt(s.normalized));
    }
    const overall = run.scores.find((s: any) => s.scope === 'all');
    expect(await page.getByTestId('overall-score').innerText()).toContain(fmt(overall.value));
    // One bar per ROI with an error bar, and the numbers in the chart's label.
    expect(await page.locator('.recharts-bar-rectangle').count()).toBe(5);
    expect(await page.locator('.recharts-errorBar').count()).toBeGreaterThanOrEqual(5);
    const label = (await page.locator('figure.chart').getAttribute('aria-label'))!;
    for (const s of rois) expect(label).toContain(`${s.scope.slice(4)} ${fmt(s.value)}`);
    await page.getByText('Provenance').click();
    expect(await page.getByLabel('Provenance of the run').innerText()).toContain('codeVersion');
    await shot('03-run-encoding');
  });

  it('resubmits a run, follows its progress live, and cancels a queued one', async () => {
    const original = new URL(page.url()).pathname;
    const originalId = original.split('/').pop()!;
    const { run: source } = await service.query(`query($id: ID!) { run(id: $id) { params } }`, { id: originalId });
    const p = source.params;
    await page.getByRole('button', { name: 'Resubmit with the same parameters' }).click();
    await page.waitForURL((u) => u.pathname !== original);
    await page.getByRole('button', { name: 'Cancel run' }).or(page.getByTestId('roi-scores')).first().waitFor();
    const resubmittedId = page.url().split('/').pop()!;
    // A second run queues behind the first (one job at a time in the embedded profile): cancel it.
    const { submitEncodingRidge: queued } = await service.query(
      `mutation($input: EncodingRidgeInput!) { submitEncodingRidge(input: $input) { id status } }`,
      { input: { featureSetId: p.featureSetId, responseSetId: p.responseSetId, bootstrapSamples: 10, idempotencyKey: 'dashboard-cancel-check' } },
    );
    await page.goto(`${service.origin}/dashboard/runs/${queued.id}`);
    const status = page.getByTestId('run-status');
    await status.waitFor();
    const before = await status.innerText();
    if (before === 'QUEUED' || before === 'RUNNING') {
      await page.getByRole('button', { name: 'Cancel run' }).click();
      await expectTexts(status, ['CANCELLED']);
    }
    const { run: cancelled } = await service.query(`query($id: ID!) { run(id: $id) { status } }`, { id: queued.id });
    expect(await status.innerText()).toBe(cancelled.status);
    // The resubmitted run finishes with the original's parameters; its page updates by itself.
    await page.goto(`${service.origin}/dashboard/runs/${resubmittedId}`);
    await expectTexts(page.getByTestId('run-status'), ['SUCCEEDED'], 60_000);
    await page.getByTestId('roi-scores').waitFor();
    const { run } = await service.query(`query($id: ID!) { run(id: $id) { kind status params } }`, { id: resubmittedId });
    const same = ({ featureSetId, responseSetId, testStimulusIds, alphas, folds, bootstrapSamples }: any) => ({ featureSetId, responseSetId, testStimulusIds, alphas, folds, bootstrapSamples });
    expect(resubmittedId).not.toBe(originalId);
    expect(run).toMatchObject({ kind: 'ENCODING_RIDGE', status: 'SUCCEEDED' });
    expect(same(run.params)).toEqual(same(p));
    await shot('04-run-resubmitted');
  }, 90_000);

  it('lists runs and browses the catalog: datasets, subjects with ROIs, stimulus sets, models', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Runs' }).click();
    await page.getByTestId('runs').waitFor();
    const { runs } = await service.query('{ runs { totalCount } }');
    expect(await page.locator('[data-testid=runs] caption').innerText()).toBe(`${runs.totalCount} runs`);
    await shot('05-runs');

    await nav.getByRole('link', { name: 'Catalog' }).click();
    await page.getByTestId('datasets').waitFor();
    const { datasets, models } = await service.query('{ datasets { edges { node { id name subjects { name nVoxels rois { name nVoxels } responseSets { noiseCeilingMedian } } } } } models { edges { node { name family } } } }');
    for (const m of models.edges) expect(await page.getByTestId('models').innerText()).toContain(m.node.name);
    const ds = datasets.edges[0].node;
    await page.getByRole('link', { name: ds.name }).click();
    await page.getByTestId('subjects').waitFor();
    const text = await page.getByTestId('subjects').innerText();
    for (const s of ds.subjects) {
      expect(text).toContain(s.name);
      for (const r of s.rois) expect(text).toContain(`${r.name} (${r.nVoxels})`);
      expect(text).toContain(`median noise ceiling ${s.responseSets[0].noiseCeilingMedian.toFixed(1)}%`);
    }
    await shot('06-dataset');
    await page.getByTestId('stimulus-sets').getByRole('link').first().click();
    await page.getByRole('heading', { name: /Stimulus set/ }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(50);
  });

  it('browses the demo images: thumbnails that load, with concepts and captions, paged', async () => {
    const { datasets } = await service.query('{ datasets { edges { node { stimulusSets { id name nImages stimuli(first: 50) { edges { node { externalId concepts caption image { width height } } } } } } } } }');
    const set = datasets.edges.flatMap((e: any) => e.node.stimulusSets).find((s: any) => s.name === 'demo-images');
    await page.goto(`${service.origin}/dashboard/catalog/stimulus-sets/${set.id}`);
    await page.getByTestId('stimuli').waitFor();
    expect(await page.getByText(`with an image`).innerText()).toContain(`${set.nImages} with an image`);
    const rows = page.locator('[data-testid=stimuli] tbody tr');
    expect(await rows.count()).toBe(50);
    const first = set.stimuli.edges[0].node;
    const row = await rows.first().innerText();
    expect(row).toContain(first.externalId);
    expect(row).toContain(first.concepts.join(', '));
    expect(row).toContain(first.caption);
    expect(row).toContain(`${first.image.width} x ${first.image.height} png`);
    // The thumbnail is fetched through its signed URL and decoded by the browser.
    const img = page.getByRole('img', { name: `image of ${first.externalId}` });
    await img.scrollIntoViewIfNeeded();
    await page.waitForFunction(`(() => { const el = document.querySelector('img[alt="image of ${first.externalId}"]'); return !!el && el.complete && el.naturalWidth > 0; })()`);
    await shot('06b-stimulus-images');
    await page.getByRole('button', { name: /next/i }).first().click();
    await page.getByText('demo-0050').waitFor({ timeout: 90_000 });
  });

  it('says when it is anonymous, still shows the public leaderboard, and signs in with a typed token', async () => {
    const context = await browser.newContext();
    try {
      const anon = await context.newPage();
      await anon.goto(`${service.origin}/dashboard/`);
      expect(await anon.getByTestId('auth-state').innerText()).toContain('Anonymous: public leaderboards only');
      await anon.getByRole('link', { name: benchmark.name }).click();
      await anon.getByTestId('leaderboard').waitFor();
      expect(await anon.locator('[data-testid=leaderboard] tbody tr').count()).toBe(3);
      await anon.screenshot({ path: path.join(SHOTS, '07-anonymous-leaderboard.png'), fullPage: true });
      if (!service.token) return;
      await anon.getByLabel('API token').fill(service.token);
      await anon.getByRole('button', { name: 'Sign in' }).click();
      await anon.getByText(`Signed in with token …${service.token.slice(-4)}`).waitFor();
    } finally {
      await context.close();
    }
  });

  it('works from the keyboard: skip link first, then the main navigation, with a visible focus ring', async () => {
    await page.goto(`${service.origin}/dashboard/`);
    await page.getByRole('heading', { name: 'Benchmarks' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Runs');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByTestId('runs').waitFor();
    expect(new URL(page.url()).pathname).toBe('/dashboard/runs');
  });
});

/** Waits until the locator's elements show exactly `texts` (jest's expect does not wait). */
async function expectTexts(locator: Locator, texts: string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let got: string[] = [];
  while (Date.now() < deadline) {
    got = await locator.allInnerTexts();
    if (JSON.stringify(got) === JSON.stringify(texts)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(got).toEqual(texts);
}
