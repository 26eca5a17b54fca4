export { Engine, type EngineConfig, type EngineProvenance, type ExecutionProvider, type ExecutionProviderChoice, type HostTensor } from './engine';
export { GraphBuilder, OPSET, type Dim, type ElementType, type Graph } from './graph';
export { affine, cachedGraph, gemm, gram, matrix, type FloatArray, type Matrix } from './kernels';
