// The job handlers the worker (and the embedded profile) execute, one per RunKind. A kind without
// a handler is simply not consumed by a worker.
import type { HandlerRegistry } from '../../runs/types';
import { encodingRidge } from './encoding-ridge';
import { importFeatures, importResponses } from './import-arrays';
import { vqaEval } from './vqa-eval';

export const handlers: HandlerRegistry = {
  IMPORT_RESPONSES: importResponses,
  IMPORT_FEATURES: importFeatures,
  ENCODING_RIDGE: encodingRidge,
  VQA_EVAL: vqaEval,
};
