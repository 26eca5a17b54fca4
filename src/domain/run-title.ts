// A run's human name, from what it compares: "Ridge encoding · clip layer4 → subj01 (NSD demo) ·
// nsd-encoding". Runs are otherwise UUIDs; the title is what lists, pages and the CLI show.
import type { RunKind } from '../generated/prisma/client';

/** The kind in words a neuroscientist reads. */
export const KIND_LABEL: Record<RunKind, string> = {
  IMPORT_RESPONSES: 'Response import',
  IMPORT_FEATURES: 'Feature import',
  IMPORT_SESSIONS: 'Session import',
  ENCODING_RIDGE: 'Ridge encoding',
  ENCODING_ICL: 'In-context encoding',
  CAUSAL_TEST: 'Causal test',
  VQA_EVAL: 'VQA evaluation',
  FEATURE_EXTRACTION: 'Feature extraction',
  LAYER_SWEEP: 'Layer sweep',
  REPRESENTATIONAL_SIMILARITY: 'Representational similarity',
};

export interface RunTitleParts {
  kind: RunKind;
  model?: string | null;
  layer?: string | null;
  subject?: string | null;
  dataset?: string | null;
  benchmark?: string | null;
}

/** Kind, then model (and layer) → subject (dataset), then benchmark; parts that are unknown are left out. */
export function runTitle(p: RunTitleParts): string {
  const model = p.model ? `${p.model}${p.layer ? ` ${p.layer}` : ''}` : null;
  const target = p.subject ? `${p.subject}${p.dataset ? ` (${p.dataset})` : ''}` : p.dataset;
  const compared = model && target ? `${model} → ${target}` : (model ?? target);
  return [KIND_LABEL[p.kind] ?? p.kind, compared, p.benchmark].filter(Boolean).join(' · ');
}

/** The ids in a run's parameters that name what it compares (kinds differ in which they carry). */
export function paramRefs(params: unknown): { featureSetId: string | null; responseSetId: string | null; stimulusSetId: string | null; datasetId: string | null } {
  const p = (params && typeof params === 'object' ? params : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v) ? v : null);
  return { featureSetId: str(p.featureSetId), responseSetId: str(p.responseSetId), stimulusSetId: str(p.stimulusSetId), datasetId: str(p.datasetId) };
}
