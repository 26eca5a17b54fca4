// One representational-similarity analysis: a subject's brain geometry per scope (whole brain and
// each ROI) against a model's geometry per layer, by RDM comparisons (Spearman, tau-a, Pearson of
// the upper triangles) and by linear / debiased CKA of the centred patterns, with
//   - the best layer per scope and measure chosen on separate selection stimuli (never on the
//     scored ones, which would inflate the score),
//   - 95% bootstrap intervals over the scored stimuli at each chosen layer (duplicated-stimulus
//     pairs dropped: RDM pairs, see ./bootstrap, and CKA's Gram entries, see ./cka), the same
//     resamples for every scope and layer,
//   - a noise ceiling per scope and measure: across subjects when other subjects saw the same
//     stimuli, split-half over the subject's repeats otherwise.
// Memory: every RDM is one float32 upper triangle (plus its sorted copy), built in row blocks; the
// layers' geometries are kept and the scopes are analysed one at a time (geometry, comparisons,
// bootstrap, ceiling), so one scope's RDM and Gram are held whatever the number of ROIs; other
// subjects are loaded one at a time and reduced to their geometry at once.
import { check, ComputeError } from '../errors';
import { matrix, type Engine, type Matrix } from '../onnx';
import { ascendingOrder, pairWeights, percentileInterval, resampleCounts, tauPlan, tauScratch, weightedPearson, weightedRanks, weightedTauA } from './bootstrap';
import { ckaCeilingAcrossSubjects, ckaCeilingSplitHalf, rdmCeilingAcrossSubjects, rdmCeilingSplitHalf, type Ceiling } from './ceiling';
import { centredGram, cka, ckaBootstrap, type Gram } from './cka';
import { kendallTauAFromKeys, pearsonR, rankRdm, rdmKeys, spearmanFromKeys, type RankedRdm, type RdmComparison, type RdmKeys } from './compare';
import { crossnobisRdm, patternRdm } from './rdm';
import { squareOf } from './triangle';

export const RSA_MEASURES = ['spearman', 'kendall_tau_a', 'pearson', 'cka_linear', 'cka_debiased'] as const;
export type RsaMeasure = (typeof RSA_MEASURES)[number];
export const RSA_DISTANCES = ['correlation', 'euclidean', 'crossnobis'] as const;
export type BrainDistance = (typeof RSA_DISTANCES)[number];
export type ModelDistance = 'correlation' | 'euclidean';

const RDM_COMPARISON: Partial<Record<RsaMeasure, RdmComparison>> = { spearman: 'spearman', kendall_tau_a: 'kendall_tau_a', pearson: 'pearson' };
const isCka = (m: RsaMeasure) => m === 'cka_linear' || m === 'cka_debiased';

/** Responses to the analysed stimuli: the repeat mean (n, v) and, when kept, each repeat. */
export interface Patterns {
  mean: Matrix<Float32Array>;
  repeats: Matrix<Float32Array>[] | null;
}

/** `voxels` null: every voxel (the whole-brain scope). */
export interface RsaScope {
  name: string;
  voxels: ArrayLike<number> | null;
}

export interface RsaLayer {
  name: string;
  /** Features of the scored stimuli (n, d) and of the selection stimuli. */
  scored: Matrix<Float32Array>;
  selection: Matrix<Float32Array> | null;
}

export interface OtherSubject {
  name: string;
  /** Scope name -> that subject's voxels (ROIs matched by name); scopes it lacks are absent. */
  scopes: Map<string, ArrayLike<number> | null>;
  /** Its responses to the scored stimuli, in the same order. */
  load(): Promise<Patterns>;
}

export interface RsaRequest {
  scopes: RsaScope[];
  brain: Patterns;
  brainSelection: Patterns | null;
  layers: RsaLayer[];
  otherSubjects: OtherSubject[];
  measures: readonly RsaMeasure[];
  distance: BrainDistance;
  modelDistance: ModelDistance;
  bootstrapSamples: number;
  seed: number;
  /** Scored stimuli (indices) whose square RDMs are returned for heatmaps. */
  heatmapStimuli?: ArrayLike<number>;
  blockRows?: number;
  progress?: (fraction: number, message: string) => Promise<void>;
}

export interface RsaCell {
  layerIndex: number;
  scopeIndex: number;
  measure: RsaMeasure;
  value: number;
  /** The same comparison on the selection stimuli (what the best layer is chosen by). */
  selectionValue: number | null;
}

export interface RsaBest extends RsaCell {
  ci: [number, number];
  nBootstrap: number;
}

export interface ScopeCeiling extends Ceiling {
  /** The distance the subjects' or halves' RDMs were computed with. */
  distance: BrainDistance;
}

export interface RsaResult {
  cells: RsaCell[];
  best: RsaBest[];
  /** Per scope and measure; null where no ceiling can be formed (one subject, no repeats). */
  ceilings: Partial<Record<RsaMeasure, ScopeCeiling>>[];
  heatmaps: { brain: Float32Array[]; model: Float32Array[] } | null;
  nStimuli: number;
  nSelection: number;
  seconds: Record<string, number>;
}

/** A stimulus whose pattern is constant over a scope's voxels: its correlation distance is undefined. */
export class ConstantPatternError extends ComputeError {
  constructor(
    readonly scope: string,
    readonly stimuli: number[],
    readonly which: 'scored' | 'selection' | 'layer',
  ) {
    super('NON_FINITE_INPUT', `${stimuli.length} stimuli have a constant pattern over ${scope}: their correlation distance is undefined`);
    this.name = 'ConstantPatternError';
  }
}

interface Geometry {
  rdm: RankedRdm | null;
  /** Rank keys of the RDM, computed once for its many comparisons. */
  keys: RdmKeys | null;
  gram: Gram | null;
}

function geometryOf(rdm: RankedRdm | null, gram: Gram | null): Geometry {
  return { rdm, keys: rdm ? rdmKeys(rdm) : null, gram };
}

/** The columns of m at `voxels` (a view of m itself for the whole brain). */
export function columns(m: Matrix<Float32Array>, voxels: ArrayLike<number> | null): Matrix<Float32Array> {
  if (!voxels) return m;
  const k = voxels.length;
  const out = new Float32Array(m.rows * k);
  for (let i = 0; i < m.rows; i++) {
    const off = i * m.cols;
    for (let j = 0; j < k; j++) out[i * k + j] = m.data[off + voxels[j]];
  }
  return matrix(out, m.rows, k);
}

interface Needs {
  rdm: boolean;
  gram: boolean;
  blockRows?: number;
}

async function brainGeometry(engine: Engine, p: Patterns, scope: RsaScope, distance: BrainDistance, needs: Needs, which: 'scored' | 'selection'): Promise<Geometry> {
  const sub = columns(p.mean, scope.voxels);
  let rdm: RankedRdm | null = null;
  if (needs.rdm) {
    if (distance === 'crossnobis') {
      check(p.repeats && p.repeats.length >= 2, 'INVALID_ARGUMENT', 'crossnobis needs at least 2 repeats');
      rdm = rankRdm((await crossnobisRdm(engine, p.repeats.map((r) => columns(r, scope.voxels)), { blockRows: needs.blockRows })).values);
    } else {
      const r = await patternRdm(engine, sub, distance, { blockRows: needs.blockRows });
      if (r.constantStimuli.length) throw new ConstantPatternError(scope.name, r.constantStimuli, which);
      rdm = rankRdm(r.values);
    }
  }
  return geometryOf(rdm, needs.gram ? await centredGram(engine, sub) : null);
}

async function modelGeometry(engine: Engine, x: Matrix<Float32Array>, layer: string, distance: ModelDistance, needs: Needs): Promise<Geometry> {
  let rdm: RankedRdm | null = null;
  if (needs.rdm) {
    const r = await patternRdm(engine, x, distance, { blockRows: needs.blockRows });
    if (r.constantStimuli.length) throw new ConstantPatternError(`layer ${layer}`, r.constantStimuli, 'layer');
    rdm = rankRdm(r.values);
  }
  return geometryOf(rdm, needs.gram ? await centredGram(engine, x) : null);
}

function compare(brain: Geometry, model: Geometry, measures: readonly RsaMeasure[]): Record<RsaMeasure, number> {
  const out = {} as Record<RsaMeasure, number>;
  const k = measures.some(isCka) ? cka(brain.gram!, model.gram!) : null;
  for (const m of measures) {
    const c = RDM_COMPARISON[m];
    out[m] =
      c === 'spearman'
        ? spearmanFromKeys(brain.keys!, model.keys!)
        : c === 'kendall_tau_a'
          ? kendallTauAFromKeys(brain.keys!, model.keys!)
          : c === 'pearson'
            ? pearsonR(brain.rdm!.values, model.rdm!.values)
            : m === 'cka_linear'
              ? k!.linear
              : k!.debiased;
  }
  return out;
}

/** Mean of the given repeats, (n, v). */
function meanOf(repeats: Matrix<Float32Array>[]): Matrix<Float32Array> {
  const { rows, cols } = repeats[0];
  const out = new Float32Array(rows * cols);
  for (const r of repeats) for (let t = 0; t < out.length; t++) out[t] += r.data[t];
  for (let t = 0; t < out.length; t++) out[t] /= repeats.length;
  return matrix(out, rows, cols);
}

/** Even- and odd-numbered repeats as two half datasets. */
function halves(p: Patterns): [Patterns, Patterns] {
  const reps = p.repeats!;
  const a = reps.filter((_, i) => i % 2 === 0);
  const b = reps.filter((_, i) => i % 2 === 1);
  return [
    { mean: meanOf(a), repeats: a },
    { mean: meanOf(b), repeats: b },
  ];
}

function ceilingsFrom(geoms: Geometry[], measures: readonly RsaMeasure[], distance: BrainDistance, splitHalf: boolean): Partial<Record<RsaMeasure, ScopeCeiling>> {
  const out: Partial<Record<RsaMeasure, ScopeCeiling>> = {};
  const ckaC = measures.some(isCka) ? (splitHalf ? ckaCeilingSplitHalf(geoms[0].gram!, geoms[1].gram!) : ckaCeilingAcrossSubjects(geoms.map((g) => g.gram!))) : null;
  for (const m of measures) {
    const c = RDM_COMPARISON[m];
    const ceiling = c
      ? splitHalf
        ? rdmCeilingSplitHalf(geoms[0].rdm!.values, geoms[1].rdm!.values, c)
        : rdmCeilingAcrossSubjects(geoms.map((g) => g.rdm!.values), c)
      : ckaC![m === 'cka_linear' ? 'linear' : 'debiased'];
    out[m] = { ...ceiling, distance };
  }
  return out;
}

export async function representationalSimilarity(engine: Engine, req: RsaRequest): Promise<RsaResult> {
  const n = req.brain.mean.rows;
  check(n >= 4, 'INVALID_ARGUMENT', `RSA needs at least 4 stimuli (got ${n})`);
  check(req.layers.length >= 1, 'INVALID_ARGUMENT', 'RSA needs at least one layer');
  for (const l of req.layers) check(l.scored.rows === n, 'SHAPE_MISMATCH', `layer ${l.name} has ${l.scored.rows} stimuli, the responses ${n}`);
  const choose = req.layers.length > 1;
  check(!choose || (req.brainSelection && req.layers.every((l) => l.selection)), 'INVALID_ARGUMENT', 'choosing among several layers needs selection stimuli');
  const needs: Needs = { rdm: req.measures.some((m) => RDM_COMPARISON[m]), gram: req.measures.some(isCka), blockRows: req.blockRows };
  const progress = req.progress ?? (async () => {});
  const seconds: Record<string, number> = {};
  const timed = async <T>(phase: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      seconds[phase] = (seconds[phase] ?? 0) + (performance.now() - t0) / 1000;
    }
  };

  // Selection stimuli first: their geometries are only needed for the choice, then dropped.
  const selectionValues: Record<RsaMeasure, number>[][] = req.scopes.map(() => []);
  if (choose) {
    await progress(0.05, `choosing the best layer on ${req.brainSelection!.mean.rows} selection stimuli`);
    await timed('selection', async () => {
      const models: Geometry[] = [];
      for (const l of req.layers) models.push(await modelGeometry(engine, l.selection!, l.name, req.modelDistance, needs));
      for (let s = 0; s < req.scopes.length; s++) {
        const brain = await brainGeometry(engine, req.brainSelection!, req.scopes[s], req.distance, needs, 'selection');
        selectionValues[s] = models.map((m) => compare(brain, m, req.measures));
      }
    });
  }

  // The chosen layer per scope and measure: highest on the selection stimuli (NaN never wins).
  const chosen: { scopeIndex: number; measure: RsaMeasure; layerIndex: number }[] = [];
  for (let s = 0; s < req.scopes.length; s++)
    for (const m of req.measures) {
      let best = choose ? -1 : 0;
      if (choose)
        selectionValues[s].forEach((v, li) => {
          if (Number.isFinite(v[m]) && (best < 0 || v[m] > selectionValues[s][best][m])) best = li;
        });
      if (best >= 0) chosen.push({ scopeIndex: s, measure: m, layerIndex: best });
    }

  await progress(0.2, `geometries of ${req.layers.length} layers over ${n} stimuli`);
  const models: Geometry[] = [];
  await timed('geometry', async () => {
    for (const l of req.layers) models.push(await modelGeometry(engine, l.scored, l.name, req.modelDistance, needs));
  });

  // One scope at a time: its geometry, its cells against every layer, its bootstrap, ceiling and
  // heatmap, then it is dropped, so memory holds the layers' geometries and one scope's whatever
  // the number of ROIs.
  const S = req.scopes.length;
  const cellsBy: RsaCell[][][] = req.layers.map(() => []);
  const boot: { ci: [number, number]; n: number }[] = new Array(chosen.length);
  const ceilings: Partial<Record<RsaMeasure, ScopeCeiling>>[] = [];
  const brainHeatmaps: Float32Array[] = [];
  const shared: ScopeShared = { modelOrders: new Map(), halves: null };
  for (let s = 0; s < S; s++) {
    const span: [number, number] = [0.25 + (0.7 * s) / S, 0.25 + (0.7 * (s + 1)) / S];
    await progress(span[0], `${req.scopes[s].name}: geometry and comparisons with ${req.layers.length} layers`);
    const brain = await timed('geometry', () => brainGeometry(engine, req.brain, req.scopes[s], req.distance, needs, 'scored'));
    await timed('compare', async () => {
      for (let li = 0; li < req.layers.length; li++) {
        const v = compare(brain, models[li], req.measures);
        cellsBy[li][s] = req.measures.map((m) => ({ layerIndex: li, scopeIndex: s, measure: m, value: v[m], selectionValue: choose ? selectionValues[s][li][m] : null }));
      }
    });
    const mine = chosen.map((c, k) => ({ c, k })).filter((x) => x.c.scopeIndex === s);
    const b = await timed('bootstrap', () => bootstrapChosen(engine, brain, models, mine.map((x) => x.c), req, n, span, shared.modelOrders));
    mine.forEach((x, j) => (boot[x.k] = b[j]));
    ceilings.push(await timed('ceiling', () => scopeCeiling(engine, req, needs, s, brain, shared)));
    if (req.heatmapStimuli && needs.rdm) brainHeatmaps.push(squareOf(brain.rdm!.values, n, req.heatmapStimuli));
  }
  const cells = cellsBy.flatMap((byScope) => byScope.flat());

  const cellOf = (s: number, li: number, m: RsaMeasure) => cells.find((c) => c.scopeIndex === s && c.layerIndex === li && c.measure === m)!;
  const best: RsaBest[] = chosen.map((c, k) => ({ ...cellOf(c.scopeIndex, c.layerIndex, c.measure), ci: boot[k].ci, nBootstrap: boot[k].n }));

  const heatmaps: RsaResult['heatmaps'] =
    req.heatmapStimuli && needs.rdm ? { brain: brainHeatmaps, model: models.map((g) => squareOf(g.rdm!.values, n, req.heatmapStimuli!)) } : null;
  return { cells, best, ceilings, heatmaps, nStimuli: n, nSelection: choose ? req.brainSelection!.mean.rows : 0, seconds };
}

/** What every scope's analysis reuses: the layers' pair orders, the subject's two repeat halves. */
interface ScopeShared {
  modelOrders: Map<number, Int32Array>;
  halves: [Patterns, Patterns] | null;
}

/**
 * Bootstrap intervals of one scope at its chosen layers, the same resamples (the request's seed)
 * for every scope. Per resample: the pair weights once, the brain's ranks once, each layer's model
 * ranks once, then the comparisons; tau-a one layer's plan at a time; CKA of all resamples at once
 * through the engine (./cka ckaBootstrap). Progress within `span`.
 */
async function bootstrapChosen(
  engine: Engine,
  brain: Geometry,
  models: Geometry[],
  chosen: { measure: RsaMeasure; layerIndex: number }[],
  req: RsaRequest,
  n: number,
  span: [number, number],
  modelOrders: Map<number, Int32Array>,
): Promise<{ ci: [number, number]; n: number }[]> {
  const B = req.bootstrapSamples;
  if (B === 0) return chosen.map(() => ({ ci: [NaN, NaN], n: 0 }));
  const counts = resampleCounts(n, B, req.seed);
  const samples = chosen.map(() => new Float64Array(B));

  const rankChosen = chosen.map((c, k) => ({ ...c, k })).filter((c) => c.measure === 'spearman' || c.measure === 'pearson');
  const tauChosen = chosen.map((c, k) => ({ ...c, k })).filter((c) => c.measure === 'kendall_tau_a');
  const m = (n * (n - 1)) / 2;
  const w = rankChosen.length || tauChosen.length ? new Float64Array(m) : new Float64Array(0);
  const steps = (rankChosen.length ? B : 0) + tauChosen.length * B;
  let step = 0;
  const stepDone = async () => {
    if (++step % 50 === 0 && req.progress) await req.progress(span[0] + ((span[1] - span[0]) * step) / steps, `bootstrap: ${step} of ${steps} resampled comparisons`);
  };
  if (rankChosen.length) {
    const spearman = rankChosen.some((c) => c.measure === 'spearman');
    const layersUsed = [...new Set(rankChosen.filter((c) => c.measure === 'spearman').map((c) => c.layerIndex))];
    const brainOrder = spearman ? ascendingOrder(brain.rdm!) : null;
    for (const l of layersUsed) if (!modelOrders.has(l)) modelOrders.set(l, ascendingOrder(models[l].rdm!));
    const brainRanks = spearman ? new Float64Array(m) : null;
    const modelRanks = new Map(layersUsed.map((l) => [l, new Float64Array(m)]));
    for (let b = 0; b < B; b++) {
      pairWeights(counts.subarray(b * n, (b + 1) * n), n, w);
      if (brainOrder) weightedRanks(brain.rdm!, brainOrder, w, brainRanks!);
      for (const l of layersUsed) weightedRanks(models[l].rdm!, modelOrders.get(l)!, w, modelRanks.get(l)!);
      for (const c of rankChosen)
        samples[c.k][b] = c.measure === 'spearman' ? weightedPearson(brainRanks!, modelRanks.get(c.layerIndex)!, w) : weightedPearson(brain.rdm!.values, models[c.layerIndex].rdm!.values, w);
      await stepDone();
    }
  }
  // Tau-a: one layer's plan at a time, so memory holds one plan whatever the number chosen.
  if (tauChosen.length) {
    const scratch = tauScratch(m);
    for (const c of tauChosen) {
      const plan = tauPlan(brain.keys!.keys, models[c.layerIndex].keys!.keys);
      for (let b = 0; b < B; b++) {
        samples[c.k][b] = weightedTauA(plan, pairWeights(counts.subarray(b * n, (b + 1) * n), n, w), scratch);
        await stepDone();
      }
    }
  }

  const ckaChosen = chosen.map((c, k) => ({ ...c, k })).filter((c) => isCka(c.measure));
  const countsMatrix = matrix(counts, B, n);
  for (const l of new Set(ckaChosen.map((c) => c.layerIndex))) {
    const [[values]] = await ckaBootstrap(engine, [brain.gram!], [models[l].gram!], countsMatrix);
    for (const c of ckaChosen) if (c.layerIndex === l) samples[c.k].set(c.measure === 'cka_linear' ? values.linear : values.debiased);
  }
  return samples.map((x) => ({ ci: percentileInterval(x), n: B }));
}

/**
 * One scope's ceiling: across subjects when others saw the stimuli (each read once per scope and
 * reduced to its geometry at once, so one other subject is in memory at a time), split-half over
 * the subject's repeats otherwise, else none.
 */
async function scopeCeiling(engine: Engine, req: RsaRequest, needs: Needs, s: number, brain: Geometry, shared: ScopeShared): Promise<Partial<Record<RsaMeasure, ScopeCeiling>>> {
  const scope = req.scopes[s];
  const others = req.otherSubjects.filter((o) => o.scopes.has(scope.name));
  if (others.length) {
    const geoms = [brain];
    for (const o of others) {
      const p = await o.load();
      check(p.mean.rows === req.brain.mean.rows, 'SHAPE_MISMATCH', `subject ${o.name} has responses to ${p.mean.rows} of the ${req.brain.mean.rows} stimuli`);
      geoms.push(await brainGeometry(engine, p, { name: `${scope.name} of ${o.name}`, voxels: o.scopes.get(scope.name)! }, req.distance, needs, 'scored'));
    }
    return ceilingsFrom(geoms, req.measures, req.distance, false);
  }
  const reps = req.brain.repeats;
  if (!reps || reps.length < 2) return {};
  const [a, b] = (shared.halves ??= halves(req.brain));
  // Crossnobis needs two repeats in each half; with fewer the halves are compared by Euclidean distance.
  const distance: BrainDistance = req.distance === 'crossnobis' && reps.length < 4 ? 'euclidean' : req.distance;
  const ga = await brainGeometry(engine, a, scope, distance, needs, 'scored');
  const gb = await brainGeometry(engine, b, scope, distance, needs, 'scored');
  return ceilingsFrom([ga, gb], req.measures, distance, true);
}

/** value / upper bound of the ceiling, where that bound is positive. */
export function ceilingNormalized(value: number, ceiling: Ceiling | undefined): number | null {
  if (!ceiling || !(ceiling.upper > 0) || !Number.isFinite(value)) return null;
  return value / ceiling.upper;
}
