// The job handlers the worker (and the embedded profile) execute, one per RunKind. A kind without
// a handler is simply not consumed by a worker.
import type { HandlerRegistry } from '../../runs/types';
import { importFeatures, importResponses } from './import-arrays';

export const handlers: HandlerRegistry = {
  IMPORT_RESPONSES: importResponses,
  IMPORT_FEATURES: importFeatures,
};
