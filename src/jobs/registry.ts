// The job handlers the worker (and the embedded profile) execute, one per RunKind. A kind without
// a handler is simply not consumed by a worker.
import type { HandlerRegistry } from '../runs/types';
import { jobHandler } from './define';
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
  ENCODING_RIDGE: jobHandler(encodingRidge),
  ENCODING_ICL: jobHandler(encodingIcl),
  CAUSAL_TEST: jobHandler(causalTest),
  VQA_EVAL: vqaEval,
  FEATURE_EXTRACTION: jobHandler(featureExtraction),
  LAYER_SWEEP: jobHandler(layerSweep),
  IMPORT_SESSIONS: jobHandler(importSessions),
  REPRESENTATIONAL_SIMILARITY: jobHandler(representationalSimilarityJob),
};
