"""PyTorch side of `npm run bench -- icl`: in-context inference (ic_img, ic_nrn -> weights) with the
same architecture and shapes the ONNX side runs, on CPU with a fixed thread count. Exports the
graphs the Node side times (the shipped reference.pt and a randomly initialised CLIP-sized model)
and a small sample of inputs/outputs so the two sides can be checked to compute the same thing.
Prints one JSON line.

  /usr/bin/python3 models/braincorl/bench_torch.py --dir /tmp/icl-bench --voxels 20000 --context 100
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_onnx import export  # noqa: E402
from model import build  # noqa: E402


def inputs(rng, B, S, E):
    img = rng.standard_normal((B, S, E)).astype(np.float32)
    img /= np.linalg.norm(img, axis=-1, keepdims=True)
    nrn = rng.standard_normal((B, S))
    nrn = ((nrn - nrn.mean(1, keepdims=True)) / nrn.std(1, keepdims=True)).astype(np.float32)
    return torch.from_numpy(img), torch.from_numpy(nrn)


@torch.no_grad()
def time_model(model, voxels, context, batch, seed):
    """Seconds for `voxels` voxels in batches (inputs drawn before the clock starts, one batch reused)."""
    img, nrn = inputs(np.random.default_rng(seed), batch, context, model.embed_dim)
    model(img[:2], nrn[:2])  # warm-up
    t0 = time.perf_counter()
    done = 0
    while done < voxels:
        b = min(batch, voxels - done)
        model(img[:b], nrn[:b])
        done += b
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--voxels', type=int, default=20000)
    ap.add_argument('--clip-voxels', type=int, default=200)
    ap.add_argument('--context', type=int, default=100)
    ap.add_argument('--batch', type=int, default=500)
    ap.add_argument('--clip-batch', type=int, default=50)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.dir, exist_ok=True)

    reference = build('reference').eval()
    reference.load_state_dict(torch.load(os.path.join(HERE, 'reference.pt'), map_location='cpu'))
    torch.manual_seed(0)
    clip = build('clip').eval()
    export(clip, 'clip', os.path.join(args.dir, 'clip.onnx'), False, 500)

    # Check sample: the Node side runs these through the ONNX graphs and compares.
    for name, model in [('reference', reference), ('clip', clip)]:
        img, nrn = inputs(np.random.default_rng(1), 4, args.context, model.embed_dim)
        with torch.no_grad():
            w = model(img, nrn)
        for key, a in [('img', img), ('nrn', nrn), ('weights', w)]:
            np.save(os.path.join(args.dir, f'{name}-{key}.npy'), a.numpy())

    out = {'threads': torch.get_num_threads(), 'torch': torch.__version__}
    for name, model, voxels, batch in [('reference', reference, args.voxels, args.batch), ('clip', clip, args.clip_voxels, args.clip_batch)]:
        seconds = time_model(model, voxels, args.context, batch, seed=2)
        out[name] = {'voxels': voxels, 'batch': batch, 'seconds': seconds, 'voxels_per_second': voxels / seconds}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
