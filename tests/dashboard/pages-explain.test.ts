// The dashboard explains what it shows, in headless Chromium against the embedded demo: metric
// names in words with definitions on hover, the noise-ceiling line on the normalised per-ROI
// chart, the note on normalised values above 1, parameters and provenance as key/value tables
// with the raw JSON behind a toggle, a scale on the leaderboard's CI bars, unit-bearing API
// descriptions, and the main pages at a 360 px phone width without sideways scrolling.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmbedded, waitForDemoRuns, type EmbeddedService } from './embedded-service';
import { DEMO_BENCHMARK } from '../../src/embedded/seed';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-artifacts/dashboard');
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`);
const suite = haveBrowser ? describe : describe.skip;

const fmt = (v: number) => v.toFixed(3);
// Page width against the viewport, and the outermost elements reaching past its right edge.
const WIDTHS = `(() => {
  const w = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > w + 0.5 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > w + 0.5));
  const scrollWidth = document.documentElement.scrollWidth;
  return { scrollWidth, innerWidth: w, wide: scrollWidth <= w ? [] : wide.map((el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className : '')) };
})()`;

suite('dashboard pages explain what they show', () => {
  let service: EmbeddedService;
  let browser: Browser;
  let page: Page;
  let benchmark: { id: string; name: string };
  let runId: string;
  let datasetId: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    execFileSync(process.execPath, ['scripts/build-dashboard.js'], { cwd: ROOT, stdio: 'inherit' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    service = await startEmbedded();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => console.error(`dashboard page error: ${err.message}`));
    await waitForDemoRuns(service, 7, 200_000);
    const { benchmarks } = await service.query('{ benchmarks { id name } }');
    benchmark = benchmarks.find((b: any) => b.name === DEMO_BENCHMARK);
    const { leaderboard } = await service.query(`query($id: ID!) { leaderboard(benchmarkId: $id, first: 1) { edges { node { run { id } } } } }`, { id: benchmark.id });
    runId = leaderboard.edges[0].node.run.id;
    const { datasets } = await service.query('{ datasets { edges { node { id } } } }');
    datasetId = datasets.edges[0].node.id;
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
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
