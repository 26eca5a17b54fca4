"""Converts an official BraInCoRL checkpoint (e.g. CLIP_trained_on_s125.pth, state-dict names of
HyperweightsPredictorModel in the public scripts/model.py) into an ONNX file under the project's
in-context encoder contract (three inputs ic_img, ic_nrn, unknown_img -> weights, pred: the
official signature; --weights-only for the two-input variant).

  /usr/bin/python3 models/braincorl/convert_checkpoint.py CLIP_trained_on_s125.pth --out braincorl-clip.onnx
  /usr/bin/python3 models/braincorl/convert_checkpoint.py --self-test

The official model's layout, as published:
  early_layers.0   residual block E+1 -> width: block.{0 LayerNorm, 3 Linear, 4 LayerNorm, 7 Linear}, bypass Linear
  cls_token        [1, 4, width] register tokens
  transformer.i    layer_norm_1, attn (nn.MultiheadAttention: in_proj_weight/bias, out_proj), layer_norm_2,
                   ffn.linear1 (width -> 2 * hidden; first half gated by SiLU), ffn.linear2
  weight_pred.0    residual block width -> E+1
The attention's query input is multiplied by log(sequence length) before the in-projection.
Head count is not recoverable from shapes: every published config uses 10 (--heads to override).
"""
import argparse
import os
import re
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_onnx import export  # noqa: E402
from model import CONFIGS, InContextEncoder, WithPrediction  # noqa: E402

PREFIXES = ('model.', 'module.', 'net.')


def official_state_dict(raw):
    """The tensors of a checkpoint file, whatever it was saved as (bare state dict, Lightning
    checkpoint with 'state_dict', a wrapper prefix)."""
    sd = raw.get('state_dict', raw) if isinstance(raw, dict) else raw.state_dict()
    sd = {k: v for k, v in sd.items() if torch.is_tensor(v)}
    for p in PREFIXES:
        if sd and all(k.startswith(p) for k in sd):
            sd = {k[len(p):]: v for k, v in sd.items()}
    if 'cls_token' not in sd:
        raise SystemExit(f'not a BraInCoRL HyperweightsPredictorModel checkpoint: no cls_token among {len(sd)} tensors (first: {list(sd)[:5]})')
    return sd


def infer_config(sd, heads):
    blocks = sorted({int(m.group(1)) for k in sd for m in [re.match(r'transformer\.(\d+)\.', k)] if m})
    if len(sd['cls_token'].shape) != 3:
        raise SystemExit(f"cls_token has shape {tuple(sd['cls_token'].shape)}, expected [1, registers, width]")
    if any(k.startswith('early_layers.1.') or k.startswith('weight_pred.1.') for k in sd):
        raise SystemExit('checkpoints with more than one early / weight-prediction residual block are not supported')
    registers, width = sd['cls_token'].shape[1:]
    cfg = dict(
        embed_dim=sd['early_layers.0.block.0.weight'].shape[0] - 1,
        width=width,
        blocks=len(blocks),
        heads=heads,
        ffn_hidden=sd['transformer.0.ffn.linear2.weight'].shape[1],
        registers=registers,
        mlp_hidden=sd['early_layers.0.block.3.weight'].shape[0],
    )
    if width % heads:
        raise SystemExit(f'width {width} is not divisible by {heads} heads')
    return cfg


def residual_mapping(official, ours):
    return {
        f'{official}.block.0': f'{ours}.norm1',
        f'{official}.block.3': f'{ours}.fc1',
        f'{official}.block.4': f'{ours}.norm2',
        f'{official}.block.7': f'{ours}.fc2',
        f'{official}.bypass': f'{ours}.bypass',
    }


def convert(sd, heads=10):
    """Official state dict -> (our InContextEncoder with those weights, its config)."""
    cfg = infer_config(sd, heads)
    modules = {**residual_mapping('early_layers.0', 'embed'), **residual_mapping('weight_pred.0', 'readout')}
    for i in range(cfg['blocks']):
        modules.update({
            f'transformer.{i}.layer_norm_1': f'blocks.{i}.norm_attn',
            f'transformer.{i}.attn.out_proj': f'blocks.{i}.attn.out',
            f'transformer.{i}.layer_norm_2': f'blocks.{i}.norm_ffn',
            f'transformer.{i}.ffn.linear1': f'blocks.{i}.ffn.gate_value',
            f'transformer.{i}.ffn.linear2': f'blocks.{i}.ffn.out',
        })
    ours = {'registers': sd['cls_token']}
    for i in range(cfg['blocks']):
        ours[f'blocks.{i}.attn.qkv.weight'] = sd[f'transformer.{i}.attn.in_proj_weight']
        ours[f'blocks.{i}.attn.qkv.bias'] = sd[f'transformer.{i}.attn.in_proj_bias']
    for k, v in sd.items():
        base, _, leaf = k.rpartition('.')
        if base in modules:
            ours[f'{modules[base]}.{leaf}'] = v
    model = InContextEncoder(**cfg)
    missing, unexpected = model.load_state_dict(ours, strict=False)
    unused = [k for k in sd if k != 'cls_token' and '.attn.in_proj_' not in k and k.rpartition('.')[0] not in modules]
    if missing or unexpected or unused:
        raise SystemExit(f'state dict does not match the published architecture: missing {missing}, unexpected {unexpected}, unmapped {unused}')
    return model.eval(), cfg


def load_checkpoint(path):
    """A Lightning checkpoint holds more than tensors (hyperparameters, optimiser state), which
    torch >= 2.6 refuses to unpickle by default: weights_only=False is needed. That unpickles,
    i.e. EXECUTES, whatever code the file carries, so convert only checkpoints from a source you
    trust (the official release, your own training). torch 1.13 has the argument too (default False)."""
    return torch.load(path, map_location='cpu', weights_only=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('checkpoint', nargs='?')
    ap.add_argument('--out', default='braincorl.onnx')
    ap.add_argument('--heads', type=int, default=10)
    ap.add_argument('--max-context', type=int, default=500, help='largest context the checkpoint was trained with (BraInCoRL: 500)')
    ap.add_argument('--weights-only', action='store_true', help='two inputs (ic_img, ic_nrn) -> weights')
    ap.add_argument('--self-test', action='store_true', help='convert a random checkpoint in the official layout and check the outputs agree')
    args = ap.parse_args()
    if args.self_test:
        from official_layout import self_test

        self_test(convert, export)
        return
    if not args.checkpoint:
        ap.error('give a checkpoint file or --self-test')
    sd = official_state_dict(load_checkpoint(args.checkpoint))
    model, cfg = convert(sd, args.heads)
    name = os.path.basename(args.checkpoint)
    arch = f"BraInCoRL HyperweightsPredictorModel from {name}: E={cfg['embed_dim']}, width {cfg['width']}, {cfg['blocks']} blocks, {cfg['heads']} heads, SwiGLU {cfg['ffn_hidden']}, {cfg['registers']} registers"
    export(model, None, args.out, not args.weights_only, args.max_context, architecture=arch)
    print(f'wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB): {arch}')


if __name__ == '__main__':
    main()
