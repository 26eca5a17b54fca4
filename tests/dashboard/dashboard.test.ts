// The lab dashboard in headless Chromium against the embedded default with its demo catalog:
// leaderboard -> run -> plots, every rendered number checked against the API's own answer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startEmbedded, waitForDemoRuns, type EmbeddedService } from './embedded-service';
import { Readable } from 'node:stream';
import { DEMO_BENCHMARK } from '../../src/embedded/seed';
import { DEMO_SPACE_SHAPE } from '../../src/embedded/demo-brain-space';
import { readSingleVolume } from '../../src/storage/nifti';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-artifacts/dashboard');
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`);
const suite = haveBrowser ? describe : describe.skip;

const DEMO_RUNS = { ENCODING_RIDGE: 11, LAYER_SWEEP: 1, ENCODING_ICL: 1, CAUSAL_TEST: 1, VQA_EVAL: 2, REPRESENTATIONAL_SIMILARITY: 1, FEATURE_EXTRACTION: 3 };
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
const ci = (lo: number | null, hi: number | null) => (lo === null || hi === null ? '–' : `[${fmt(lo)}, ${fmt(hi)}]`);

// Page width against the viewport, and the outermost elements reaching past its right edge.
const WIDTHS = `(() => {
  const w = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > w + 0.5 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > w + 0.5));
  const scrollWidth = document.documentElement.scrollWidth;
  return { scrollWidth, innerWidth: w, wide: scrollWidth <= w ? [] : wide.map((el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className : '')) };
})()`;

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
    // Every demo run: clip and dino on the NSD-like demo's 3 subjects, the layer demo's sweep (3
    // layer fits), the causal demo's encoder and test, the in-context run, 2 VQA evaluations
    // and the brain-space demo's run.
    await waitForDemoRuns(service, DEMO_RUNS, 240_000);
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
    // Both backbones on each of the 3 subjects.
    expect(leaderboard.totalCount).toBe(6);
    expect(leaderboard.edges.map((e: any) => `${e.node.model.name}/${e.node.subject.name}`).sort()).toEqual(
      ['clip', 'dino'].flatMap((m) => ['subj01', 'subj02', 'subj05'].map((s) => `${m}/${s}`)),
    );
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
    const { datasets, models } = await service.query('{ datasets { edges { node { id name subjects { name nVoxels rois { name nVoxels } responseSets { noiseCeilingMedian splitHalfMedian splitHalfSplits } } } } } models { edges { node { name family } } } }');
    for (const m of models.edges) expect(await page.getByTestId('models').innerText()).toContain(m.node.name);
    const ds = datasets.edges[0].node;
    await page.getByRole('link', { name: ds.name }).click();
    await page.getByTestId('subjects').waitFor();
    const text = await page.getByTestId('subjects').innerText();
    for (const s of ds.subjects) {
      expect(text).toContain(s.name);
      for (const r of s.rois) expect(text).toContain(`${r.name} (${r.nVoxels})`);
      expect(text).toContain(`median noise ceiling ${s.responseSets[0].noiseCeilingMedian.toFixed(1)}%`);
      const split = s.responseSets[0];
      if (split.splitHalfMedian !== null) expect(text).toContain(`median split-half reliability ${split.splitHalfMedian.toFixed(3)} (${split.splitHalfSplits} splits, Spearman-Brown)`);
    }
    // The demo's responses have repeats, so the split-half reliability is there to read.
    expect(ds.subjects.some((s: any) => s.responseSets[0].splitHalfMedian !== null)).toBe(true);
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
      expect(await anon.locator('[data-testid=leaderboard] tbody tr').count()).toBe(6);
      await anon.screenshot({ path: path.join(SHOTS, '07-anonymous-leaderboard.png'), fullPage: true });
      if (!service.token) return;
      await anon.getByLabel('API token').fill(service.token);
      await anon.getByRole('button', { name: 'Sign in' }).click();
      await anon.getByText(`Signed in with token …${service.token.slice(-4)}`).waitFor();
    } finally {
      await context.close();
    }
  });

  it('ranks every kind of demo leaderboard as the API does: encoding, layer sweep, in-context, causal, VQA, RSA', async () => {
    const { benchmarks } = await service.query('{ benchmarks { id name kind } }');
    expect(benchmarks.map((b: any) => b.kind).sort()).toEqual(['CAUSAL', 'ENCODING', 'ENCODING', 'IN_CONTEXT', 'RSA', 'VQA']);
    const q = `query($id: ID!) { leaderboard(benchmarkId: $id, first: 20) { totalCount edges { node { rank value ciLow ciHigh model { name } subject { name } run { id } } } } }`;
    for (const b of benchmarks) {
      await page.goto(`${service.origin}/dashboard/`);
      await page.getByRole('link', { name: b.name }).click();
      await page.getByTestId('leaderboard').waitFor();
      const { leaderboard } = await service.query(q, { id: b.id });
      expect(leaderboard.totalCount).toBeGreaterThan(0);
      const rows = page.locator('[data-testid=leaderboard] tbody tr');
      await expectTexts(rows.locator('[data-col=value]'), leaderboard.edges.map((e: any) => fmt(e.node.value)));
      for (const [i, e] of leaderboard.edges.entries()) {
        const row = rows.nth(i);
        expect(await row.getAttribute('data-run-id')).toBe(e.node.run.id);
        expect(await row.locator('[data-col=rank]').innerText()).toMatch(new RegExp(`^${e.node.rank}\\b`));
        expect(await row.locator('[data-col=ci]').innerText()).toBe(ci(e.node.ciLow, e.node.ciHigh));
        expect(await row.locator('[data-col=model]').innerText()).toBe(e.node.model.name);
        expect(await row.locator('[data-col=subject]').innerText()).toBe(e.node.subject?.name ?? '–');
      }
      await shot(`08-leaderboard-${b.kind.toLowerCase()}-${b.name}`);
    }
  });

  const runOf = async (kind: string) => {
    const { runs } = await service.query(`{ runs(first: 10, filter: { kind: ${kind} }) { edges { node { id } } } }`);
    return runs.edges.map((e: any) => e.node.id as string);
  };

  it('plots the demo in-context run against ridge with the API’s numbers, per scope', async () => {
    const [id] = await runOf('ENCODING_ICL');
    const { run } = await service.query(`query($id: ID!) { run(id: $id) { params scores { metric scope value } } }`, { id });
    await page.goto(`${service.origin}/dashboard/runs/${id}`);
    await page.getByTestId('scaling-table').waitFor();
    const at = (method: string, k: number, scope: string) => run.scores.find((s: any) => s.metric === `${method}.explained_variance.mean@k${k}` && s.scope === scope).value;
    for (const scope of ['all', 'roi:FFA']) {
      if (scope !== 'all') await page.getByLabel('Scope').selectOption(scope);
      for (const k of run.params.ks) {
        const row = page.locator(`[data-testid=scaling-table] tr[data-k="${k}"]`);
        await expectTexts(row.locator('[data-col=in_context]'), [fmt(at('in_context', k, scope))]);
        expect(await row.locator('[data-col=ridge]').innerText()).toBe(fmt(at('ridge', k, scope)));
      }
    }
    expect(await page.locator('.recharts-line').count()).toBe(2);
    await shot('09-run-in-context');
  });

  it('shows the demo causal test of "food": counts, false positives, planted truth, ROI map and follow-ups as the API gives them', async () => {
    const [id] = await runOf('CAUSAL_TEST');
    const { causalTestResult: r } = await service.query(
      `query($id: ID!) { causalTestResult(runId: $id) { concept falsePositiveFraction roiFalsePositiveFraction
        counts { voxels { validatedCausal activationOnly neither activationPositive } }
        groundTruth { recall falsePositiveRate activationFlaggedNonCausal }
        rois { roi class nVoxels nValidatedVoxels nActivationOnlyVoxels activationEffect causalEffect }
        followUps { voxelOrRoi pairs { positive counterfactual } trialsFor80Power } } }`,
      { id },
    );
    expect(r.concept).toBe('food');
    await page.goto(`${service.origin}/dashboard/runs/${id}`);
    await page.getByTestId('causal-rois').waitFor();
    expect(await page.locator('[data-testid=causal-counts] [data-col=false-positive-fraction]').allInnerTexts()).toEqual([pct(r.falsePositiveFraction), pct(r.roiFalsePositiveFraction)]);
    const counts = await page.getByTestId('causal-counts').innerText();
    expect(counts).toContain(`Validated causal\t${r.counts.voxels.validatedCausal}`);
    expect(counts).toContain(`Activation only\t${r.counts.voxels.activationOnly}`);
    const truth = await page.getByTestId('causal-ground-truth').innerText();
    expect(truth).toContain(`recall ${pct(r.groundTruth.recall)}`);
    expect(truth).toContain(`false-positive rate of validated voxels ${pct(r.groundTruth.falsePositiveRate)}`);
    const rois = await page.getByTestId('causal-rois').innerText();
    for (const x of r.rois) expect(rois).toContain(`${x.roi}\t${x.class}\t${x.nVoxels} (${x.nValidatedVoxels} / ${x.nActivationOnlyVoxels})\t${fmt(x.activationEffect)}\t${fmt(x.causalEffect)}`);
    const followUps = await page.getByTestId('causal-followups').innerText();
    const first = r.followUps[0];
    expect(followUps).toContain(`${first.pairs[0].positive} → ${first.pairs[0].counterfactual}`);
    expect(followUps).toContain(first.voxelOrRoi);
    await shot('10-run-causal');
  });

  it('shows each demo VQA evaluation per category beside chance and prior, as the API scores it', async () => {
    const ids = await runOf('VQA_EVAL');
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const { run } = await service.query(`query($id: ID!) { run(id: $id) { scores(metric: "vqa_accuracy") { scope value extra } } }`, { id });
      await page.goto(`${service.origin}/dashboard/runs/${id}`);
      await page.getByTestId('vqa-categories').waitFor();
      const categories = run.scores.filter((s: any) => s.scope.startsWith('category:'));
      expect(categories.map((s: any) => s.scope).sort()).toEqual(['category:colour', 'category:shape', 'category:yes/no']);
      for (const s of categories) {
        const row = page.locator(`[data-testid=vqa-categories] tr[data-scope="${s.scope}"]`);
        expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(s.value));
        expect(await row.locator('[data-col=chance]').innerText()).toBe(fmt(s.extra.chance));
        expect(await row.locator('[data-col=prior]').innerText()).toBe(fmt(s.extra.prior));
      }
      expect(await page.getByTestId('overall-score').innerText()).toContain(fmt(run.scores.find((s: any) => s.scope === 'all').value));
    }
    await shot('11-run-vqa');
  });

  it('shows the demo layer sweep’s chosen layer per ROI as the API gives it', async () => {
    const [id] = await runOf('LAYER_SWEEP');
    const { run } = await service.query(`query($id: ID!) { run(id: $id) { layerProfile { bestLayers { scope layer value } } } }`, { id });
    await page.goto(`${service.origin}/dashboard/runs/${id}`);
    await page.getByTestId('best-layers').waitFor();
    for (const b of run.layerProfile.bestLayers) {
      const row = page.locator(`[data-testid=best-layers] tr[data-scope="${b.scope}"]`);
      expect(await row.locator('[data-col=layer]').innerText()).toBe(b.layer);
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(b.value));
    }
    await shot('12-run-layer-sweep');
  });

  it('shows the demo RSA run: each ROI at its chosen layer with CI and ceiling, and the layer x ROI matrix, as the API gives them', async () => {
    const [id] = await runOf('REPRESENTATIONAL_SIMILARITY');
    const { run } = await service.query(
      `query($id: ID!) { run(id: $id) { representationalSimilarity { layers cells { layer scope measure value } bestLayers { scope measure layer value ciLow ciHigh } } } }`,
      { id },
    );
    const rsa = run.representationalSimilarity;
    await page.goto(`${service.origin}/dashboard/runs/${id}`);
    await page.getByTestId('rsa-best-layers').waitFor();
    await page.getByTestId('rsa-measure').selectOption('spearman');
    for (const b of rsa.bestLayers.filter((x: any) => x.measure === 'spearman')) {
      const row = page.locator(`[data-testid=rsa-best-layers] tr[data-scope="${b.scope}"]`);
      expect(await row.locator('[data-col=layer]').innerText()).toBe(b.layer);
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(b.value));
      expect(await row.locator('[data-col=ci]').innerText()).toBe(ci(b.ciLow, b.ciHigh));
    }
    for (const c of rsa.cells.filter((x: any) => x.measure === 'spearman'))
      expect(await page.locator(`[data-testid=rsa-matrix] tr[data-layer="${c.layer}"] td[data-scope="${c.scope}"]`).innerText()).toContain(fmt(c.value));
    await page.getByTestId('rdm-heatmap').first().waitFor();
    await shot('13-run-rsa');
  });

  it('lists every demo dataset and its subjects in the catalog', async () => {
    await page.goto(`${service.origin}/dashboard/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog' }).click();
    await page.getByTestId('datasets').waitFor();
    const { datasets } = await service.query('{ datasets { edges { node { name subjects { name } } } } }');
    expect(datasets.edges.map((e: any) => e.node.name).sort()).toEqual(['synthetic-brain-space', 'synthetic-causal', 'synthetic-icl-population', 'synthetic-layers', 'synthetic-nsd']);
    for (const d of datasets.edges) {
      await page.goto(`${service.origin}/dashboard/`);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog' }).click();
      await page.getByRole('link', { name: d.node.name, exact: true }).click();
      await page.getByTestId('subjects').waitFor();
      const text = await page.getByTestId('subjects').innerText();
      for (const s of d.node.subjects) expect(text).toContain(s.name);
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

  it("draws the demo subject's r map beside its ROI scores, with the API's numbers and a NIfTI that opens", async () => {
    const { runs } = await service.query('{ runs(first: 20, filter: { kind: ENCODING_RIDGE }) { edges { node { id brainMapOutputs { name } } } } }');
    const mapped = runs.edges.filter((e: any) => e.node.brainMapOutputs.length > 0);
    expect(mapped).toHaveLength(1);
    const runId = mapped[0].node.id;
    const { run } = await service.query(`query($id: ID!) { run(id: $id) { brainMap(output: "pearsonR") { min max nVoxels nFinite values niftiUrl subject { rois { name voxelIndices } } } } }`, { id: runId });
    const map = run.brainMap;

    await page.goto(service.dashboardUrl);
    await page.getByRole('heading', { name: 'Benchmarks' }).waitFor();
    await page.goto(`${service.origin}/dashboard/runs/${runId}`);
    await page.getByTestId('roi-scores').waitFor();
    await page.getByTestId('brain-map-numbers').waitFor();
    const numbers = page.getByTestId('brain-map-numbers');
    expect(await numbers.locator('[data-col=min]').innerText()).toBe(fmt(map.min));
    expect(await numbers.locator('[data-col=max]').innerText()).toBe(fmt(map.max));
    expect(await numbers.locator('[data-col=voxels]').innerText()).toBe(String(map.nVoxels));
    expect(await numbers.locator('[data-col=finite]').innerText()).toBe(`${map.nFinite} with a value`);
    for (const roi of map.subject.rois) {
      const xs = roi.voxelIndices.map((v: number) => map.values[v]).filter((x: number | null) => x !== null);
      const mean = xs.reduce((a: number, b: number) => a + b, 0) / xs.length;
      expect(await page.locator(`[data-testid=brain-map-rois] tr[data-roi="${roi.name}"] [data-col=mean]`).innerText()).toBe(fmt(mean));
    }
    for (const axis of ['axial', 'coronal', 'sagittal']) expect(await page.locator(`[data-testid=brain-map] canvas[data-axis=${axis}]`).count()).toBe(5);

    const href = (await page.getByTestId('nifti-link').getAttribute('href'))!;
    const bytes = Buffer.from(await (await fetch(new URL(href, service.origin))).arrayBuffer());
    const { shape, data } = await readSingleVolume(Readable.from([bytes]), 'map.nii.gz');
    expect(shape).toEqual(DEMO_SPACE_SHAPE);
    expect(Array.from(data).filter((x) => !Number.isNaN(x)).length).toBe(map.nFinite);
    await page.screenshot({ path: path.join(SHOTS, '21-demo-brain-map.png'), fullPage: true });
  });

  // What the pages explain (metric names, ceilings, key/value tables, CI scales, units, 360 px).
  describe('pages explain what they show', () => {
    let runId: string;
    let datasetId: string;
    beforeAll(async () => {
      const { leaderboard } = await service.query(`query($id: ID!) { leaderboard(benchmarkId: $id, first: 1) { edges { node { run { id } } } } }`, { id: benchmark.id });
      runId = leaderboard.edges[0].node.run.id;
      const { datasets } = await service.query('{ datasets { edges { node { id } } } }');
      datasetId = datasets.edges[0].node.id;
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    it('names the metric in words with its definition on hover, and captions the chart once', async () => {
      await page.goto(`${service.origin}/dashboard/runs/${runId}`);
      await page.getByTestId('roi-scores').waitFor();
      const axis = page.locator('figure.chart .axis-title');
      expect(await axis.textContent()).toContain('Pearson r (mean over voxels)');
      expect(await axis.locator('title').textContent()).toMatch(/Correlation between predicted and measured responses/);
      expect(await page.getByLabel('Metric').locator('option:checked').innerText()).toBe('Pearson r (mean over voxels)');
      const caption = page.locator('[data-testid=roi-scores] caption abbr');
      expect(await caption.innerText()).toBe('Pearson r (mean over voxels)');
      expect(await caption.getAttribute('title')).toContain('pearson_r.mean');
      // The table carries the title; the figure's caption says only what the drawing adds.
      expect(await page.locator('figure.chart figcaption').innerText()).not.toContain('per ROI');
      expect(await page.getByText('pearson_r.mean', { exact: true }).count()).toBe(0);
    });

    it('draws the noise ceiling at 1 on the normalised per-ROI chart and explains values above 1', async () => {
      const { run } = await service.query(`query($id: ID!) { run(id: $id) { scores(metric: "pearson_r.mean") { scope normalized } } }`, { id: runId });
      const rois = run.scores.filter((s: any) => s.scope.startsWith('roi:') && s.normalized !== null);
      expect(rois.length).toBe(5);
      await page.goto(`${service.origin}/dashboard/runs/${runId}`);
      await page.getByTestId('roi-scores').waitFor();
      await page.getByLabel('Plot').selectOption('normalised');
      await page.screenshot({ path: path.join(SHOTS, '20-run-normalised-before.png'), fullPage: true });
      await page.locator('figure.chart').getByText('noise ceiling (1)').waitFor();
      // Two reference lines: zero and the ceiling.
      expect(await page.locator('figure.chart .recharts-reference-line-line').count()).toBe(2);
      expect(await page.locator('.recharts-bar-rectangle').count()).toBe(5);
      const label = (await page.locator('figure.chart').getAttribute('aria-label'))!;
      for (const s of rois) expect(label).toContain(`${s.scope.slice(4)} ${fmt(s.normalized)}`);
      const above = run.scores.filter((s: any) => s.normalized !== null && s.normalized > 1);
      const note = page.getByTestId('above-ceiling-note');
      if (above.length) {
        const text = await note.innerText();
        expect(text).toContain(`up to ${fmt(Math.max(...above.map((s: any) => s.normalized)))}`);
        expect(text).toContain('noise ceiling is itself an estimate');
        for (const s of above.filter((x: any) => x.scope.startsWith('roi:'))) {
          expect(await page.locator(`[data-testid=roi-scores] tr[data-scope="${s.scope}"] [data-col=normalized]`).getAttribute('class')).toContain('above-ceiling');
        }
      } else {
        expect(await note.count()).toBe(0);
      }
      await page.screenshot({ path: path.join(SHOTS, '20-run-normalised.png'), fullPage: true });
    });

    it('shows parameters and provenance as key/value tables with the raw JSON behind a toggle', async () => {
      const { run } = await service.query(`query($id: ID!) { run(id: $id) { params provenance } }`, { id: runId });
      await page.getByText('Parameters', { exact: true }).click();
      const params = page.getByLabel('Parameters of the run');
      expect(await params.locator('tr[data-key=featureSetId] > td').first().innerText()).toBe(run.params.featureSetId);
      expect(await params.locator('tr[data-key=bootstrapSamples] > td').first().innerText()).toBe(String(run.params.bootstrapSamples));
      const raw = page.getByLabel('Run parameters');
      expect(await raw.isVisible()).toBe(false);
      await page.locator('.raw-json:has([aria-label="Run parameters"]) > summary').click();
      expect(JSON.parse(await raw.innerText())).toEqual(run.params);
      await page.getByText('Provenance', { exact: true }).click();
      const prov = page.getByLabel('Provenance of the run');
      expect(await prov.locator('tr[data-key=codeVersion] > td').first().innerText()).toBe(String(run.provenance.codeVersion));
    });

    it('puts a labelled scale over the leaderboard CI bars that spans every interval', async () => {
      const { leaderboard } = await service.query(`query($id: ID!) { leaderboard(benchmarkId: $id, first: 20) { metric edges { node { value ciLow ciHigh } } } }`, { id: benchmark.id });
      await page.goto(`${service.origin}/dashboard/benchmarks/${benchmark.id}`);
      await page.getByTestId('leaderboard').waitFor();
      const ticks = (await page.getByTestId('ci-scale').locator('text').allTextContents()).map(Number);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
      const lows = leaderboard.edges.map((e: any) => e.node.ciLow ?? e.node.value);
      const highs = leaderboard.edges.map((e: any) => e.node.ciHigh ?? e.node.value);
      const pad = (Math.max(...highs) - Math.min(...lows)) * 0.1 || 0.01;
      for (const t of ticks) {
        expect(t).toBeGreaterThanOrEqual(Math.min(...lows) - pad - 1e-9);
        expect(t).toBeLessThanOrEqual(Math.max(...highs) + pad + 1e-9);
      }
      const metric = page.locator(`abbr[data-metric="${leaderboard.metric}"]`);
      expect(await metric.getAttribute('title')).toContain(leaderboard.metric);
    });

    it('says in the API which unit a noise ceiling and a normalised score are in', async () => {
      const { rs, score } = await service.query('{ rs: __type(name: "ResponseSet") { fields { name description } } score: __type(name: "Score") { fields { name description } } }');
      const d = (t: any, f: string) => t.fields.find((x: any) => x.name === f).description as string;
      expect(d(rs, 'noiseCeilingMedian')).toMatch(/percent \(0 to 100\)/);
      expect(d(rs, 'noiseCeiling')).toMatch(/percent/);
      expect(d(score, 'normalized')).toMatch(/unitless/);
    });

    it('fits a 360 px phone screen: no page scrolls sideways', async () => {
      const phone = await browser.newPage({ viewport: { width: 360, height: 740 } });
      try {
        const pages: [string, string][] = [
          ['/dashboard/', 'benchmarks'],
          [`/dashboard/benchmarks/${benchmark.id}`, '[data-testid=leaderboard]'],
          [`/dashboard/runs/${runId}`, '[data-testid=roi-scores]'],
          ['/dashboard/runs', '[data-testid=runs]'],
          ['/dashboard/catalog', '[data-testid=models]'],
          [`/dashboard/catalog/datasets/${datasetId}`, '[data-testid=subjects]'],
        ];
        for (const [url, ready] of pages) {
          await phone.goto(service.origin + url);
          await (ready === 'benchmarks' ? phone.getByRole('link', { name: benchmark.name }) : phone.locator(ready)).waitFor();
          if (url.includes('/runs/')) {
            // With everything open: both tables, the raw JSON with its long lines, the normalised chart.
            for (const s of await phone.locator('summary').all()) await s.click();
            for (const s of await phone.locator('details details > summary').all()) await s.click();
          }
          const { scrollWidth, innerWidth, wide } = (await phone.evaluate(WIDTHS)) as { scrollWidth: number; innerWidth: number; wide: string[] };
          // On failure the message names the page and the elements that stick out.
          expect({ url, scrollWidth, wide }).toEqual({ url, scrollWidth: Math.min(scrollWidth, innerWidth), wide: [] });
          await phone.screenshot({ path: path.join(SHOTS, `21-phone-${url.split('/').filter(Boolean).slice(1, 2).join('') || 'home'}.png`), fullPage: true });
        }
      } finally {
        await phone.close();
      }
    });
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
