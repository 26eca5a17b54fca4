"""Exports an in-context encoder to ONNX (opset 14) under the project's contract:
inputs ic_img [B, S, E] (unit-norm rows), ic_nrn [B, S] (z-scored per voxel over the context),
optionally unknown_img [B, Q, E]; outputs weights [B, E+1] and, with unknown_img, pred [B, Q];
B, S, Q dynamic; metadata brainalign.max_context / feature_width / architecture.

  /usr/bin/python3 models/braincorl/export_onnx.py                      # reference.pt -> reference.onnx
  /usr/bin/python3 models/braincorl/export_onnx.py --with-prediction --out /tmp/reference-3in.onnx
"""
import argparse
import os
import sys

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CONFIGS, WithPrediction, build  # noqa: E402


def export(encoder, config_name, out, with_prediction, max_context, architecture=None):
    encoder.eval()
    E = encoder.embed_dim
    B, S, Q = 3, 11, 5
    ic_img = torch.nn.functional.normalize(torch.randn(B, S, E), dim=-1)
    ic_nrn = torch.randn(B, S)
    if with_prediction:
        module, args = WithPrediction(encoder), (ic_img, ic_nrn, torch.randn(B, Q, E))
        inputs, outputs = ['ic_img', 'ic_nrn', 'unknown_img'], ['weights', 'pred']
        axes = {'ic_img': {0: 'B', 1: 'S'}, 'ic_nrn': {0: 'B', 1: 'S'}, 'unknown_img': {0: 'B', 1: 'Q'}, 'weights': {0: 'B'}, 'pred': {0: 'B', 1: 'Q'}}
    else:
        module, args = encoder, (ic_img, ic_nrn)
        inputs, outputs = ['ic_img', 'ic_nrn'], ['weights']
        axes = {'ic_img': {0: 'B', 1: 'S'}, 'ic_nrn': {0: 'B', 1: 'S'}, 'weights': {0: 'B'}}
    with torch.no_grad():
        torch.onnx.export(module, args, out, input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    model = onnx.load(out)
    if architecture is None:
        c = CONFIGS[config_name]
        architecture = (
            f"BraInCoRL in-context encoder ({config_name}): residual MLP {E + 1}->{c['width']}, {c['registers']} register tokens, "
            f"{c['blocks']} pre-norm attention blocks ({c['heads']} heads, log-length query scaling, SwiGLU {c['ffn_hidden']}), residual MLP {c['width']}->{E + 1}"
        )
    meta = {'brainalign.max_context': str(max_context), 'brainalign.feature_width': str(E), 'brainalign.architecture': architecture}
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='reference', choices=sorted(CONFIGS))
    ap.add_argument('--state', default=os.path.join(HERE, 'reference.pt'), help="state dict from train.py ('random' for untrained weights)")
    ap.add_argument('--out', default=os.path.join(HERE, 'reference.onnx'))
    ap.add_argument('--with-prediction', action='store_true', help='the three-input variant (adds unknown_img -> pred)')
    ap.add_argument('--max-context', type=int, default=500)
    args = ap.parse_args()
    torch.manual_seed(0)
    encoder = build(args.config)
    if args.state != 'random':
        encoder.load_state_dict(torch.load(args.state, map_location='cpu'))
    export(encoder, args.config, args.out, args.with_prediction, args.max_context)
    print(f'wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)')


if __name__ == '__main__':
    main()
