// Registering an image backbone: its ONNX graph is checked against the backbone contract
// (src/compute/vision/backbone.ts), its preprocessing contract read from the file's metadata or
// given at registration (never both disagreeing), and one dry run records every layer's shape,
// pooling and pooled width, so a feature extraction is refused before queueing when it names a
// layer the model does not have.
import type { DomainContext } from './context';
import { plainLookups } from './lookups';
import { badInput } from '../errors';
import { sharedEngine } from '../compute/engine-instance';
import { readEncoderBytes } from '../jobs/io/encoder-bytes';
import { BackboneContractError, checkContractAgainstGraph, dryRunBackbone, META, POOLINGS, readBackboneGraph, type BackboneLayer, type Pooling } from '../compute/vision/backbone';
import { parseContract, PreprocessContractError, type PreprocessContract } from '../compute/vision/preprocess';
import { requireUuid } from './validate';

export interface BackboneRegistration {
  layers: BackboneLayer[];
  preprocessing: PreprocessContract;
}

function sameContract(a: PreprocessContract, b: PreprocessContract): boolean {
  const strip = ({ preset: _p, ...rest }: PreprocessContract) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function readPooling(value: unknown, field: string): Record<string, Pooling> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badInput(`${field} must be an object { layer: pooling } (got ${JSON.stringify(value)})`, field);
  for (const [layer, p] of Object.entries(value as Record<string, unknown>))
    if (!POOLINGS.includes(p as Pooling)) throw badInput(`${field}.${layer} = ${JSON.stringify(p)} is not a pooling (known: ${POOLINGS.join(', ')})`, `${field}.${layer}`);
  return value as Record<string, Pooling>;
}

export async function checkBackbone(ctx: DomainContext, input: { artifactId?: string | null; preprocessing?: unknown; pooling?: unknown }): Promise<BackboneRegistration> {
  const artifact = await plainLookups(ctx).artifact.load(requireUuid(input.artifactId!, 'artifactId'));
  if (!artifact) throw badInput(`Artifact ${input.artifactId} does not exist`, 'artifactId');
  const name = artifact.filename || 'The artifact';
  try {
    const bytes = await readEncoderBytes(ctx.services.store, artifact.sha256);
    const graph = readBackboneGraph(bytes);
    const fromFile = graph.metadata.get(META.preprocess);
    let fileContract: PreprocessContract | null = null;
    if (fromFile !== undefined) {
      try {
        fileContract = parseContract(JSON.parse(fromFile));
      } catch (err) {
        throw badInput(`${name}: metadata ${META.preprocess} is not a valid preprocessing contract (${(err as Error).message}); give preprocessing at registration or re-export`, 'artifactId');
      }
    }
    let contract: PreprocessContract;
    if (input.preprocessing !== undefined && input.preprocessing !== null) {
      contract = parseContract(input.preprocessing);
      if (fileContract && !sameContract(contract, fileContract))
        throw badInput(`The preprocessing given (${JSON.stringify(contract)}) contradicts the file's ${META.preprocess} (${JSON.stringify(fileContract)}); omit preprocessing or re-export the model`, 'preprocessing', {
          given: contract,
          file: fileContract,
        });
    } else if (fileContract) contract = fileContract;
    else
      throw badInput(`${name} has no ${META.preprocess} metadata: give preprocessing at registration ({ preset: "clip" } or { preset: "imagenet" }, or inputSize, resize, resizeSize, interpolation, scale, mean, std)`, 'preprocessing');
    checkContractAgainstGraph(graph, contract);
    let filePooling: Record<string, Pooling> = {};
    const poolingMeta = graph.metadata.get(META.pooling);
    if (poolingMeta !== undefined) {
      try {
        filePooling = readPooling(JSON.parse(poolingMeta), META.pooling);
      } catch (err) {
        throw badInput(`${name}: metadata ${META.pooling} is not { layer: pooling } (${(err as Error).message})`, 'artifactId');
      }
    }
    const pooling = { ...filePooling, ...readPooling(input.pooling, 'pooling') };
    const outputNames = new Set(graph.outputs.map((o) => o.name));
    const unknown = Object.keys(pooling).filter((l) => !outputNames.has(l));
    if (unknown.length) throw badInput(`pooling names ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are not layers' : 'is not a layer'} of the model (layers: ${[...outputNames].join(', ')})`, 'pooling');
    const layers = await dryRunBackbone(await sharedEngine(), bytes, artifact.sha256, graph, contract, pooling);
    return { layers, preprocessing: contract };
  } catch (err) {
    if (err instanceof BackboneContractError) throw badInput(`${name}: ${err.message}`, err.field, err.details);
    if (err instanceof PreprocessContractError) throw badInput(err.message, `preprocessing.${err.field}`);
    throw err;
  }
}
