// NSD-VQA: benchmark and answer files, official VQA answer normalisation, accuracy, baselines and
// bootstrap CIs over images. Pure functions; the VQA_EVAL job and the import mutation call them.
export * from './records';
export * from './normalize';
export * from './accuracy';
export * from './benchmark-file';
export * from './answers-file';
export * from './score';
export * from './official';
