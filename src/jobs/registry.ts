// The job handlers the worker (and the embedded profile) execute, one per RunKind. A kind without
// a handler is simply not consumed by a worker.
import type { HandlerRegistry } from '../runs/types';
import { causalTest } from './causal-test';
import { encodingRidge } from './encoding-ridge';
import { encodingIcl } from './encoding-icl';
import { importFeatures, importResponses } from './io/import-frame';
import { vqaEval } from './vqa-eval';
import { featureExtraction } from './feature-extraction';
import { layerSweep } from './layer-sweep';
import { importSessions } from './import-sessions';
import { representationalSimilarityJob } from './representational-similarity';

export const handlers: HandlerRegistry = {
  IMPORT_RESPONSES: importResponses,
  IMPORT_FEATURES: importFeatures,
  ENCODING_RIDGE: encodingRidge,
  ENCODING_ICL: encodingIcl,
  CAUSAL_TEST: causalTest,
  VQA_EVAL: vqaEval,
  FEATURE_EXTRACTION: (ctx) => featureExtraction.handle({ ...ctx, params: featureExtraction.params.parse(ctx.params) }),
  LAYER_SWEEP: (ctx) => layerSweep.handle({ ...ctx, params: layerSweep.params.parse(ctx.params) }),
  IMPORT_SESSIONS: (ctx) => importSessions.handle({ ...ctx, params: importSessions.params.parse(ctx.params) }),
  REPRESENTATIONAL_SIMILARITY: (ctx) => representationalSimilarityJob.handle({ ...ctx, params: representationalSimilarityJob.params.parse(ctx.params) }),
};
