// The demo's image stimulus set: small deterministic pictures drawn by code (a coloured disc,
// square or bar on a textured background, each with its concepts and a caption), attached as one
// archive the way a lab would, the tiny ViT test backbone registered with its ONNX file, and a
// FEATURE_EXTRACTION run over the set, so a newcomer sees images become feature sets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { DomainContext } from '../domain/context';
import { storeArtifact } from '../domain/artifacts';
import { createStimulusSet, registerModel } from '../domain/catalog';
import { submitFeatureExtraction } from '../domain/feature-extraction';
import { importStimulusImages } from '../domain/stimulus-images';
import { Rng } from '../compute/random';
import { writeTar } from '../images/archive-writer';

export const DEMO_IMAGE_SET = 'demo-images';
export const DEMO_IMAGE_BACKBONE = 'tiny-vit';
export const DEMO_IMAGE_SIZE = 96;
const SIZE = DEMO_IMAGE_SIZE;
const SHAPES = ['disc', 'square', 'bar'] as const;
const COLOURS: Record<string, [number, number, number]> = { red: [210, 40, 40], green: [40, 170, 60], blue: [50, 80, 210], yellow: [230, 200, 40] };

export interface DemoImage {
  externalId: string;
  concepts: string[];
  caption: string;
  pixels: Uint8Array;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** `n` images, the same on every machine (seeded; no randomness from the clock). */
export function demoImages(n: number): DemoImage[] {
  const rng = new Rng('demo images');
  const colours = Object.keys(COLOURS);
  return Array.from({ length: n }, (_, i) => {
    const shape = SHAPES[i % SHAPES.length];
    const colour = colours[Math.floor(i / SHAPES.length) % colours.length];
    const [r, g, b] = COLOURS[colour];
    const cx = SIZE * (0.3 + 0.4 * rng.uniform());
    const cy = SIZE * (0.3 + 0.4 * rng.uniform());
    const radius = SIZE * (0.12 + 0.12 * rng.uniform());
    // The background: two gratings of random orientation, frequency and contrast, a tint and fine
    // noise, so the images vary in more ways than shape and colour (a backbone's stages then
    // differ in what they pick up, which the layer demo needs).
    const gratings = Array.from({ length: 2 }, () => {
      const angle = Math.PI * rng.uniform();
      const cycles = 2 + 22 * rng.uniform();
      return { kx: (2 * Math.PI * cycles * Math.cos(angle)) / SIZE, ky: (2 * Math.PI * cycles * Math.sin(angle)) / SIZE, phase: 2 * Math.PI * rng.uniform(), amp: 10 + 35 * rng.uniform() };
    });
    const tint = [rng.uniform(), rng.uniform(), rng.uniform()].map((t) => 90 + 50 * t);
    const grain = 25 * rng.uniform();
    const px = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const dx = x - cx;
        const dy = y - cy;
        const inside = shape === 'disc' ? dx * dx + dy * dy < radius * radius : shape === 'square' ? Math.abs(dx) < radius && Math.abs(dy) < radius : Math.abs(dx) < radius * 1.6 && Math.abs(dy) < radius * 0.35;
        const o = (y * SIZE + x) * 3;
        let tex = 0;
        for (const g of gratings) tex += g.amp * Math.sin(g.kx * x + g.ky * y + g.phase);
        const noise = grain * (rng.uniform() - 0.5);
        px[o] = inside ? r : clamp(tint[0] + tex + noise);
        px[o + 1] = inside ? g : clamp(tint[1] + tex + noise);
        px[o + 2] = inside ? b : clamp(tint[2] + tex + noise);
      }
    return { externalId: `demo-${String(i).padStart(4, '0')}`, concepts: [shape, colour], caption: `a ${colour} ${shape} on a striped grey background`, pixels: px };
  });
}

/** Seeds the image set, the backbone and the extraction run; returns the run id. */
export async function seedDemoImages(ctx: DomainContext, datasetId: string, labId: string, n = 120): Promise<string> {
  const images = demoImages(n);
  const set = await createStimulusSet(ctx, {
    datasetId,
    name: DEMO_IMAGE_SET,
    description: `${n} images drawn by code: a coloured disc, square or bar on a striped background`,
    stimuli: images.map(({ externalId, concepts, caption }) => ({ externalId, concepts, caption })),
  });
  const files = await Promise.all(
    images.map(async (im) => ({ name: `${im.externalId}.png`, data: await sharp(im.pixels, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer() })),
  );
  const archive = await storeArtifact(ctx.services, writeTar(files), { filename: `${DEMO_IMAGE_SET}.tar`, labId });
  await importStimulusImages(ctx, { stimulusSetId: set.id, artifactId: archive.id });
  const onnx = readFileSync(join(__dirname, '../../models/backbones/tiny-vit.onnx'));
  const file = await storeArtifact(ctx.services, onnx, { filename: 'tiny-vit.onnx', labId });
  const model = await registerModel(ctx, {
    name: DEMO_IMAGE_BACKBONE,
    kind: 'BACKBONE',
    family: 'vit',
    description: 'A two-block ViT with seeded random weights (models/backbones/test_backbones.py)',
    artifactId: file.id,
    visibility: 'PUBLIC',
  });
  const run = await submitFeatureExtraction(ctx, { modelId: model.id, stimulusSetId: set.id, idempotencyKey: 'seed-demo-images-features' });
  return run.id;
}
