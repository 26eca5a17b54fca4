// What `npm start` shows of brain maps: the brain-space demo subject's encoding run page draws its
// r map in Chromium, with the numbers the API returns, and its NIfTI link downloads the volume.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmbedded, waitForDemoRuns, type EmbeddedService } from './embedded-service';
import { DEMO_SPACE_SHAPE } from '../../src/embedded/demo-brain-space';
import { readSingleVolume } from '../../src/storage/nifti';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-artifacts/dashboard');
const suite = existsSync(CHROMIUM) ? describe : describe.skip;
const fmt = (v: number | null) => (v === null ? '–' : v.toFixed(3));

suite('brain maps of the demo', () => {
  let service: EmbeddedService;
  let browser: Browser;
  let page: Page;

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
    await waitForDemoRuns(service, 7, 300_000);
  }, 400_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
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
});
