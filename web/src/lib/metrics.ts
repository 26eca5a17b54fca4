// Metric keys as the API stores them (`pearson_r.mean`) in words a reader can use as an axis
// label, with a one-sentence definition for hover text. One table for the whole dashboard.

interface MetricText {
  label: string;
  definition: string;
}

const BASE: Record<string, MetricText> = {
  pearson_r: { label: 'Pearson r', definition: 'Correlation between predicted and measured responses on held-out test stimuli, per voxel (1: perfect, 0: none).' },
  explained_variance: { label: 'Explained variance', definition: 'Fraction of the measured response variance on held-out test stimuli that the prediction explains, per voxel (1: all of it).' },
  r2: { label: 'R²', definition: 'Coefficient of determination 1 - SS_res / SS_tot on held-out test stimuli, per voxel.' },
  vqa_accuracy: { label: 'VQA accuracy', definition: 'Share of questions answered correctly under the standard VQA answer normalisation (0 to 1).' },
  'causal.recall': { label: 'Causal recall', definition: 'Share of planted or known causal voxels that the test validated.' },
  'causal.false_positive_rate': { label: 'False-positive rate', definition: 'Share of non-causal voxels that the test wrongly validated.' },
  'causal.activation_only_fraction': { label: 'Activation-only fraction', definition: 'Share of voxels that respond to the concept but fail the counterfactual test.' },
  'causal.n_validated': { label: 'Validated voxels', definition: 'Number of voxels whose counterfactual effect survived the held-out half.' },
  'causal.n_activation_only': { label: 'Activation-only voxels', definition: 'Number of voxels that respond to the concept but fail the counterfactual test.' },
  'causal.n_activation_positive': { label: 'Activation-positive voxels', definition: 'Number of voxels that respond more to the concept than to its counterfactual.' },
};

const SUMMARY: Record<string, string> = { mean: 'mean over voxels', median: 'median over voxels' };
const METHOD: Record<string, string> = { ridge: 'ridge', icl: 'in-context', cv: 'cross-validated', layer_sweep: 'layer sweep' };

/** The metric in words, e.g. `pearson_r.mean` -> "Pearson r (mean over voxels)"; unknown keys come back as they are. */
export function metricLabel(key: string): string {
  return describe(key)?.label ?? key;
}

/** A sentence saying what the metric measures, for a title attribute; the key itself when unknown. */
export function metricDefinition(key: string): string {
  const d = describe(key);
  return d ? `${d.definition} (${key})` : key;
}

function describe(key: string): MetricText | undefined {
  if (BASE[key]) return BASE[key];
  // Sweep metrics carry the number of in-context images: ridge.pearson_r.mean@k8.
  const [stem, at] = key.split('@');
  const parts = stem.split('.');
  const summary = SUMMARY[parts[parts.length - 1]];
  const core = summary ? parts.slice(0, -1) : parts;
  const method = METHOD[core[0]] && core.length > 1 ? METHOD[core[0]] : undefined;
  const base = BASE[(method ? core.slice(1) : core).join('.')];
  if (!base) return undefined;
  const bits = [summary, method, at ? `k = ${at.replace(/^k/, '')}` : undefined].filter(Boolean);
  return { label: bits.length ? `${base.label} (${bits.join(', ')})` : base.label, definition: base.definition + (summary ? ` Summarised as the ${summary}.` : '') };
}

/** Hover text for a ceiling-normalised value, and the reason values above 1 are shown as they are. */
export const NORMALISED_DEFINITION =
  'Score divided by the noise ceiling (the share of response variance that repeats of the same stimulus agree on), voxel by voxel, then averaged; for Pearson r the squared correlation is divided. 1 means as good as the data allow.';
export const ABOVE_CEILING_NOTE =
  'Values above 1 are kept, not clipped: the noise ceiling is itself an estimate from a finite number of repeats, so a good model can beat it by noise, especially in small ROIs or with few repeats. Read a value above 1 as "at the ceiling, within its uncertainty", not as better than the data.';
