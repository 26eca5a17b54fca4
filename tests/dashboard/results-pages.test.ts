// The result views of run kinds the demo catalog does not compute (in-context encoders, causal
// tests, VQA) in headless Chromium, against the real GraphQL schema executed over planted results:
// every number the page prints must be the planted one, and the page's operations must validate.
import path from 'node:path';
import { plantedDashboardSuite, SHOTS } from './planted-service';

const fmt = (v: number) => v.toFixed(3);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

const RUN_BASE = { params: {}, progress: 1, progressMessage: 'Done', error: null, attempts: 1, provenance: { codeVersion: 'test' }, createdAt: '2026-01-01T00:00:00Z', startedAt: null, finishedAt: null, outputs: [], brainMapOutputs: [], title: 'Planted run', model: null, layer: null, subject: null, dataset: null, benchmark: null };
const score = (id: string, metric: string, scope: string, value: number, ciLow: number | null, ciHigh: number | null, extra: object = {}) => ({ id, metric, scope, value, ciLow, ciHigh, normalized: null, n: 12, extra });

// In-context vs ridge at k = 10, 50, 200 for the whole brain and FFA.
const ICL_SCORES = [10, 50, 200].flatMap((k, i) =>
  ['all', 'roi:FFA'].flatMap((scope, j) => [
    score(`icl-${k}-${j}`, `in_context.explained_variance.mean@k${k}`, scope, 0.1 + 0.1 * i + 0.01 * j, 0.05 + 0.1 * i, 0.15 + 0.1 * i),
    score(`ridge-${k}-${j}`, `ridge.explained_variance.mean@k${k}`, scope, 0.02 + 0.08 * i + 0.01 * j, 0.01 + 0.08 * i, 0.04 + 0.08 * i),
  ]),
);
const VQA_SCORES = [
  score('v-all', 'vqa_accuracy', 'all', 0.55, 0.5, 0.6, { chance: 0.25, prior: 0.4 }),
  score('v-color', 'vqa_accuracy', 'category:color', 0.62, 0.55, 0.69, { chance: 0.125, prior: 0.3 }),
  score('v-count', 'vqa_accuracy', 'category:count', 0.48, 0.4, 0.56, { chance: 0.2, prior: 0.35 }),
];
const CAUSAL = {
  concept: 'face',
  fdrQ: 0.05,
  minEffect: 1,
  counts: { voxels: { validatedCausal: 12, activationOnly: 30, neither: 200, activationPositive: 42 }, rois: { validatedCausal: 1, activationOnly: 2, neither: 2, activationPositive: 3 } },
  falsePositiveFraction: 30 / 42,
  roiFalsePositiveFraction: 2 / 3,
  rois: [
    { roi: 'FFA', class: 'VALIDATED_CAUSAL', nVoxels: 20, nValidatedVoxels: 9, nActivationOnlyVoxels: 4, activationEffect: 2.1, causalEffect: 1.7, ciLow: 1.2, ciHigh: 2.2, causalDz: { effect: 1.5, ciLow: 1, ciHigh: 2 }, causalMeanDifference: 0.4, distractors: [], replicated: true, measuredHolds: true },
    { roi: 'EBA', class: 'ACTIVATION_ONLY', nVoxels: 18, nValidatedVoxels: 1, nActivationOnlyVoxels: 11, activationEffect: 1.6, causalEffect: 0.2, ciLow: -0.3, ciHigh: 0.7, causalDz: { effect: 0.1, ciLow: -0.4, ciHigh: 0.6 }, causalMeanDifference: 0.05, distractors: [], replicated: false, measuredHolds: null },
  ],
  validatedVoxels: [],
  followUps: [{ voxelOrRoi: 'roi:FFA', pairs: [{ positive: 'img-1', counterfactual: 'img-1-edit', predictedEffect: 0.9 }], predictedEffect: 0.9, noiseSd: 0.5, standardizedEffect: 1.27, trialsFor80Power: 7 }],
  validatedCausalEffect: { effect: 1.5, ciLow: 1.1, ciHigh: 1.9 },
  designFile: null,
  measured: null,
  groundTruth: null,
};
const RUNS: Record<string, object> = {
  'run-icl': { ...RUN_BASE, id: 'run-icl', kind: 'ENCODING_ICL', status: 'SUCCEEDED', scores: ICL_SCORES },
  'run-vqa': { ...RUN_BASE, id: 'run-vqa', kind: 'VQA_EVAL', status: 'SUCCEEDED', scores: VQA_SCORES },
  'run-causal': { ...RUN_BASE, id: 'run-causal', kind: 'CAUSAL_TEST', status: 'SUCCEEDED', scores: [] },
  'run-failed': { ...RUN_BASE, id: 'run-failed', kind: 'ENCODING_RIDGE', status: 'FAILED', scores: [], error: { code: 'BAD_INPUT', message: 'Feature rows (10) do not match the stimuli (12)', details: { rows: 10 } } },
};

const ROOT_VALUE = {
  run: ({ id }: { id: string }) => RUNS[id] ?? null,
  causalTestResult: ({ runId }: { runId: string }) => (runId === 'run-causal' ? { ...CAUSAL, run: RUNS['run-causal'] } : null),
};

plantedDashboardSuite('dashboard result views', ROOT_VALUE, (ui) => {
  it('plots in-context vs ridge test-time scaling with the planted numbers', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-icl`);
    await ui.page.getByTestId('scaling-table').waitFor();
    for (const k of [10, 50, 200]) {
      const row = ui.page.locator(`[data-testid=scaling-table] tr[data-k="${k}"]`);
      const at = (m: string) => ICL_SCORES.find((s) => s.scope === 'all' && s.metric === `${m}.explained_variance.mean@k${k}`)!;
      expect(await row.locator('[data-col=in_context]').innerText()).toBe(fmt(at('in_context').value));
      expect(await row.locator('[data-col=ridge]').innerText()).toBe(fmt(at('ridge').value));
    }
    expect(await ui.page.locator('.recharts-line').count()).toBe(2);
    await ui.page.getByLabel('Scope').selectOption('roi:FFA');
    const ffa = ICL_SCORES.find((s) => s.scope === 'roi:FFA' && s.metric === 'in_context.explained_variance.mean@k50')!;
    expect(await ui.page.locator('[data-testid=scaling-table] tr[data-k="50"] [data-col=in_context]').innerText()).toBe(fmt(ffa.value));
    await ui.page.screenshot({ path: path.join(SHOTS, '10-run-in-context.png'), fullPage: true });
  });

  it('shows VQA accuracy per category beside the chance and prior baselines', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-vqa`);
    await ui.page.getByTestId('vqa-categories').waitFor();
    for (const s of VQA_SCORES.filter((x) => x.scope.startsWith('category:'))) {
      const row = ui.page.locator(`[data-testid=vqa-categories] tr[data-scope="${s.scope}"]`);
      expect(await row.locator('[data-col=value]').innerText()).toBe(fmt(s.value));
      expect(await row.locator('[data-col=chance]').innerText()).toBe(fmt((s.extra as any).chance));
      expect(await row.locator('[data-col=prior]').innerText()).toBe(fmt((s.extra as any).prior));
    }
    expect(await ui.page.getByTestId('overall-score').innerText()).toContain(fmt(0.55));
    expect(await ui.page.locator('.recharts-bar-rectangle').count()).toBe(6);
    await ui.page.screenshot({ path: path.join(SHOTS, '11-run-vqa.png'), fullPage: true });
  });

  it('shows the causal map per ROI, the false-positive accounting and the follow-ups, or says there are none', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-causal`);
    await ui.page.getByTestId('causal-rois').waitFor();
    const fp = await ui.page.locator('[data-testid=causal-counts] [data-col=false-positive-fraction]').allInnerTexts();
    expect(fp).toEqual([pct(CAUSAL.falsePositiveFraction), pct(CAUSAL.roiFalsePositiveFraction)]);
    const rois = await ui.page.getByTestId('causal-rois').innerText();
    for (const r of CAUSAL.rois) expect(rois).toContain(`${r.roi}\t${r.class}\t${r.nVoxels} (${r.nValidatedVoxels} / ${r.nActivationOnlyVoxels})\t${fmt(r.activationEffect)}\t${fmt(r.causalEffect)}`);
    const followUps = await ui.page.getByTestId('causal-followups').innerText();
    expect(followUps).toContain('img-1 → img-1-edit');
    expect(followUps).toContain('roi:FFA');
    expect(followUps).toMatch(/\b7\b/);
    await ui.page.screenshot({ path: path.join(SHOTS, '12-run-causal.png'), fullPage: true });
  });

  it('shows a failed run’s error code, message and details', async () => {
    await ui.page.goto(`${ui.origin}/dashboard/runs/run-failed`);
    const error = await ui.page.getByTestId('run-error').innerText();
    expect(error).toContain('BAD_INPUT');
    expect(error).toContain('Feature rows (10) do not match the stimuli (12)');
    expect(await ui.page.getByRole('button', { name: 'Resubmit with the same parameters' }).count()).toBe(1);
  });

  it('sends only operations that validate against the schema', () => {
    expect(ui.seen.length).toBeGreaterThan(4);
    expect(ui.failures).toEqual([]);
  });
}, { width: 1280, height: 900 });
